"""``%ssooidc dask`` in one shell: :class:`DaskForwarding` sends a role's credentials to the
workers of a Dask client of the notebook, renewed while the sign-in lasts, and stops.
The forwarding itself is ``dask/_forward.py``'s (the ``dask`` extra, loaded on first use).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from .._exceptions import SSOOIDCError
from ._outputs import one_line, show_line

if TYPE_CHECKING:
    from ..auth._token import SSOToken
    from ..dask._forward import CredentialForwarder

__all__ = ["DaskForwarding"]


class DaskForwarding:
    """The credentials this shell forwards to a Dask cluster (one forwarder at a time).
    ``refused(token, error)`` turns the sign-in that holds ``token`` to signed out."""

    def __init__(self, shell: Any, refused: Callable[[SSOToken, BaseException], None]) -> None:
        self.shell = shell
        self._refused = refused
        self.forwarder: CredentialForwarder | None = None

    def start(
        self, token: SSOToken, account: str | None, role: str | None, client: Any, client_var: str
    ) -> None:
        if not account or not role:
            raise UsageError(
                "Which role? Pass --account ID --role NAME, or choose one first "
                "(%ssooidc login --account ID --role NAME, or the panel's role picker)."
            )
        try:
            self.forward(token, token.session(account, role), client)
        except SSOOIDCError as exc:
            self._refused(token, exc)
            raise one_line(exc) from None
        workers = len(client.scheduler_info().get("workers", {}))
        show_line(
            f"Forwarding {role} ({account}) credentials to the Dask workers of {client_var} "
            f"({workers} now, and any that join), renewed while you are signed in. "
            "%ssooidc dask --stop removes them."
        )

    def stop(self, *, quiet: bool = False) -> None:
        forwarder, self.forwarder = self.forwarder, None
        if forwarder is None:
            if not quiet:
                show_line("No credentials are being forwarded to Dask.")
            return
        forwarder.stop()
        if not quiet:
            show_line(f"Removed the {forwarder.role_name} credentials from the Dask workers.")

    def client(self, name: str) -> Any:
        client = self.shell.user_ns.get(name)
        if client is None or not hasattr(client, "register_plugin"):
            raise UsageError(
                f"No Dask client named {name!r} in this notebook: make one first "
                "(client = distributed.Client(...)), or name yours with --client-var."
            )
        return client

    def forward(self, token: SSOToken, session: Any, client: Any) -> CredentialForwarder:
        # Lazy: only forwarding needs distributed (the dask extra).
        from ..dask._forward import forward

        def ended(error: BaseException) -> None:
            # The renewal found the session over: the sign-in turns to "signed out" (its
            # output and widget offer a new sign-in); the workers' credentials lapse.
            self._refused(token, error)

        forwarder = forward(client, session, on_ended=ended)
        self.forwarder = forwarder
        return forwarder
