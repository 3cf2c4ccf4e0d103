"""The REST handlers of the server extension and their routes.

Every handler is a jupyter_server ``APIHandler``: ``@web.authenticated`` and the
``authorized`` decorator (resource ``ssooidc``) put each route behind the server's own
authentication, XSRF check and authorizer; an unauthenticated or cross-site request is
answered 403 before our code runs. Nothing here blocks the loop: a sign-in runs as an
asyncio task with the async driver, the portal Logout with the async portal client. No body ever
carries an access token, refresh token, client secret, device code or AWS key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

from .._exceptions import ConfigurationError, SSOOIDCError
from ..auth._cache import TokenCache
from ..auth._clock import utcnow
from ..auth._context import LoginContext
from ..auth._inflight import read_pending, request_cancel
from ..auth._token import SSOToken
from ._logins import LoginRegistry, LoginState, TooManySignIns
from ._options import CALLBACK_PATH, ServerOptions, read_options, terminals_see_environment
from ._status import StatusReader
from ._targets import BadBody, Target, parse_target

__all__ = ["setup_handlers"]

AUTH_RESOURCE = "ssooidc"
_SETTINGS_KEY = "ssooidc_logins"
_OPTIONS_KEY = "ssooidc_options"
_STATUS_KEY = "ssooidc_status"
_EVENTS_KEY = "ssooidc_events"
# How long POST /login waits for the prompt (RegisterClient + StartDeviceAuthorization,
# each bounded by the client's own timeout) before answering with the sign-in still pending.
_PROMPT_WAIT = 30.0


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

    @property
    def server_options(self) -> ServerOptions:
        options: ServerOptions = self.settings[_OPTIONS_KEY]
        return options

    def redirect_uri(self) -> str:
        """Where IAM Identity Center sends the browser back: this server's callback route at
        its public address (see :meth:`ServerOptions.public_base`)."""
        return self.server_options.redirect_uri(self.request, self.base_url)

    def default_flow(self) -> str:
        return self.server_options.default_flow()

    def target(self, *, allow_force: bool) -> tuple[Target, bool, LoginContext]:
        """The sign-in a body names, resolved; any problem is a 400 saying what to send."""
        try:
            body = json.loads(self.request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise self.refuse("The body is not JSON.") from None
        try:
            target, force, flow = parse_target(body, allow_force=allow_force)
            if allow_force:
                flow = flow or self.default_flow()
                redirect = self.redirect_uri() if flow == "pkce" else None
                context = target.resolve(force=force, flow=flow, redirect_uri=redirect)
            else:
                context = target.resolve()
        except (BadBody, ConfigurationError) as exc:
            # Our messages name the bad value and the fix; they never hold a secret.
            raise self.refuse(str(exc)) from None
        return target, force, context


class StatusHandler(_SSOOIDCHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        reader: StatusReader = self.settings[_STATUS_KEY]
        # Off the loop: the config file is parsed (only when it changed) in a child process,
        # the cache entries read in a worker thread, so no other request waits on them.
        parses = reader.parses
        entries, error, default = await reader.sign_ins(utcnow(), self.logins.known.values())
        events = self.settings.get(_EVENTS_KEY)
        if events is not None and reader.parses != parses:
            events.rearm()  # new entries in the config: their expiry timers
        self.reply(
            {
                "sessions": entries,
                "pending": [login.to_json() for login in self.logins.pending()],
                "config_error": error,
                # The name of the admin's default sign-in (the first entry), or null.
                "default": default,
                # The admin's mistakes in the extension's options and the environment's
                # defaults: refused one by one, shown in the dialog.
                "setup_errors": [*self.server_options.errors, *reader.admin_errors()],
                # Status changes are pushed on the event bus: the tabs need not poll.
                "events": _EVENTS_KEY in self.settings,
            }
        )


class LoginHandler(_SSOOIDCHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        target, _, context = self.target(allow_force=True)
        try:
            login = self.logins.start(context, target.name)
        except TooManySignIns as exc:
            self.reply({"message": str(exc)}, 429)
            return
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


class PendingHandler(_SSOOIDCHandler):
    """``DELETE /ssooidc/api/pending/<key>``: cancel the sign-in in progress for ``key``
    (the token cache key) in any process -- a kernel, a script, this server (issue 20).
    204 when one was pending (it ends within half a second), 404 when none was."""

    @web.authenticated
    @authorized
    async def delete(self, key: str) -> None:
        # Off the loop: small files, but the lock directory may be on a slow disk.
        cache = TokenCache()
        pending = await asyncio.to_thread(read_pending, cache, key)
        if pending is None or not await asyncio.to_thread(request_cancel, cache, key):
            raise web.HTTPError(404, "No sign-in is waiting for approval there.")
        if pending.here:
            # This server's own: at once. (A sign-in of ours that only waits for the lock
            # is not the one pending: it takes over.)
            self.logins.cancel_for(key)
        self.set_status(204)
        self.finish()


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
            try:
                # The one logout, on the async portal client: never blocks the loop. The
                # cache's token goes whatever the portal answers; the client registration
                # stays (the server's choice: the next sign-in reuses it).
                async with SSOToken(cached, context=context) as token:
                    await token.alogout(forget_registration=False)
            except SSOOIDCError as exc:
                result["message"] = f"Signed out here; the portal Logout failed: {exc}"
            except Exception as exc:
                # Not one of ours: only the type goes out, its message is not ours to vouch for.
                result["message"] = (
                    f"Signed out here; the portal Logout failed ({type(exc).__name__})."
                )
            else:
                result["portal_logout"] = True
        self.logins.known.pop(context.slot.token_key, None)
        self.reply(result)


_CALLBACK_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title></head>
<body><p id="ssooidc-callback" data-outcome="{outcome}">{text}</p>{script}</body></html>
"""
_CLOSE_SOON = "<script>window.setTimeout(function () { window.close(); }, 500);</script>"


