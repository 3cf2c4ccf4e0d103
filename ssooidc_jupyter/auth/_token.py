"""``SSOToken``: the result of a sign-in, and the way to AWS credentials from it."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._exceptions import LoginError, SSOOIDCError, UnauthorizedException
from .._secret import Secret
from ._aws import PortalClients, forget_sign_in
from ._clock import utcnow
from ._context import LoginContext
from ._drivers import adrive, drive
from ._flow import Flow, current_token_flow, refresh_now_flow
from ._models import CachedToken

if TYPE_CHECKING:
    from ._aws import Account, RoleCredentials
    from ._cache import TokenCache

__all__ = ["SSOToken"]

logger = logging.getLogger("ssooidc_jupyter.token")


class _Held:
    """The token an :class:`SSOToken` holds, changed only by a compare-and-swap: read it, run
    a flow (whose ``Lock`` step takes the cache lock in either driver), swap the result in
    if nobody replaced it meanwhile. The thread lock never spans I/O."""

    def __init__(self, token: CachedToken) -> None:
        self._token = token
        self._lock = threading.Lock()

    def get(self) -> CachedToken:
        with self._lock:
            return self._token

    def swap(self, expected: CachedToken, new: CachedToken) -> CachedToken:
        """Hold ``new`` if ``expected`` is still held; return what is held afterwards (a
        call that lost the race gets the winner's token, which is just as current)."""
        with self._lock:
            if self._token is expected:
                self._token = new
            return self._token


class SSOToken:
    """An IAM Identity Center access token, with what is needed to keep it fresh.

    ``repr`` and ``str`` show the start URL and expiry, never a secret. The secret values
    are attributes (``access_token``, ``refresh_token``) and leave only through them or
    :meth:`export`. Inside, they are held and passed on as :class:`~.._secret.Secret`: the
    plain string exists only in what those return (the documented API, as before).
    """

    def __init__(self, cached: CachedToken, *, context: LoginContext) -> None:
        self._held = _Held(cached)
        self._context = context
        # One client lifetime in both modes: a client per portal call, or one kept by a
        # with / async with block (see PortalClients).
        self._portals = PortalClients(context)

    @property
    def _cached(self) -> CachedToken:
        return self._held.get()

    # ---- what it is ------------------------------------------------------------------------

    @property
    def access_token(self) -> str:
        return self._cached.access_token.get_secret_value()

    @property
    def refresh_token(self) -> str | None:
        token = self._cached.refresh_token
        return None if token is None else token.get_secret_value()

    @property
    def expires_at(self) -> datetime:
        return self._cached.expires_at

    @property
    def region(self) -> str:
        return self._cached.region

    @property
    def start_url(self) -> str:
        return self._cached.start_url

    @property
    def session_name(self) -> str | None:
        return self._context.request.session_name

    @property
    def expires_in(self) -> int:
        """Whole seconds until expiry (0 once expired)."""
        return max(0, int((self.expires_at - utcnow()).total_seconds()))

    @property
    def expired(self) -> bool:
        return self.expires_at <= utcnow()

    def __repr__(self) -> str:
        state = "expired" if self.expired else f"valid until {self.expires_at:%Y-%m-%d %H:%M} UTC"
        return f"<SSOToken {self.start_url} ({self.region}), {state}>"

    def __str__(self) -> str:
        return f"IAM Identity Center token for {self.start_url} ({self.region}), " + (
            "expired" if self.expired else f"valid until {self.expires_at:%H:%M} UTC"
        )

    def __reduce__(self) -> Any:
        # The tokens must not travel (a Dask task, a multiprocessing pool): say what to send.
        from ._aws import NOT_PICKLABLE

        raise TypeError(NOT_PICKLABLE.format(what="An SSOToken"))

    def export(self) -> dict[str, Any]:
        """The token in the AWS CLI / botocore cache format. This is the one way the
        secrets leave the object in bulk: handle the result as a secret."""
        return self._cached.to_json()

    # ---- keeping it fresh ------------------------------------------------------------------

    def _run(self, flow: Flow) -> CachedToken:
        """Drive a flow that never prompts, in this thread: the sign-ins' own driver entry."""
        return drive(flow, self._context, on_prompt=_no_prompt, on_notice=_ignore)

    async def _arun(self, flow: Flow) -> CachedToken:
        """:meth:`_run` on the running event loop (the async driver and client)."""
        return await adrive(flow, self._context, on_prompt=_no_prompt, on_notice=_ignore)

    # The twins below differ only in the driver they call: the same flow, the same
    # compare-and-swap of the held token, the same cache lock (the flow's Lock step: the
    # cache's lock() in a thread, alock() on a loop). tests/auth/test_token_twins.py holds them
    # to it (requests and lock acquisitions compared).

    def refresh(self) -> SSOToken:
        """Run the refresh_token grant now, under the cross-process lock, starting from the
        refresh token currently in the cache (another kernel may have rotated it a moment
        ago); write the result back. Raises :class:`SessionEndedError` when the session is
        over."""
        held = self._held.get()
        self._held.swap(held, self._run(refresh_now_flow(held, utcnow)))
        return self

    async def arefresh(self) -> SSOToken:
        """:meth:`refresh` for asyncio: never blocks the event loop."""
        held = self._held.get()
        self._held.swap(held, await self._arun(refresh_now_flow(held, utcnow)))
        return self

    def current_access_token(self) -> str:
        """A valid access token now, without ever prompting: the cached one (another login
        may have renewed it), refreshed silently when it is about to expire. Raises
        :class:`LoginError` when a new sign-in is needed."""
        return self._current().get_secret_value()

    async def acurrent_access_token(self) -> str:
        """:meth:`current_access_token` for asyncio: never blocks the event loop."""
        return (await self._acurrent()).get_secret_value()

    def _current(self) -> Secret:
        """:meth:`current_access_token`, still wrapped (what our own calls pass on)."""
        held = self._held.get()
        current = self._run(current_token_flow(self._context.request, held, utcnow))
        return self._held.swap(held, current).access_token

    async def _acurrent(self) -> Secret:
        held = self._held.get()
        current = await self._arun(current_token_flow(self._context.request, held, utcnow))
        return self._held.swap(held, current).access_token

    # ---- the AWS access portal: accounts, role credentials, logout ----------------------------
    #
    # A token the portal refuses (401, UnauthorizedException: signed out elsewhere, or
    # revoked) is dead whatever its expiry says. It is flagged expired here and in the cache
    # (see _forget_refused), so the next current_access_token() or login() refreshes it or
    # asks for a new sign-in instead of handing the dead token out as fresh.

    def close(self) -> None:
        """Close the portal client a ``with`` block kept open (later calls open their own)."""
        self._portals.close()

    async def aclose(self) -> None:
        """Close the portal clients kept open: an ``async with`` block's, and a ``with``
        block's."""
        await self._portals.aclose()

    def __enter__(self) -> SSOToken:
        """Keep one blocking portal client for the block's calls."""
        self._portals.keep()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> SSOToken:
        """Keep one async portal client (of this event loop) for the block's calls."""
        self._portals.akeep()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def accounts(self) -> list[Account]:
        """The AWS accounts this user can reach, each with its role names."""
        from ._aws import list_accounts

        token = self._current()
        with self._portals.sync() as client, self._refused_is_dead(token):
            return list_accounts(client, token)

    async def aaccounts(self) -> list[Account]:
        """:meth:`accounts` for asyncio: never blocks the event loop."""
        from ._aws import alist_accounts

        token = await self._acurrent()
        async with self._portals.asynchronous() as client, self._arefused_is_dead(token):
            return await alist_accounts(client, token)

    def credentials(self, account_id: str, role_name: str) -> RoleCredentials:
        """Role credentials for ``role_name`` in ``account_id`` (GetRoleCredentials)."""
        from ._aws import get_role_credentials

        token = self._current()
        with self._portals.sync() as client, self._refused_is_dead(token):
            return get_role_credentials(client, token, account_id, role_name)

    async def acredentials(self, account_id: str, role_name: str) -> RoleCredentials:
        """:meth:`credentials` for asyncio: never blocks the event loop."""
        from ._aws import aget_role_credentials

        token = await self._acurrent()
        async with self._portals.asynchronous() as client, self._arefused_is_dead(token):
            return await aget_role_credentials(client, token, account_id, role_name)

    def session(self, account_id: str, role_name: str, region_name: str | None = None) -> Any:
        """A ``boto3.Session`` for the role whose credentials refresh themselves from the
        current SSO token (never a frozen copy). Needs the ``aws`` extra."""
        from ._aws import refreshable_session

        return refreshable_session(
            lambda: self.credentials(account_id, role_name),
            region_name=region_name,
            default_region=self.region,
            account_id=account_id,
            role_name=role_name,
        )

    def logout(self, *, forget_registration: bool = False) -> None:
        """Sign out: the portal's Logout (ends the IAM Identity Center session for every tool
        using it), then this sign-in's token is removed from the cache -- and its client
        registration too with ``forget_registration=True`` (the next sign-in registers a new
        client). A token the portal already refuses is signed out already: not an error.
        The cache entries go whatever the portal answers; its other errors are raised after.
        """
        from ._aws import portal_logout

        try:
            with self._portals.sync() as client:
                portal_logout(client, self._cached.access_token)
        except UnauthorizedException:
            logger.info("Logout: the portal no longer accepts this token (already signed out)")
        finally:
            forget_sign_in(self._context.slot, forget_registration=forget_registration)

    async def alogout(self, *, forget_registration: bool = False) -> None:
        """:meth:`logout` for asyncio: never blocks the event loop."""
        from ._aws import aportal_logout

        try:
            async with self._portals.asynchronous() as client:
                await aportal_logout(client, self._cached.access_token)
        except UnauthorizedException:
            logger.info("Logout: the portal no longer accepts this token (already signed out)")
        finally:
            forget_sign_in(self._context.slot, forget_registration=forget_registration)

    # ---- a token the portal refused ------------------------------------------------------------

    @contextlib.contextmanager
    def _refused_is_dead(self, access_token: Secret) -> Iterator[None]:
        try:
            yield
        except UnauthorizedException:
            self._forget_refused(access_token, self._flag_in_cache_sync)
            raise

    @contextlib.asynccontextmanager
    async def _arefused_is_dead(self, access_token: Secret) -> AsyncIterator[None]:
        try:
            yield
        except UnauthorizedException:
            flagged = self._forget_refused(access_token, None)
            if flagged is not None:
                await self._flag_in_cache_async(access_token, flagged)
            raise

    def _forget_refused(
        self, access_token: Secret, flag_in_cache: Callable[[Secret, datetime], None] | None
    ) -> datetime | None:
        """Mark ``access_token`` expired in this object; return the moment to write to the
        cache (or write it with ``flag_in_cache``), None if it is no longer held."""
        now = utcnow()
        held = self._held.get()
        if held.access_token != access_token:
            return None  # replaced meanwhile (refreshed by another call): nothing to do
        if held.expires_at > now:
            flagged = replace(held, expires_at=now)
            if self._held.swap(held, flagged) is not flagged:
                return None  # replaced between the read and the swap: as above
        if flag_in_cache is not None:
            flag_in_cache(access_token, now)
        return now

    def _flag_in_cache_sync(self, access_token: Secret, now: datetime) -> None:
        cache, key = self._context.slot.cache, self._context.slot.token_key
        if cache is None:
            return
        try:
            with cache.lock(key, timeout=_FLAG_LOCK_WAIT):
                _flag_entry(cache, key, access_token, now)
        except SSOOIDCError as exc:
            # Best effort: the refusal is what the caller must hear about.
            logger.warning("Could not mark the refused token as expired in the cache: %s", exc)

    async def _flag_in_cache_async(self, access_token: Secret, now: datetime) -> None:
        cache, key = self._context.slot.cache, self._context.slot.token_key
        if cache is None:
            return
        try:
            async with cache.alock(key, timeout=_FLAG_LOCK_WAIT):
                _flag_entry(cache, key, access_token, now)
        except SSOOIDCError as exc:
            logger.warning("Could not mark the refused token as expired in the cache: %s", exc)


# How long to wait for the cache lock to flag a refused token. A holder longer than this is
# a sign-in in progress elsewhere, which replaces the token anyway.
_FLAG_LOCK_WAIT = 10.0


def _flag_entry(cache: TokenCache, key: str, access_token: Secret, now: datetime) -> None:
    """Under the lock: give the cached entry of ``access_token`` the expiry ``now``.

    Flagged, not deleted: the refresh token and registration stay, so a session that is
    still alive (only this access token revoked) is renewed silently, and a dead one ends in
    a clear "session ended, sign in again". Every tool sharing the cache (the AWS CLI,
    botocore) reads an expired token the same way. An entry that already holds another
    token (another process signed in or refreshed meanwhile) is left alone.
    """
    current = cache.load_token(key)
    if current is not None and current.access_token == access_token and current.expires_at > now:
        cache.save_token(key, replace(current, expires_at=now))


def _no_prompt(prompt: Any) -> None:
    raise LoginError("This IAM Identity Center session needs a new sign-in: run login() again.")


def _ignore(message: str) -> None:
    pass
