"""The emulator's shape: an oracle that shares nothing with the client, no import cycles,
small modules, and no secret in any repr."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ssooidc_jupyter.emulator as emulator_package
from ssooidc_jupyter.emulator._authcode import ConsentPrompt, Redirect
from ssooidc_jupyter.emulator._settings import Settings, parse_accounts
from ssooidc_jupyter.emulator._state import EmulatorState
from ssooidc_jupyter.emulator._tokens import pkce_s256

PACKAGE = Path(emulator_package.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))
MAX_MODULE_LINES = 350
SCOPE = "sso:account:access"


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """(absolute modules imported, sibling emulator modules imported)."""
    absolute: set[str] = set()
    siblings: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            absolute.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                absolute.add(node.module or "")
            elif node.level == 1 and node.module:
                siblings.add(node.module)
            elif node.level == 1:
                siblings.update(alias.name for alias in node.names)
            else:
                absolute.add("ssooidc_jupyter" + "." * node.level)  # reaches out of the package
    return absolute, siblings


def test_the_emulator_imports_nothing_of_the_client() -> None:
    for path in MODULES:
        absolute, _ = _imports(path)
        leaks = {
            name
            for name in absolute
            if name.startswith("ssooidc_jupyter")
            and not name.startswith("ssooidc_jupyter.emulator")
        }
        assert not leaks, f"{path.name} imports {sorted(leaks)}"


def test_no_import_cycles() -> None:
    graph = {path.stem: _imports(path)[1] for path in MODULES}
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        if module in trail:
            cycle = (*trail[trail.index(module) :], module)
            pytest.fail(f"import cycle: {' -> '.join(cycle)}")
        if module in done or module not in graph:
            return
        for imported in graph[module]:
            visit(imported, (*trail, module))
        done.add(module)

    for module in graph:
        visit(module, ())


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_modules_stay_small(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= MAX_MODULE_LINES


def test_public_api() -> None:
    assert set(emulator_package.__all__) >= {"Emulator", "FAULT_KINDS", "OPERATIONS"}


def test_no_secret_in_any_repr() -> None:
    settings = Settings(
        region="us-east-1",
        auto_approve=None,
        interval=1,
        code_ttl=600,
        token_ttl=3600,
        role_credentials_ttl=3600,
        registration_ttl=86400,
        page_size=1,
        user_name="u",
        accounts=parse_accounts(None),
    )
    state = EmulatorState(settings)
    redirect = "http://127.0.0.1/cb"
    reg = state.register_client(
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
    prompt = state.begin_authorization(query)
    assert isinstance(prompt, ConsentPrompt)
    answer = state.decide_authorization(prompt.consent_id, approve=True)
    assert isinstance(answer, Redirect)
    code = answer.location.split("code=")[1].split("&")[0]
    grant = state.create_token(
        {
            **creds,
            "grantType": "authorization_code",
            "code": code,
            "redirectUri": redirect,
            "codeVerifier": verifier,
        }
    )
    role = state.get_role_credentials(grant.access_token, "111111111111", "ReadOnly")
    identity = state.signing_identity(role.access_key_id)
    store = state._store
    objects: list[object] = [reg, prompt, answer, grant, role, identity, store, state]
    for table in (store.registrations, store.consents, store.auth_codes, store.roles):
        objects.extend(table.values())
    texts = [repr(obj) for obj in objects]
    hidden = [*state.secrets, prompt.consent_id, code, "secret-ish-state"]
    assert [value for value in hidden for text in texts if value in text] == []
