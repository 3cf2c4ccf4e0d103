"""``PendingSession``: the boto3 Session a notebook gets *at once* for ``--account/--role``.

``%ssooidc login --account A --role R`` returns before the user has approved, yet the next
cell (Run All) may already call ``session.client("s3")``. So the session variable is bound
to this stand-in: any attribute use waits for the sign-in (interruptibly, through the
pending token), makes the real refreshable ``boto3.Session`` once, and delegates to it. The
magic swaps the real Session into the namespace as soon as the sign-in ends, so the
stand-in is only ever seen by cells that run during the wait.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._token import SSOToken

__all__ = ["PendingSession"]


class PendingSession:
    """Waits for ``token`` on first use, then behaves as ``token.session(account, role)``.

    Its repr never waits and never shows a secret. Private names (``_repr_html_`` and the
    like, which IPython probes when showing a value) are not forwarded before the Session
    exists, so displaying the variable never blocks the kernel.
    """

    def __init__(
        self,
        token: SSOToken,
        account_id: str,
        role_name: str,
        region_name: str | None = None,
    ) -> None:
        # Plain attributes with a prefix no boto3 Session attribute has: __getattr__ only
        # sees names missing here.
        self._ssooidc_token = token
        self._ssooidc_account = account_id
        self._ssooidc_role = role_name
        self._ssooidc_region = region_name
        self._ssooidc_session: Any = None
        self._ssooidc_lock = threading.Lock()

    @property
    def account_id(self) -> str:
        return self._ssooidc_account

    @property
    def role_name(self) -> str:
        return self._ssooidc_role

    @property
    def ready(self) -> bool:
        """True once the real Session exists (attribute use no longer waits)."""
        return self._ssooidc_session is not None

    def resolve(self) -> Any:
        """The real ``boto3.Session``: waits for the sign-in, then makes it (once)."""
        with self._ssooidc_lock:
            if self._ssooidc_session is None:
                self._ssooidc_session = self._ssooidc_token.session(
                    self._ssooidc_account, self._ssooidc_role, region_name=self._ssooidc_region
                )
            return self._ssooidc_session

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_ssooidc_"):
            raise AttributeError(name)  # half-built (copy, pickle): never recurse
        if name.startswith("_") and self._ssooidc_session is None:
            raise AttributeError(name)
        return getattr(self.resolve(), name)

    def __repr__(self) -> str:
        what = f"role {self._ssooidc_role!r} in account {self._ssooidc_account}"
        if self._ssooidc_session is not None:
            return f"<boto3 Session for {what} (signed in)>"
        return f"<boto3 Session for {what}, waiting for the sign-in>"
