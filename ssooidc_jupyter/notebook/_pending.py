"""Stand-ins a notebook gets *at once*, before the user has approved the sign-in.

``PendingSSOToken`` stands for the token; ``PendingSession``, the boto3 Session for
``--account/--role``. Both are composition, not subclasses: they hold the controller (or
the pending token) and delegate to the real object once it exists. Their reprs never wait
and never show a secret, so Run All and the variable inspector stay quick.

``PendingSession``:

``%ssooidc login --account A --role R`` returns before the user has approved, yet the next
cell (Run All) may already call ``session.client("s3")``. So the session variable is bound
to this stand-in: any attribute use waits for the sign-in (interruptibly, through the
pending token), makes the real refreshable ``boto3.Session`` once, and delegates to it. The
magic swaps the real Session into the namespace as soon as the sign-in ends, so the
stand-in is only ever seen by cells that run during the wait.
"""

from __future__ import annotations

import threading
from typing import Any

from ..auth._token import SSOToken
from ._controller import LoginController, LoginState

__all__ = ["PendingSSOToken", "PendingSession"]


class PendingSSOToken:
    """The token a notebook gets *at once*, before the user has approved.

    Using it (``.access_token``, ``.expires_at``, ``.session(...)``, ...) waits for the
    sign-in to end, then delegates to the real :class:`SSOToken` -- or raises why the
    sign-in did not happen. Private names never wait (IPython probes ``_repr_*_`` when
    showing a value), and neither do :attr:`ready`, :attr:`controller` and the repr.
    """

    def __init__(self, controller: LoginController) -> None:
        self._controller = controller

    @property
    def ready(self) -> bool:
        """True once signed in (attribute use no longer waits)."""
        return self._controller.state is LoginState.SIGNED_IN

    @property
    def controller(self) -> LoginController:
        return self._controller

    def resolve(self) -> SSOToken:
        """The real token: waits for the sign-in (interruptibly), or raises why it failed."""
        return self._controller.wait()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.resolve(), name)

    def __dir__(self) -> list[str]:
        public = {name for name in dir(SSOToken) if not name.startswith("_")}
        return sorted(public | {"ready", "controller", "resolve"})

    def __repr__(self) -> str:
        controller = self._controller
        if controller.state is LoginState.SIGNED_IN and controller.token is not None:
            token = controller.token
            return (
                f"<SSOToken signed in to {token.start_url} until "
                f"{token.expires_at:%Y-%m-%d %H:%M} UTC>"
            )
        if controller.state is LoginState.PENDING and controller.prompt is not None:
            # Not the code: an Out[] keeps a repr in the saved notebook long after the
            # sign-in ended, and a pending code can still complete it.
            return "<SSOToken pending approval (the code is in the login cell's output)>"
        if not controller.state.finished:
            return f"<SSOToken starting sign-in to {controller.context.request.start_url}>"
        return f"<SSOToken not signed in: {controller.status_line()}>"

    __str__ = __repr__


class PendingSession:
    """Waits for ``token`` on first use, then behaves as ``token.session(account, role)``.

    Its repr never waits and never shows a secret. Private names (``_repr_html_`` and the
    like, which IPython probes when showing a value) are not forwarded before the Session
    exists, so displaying the variable never blocks the kernel.
    """

    def __init__(
        self,
        token: SSOToken | PendingSSOToken,
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

    def resolve(self, token: SSOToken | None = None) -> Any:
        """The real ``boto3.Session``: waits for the sign-in (unless the signed-in ``token``
        is given), then makes it (once)."""
        with self._ssooidc_lock:
            if self._ssooidc_session is None:
                source = self._ssooidc_token if token is None else token
                self._ssooidc_session = source.session(
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
