"""Sign-ins running in the server process: one asyncio task each, on the server's loop.

A :class:`ServerLogin` is what the REST routes show of a sign-in: its state, the code to show
and where to enter it, never the device code or a token (those stay inside the flow and the
cache). The :class:`LoginRegistry` starts them with the async driver, answers as soon as the
prompt is known, cancels them, and keeps the last few finished ones so a client polling
``GET /ssooidc/api/login/{id}`` sees how one ended.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .._exceptions import SSOOIDCError
from ..auth._context import LoginContext
from ..auth._flow import DevicePrompt
from ..auth._inflight import WaitingNotice
from ..auth._models import format_timestamp
from ..auth._outcome import CANCELLED, LoginState, outcome_of
from ..auth._pkceflow import CallbackBox
from ..auth._runner import asign_in, callback_box

__all__ = ["LoginRegistry", "LoginState", "ServerLogin", "TooManySignIns"]

logger = logging.getLogger("ssooidc_jupyter.server")

# Finished sign-ins kept for GET /ssooidc/api/login/{id}: the last few, for a while.
_KEEP_FINISHED = 32
FINISHED_TTL = 15 * 60.0
# Sign-ins pending at once in one server: a person has a handful of sign-ins; each pending
# one holds a registration, a device code or a callback box, and two descriptors.
MAX_PENDING = 8


class TooManySignIns(Exception):
    """The server already has :data:`MAX_PENDING` sign-ins waiting (answered 429)."""

    def __init__(self) -> None:
        super().__init__(
            f"{MAX_PENDING} sign-ins are already waiting for approval in this Jupyter server; "
            "finish or cancel one of them (DELETE /ssooidc/api/login/{id}), or wait until "
            "they expire, then try again."
        )


@dataclass(eq=False)
class ServerLogin:
    """One sign-in started by ``POST /ssooidc/api/login``. Holds no secret."""

    id: str
    context: LoginContext
    name: str | None
    state: LoginState = LoginState.PENDING
    prompt: DevicePrompt | None = None
    message: str | None = None
    token_expires_at: datetime | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)
    # PKCE: where /ssooidc/oauth/callback delivers the redirect (None: device flow).
    box: CallbackBox | None = field(default=None, repr=False)
    # Set once the prompt is known or the sign-in ended: the POST can answer then.
    ready: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    # Another process's sign-in this one waits for (the status route's "pending" shape).
    waiting: dict[str, Any] | None = None
    # time.monotonic() when it ended (finished ones are forgotten by age and by number).
    finished_at: float | None = field(default=None, repr=False)

    @property
    def token_key(self) -> str:
        return self.context.slot.token_key

    def show(self, prompt: DevicePrompt) -> None:
        self.prompt, self.waiting = prompt, None
        self.message = None
        self.ready.set()

    def notice(self, message: str) -> None:
        """Another process holds this sign-in's lock (issue 20): answer the POST at once with
        what it waits for, rather than after the prompt wait."""
        if isinstance(message, WaitingNotice):
            self.waiting = message.pending.summary()
            self.message = message.pending.message()
            self.ready.set()
            return
        logger.info("%s", message)

    def finish(self, state: LoginState, message: str | None = None) -> None:
        self.state = state
        self.message, self.waiting = message, None
        if self.finished_at is None:
            self.finished_at = time.monotonic()
        self.ready.set()

    def to_json(self) -> dict[str, Any]:
        prompt = self.prompt
        request = self.context.request
        return {
            "id": self.id,
            "state": self.state.value,
            "flow": self.context.flow,
            "name": self.name,
            "start_url": request.start_url,
            "region": request.region,
            "user_code": (prompt.user_code or None) if prompt else None,
            "verification_uri": prompt.verification_uri if prompt else None,
            "verification_uri_complete": prompt.verification_uri_complete if prompt else None,
            "expires_at": format_timestamp(prompt.expires_at) if prompt else None,
            "interval": prompt.interval if prompt else None,
            "message": self.message,
            "waiting": self.waiting,
            "signed_in_until": (
                format_timestamp(self.token_expires_at) if self.token_expires_at else None
            ),
        }


class LoginRegistry:
    """The server's sign-ins, by id. Lives in the web app's settings; loop-bound."""

    def __init__(self) -> None:
        self._logins: dict[str, ServerLogin] = {}
        # Sign-ins made here by start URL (not named in ~/.aws/config): the status lists them.
        self.known: dict[str, LoginContext] = {}
        # Called (on the loop) when a sign-in starts or ends: the status events tell the tabs.
        self.on_change: Callable[[str], None] | None = None

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change("login")

    def __iter__(self) -> Iterator[ServerLogin]:
        return iter(list(self._logins.values()))

    def get(self, login_id: str) -> ServerLogin | None:
        self._forget_old()
        return self._logins.get(login_id)

    def pending(self) -> list[ServerLogin]:
        return [login for login in self if login.state is LoginState.PENDING]

    def start(self, context: LoginContext, name: str | None) -> ServerLogin:
        """Start signing in to ``context``, or return the sign-in already pending for it (a
        second one would only wait for the first on the cache lock). :class:`TooManySignIns`
        when :data:`MAX_PENDING` are already waiting."""
        key = context.slot.token_key
        pending = self.pending()
        for login in pending:
            if login.token_key == key:
                return login
        if len(pending) >= MAX_PENDING:
            raise TooManySignIns
        login = ServerLogin(id=uuid.uuid4().hex, context=context, name=name)
        login.box = callback_box(context)
        self._logins[login.id] = login
        self._forget_old()
        login.task = asyncio.get_running_loop().create_task(self._run(login))
        self._changed()
        return login

    async def _run(self, login: ServerLogin) -> None:
        try:
            token = await asign_in(
                login.context,
                box=login.box,
                on_prompt=login.show,
                on_notice=login.notice,
                origin="status bar",
            )
        except (Exception, asyncio.CancelledError) as exc:
            # The one outcome model, as the notebook's controller reports it.
            outcome = outcome_of(exc)
            if not isinstance(exc, SSOOIDCError | asyncio.CancelledError):
                logger.error("ssooidc sign-in %s failed", login.id, exc_info=exc)
            login.finish(outcome.state, outcome.message)
            if isinstance(exc, asyncio.CancelledError):
                raise
        else:
            login.token_expires_at = token.expires_at
            if login.name is None:
                self.known[login.token_key] = login.context
            login.finish(LoginState.SIGNED_IN)
        finally:
            self._changed()

    def by_state(self, state: object) -> ServerLogin | None:
        """The pending PKCE sign-in whose ``state`` this is (compared in constant time)."""
        for login in self.pending():
            if login.box is not None and login.box.matches(state):
                return login
        return None

    def cancel(self, login: ServerLogin) -> None:
        if login.state is LoginState.PENDING and login.task is not None:
            login.task.cancel()
            # Shown at once; the task confirms it when it unwinds.
            login.finish(LoginState.CANCELLED, CANCELLED)

    def cancel_for(self, token_key: str) -> None:
        for login in self.pending():
            if login.token_key == token_key:
                self.cancel(login)

    def _forget_old(self) -> None:
        finished = [login for login in self if login.state is not LoginState.PENDING]
        too_old = time.monotonic() - FINISHED_TTL
        for index, login in enumerate(finished):
            ended = login.finished_at
            if index < len(finished) - _KEEP_FINISHED or (ended is not None and ended < too_old):
                del self._logins[login.id]
