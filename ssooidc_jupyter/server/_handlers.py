"""The REST handlers of the server extension and their routes.

Every handler is a jupyter_server ``APIHandler``: ``@web.authenticated`` and the
``authorized`` decorator (resource ``ssooidc``) put each route behind the server's own
authentication, XSRF check and authorizer; an unauthenticated or cross-site request is
answered 403 before our code runs. Nothing here blocks the loop: a sign-in runs as an
asyncio task with the async driver, the portal Logout in a worker thread. No body ever
carries an access token, refresh token, client secret, device code or AWS key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import datetime, timezone
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from .._exceptions import ConfigurationError, SSOOIDCError
from ..auth._context import LoginContext
from ..auth._token import SSOToken
from ._logins import LoginRegistry, LoginState
from ._status import sign_ins
from ._targets import BadBody, Target, parse_target

__all__ = ["setup_handlers"]

AUTH_RESOURCE = "ssooidc"
_SETTINGS_KEY = "ssooidc_logins"
# How long POST /login waits for the prompt (RegisterClient + StartDeviceAuthorization,
# each bounded by the client's own timeout) before answering with the sign-in still pending.
_PROMPT_WAIT = 30.0


def _now() -> datetime:
    return datetime.now(timezone.utc)


class _SSOOIDCHandler(APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def logins(self) -> LoginRegistry:
        registry: LoginRegistry = self.settings[_SETTINGS_KEY]
        return registry

    def reply(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(data))

    def refuse(self, message: str) -> web.Finish:
        """Answer 400 with ``message`` (what was wrong, what to send) and end the request.

        Not ``HTTPError(400, message)``: tornado %-formats its log message, and a message
        quoting the user's value may hold a ``%``."""
        self.reply({"message": message}, 400)
        return web.Finish()

    def target(self, *, allow_force: bool) -> tuple[Target, bool, LoginContext]:
        """The sign-in a body names, resolved; any problem is a 400 saying what to send."""
        try:
            body = json.loads(self.request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise self.refuse("The body is not JSON.") from None
        try:
            target, force = parse_target(body, allow_force=allow_force)
            context = target.resolve(force=force)
        except (BadBody, ConfigurationError) as exc:
            # Our messages name the bad value and the fix; they never hold a secret.
            raise self.refuse(str(exc)) from None
        return target, force, context


class StatusHandler(_SSOOIDCHandler):
    @web.authenticated
    @authorized
    def get(self) -> None:
        entries, error = sign_ins(_now(), self.logins.known.values())
        self.reply(
            {
                "sessions": entries,
                "pending": [login.to_json() for login in self.logins.pending()],
                "config_error": error,
            }
        )


class LoginHandler(_SSOOIDCHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        target, _, context = self.target(allow_force=True)
        login = self.logins.start(context, target.name)
        # Past the wait it is still pending: the client polls GET /login/{id} for the code.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(login.ready.wait(), _PROMPT_WAIT)
        status = 502 if login.state is LoginState.FAILED else 202
        self.reply(login.to_json(), status)


class LoginItemHandler(_SSOOIDCHandler):
    def _login(self, login_id: str) -> Any:
        login = self.logins.get(login_id)
        if login is None:
            raise web.HTTPError(404, "No such sign-in (it ended long ago, or never started).")
        return login

    @web.authenticated
    @authorized
    def get(self, login_id: str) -> None:
        self.reply(self._login(login_id).to_json())

    @web.authenticated
    @authorized
    def delete(self, login_id: str) -> None:
        login = self._login(login_id)
        self.logins.cancel(login)
        self.reply(login.to_json())


class LogoutHandler(_SSOOIDCHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        target, _, context = self.target(allow_force=False)
        self.logins.cancel_for(context.slot.token_key)
        # One small local file read on the loop, as the status route does.
        cached = context.slot.load_token()
        result: dict[str, Any] = {
            "name": target.name,
            "start_url": context.request.start_url,
            "state": "signed_out",
            "portal_logout": False,
            "message": None,
        }
        if cached is not None:
            token = SSOToken(cached, context=context)
            try:
                # The portal client is boto3's (sync): Logout runs in a worker thread.
                # SSOToken.logout removes the cache entry whatever the portal answers.
                await asyncio.to_thread(token.logout)
            except SSOOIDCError as exc:
                result["message"] = f"Signed out here; the portal Logout failed: {exc}"
            except Exception as exc:
                # botocore's errors (an expired token's UnauthorizedException, ...): only
                # the type goes out, botocore messages are not ours to vouch for.
                result["message"] = (
                    f"Signed out here; the portal Logout failed ({type(exc).__name__})."
                )
            else:
                result["portal_logout"] = True
        self.logins.known.pop(context.slot.token_key, None)
        self.reply(result)


def setup_handlers(serverapp: Any) -> None:
    web_app = serverapp.web_app
    web_app.settings[_SETTINGS_KEY] = LoginRegistry()
    base = url_path_join(web_app.settings["base_url"], "ssooidc", "api")
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "status"), StatusHandler),
            (url_path_join(base, "login"), LoginHandler),
            (url_path_join(base, "login", "(?P<login_id>[0-9a-f]{32})"), LoginItemHandler),
            (url_path_join(base, "logout"), LogoutHandler),
        ],
    )