class CallbackHandler(JupyterHandler):
    """``GET /ssooidc/oauth/callback``: the browser back from the authorization page.

    The query goes to the pending sign-in whose ``state`` it carries, once; a forged or
    replayed callback (no such state, or already answered) is refused. The page closes
    itself: the JupyterLab tab that started the sign-in sees the outcome by polling.

    Not ``@web.authenticated``: in a browser without the Jupyter cookie that redirects to
    ``/login?next=<this URL>``, and jupyter_server logs the login page's URL with the code and
    state inside ``next`` (it scrubs only parameters named like them). A browser that is not
    signed in gets a page saying where to open the link instead; nothing is redirected."""

    auth_resource = AUTH_RESOURCE

    async def get(self) -> None:
        if not self.current_user:
            self._page(
                403,
                "Open this in JupyterLab's browser",
                "elsewhere",
                "This is the end of an AWS sign-in started in JupyterLab, but this browser is "
                "not signed in to that Jupyter server, so the sign-in cannot be completed "
                "here. Open this page's address in the browser where JupyterLab is open (and "
                "signed in), or start the sign-in again from JupyterLab in that browser.",
            )
            return
        await self._deliver()

    @authorized
    async def _deliver(self) -> None:
        registry: LoginRegistry = self.settings[_SETTINGS_KEY]
        params = {key: self.get_query_argument(key, "") for key in self.request.arguments}
        login = registry.by_state(params.get("state"))
        accepted = login is not None and login.box is not None and login.box.deliver(params)
        if accepted and params.get("error"):
            # Deny on the authorization page (error=access_denied), or another refusal: the
            # sign-in has ended; say so rather than "back in Jupyter" as after Approve.
            denied = params["error"] == "access_denied"
            self._page(
                200,
                "Sign-in denied" if denied else "Sign-in failed",
                "denied" if denied else "failed",
                "You denied the sign-in, so Jupyter is not signed in to AWS. Close this tab; "
                "to sign in, start again from Jupyter and choose Allow."
                if denied
                else "AWS did not sign you in, so Jupyter is not signed in to AWS. Close this "
                "tab; Jupyter shows what went wrong, and you can try again from there.",
            )
        elif accepted:
            self._page(
                200,
                "Signed in",
                "accepted",
                "The sign-in is back in Jupyter. You can close this tab.",
            )
        else:
            self._page(
                400,
                "Sign-in refused",
                "refused",
                "This sign-in link is not expected here (already used, cancelled or not "
                "started by this Jupyter server). Start the sign-in again from Jupyter.",
            )

    def _page(self, status: int, title: str, outcome: str, text: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        # The page's own URL holds the code: no Referer to anything it might load.
        self.set_header("Referrer-Policy", "no-referrer")
        script = _CLOSE_SOON if outcome == "accepted" else ""  # the others are to be read
        self.finish(_CALLBACK_PAGE.format(title=title, outcome=outcome, text=text, script=script))


def _start_events(serverapp: Any, registry: LoginRegistry, reader: StatusReader) -> None:
    """Push status changes on the server's event bus (jupyter_server 2: ``event_logger``);
    without it the tabs fall back to a slow poll."""
    event_logger = getattr(serverapp, "event_logger", None)
    if event_logger is None:
        return
    try:
        import watchfiles  # noqa: F401  (the watcher needs it)
    except ImportError:
        serverapp.log.warning("ssooidc_jupyter: watchfiles is missing; tabs poll the status")
        return
    from ._events import SCHEMA_PATH, StatusEvents

    event_logger.register_event_schema(SCHEMA_PATH)
    events = StatusEvents(event_logger, reader, lambda: registry.known.values())
    registry.on_change = events.emit
    serverapp.web_app.settings[_EVENTS_KEY] = events
    # The loop runs only once the server starts: start watching then.
    serverapp.io_loop.add_callback(events.start)


def setup_handlers(serverapp: Any) -> None:
    web_app = serverapp.web_app
    registry = web_app.settings[_SETTINGS_KEY] = LoginRegistry()
    web_app.settings[_OPTIONS_KEY] = read_options(serverapp)
    reader = web_app.settings[_STATUS_KEY] = StatusReader()
    _start_events(serverapp, registry, reader)
    if terminals_see_environment(serverapp):
        serverapp.log.info(
            "ssooidc_jupyter: terminals put %s first on PATH", os.path.dirname(sys.executable)
        )
    base = url_path_join(web_app.settings["base_url"], "ssooidc", "api")
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "status"), StatusHandler),
            (url_path_join(base, "login"), LoginHandler),
            (url_path_join(base, "login", "(?P<login_id>[0-9a-f]{32})"), LoginItemHandler),
            (url_path_join(base, "logout"), LogoutHandler),
            (url_path_join(base, "pending", "(?P<key>[0-9a-f]{40})"), PendingHandler),
            (url_path_join(web_app.settings["base_url"], *CALLBACK_PATH), CallbackHandler),
        ],
    )
