"""The emulator's shape: two layers a newcomer can see, an oracle that shares nothing with
the client, the package-wide size rules, and no secret in any repr.

Layers, bottom up: ``emulator.model`` (the service model: no HTTP, no sockets) <
``emulator.http`` (the HTTP surface over the model) < the package itself (``Emulator``,
``__main__``). A module may import its own layer and the layers below, never one above;
the module graph has no cycle; nothing imports the client side of ``ssooidc_jupyter``.
Sizes: no module over 400 lines, no function over 60 lines, none over cyclomatic 15
(counted from the AST as radon counts it).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ssooidc_jupyter.emulator as emulator_package
from ssooidc_jupyter.emulator.model import (
    ConsentPrompt,
    IdentityCenter,
    Redirect,
    make_settings,
    parse_accounts,
)
from ssooidc_jupyter.emulator.model._values import pkce_s256

PACKAGE = Path(emulator_package.__file__).parent
NAME = "ssooidc_jupyter.emulator"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
MAX_COMPLEXITY = 15
#: A module's layer: its subpackage, or the package itself for ``Emulator`` and ``__main__``.
RANKS = {"model": 0, "http": 1, "": 2}
#: The model answers calls; it never touches the network or the HTTP machinery.
NETWORK_MODULES = {"http", "socket", "socketserver", "ssl", "urllib.request", "email"}
SCOPE = "sso:account:access"


def _module_name(path: Path) -> str:
    parts = [emulator_package.__name__, *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The absolute names an ``ImportFrom`` imports (``from . import x``: the module x)."""
    if node.level == 0:
        base = node.module or ""
    else:
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join(anchor + ([node.module] if node.module else []))
    if node.module is None:
        return [f"{base}.{alias.name}" for alias in node.names]
    return [base]


def _imports(path: Path) -> set[str]:
    """Every absolute module name ``path`` imports (type-only and lazy imports too)."""
    module = _module_name(path)
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update(_resolve(module, path.name == "__init__.py", node))
    return names


MODULE_NAMES = {_module_name(path): path for path in MODULES}


def _internal(names: set[str]) -> set[str]:
    """The emulator modules among ``names`` (``from .x import y``: x, unless y is a module)."""
    found = set()
    for name in names:
        if not name.startswith(NAME):
            continue
        found.add(name if name in MODULE_NAMES else name.rsplit(".", 1)[0])
    return found & set(MODULE_NAMES)


def _layer(module: str) -> str:
    """``...emulator.model._store`` -> ``model``; ``...emulator._emulator`` -> ``""``."""
    rest = module.removeprefix(NAME).lstrip(".").split(".")
    return rest[0] if rest[0] in RANKS else ""


def test_every_module_is_in_a_layer() -> None:
    assert {_layer(module) for module in MODULE_NAMES} == set(RANKS)
    assert {path.parent.name for path in MODULES} == {"emulator", "model", "http"}


def test_the_emulator_imports_nothing_of_the_client() -> None:
    leaks = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in MODULES
        for name in sorted(_imports(path))
        if name.split(".")[0] == "ssooidc_jupyter" and not name.startswith(NAME)
    ]
    assert not leaks, "\n".join(leaks)


def test_imports_only_point_down() -> None:
    climbing = [
        f"{module} -> {target}"
        for module, path in MODULE_NAMES.items()
        for target in sorted(_internal(_imports(path)))
        if RANKS[_layer(target)] > RANKS[_layer(module)]
    ]
    assert not climbing, "imports that climb a layer:\n" + "\n".join(climbing)


def test_the_model_speaks_no_http() -> None:
    networking = [
        f"{module} imports {name}"
        for module, path in MODULE_NAMES.items()
        if _layer(module) == "model"
        for name in sorted(_imports(path))
        if name in NETWORK_MODULES or name.split(".")[0] in NETWORK_MODULES
    ]
    assert not networking, "\n".join(networking)


