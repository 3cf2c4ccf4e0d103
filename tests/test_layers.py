"""The folder tree is the layer map: imports only point down, and nothing imports in a circle.

Layers, bottom up: ``_exceptions`` (and ``_redact``) < ``oidc`` < ``auth`` < ``dask`` <
``notebook`` < ``server`` < the package ``__init__`` (the public API) < ``demo`` (an
application of it). ``dask`` (credentials forwarded to Dask workers) needs role sessions
from ``auth`` and is used by ``%ssooidc dask`` and the role picker in ``notebook``.
``emulator`` stands apart: it imports nothing of the client
(``tests/emulator/test_emulator_layout.py`` checks that side).
A module may import its own layer and the layers below, never one above, and the module
graph (type-only imports included: a picture of the code, not of what runs) has no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ssooidc_jupyter

PACKAGE = Path(ssooidc_jupyter.__file__).parent
NAME = "ssooidc_jupyter"

#: Rank of each top-level part of the package; a module may import only ranks <= its own.
RANKS = {
    "_exceptions": 0,
    "_redact": 0,
    "_secret": 0,
    "oidc": 1,
    "auth": 2,
    "dask": 3,
    "notebook": 4,
    "server": 5,
    "__init__": 6,
    # The demo is an application of the public package (it imports ``ssooidc_jupyter``).
    "demo": 7,
    "_demo": 7,  # demo.py's parts
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _part(module: str) -> str:
    """``ssooidc_jupyter.auth._login`` -> ``auth``; the package itself -> ``__init__``."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        anchor = module.split(".")
        if not is_package:
            anchor = anchor[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)] if node.level > 1 else anchor
        base = ".".join(anchor + ([node.module] if node.module else []))
    if not base.startswith(NAME):
        return []
    if node.module is None:  # from . import x: x is a module
        return [f"{base}.{alias.name}" for alias in node.names]
    return [base]


def imports() -> dict[str, set[str]]:
    """Every package module (the emulator aside) -> the package modules it imports."""
    graph: dict[str, set[str]] = {}
    modules = {
        _module_name(path): path
        for path in PACKAGE.rglob("*.py")
        if "emulator" not in path.relative_to(PACKAGE).parts
    }
    for module, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names if alias.name.startswith(NAME)]
            elif isinstance(node, ast.ImportFrom):
                names = _resolve(module, path.name == "__init__.py", node)
            else:
                continue
            for name in names:
                # "from .x import y" where y is a module of x counts as importing x.y.
                targets.add(name if name in modules else name.rsplit(".", 1)[0])
        graph[module] = {t for t in targets if t in modules and t != module}
    return graph


def test_every_part_has_a_rank() -> None:
    parts = {_part(module) for module in imports()}
    assert parts <= set(RANKS), f"unranked parts: {sorted(parts - set(RANKS))}"


def test_imports_only_point_down() -> None:
    climbing = [
        f"{module} -> {target}"
        for module, targets in imports().items()
        for target in targets
        if RANKS[_part(target)] > RANKS[_part(module)]
    ]
    assert not climbing, "imports that climb a layer:\n" + "\n".join(sorted(climbing))


def test_no_import_cycles() -> None:
    graph = imports()
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        if module in trail:
            cycle = (*trail[trail.index(module) :], module)
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, (*trail, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())


def test_the_checker_sees_a_climbing_import(tmp_path: Path) -> None:
    # The walk itself must work: a relative import two levels up resolves to the right module.
    node = ast.parse("from ..notebook._magic import X").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _resolve("ssooidc_jupyter.auth._login", False, node) == [
        "ssooidc_jupyter.notebook._magic"
    ]
    node = ast.parse("from . import _exceptions").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _resolve("ssooidc_jupyter", True, node) == ["ssooidc_jupyter._exceptions"]
    assert RANKS[_part("ssooidc_jupyter.notebook._magic")] > RANKS[_part("ssooidc_jupyter.auth")]


# ---- sizes (issue 16 point 6) -------------------------------------------------------------
#
# No god module and no god function: a module holds at most MAX_MODULE_LINES lines, a function
# at most MAX_FUNCTION_LINES (decorators and docstring included), and no function has a
# cyclomatic complexity above MAX_COMPLEXITY (counted as radon and ruff's C901 count it).

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
MAX_COMPLEXITY = 15

