"""The authorization code grant with PKCE: /authorize, its consent page, and CreateToken.

The browser leg is driven with httpx over real HTTP (no redirects followed, so every 302 is
inspected); the token leg goes through botocore's own sso-oidc client, the oracle.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import botocore.session
import httpx
import pytest
from botocore.config import Config

from ssooidc_jupyter.emulator import Emulator
from tests._support import emulator_fixture

SCOPE = "sso:account:access"
REGISTERED = "http://127.0.0.1/oauth/callback"  # loopback: any port matches
USED = "http://127.0.0.1:49152/oauth/callback"  # what the app's listener actually got
NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1})
STATE = "st&te/with spaces?"  # must come back exactly, however it needs escaping


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


emu = emulator_fixture()


@pytest.fixture
def http(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.url, timeout=10, follow_redirects=False) as client:
        yield client


@pytest.fixture
def oidc(emu: Emulator) -> Any:
    return botocore.session.get_session().create_client(
        "sso-oidc", region_name=emu.region, endpoint_url=emu.url, config=NO_RETRY
    )


def register(
    http: httpx.Client,
    *,
    redirect_uris: list[str] | None = None,
    scopes: list[str] | None = None,
    grant_types: list[str] | None = None,
    name: str = "notebook",
) -> dict[str, Any]:
    body = {
        "clientName": name,
        "clientType": "public",
        "scopes": [SCOPE] if scopes is None else scopes,
        "grantTypes": grant_types or ["authorization_code", "refresh_token"],
        "redirectUris": redirect_uris or [REGISTERED],
    }
    response = http.post("/client/register", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def authorize_params(
    reg: dict[str, Any], challenge: str, redirect_uri: str = USED, **overrides: str | None
) -> dict[str, str]:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": reg["clientId"],
        "redirect_uri": redirect_uri,
        "scopes": SCOPE,
        "state": STATE,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **overrides,
    }
    return {k: v for k, v in params.items() if v is not None}


def consent_id(page: httpx.Response) -> str:
    found = re.search(r'<input type="hidden" name="consent" value="([^"]*)">', page.text)
    assert found, page.text
    return html.unescape(found.group(1))


def submit(http: httpx.Client, consent: str, action: str) -> httpx.Response:
    return http.post("/authorize", data={"consent": consent, "action": action})


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def assert_error_page(response: httpx.Response) -> None:
    assert response.status_code == 400
    assert "location" not in response.headers  # never a redirect
    assert response.headers["content-type"].startswith("text/html")
    assert 'data-outcome="error"' in response.text


def sign_in(http: httpx.Client, reg: dict[str, Any], challenge: str) -> str:
    """GET /authorize, click Approve: the code the browser brings back to USED."""
    page = http.get("/authorize", params=authorize_params(reg, challenge))
    assert page.status_code == 200, page.text
    answer = submit(http, consent_id(page), "approve")
    assert answer.status_code == 302
    return query(answer.headers["location"])["code"]


def redeem(oidc: Any, reg: dict[str, Any], code: str, **params: Any) -> dict[str, Any]:
    return dict(
        oidc.create_token(
            clientId=reg["clientId"],
            clientSecret=reg["clientSecret"],
            grantType="authorization_code",
            code=code,
            **params,
        )
    )


# -- the consent page and its two buttons ----------------------------------------------------


def test_consent_page_then_approve_redirects_with_code_and_state(
    emu: Emulator, http: httpx.Client
) -> None:
    reg = register(http, name='<script>alert("x")</script>')
    _, challenge = pkce()
    page = http.get("/authorize", params=authorize_params(reg, challenge))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<title>Allow access?</title>" in page.text
    assert '<form method="POST" action="/authorize">' in page.text
    assert '<button id="approve" name="action" value="approve"' in page.text
    assert '<button id="deny" name="action" value="deny"' in page.text
    assert "<script" not in page.text  # the hostile client name is escaped
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page.text
    assert f"<code>{SCOPE}</code>" in page.text and emu.user_name in page.text
    # The browser must be allowed to follow the form's 302 to the app's listener.
    assert "form-action 'self' http://127.0.0.1:49152;" in page.headers["content-security-policy"]

    answer = submit(http, consent_id(page), "approve")
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(f"{USED}?")  # the port the app used, not the registered one
    params = query(location)
    assert set(params) == {"code", "state"}
    assert params["state"] == STATE
    assert params["code"] in emu.secrets
    assert params["code"] not in answer.text


def test_deny_redirects_with_access_denied(emu: Emulator, http: httpx.Client) -> None:
    reg = register(http)
    page = http.get("/authorize", params=authorize_params(reg, pkce()[1]))
    answer = submit(http, consent_id(page), "deny")
    assert answer.status_code == 302
    assert answer.headers["location"].startswith(f"{USED}?")
    params = query(answer.headers["location"])
    assert params["error"] == "access_denied" and params["state"] == STATE
    assert "code" not in params
    assert emu.requests[-1]["error"] == "access_denied"


def test_state_is_optional_and_an_existing_query_is_kept(http: httpx.Client) -> None:
    reg = register(http, redirect_uris=["http://localhost/cb?app=nb"])
    page = http.get(
        "/authorize",
        params=authorize_params(reg, pkce()[1], "http://localhost:8080/cb?app=nb", state=None),
    )
    location = submit(http, consent_id(page), "approve").headers["location"]
    assert location.startswith("http://localhost:8080/cb?app=nb&code=")
    assert set(query(location)) == {"app", "code"}


def test_a_consent_is_answered_once(http: httpx.Client) -> None:
    reg = register(http)
    consent = consent_id(http.get("/authorize", params=authorize_params(reg, pkce()[1])))
    assert submit(http, consent, "approve").status_code == 302
    for action in ("approve", "deny"):
        assert_error_page(submit(http, consent, action))
    assert_error_page(submit(http, "emu-consent-never-issued", "approve"))
    other = consent_id(http.get("/authorize", params=authorize_params(reg, pkce()[1])))
    assert_error_page(submit(http, other, "maybe"))
    assert submit(http, other, "deny").status_code == 302  # a bad button did not use it up


def test_a_consent_expires_with_code_ttl(emulator_factory: Callable[..., Emulator]) -> None:
    emu = emulator_factory(code_ttl=0.3)
    with httpx.Client(base_url=emu.url, timeout=10) as http:
        reg = register(http)
        consent = consent_id(http.get("/authorize", params=authorize_params(reg, pkce()[1])))
        time.sleep(0.4)
        assert_error_page(submit(http, consent, "approve"))


@pytest.mark.parametrize("delay", [0, 30], ids=["auto-approve-0", "auto-approve-30"])
def test_auto_approve_redirects_at_once(
    delay: float, emulator_factory: Callable[..., Emulator]
) -> None:
    emu = emulator_factory(auto_approve=delay)
    with httpx.Client(base_url=emu.url, timeout=10, follow_redirects=False) as http:
        reg = register(http)
        answer = http.get("/authorize", params=authorize_params(reg, pkce()[1]))
        assert answer.status_code == 302
        params = query(answer.headers["location"])
        assert params["code"] in emu.secrets and params["state"] == STATE
        assert [r["operation"] for r in emu.requests] == ["RegisterClient", "Authorize"]


# -- what is refused on a page, and what is reported to the redirect URI -----------------------


REJECTED: dict[str, dict[str, str | None]] = {
    "unknown-client": {"client_id": "emu-client-never-registered"},
    "no-client-id": {"client_id": None},
    "no-redirect-uri": {"redirect_uri": None},
    "other-path": {"redirect_uri": "http://127.0.0.1:49152/elsewhere"},
    "other-loopback-spelling": {"redirect_uri": "http://localhost:49152/oauth/callback"},
    "https-for-http": {"redirect_uri": "https://127.0.0.1:49152/oauth/callback"},
    "foreign-host": {"redirect_uri": "http://evil.example/oauth/callback"},
    "extra-query": {"redirect_uri": "http://127.0.0.1:49152/oauth/callback?x=1"},
}


@pytest.mark.parametrize("overrides", list(REJECTED.values()), ids=list(REJECTED))
def test_bad_client_or_redirect_gets_an_error_page(
    emu: Emulator, http: httpx.Client, overrides: dict[str, str | None]
) -> None:
    reg = register(http)
    answer = http.get("/authorize", params=authorize_params(reg, pkce()[1], **overrides))
    assert_error_page(answer)
    assert "<script" not in answer.text
    record = emu.requests[-1]
    assert (record["operation"], record["status"]) == ("Authorize", 400)
    assert record["error"] == "InvalidAuthorizeRequest"


def test_expired_registration_and_repeated_redirect_get_an_error_page(
    emu: Emulator, http: httpx.Client
) -> None:
    reg = register(http)
    params = authorize_params(reg, pkce()[1])
    doubled = urlencode(params) + "&" + urlencode({"redirect_uri": USED})
    assert_error_page(http.get(f"/authorize?{doubled}"))
    emu.expire_registration(reg["clientId"])
    assert_error_page(http.get("/authorize", params=params))


REDIRECTED: dict[str, tuple[dict[str, str | None], str]] = {
    "response-type-token": ({"response_type": "token"}, "unsupported_response_type"),
    "no-response-type": ({"response_type": None}, "unsupported_response_type"),
    "plain-pkce": ({"code_challenge_method": "plain"}, "invalid_request"),
    "no-pkce-method": ({"code_challenge_method": None}, "invalid_request"),
    "no-challenge": ({"code_challenge": None}, "invalid_request"),
    "short-challenge": ({"code_challenge": "abc"}, "invalid_request"),
    "unregistered-scope": ({"scopes": f"{SCOPE} codewhisperer:completions"}, "invalid_scope"),
}


@pytest.mark.parametrize(("overrides", "error"), list(REDIRECTED.values()), ids=list(REDIRECTED))
def test_other_problems_are_reported_to_the_redirect_uri(
    emu: Emulator, http: httpx.Client, overrides: dict[str, str | None], error: str
) -> None:
    reg = register(http)
    answer = http.get("/authorize", params=authorize_params(reg, pkce()[1], **overrides))
    assert answer.status_code == 302
    assert answer.headers["location"].startswith(f"{USED}?")
    params = query(answer.headers["location"])
    assert params["error"] == error and params["state"] == STATE
    assert params["error_description"] and "code" not in params
    assert emu.requests[-1]["error"] == error


def test_client_without_the_code_grant_is_unauthorized(http: httpx.Client) -> None:
    reg = register(http, grant_types=["urn:ietf:params:oauth:grant-type:device_code"])
    answer = http.get("/authorize", params=authorize_params(reg, pkce()[1]))
    assert query(answer.headers["location"])["error"] == "unauthorized_client"


# -- RFC 8252: which redirect URIs match -------------------------------------------------------

MATCHING = [
    ("http://127.0.0.1/cb", "http://127.0.0.1:49152/cb", True),
    ("http://127.0.0.1:8765/cb", "http://127.0.0.1:1234/cb", True),
    ("http://127.0.0.1:8765/cb", "http://127.0.0.1/cb", True),
    ("http://[::1]:8765/cb", "http://[::1]:9/cb", True),
    ("http://localhost/cb", "http://localhost:3000/cb", True),
    ("http://127.0.0.1", "http://127.0.0.1:5000/", True),
    ("https://app.example/cb", "https://app.example/cb", True),
    ("https://app.example/cb", "https://app.example:8443/cb", False),
    ("https://app.example/cb", "https://app.example/cb/", False),
    ("http://127.0.0.1/cb", "http://127.0.0.1:80/other", False),
    ("http://127.0.0.1/cb", "http://localhost:80/cb", False),
    ("http://127.0.0.1/cb?x=1", "http://127.0.0.1:5/cb?x=2", False),
    ("http://127.0.0.1/cb", "https://127.0.0.1:5/cb", False),
    ("http://127.0.0.1/cb", "http://127.0.0.1:5/cb#fragment", False),
    ("http://127.0.0.1/cb", "http://user@127.0.0.1:5/cb", False),
]


@pytest.mark.parametrize(
    ("registered", "presented", "matches"),
    MATCHING,
    ids=[f"{r} <- {p}" for r, p, _ in MATCHING],
)
def test_redirect_matching(
    http: httpx.Client, registered: str, presented: str, matches: bool
) -> None:
    reg = register(http, redirect_uris=[registered])
    answer = http.get("/authorize", params=authorize_params(reg, pkce()[1], presented))
    if matches:
        assert answer.status_code == 200 and "Allow access?" in answer.text
    else:
        assert_error_page(answer)


REGISTRABLE = {
    "https": ("https://app.example/cb", True),
    "loopback-v4": ("http://127.0.0.1:8080/cb", True),
    "loopback-v6": ("http://[::1]/cb", True),
    "localhost": ("http://localhost/cb", True),
    "http-elsewhere": ("http://app.example/cb", False),
    "fragment": ("http://127.0.0.1/cb#x", False),
    "user-info": ("https://user:pw@app.example/cb", False),
    "bad-port": ("http://127.0.0.1:99999/cb", False),
    "no-host": ("https:///cb", False),
    "custom-scheme": ("com.example.app:/cb", False),
    "not-a-uri": ("not a uri", False),
}


@pytest.mark.parametrize(("uri", "ok"), list(REGISTRABLE.values()), ids=list(REGISTRABLE))
def test_register_client_redirect_rules(oidc: Any, uri: str, ok: bool) -> None:
    def call() -> Any:
        return oidc.register_client(
            clientName="x",
            clientType="public",
            grantTypes=["authorization_code"],
            redirectUris=[uri],
        )

    if ok:
        assert call()["authorizationEndpoint"].endswith("/authorize")
        return
    with pytest.raises(oidc.exceptions.InvalidRedirectUriException) as caught:
        call()
    assert caught.value.response["error"] == "invalid_redirect_uri"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# -- CreateToken with the code, through botocore ----------------------------------------------


def test_authorization_code_grant_through_botocore(
    emu: Emulator, http: httpx.Client, oidc: Any
) -> None:
    reg = register(http)
    verifier, challenge = pkce()
    code = sign_in(http, reg, challenge)
    token = redeem(oidc, reg, code, redirectUri=USED, codeVerifier=verifier)
    assert token["tokenType"] == "Bearer" and token["expiresIn"] == 3600
    assert {token["accessToken"], token["refreshToken"], token["idToken"]} <= emu.secrets
    sso = botocore.session.get_session().create_client(
        "sso", region_name=emu.region, endpoint_url=emu.url, config=NO_RETRY
    )
    assert sso.list_accounts(accessToken=token["accessToken"])["accountList"]
    refreshed = oidc.create_token(
        clientId=reg["clientId"],
        clientSecret=reg["clientSecret"],
        grantType="refresh_token",
        refreshToken=token["refreshToken"],
    )
    assert refreshed["refreshToken"] != token["refreshToken"]
    records = [r for r in emu.requests if r["operation"] == "CreateToken"]
    assert records[0]["grant_type"] == "authorization_code" and records[0]["status"] == 200


def test_no_refresh_token_without_the_account_access_scope(
    emu: Emulator, http: httpx.Client, oidc: Any
) -> None:
    reg = register(http, scopes=[])
    verifier, challenge = pkce()
    page = http.get("/authorize", params=authorize_params(reg, challenge, scopes=None))
    location = submit(http, consent_id(page), "approve").headers["location"]
    token = redeem(oidc, reg, query(location)["code"], redirectUri=USED, codeVerifier=verifier)
    assert token["accessToken"] and "refreshToken" not in token


# None for codeVerifier: send the right one (the redirect URI is what is wrong).
BAD_REDEMPTIONS: dict[str, dict[str, Any]] = {
    "wrong-verifier": {"redirectUri": USED, "codeVerifier": "x" * 64},
    "no-verifier": {"redirectUri": USED},
    "registered-not-used-redirect": {"codeVerifier": None, "redirectUri": REGISTERED},
    "other-port": {"codeVerifier": None, "redirectUri": "http://127.0.0.1:49153/oauth/callback"},
    "no-redirect": {"codeVerifier": None},
}


@pytest.mark.parametrize("params", list(BAD_REDEMPTIONS.values()), ids=list(BAD_REDEMPTIONS))
def test_bad_redemptions_are_invalid_grant(
    http: httpx.Client, oidc: Any, params: dict[str, Any]
) -> None:
    reg = register(http)
    verifier, challenge = pkce()
    code = sign_in(http, reg, challenge)
    sent = {k: (verifier if k == "codeVerifier" and v is None else v) for k, v in params.items()}
    with pytest.raises(oidc.exceptions.InvalidGrantException) as caught:
        redeem(oidc, reg, code, **sent)
    assert caught.value.response["error"] == "invalid_grant"
    # A failed attempt burns the code: not even the right verifier redeems it now.
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        redeem(oidc, reg, code, redirectUri=USED, codeVerifier=verifier)


def test_a_code_is_single_use_and_bound_to_its_client(http: httpx.Client, oidc: Any) -> None:
    reg, other = register(http), register(http)
    verifier, challenge = pkce()
    code = sign_in(http, reg, challenge)
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        redeem(oidc, other, code, redirectUri=USED, codeVerifier=verifier)
    assert redeem(oidc, reg, code, redirectUri=USED, codeVerifier=verifier)["accessToken"]
    with pytest.raises(oidc.exceptions.InvalidGrantException) as reused:
        redeem(oidc, reg, code, redirectUri=USED, codeVerifier=verifier)
    assert reused.value.response["error"] == "invalid_grant"


def test_a_code_is_short_lived(emulator_factory: Callable[..., Emulator]) -> None:
    emu = emulator_factory(code_ttl=0.3)
    with httpx.Client(base_url=emu.url, timeout=10, follow_redirects=False) as http:
        oidc: Any = botocore.session.get_session().create_client(
            "sso-oidc", region_name=emu.region, endpoint_url=emu.url, config=NO_RETRY
        )
        reg = register(http)
        verifier, challenge = pkce()
        code = sign_in(http, reg, challenge)
        time.sleep(0.4)
        with pytest.raises(oidc.exceptions.InvalidGrantException):
            redeem(oidc, reg, code, redirectUri=USED, codeVerifier=verifier)


# -- the Emulator helpers, records and faults -------------------------------------------------


def test_emulator_consent_helper(emu: Emulator, http: httpx.Client, oidc: Any) -> None:
    reg = register(http)
    verifier, challenge = pkce()
    url = emu.authorize_url(reg["clientId"], USED, challenge, scopes=[SCOPE], state=STATE)
    assert url.startswith(f"{emu.url}/authorize?")
    location = emu.consent(url)
    params = query(location)
    assert location.startswith(f"{USED}?") and params["state"] == STATE
    assert redeem(oidc, reg, params["code"], redirectUri=USED, codeVerifier=verifier)
    denied = query(emu.consent(url, approve=False))
    assert denied["error"] == "access_denied" and denied["state"] == STATE
    with pytest.raises(ValueError, match="not registered"):
        emu.consent(emu.authorize_url("emu-client-nobody", USED, challenge))
    with pytest.raises(ValueError, match="not an /authorize URL"):
        emu.consent("http://127.0.0.1:1/authorize?client_id=x")
    # An error reported to the client is a redirect too, returned as is.
    assert query(emu.consent(emu.authorize_url(reg["clientId"], USED, "bad")))["error"]
    ops = [r["operation"] for r in emu.requests]
    assert ops.count("Authorize") == 4 and ops.count("AuthorizeSubmit") == 2


def test_authorize_requests_are_recorded_without_secrets(
    emu: Emulator, http: httpx.Client, oidc: Any
) -> None:
    reg = register(http)
    verifier, challenge = pkce()
    page = http.get("/authorize", params=authorize_params(reg, challenge))
    consent = consent_id(page)
    location = submit(http, consent, "approve").headers["location"]
    redeem(oidc, reg, query(location)["code"], redirectUri=USED, codeVerifier=verifier)
    records = emu.requests
    assert [(r["operation"], r["method"], r["path"], r["status"]) for r in records] == [
        ("RegisterClient", "POST", "/client/register", 200),
        ("Authorize", "GET", "/authorize", 200),
        ("AuthorizeSubmit", "POST", "/authorize", 302),
        ("CreateToken", "POST", "/token", 200),
    ]
    assert all(r["client_id"] == reg["clientId"] for r in records)
    dumped = json.dumps(records)
    for value in [*emu.secrets, verifier, consent, STATE, query(location)["code"]]:
        assert value not in dumped


def test_faults_apply_to_authorize(emu: Emulator, http: httpx.Client) -> None:
    reg = register(http)
    params = authorize_params(reg, pkce()[1])
    emu.inject("Authorize", "http_500")
    assert http.get("/authorize", params=params).status_code == 500
    consent = consent_id(http.get("/authorize", params=params))
    emu.inject("AuthorizeSubmit", "html_502")
    assert submit(http, consent, "approve").status_code == 502
    assert submit(http, consent, "approve").status_code == 302  # the fault used nothing up
