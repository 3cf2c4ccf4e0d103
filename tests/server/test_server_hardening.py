"""The server extension against a co-tenant and a flood (issue 17, points 5 and 9).

A real Jupyter server (pytest-jupyter) with the extension, the emulator behind it:

* a PKCE redirect that reaches the server in a browser without the Jupyter cookie is answered
  with a page saying where to open it, never redirected to ``/login?next=...code=...``, and
  the server's log holds neither the code nor the state;
* pending sign-ins are capped with a 429 that says what to do; finished ones are forgotten
  by age as well as by number.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from ssooidc_jupyter.emulator import Emulator
from ssooidc_jupyter.server import _logins
from tests.server.test_server import (  # the fixtures and helpers of the server's own tests
    Api,
    Fetch,
    api,
    aws_home,
    emu,
    jp_server_config,
    served,
)

__all__ = ["api", "aws_home", "emu", "jp_server_config"]  # fixtures, used by name
pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def server_log(jp_serverapp: Any) -> Iterator[io.StringIO]:
    """Everything the server and tornado log, at every level, while the test runs."""
    text = io.StringIO()
    handler = logging.StreamHandler(text)
    handler.setLevel(logging.DEBUG)
    loggers = [
        jp_serverapp.log,
        logging.getLogger(),
        logging.getLogger("tornado.access"),
        logging.getLogger("ServerApp"),
    ]
    saved = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield text
    for logger, level in saved:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def _start_pkce(api: Api, body: dict[str, Any]) -> Any:
    code, started = await api("POST", "login", body={**body, "flow": "pkce"})
    assert code == 202, started
    return started


@served
async def test_a_callback_in_a_browser_without_the_jupyter_cookie_is_not_redirected(
    api: Api,
    emu: Emulator,
    jp_fetch: Fetch,
    http_server_client: Any,
    server_log: io.StringIO,
) -> None:
    started = await _start_pkce(api, {"session_name": "dev"})
    location = await asyncio.to_thread(emu.consent, started["verification_uri_complete"])
    query = dict(parse_qsl(urlsplit(location).query))
    # Another browser (or a private window): no Jupyter cookie, no token. It goes wherever
    # it is sent, as a browser does.
    elsewhere = await jp_fetch(
        "ssooidc",
        "oauth",
        "callback",
        params=query,
        headers={"Authorization": ""},
        raise_error=False,
        follow_redirects=False,
    )
    if elsewhere.code in (301, 302, 303, 307):
        await http_server_client.fetch(
            elsewhere.headers["Location"], raise_error=False, follow_redirects=False
        )
    log = server_log.getvalue()
    assert "/ssooidc/oauth/callback" in log, "the log was not captured: the check proves nothing"
    assert "/login?next" not in log
    for secret in (query["code"], query["state"]):
        assert secret not in log
    assert elsewhere.code == 403
    page = elsewhere.body.decode()
    assert 'data-outcome="elsewhere"' in page and "where JupyterLab is open" in page
    assert query["code"] not in page and "window.close" not in page
    # The sign-in still waits; in the right browser the same redirect completes it.
    _, login = await api("GET", "login", started["id"])
    assert login["state"] == "pending"
    right = await jp_fetch(
        "ssooidc", "oauth", "callback", params=query, raise_error=False, follow_redirects=False
    )
    assert right.code == 200
    assert (await api.wait_state(started["id"], "signed_in"))["state"] == "signed_in"
    for secret in (query["code"], query["state"]):
        assert secret not in server_log.getvalue()


@served
async def test_pending_sign_ins_are_capped_with_a_429_that_says_what_to_do(
    api: Api, emu: Emulator
) -> None:
    started = []
    for number in range(_logins.MAX_PENDING):
        code, login = await api(
            "POST", "login", body={"start_url": f"{emu.url}/start/{number}", "region": emu.region}
        )
        assert code == 202 and login["state"] == "pending", login
        started.append(login)
    registrations = sum(r["operation"] == "RegisterClient" for r in emu.requests)
    code, refused = await api(
        "POST", "login", body={"start_url": f"{emu.url}/start/extra", "region": emu.region}
    )
    assert code == 429
    assert f"{_logins.MAX_PENDING} sign-ins are already waiting" in refused["message"]
    assert "cancel" in refused["message"]
    # Refused before any call to the service.
    assert sum(r["operation"] == "RegisterClient" for r in emu.requests) == registrations
    # A target already pending is still answered (the one pending sign-in per target).
    code, again = await api(
        "POST", "login", body={"start_url": f"{emu.url}/start/0", "region": emu.region}
    )
    assert code == 202 and again["id"] == started[0]["id"]
    # Cancelling one makes room.
    code, _ = await api("DELETE", "login", started[0]["id"])
    assert code == 200
    code, extra = await api(
        "POST", "login", body={"start_url": f"{emu.url}/start/extra", "region": emu.region}
    )
    assert code == 202, extra
    for login in [*started[1:], extra]:
        await api("DELETE", "login", login["id"])


@served
async def test_finished_sign_ins_are_forgotten_by_age(
    api: Api, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, login = await api("POST", "login", body={"session_name": "dev"})
    assert code == 202
    code, _ = await api("DELETE", "login", login["id"])
    assert code == 200
    code, seen = await api("GET", "login", login["id"])
    assert code == 200 and seen["state"] == "cancelled"  # young: still shown
    monkeypatch.setattr(_logins, "FINISHED_TTL", 0.0)
    code, _ = await api("GET", "login", login["id"])
    assert code == 404


def test_the_cache_of_this_test_home_is_untouched(tmp_path: Path) -> None:
    # A guard for the fixtures imported from test_server: HOME is the test's own.
    assert str(Path.home()).startswith(str(tmp_path))