#: The packages the size rules hold in: every one of the client side, the package's own
#: top-level modules and the benchmarks (the emulator has its layer test instead,
#: tests/emulator/test_emulator_layout.py).
SIZED_PACKAGES = ["oidc", "auth", "dask", "notebook", "server", "_demo"]

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_BRANCHES = (ast.If, ast.IfExp, ast.For, ast.AsyncFor, ast.While, ast.Assert, ast.With)


def _sized_modules() -> list[Path]:
    packages = [path for name in SIZED_PACKAGES for path in (PACKAGE / name).rglob("*.py")]
    top = [*PACKAGE.glob("*.py"), *(PACKAGE.parent / "benchmarks").rglob("*.py")]
    return sorted(packages + top)


def _walk_own(node: ast.AST) -> list[ast.AST]:
    """The nodes of a function's body, not descending into nested functions or classes (they
    are measured on their own)."""
    found: list[ast.AST] = []
    todo = list(ast.iter_child_nodes(node))
    while todo:
        child = todo.pop()
        if isinstance(child, (*_FUNCTIONS, ast.ClassDef, ast.Lambda)):
            continue
        found.append(child)
        todo.extend(ast.iter_child_nodes(child))
    return found


def complexity(function: ast.AST) -> int:
    """McCabe's cyclomatic complexity: one, plus one per decision point (a branch or loop,
    an ``except``, a loop's or try's ``else``, each extra operand of ``and``/``or``, each
    comprehension and its filters, each ``case``)."""
    count = 1
    for node in _walk_own(function):
        if isinstance(node, (ast.If, ast.IfExp, ast.Assert)):
            count += 1
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            count += 1 + bool(node.orelse)
        elif isinstance(node, ast.Try):
            count += len(node.handlers) + bool(node.orelse)
        elif isinstance(node, ast.BoolOp):
            count += len(node.values) - 1
        elif isinstance(node, ast.comprehension):
            count += 1 + len(node.ifs)
        elif isinstance(node, ast.match_case):
            count += 1
    return count


def _functions(path: Path) -> list[tuple[str, int, ast.AST]]:
    """(qualified name, lines, node) of every function and method of ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    found: list[tuple[str, int, ast.AST]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, _FUNCTIONS):
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                lines = (child.end_lineno or child.lineno) - first + 1
                found.append((f"{prefix}{child.name}", lines, child))
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def _where(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


def test_no_module_is_too_long() -> None:
    long = [
        f"{_where(path)}: {count} lines"
        for path in _sized_modules()
        if (count := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    ]
    assert not long, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(long)


def test_no_function_is_too_long() -> None:
    long = [
        f"{_where(path)}: {name} has {lines} lines"
        for path in _sized_modules()
        for name, lines, _ in _functions(path)
        if lines > MAX_FUNCTION_LINES
    ]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)


def test_no_function_is_too_complex() -> None:
    tangled = [
        f"{_where(path)}: {name} has complexity {count}"
        for path in _sized_modules()
        for name, _, node in _functions(path)
        if (count := complexity(node)) > MAX_COMPLEXITY
    ]
    assert not tangled, f"functions over complexity {MAX_COMPLEXITY}:\n" + "\n".join(tangled)


def test_the_size_rules_measure_what_they_say() -> None:
    # The counters themselves must work, or the three tests above pass vacuously.
    source = (
        "def f(a, b):\n"
        "    '''doc'''\n"
        "    if a and b or a:\n"
        "        return [x for x in a if x]\n"
        "    for _ in b:\n"
        "        pass\n"
        "    else:\n"
        "        pass\n"
        "    try:\n"
        "        pass\n"
        "    except ValueError:\n"
        "        pass\n"
        "    def inner():\n"
        "        if a:\n"
        "            pass\n"
        "    return 1 if a else 2\n"
    )
    tree = ast.parse(source)
    (outer,) = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    # 1 + if + and/or (2) + comprehension and its filter (2) + for and its else (2) + except
    # + the conditional expression; the nested function's if is its own.
    assert complexity(outer) == 10
    assert complexity(outer.body[4]) == 2  # inner: 1 + if
    assert SIZED_PACKAGES and all((PACKAGE / name).is_dir() for name in SIZED_PACKAGES)
    assert len(_sized_modules()) > 5