def test_no_import_cycles() -> None:
    graph = {module: _internal(_imports(path)) - {module} for module, path in MODULE_NAMES.items()}
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        if module in trail:
            cycle = (*trail[trail.index(module) :], module)
            pytest.fail(f"import cycle: {' -> '.join(cycle)}")
        if module in done:
            return
        for imported in sorted(graph[module]):
            visit(imported, (*trail, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())


def test_the_checker_sees_a_climbing_import() -> None:
    # The walk itself must work: a relative import out of model/ into http/ is seen as one.
    node = ast.parse("from ..http._wire import Request").body[0]
    assert isinstance(node, ast.ImportFrom)
    module = f"{NAME}.model._grants"
    (target,) = _resolve(module, False, node)
    assert target == f"{NAME}.http._wire"
    assert RANKS[_layer(target)] > RANKS[_layer(module)]
    node = ast.parse("from . import _values").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _internal(set(_resolve(f"{NAME}.model", True, node))) == {f"{NAME}.model._values"}


# -- sizes ---------------------------------------------------------------------------------------

_BRANCHES = (
    ast.If,
    ast.IfExp,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.ExceptHandler,
    ast.With,
    ast.AsyncWith,
    ast.Assert,
    ast.comprehension,
    ast.match_case,
)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def complexity(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """McCabe's number: 1 + each branch, loop (and its ``else``), handler, boolean operand
    past the first, comprehension and its conditions; nested functions count on their own."""
    count = 1
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, _SCOPES):
            continue
        if isinstance(node, _BRANCHES):
            count += 1
            if isinstance(node, ast.comprehension):
                count += len(node.ifs)
            if isinstance(node, (ast.For, ast.AsyncFor, ast.While)) and node.orelse:
                count += 1
        elif isinstance(node, ast.BoolOp):
            count += len(node.values) - 1
        stack.extend(ast.iter_child_nodes(node))
    return count


def _functions(path: Path) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse(path.read_text(), str(path))
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


IDS = [str(p.relative_to(PACKAGE)) for p in MODULES]


@pytest.mark.parametrize("path", MODULES, ids=IDS)
def test_no_module_over_400_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= MAX_MODULE_LINES


@pytest.mark.parametrize("path", MODULES, ids=IDS)
def test_no_long_or_tangled_function(path: Path) -> None:
    too_big = [
        f"{fn.name}: {fn.end_lineno - fn.lineno + 1} lines, cyclomatic {complexity(fn)}"
        for fn in _functions(path)
        if fn.end_lineno is not None
        and (fn.end_lineno - fn.lineno + 1 > MAX_FUNCTION_LINES or complexity(fn) > MAX_COMPLEXITY)
    ]
    assert not too_big, "\n".join(too_big)


def test_the_complexity_count_can_fail() -> None:
    source = "def f(a, b):\n" + "".join(f"    if a == {i} or b:\n        pass\n" for i in range(8))
    (function,) = _functions_of(source)
    assert complexity(function) == 1 + 8 * 2 > MAX_COMPLEXITY


def _functions_of(source: str) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [
        n
        for n in ast.walk(ast.parse(source))
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]


# -- the public face and secrets -------------------------------------------------------------


def test_public_api() -> None:
    assert set(emulator_package.__all__) == {"Emulator", "FAULT_KINDS", "OPERATIONS", "FaultKind"}


def test_no_secret_in_any_repr() -> None:
    settings = make_settings(
        region="us-east-1",
        auto_approve=None,
        interval=1,
        code_ttl=600,
        token_ttl=3600,
        role_credentials_ttl=3600,
        registration_ttl=86400,
        page_size=1,
        user_name="u",
        accounts=None,
    )
    assert settings.accounts == parse_accounts(None)
    center = IdentityCenter(settings)
    redirect = "http://127.0.0.1/cb"
    reg = center.clients.register(
        {
            "clientName": "n",
            "clientType": "public",
            "scopes": [SCOPE],
            "grantTypes": ["authorization_code", "refresh_token"],
            "redirectUris": [redirect],
        }
    )
    creds = {"clientId": reg.client_id, "clientSecret": reg.client_secret}
    verifier = "v" * 50
    query = {
        "response_type": ["code"],
        "client_id": [reg.client_id],
        "redirect_uri": [redirect],
        "state": ["secret-ish-state"],
        "code_challenge": [pkce_s256(verifier)],
        "code_challenge_method": ["S256"],
    }
    prompt = center.codes.begin(query)
    assert isinstance(prompt, ConsentPrompt)
    answer = center.codes.decide(prompt.consent_id, approve=True)
    assert isinstance(answer, Redirect)
    code = answer.location.split("code=")[1].split("&")[0]
    grant = center.grants.create_token(
        {
            **creds,
            "grantType": "authorization_code",
            "code": code,
            "redirectUri": redirect,
            "codeVerifier": verifier,
        }
    )
    role = center.portal.get_role_credentials(grant.access_token, "111111111111", "ReadOnly")
    identity = center.identities.signing_identity(role.access_key_id)
    store = center.store
    objects: list[object] = [reg, prompt, answer, grant, role, identity, store, center]
    for table in (store.registrations, store.consents, store.auth_codes, store.roles):
        objects.extend(table.values())
    texts = [repr(obj) for obj in objects]
    hidden = [*store.secrets(), prompt.consent_id, code, "secret-ish-state"]
    assert [value for value in hidden for text in texts if value in text] == []
