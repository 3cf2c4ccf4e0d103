"""``SSOToken``: the result of a sign-in, and the way to AWS credentials from it."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .._exceptions import LoginError
from ._context import LazyClient, LoginContext
from ._drivers import run_async, run_sync
from ._flow import Flow, current_token_flow, refresh_now_flow
from ._models import CachedToken

if TYPE_CHECKING:
    from ._aws import Account, RoleCredentials

__all__ = ["SSOToken"]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class SSOToken:
    """An IAM Identity Center access token, with what is needed to keep it fresh.

    ``repr`` and ``str`` show the start URL and expiry, never a secret. The secret values
    are attributes (``access_token``, ``refresh_token``) and leave only through them or
    :meth:`export`.
    """

    def __init__(self, cached: CachedToken, *, context: LoginContext) -> None:
        self._cached = cached
        self._context = context
        self._lock = threading.Lock()
        self._portal: Any = None

    # ---- what it is ------------------------------------------------------------------------

    @property
    def access_token(self) -> str:
        return self._cached.access_token

    @property
    def refresh_token(self) -> str | None:
        return self._cached.refresh_token

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
        return max(0, int((self.expires_at - _utcnow()).total_seconds()))

    @property
    def expired(self) -> bool:
        return self.expires_at <= _utcnow()

    def __repr__(self) -> str:
        state = "expired" if self.expired else f"valid until {self.expires_at:%Y-%m-%d %H:%M} UTC"
        return f"<SSOToken {self.start_url} ({self.region}), {state}>"

    def __str__(self) -> str:
        return f"IAM Identity Center token for {self.start_url} ({self.region}), " + (
            "expired" if self.expired else f"valid until {self.expires_at:%H:%M} UTC"
        )

    def export(self) -> dict[str, Any]:
        """The token in the AWS CLI / botocore cache format. This is the one way the
        secrets leave the object in bulk: handle the result as a secret."""
        return self._cached.to_json()

    # ---- keeping it fresh ------------------------------------------------------------------

    def _run(self, flow: Flow) -> CachedToken:
        """Drive a flow that never prompts, in this thread, with a client made on demand."""
        client = LazyClient(self._context)
        try:
            return run_sync(
                flow, client, self._context.slot, on_prompt=_no_prompt, on_notice=_ignore
            )
        finally:
            client.close()

    async def _arun(self, flow: Flow) -> CachedToken:
        """:meth:`_run` on the running event loop (the async driver and client)."""
        client = LazyClient(self._context, asynchronous=True)
        try:
            return await run_async(
                flow, client, self._context.slot, on_prompt=_no_prompt, on_notice=_ignore
            )
        finally:
            await client.aclose()

    def refresh(self) -> SSOToken:
        """Run the refresh_token grant now, under the cross-process lock, starting from the
        refresh token currently in the cache (another kernel may have rotated it a moment
        ago); write the result back. Raises :class:`SessionEndedError` when the session is
        over."""
        refreshed = self._run(refresh_now_flow(self._cached, _utcnow))
        with self._lock:
            self._cached = refreshed
        return self

    async def arefresh(self) -> SSOToken:
        """:meth:`refresh` for asyncio: never blocks the event loop."""
        self._cached = await self._arun(refresh_now_flow(self._cached, _utcnow))
        return self

    def current_access_token(self) -> str:
        """A valid access token now, without ever prompting: the cached one (another login
        may have renewed it), refreshed silently when it is about to expire. Raises
        :class:`LoginError` when a new sign-in is needed."""
        with self._lock:
            self._cached = self._run(
                current_token_flow(self._context.request, self._cached, _utcnow)
            )
            return self._cached.access_token

    async def acurrent_access_token(self) -> str:
        """:meth:`current_access_token` for asyncio: never blocks the event loop."""
        self._cached = await self._arun(
            current_token_flow(self._context.request, self._cached, _utcnow)
        )
        return self._cached.access_token

    # ---- AWS credentials (the ``aws`` extra) -----------------------------------------------

    def _portal_client(self) -> Any:
        from ._aws import portal_client

        if self._portal is None:
            self._portal = portal_client(self.region)
        return self._portal

    def accounts(self) -> list[Account]:
        """The AWS accounts this user can reach, each with its role names."""
        from ._aws import list_accounts

        return list_accounts(self._portal_client(), self.current_access_token())

    def credentials(self, account_id: str, role_name: str) -> RoleCredentials:
        """Role credentials for ``role_name`` in ``account_id`` (GetRoleCredentials)."""
        from ._aws import get_role_credentials

        return get_role_credentials(
            self._portal_client(), self.current_access_token(), account_id, role_name
        )

    def session(self, account_id: str, role_name: str, region_name: str | None = None) -> Any:
        """A ``boto3.Session`` for the role whose credentials refresh themselves from the
        current SSO token (never a frozen copy)."""
        from ._aws import refreshable_session

        return refreshable_session(
            lambda: self.credentials(account_id, role_name),
            region_name=region_name,
            default_region=self.region,
        )

    def logout(self) -> None:
        """End the portal session (Logout) and remove this sign-in's cache entry."""
        from ._aws import portal_logout

        try:
            portal_logout(self._portal_client(), self.access_token)
        finally:
            slot = self._context.slot
            if slot.cache is not None:
                slot.cache.delete_token(slot.token_key)


def _no_prompt(prompt: Any) -> None:
    raise LoginError("This IAM Identity Center session needs a new sign-in: run login() again.")


def _ignore(message: str) -> None:
    pass
