"""The folder tree is the layer map: imports only point down, and nothing imports in a circle.

Layers, bottom up: ``_exceptions`` (and ``_redact``) < ``oidc`` < ``auth`` < ``dask`` <
``notebook`` < ``server`` < the package ``__init__`` (the public API) < ``demo`` (an
application of it). ``dask`` (credentials forwarded to Dask workers) needs role sessions
from ``auth`` and is used by ``%ssooidc dask`` and the role picker in ``notebook``.
``emulator`` stands apart: it imports nothing of the client (``tests/test_emulator_layout.py``
checks that side).
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
