"""The kernel side: send a role's credentials to a Dask cluster and renew them there.

:func:`forward_credentials` fetches role credentials from a role session of ours (through
the sign-in: GetRoleCredentials), registers them as a worker plugin the scheduler keeps,
and starts a daemon thread that sends fresh ones before they expire. Only the role
credentials travel; the SSO access token, refresh token and client registration stay here.

The renewal runs in a daemon thread (as the sign-in's controller does), never on the
kernel's event loop: on ipykernel 7 a task there can stall until the next cell runs.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import threading
import time
import weakref
from collections.abc import Callable
from datetime import datetime, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._exceptions import LoginError, SSOOIDCError, UnauthorizedException
from ..auth._clock import utcnow
from ._plugin import PLUGIN_NAME, CredentialsPlugin

if TYPE_CHECKING:
    from ..auth._aws import RoleCredentials

__all__ = ["REFRESH_AHEAD", "CredentialForwarder", "ForwardState", "forward_credentials"]

logger = logging.getLogger("ssooidc_jupyter.dask")

#: Fresh credentials are sent this long before the ones on the workers expire: botocore's
#: clients re-read them from 15 minutes before expiry (advisory) and insist from 10
#: (mandatory), so they must be there by then, with time to spare for a slow round.
REFRESH_AHEAD = 20 * 60.0
#: A failed renewal (network, scheduler busy) is tried again after this, doubling up to
#: RETRY_MAX; never later than the credentials' expiry would need.
RETRY_FIRST, RETRY_MAX = 5.0, 60.0

# The sign-in is over: a new one is needed, so renewing cannot go on.
_ENDED = (LoginError, UnauthorizedException)

OnEnded = Callable[[BaseException], None]


class ForwardState(enum.Enum):
    FORWARDING = "forwarding"
    #: The IAM Identity Center session ended: nothing more is sent, and the workers'
    #: credentials lapse at their expiry.
    ENDED = "ended"
    #: stop() removed them from the workers, another forwarder to the same client replaced
    #: them, or the client closed.
    STOPPED = "stopped"


def renewal_delay(expiration: datetime, fetched_at: datetime) -> float:
    """Seconds from ``fetched_at`` to the next renewal: REFRESH_AHEAD before expiry, or
    halfway through a lifetime too short for that (which botocore refreshes at every call
    anyway, being always inside its windows)."""
    lifetime = (expiration - fetched_at).total_seconds()
    return max(lifetime - REFRESH_AHEAD, lifetime / 2, 0.0)


def _plugin(creds: RoleCredentials, region: str | None) -> CredentialsPlugin:
    return CredentialsPlugin(
        access_key_id=creds.access_key_id,
        secret_access_key=creds.secret_access_key,
        session_token=creds.session_token,
        # The format the AWS SDKs write and read (ISO 8601, UTC).
        expiration=creds.expiration.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        region=region,
        account_id=creds.account_id,
        role_name=creds.role_name,
    )


# One forwarder per client: the workers' environment holds one set of credentials. Sends
# and removals take one lock, so a forwarder that a newer one replaced cannot send after it.
_current: weakref.WeakKeyDictionary[Any, CredentialForwarder] = weakref.WeakKeyDictionary()
_send_lock = threading.Lock()


class CredentialForwarder:
    """The handle :func:`forward_credentials` returns: :meth:`stop` (or leaving a ``with``
    block) removes the credentials from the workers. Holds no secret in its repr."""

    def __init__(self, client: Any, session: Any, *, on_ended: OnEnded | None = None) -> None:
        fetch = getattr(session, "ssooidc_role_credentials", None)
        if not callable(fetch):
            raise TypeError(
                "forward_credentials needs a role session of ssooidc_jupyter "
                "(token.session(account_id, role_name) or ssooidc_jupyter.session(profile=...)), "
                f"not {type(session).__name__}"
            )
        if getattr(client, "asynchronous", False):
            raise TypeError(
                "forward_credentials needs a synchronous distributed.Client (it renews the "
                "credentials from a thread of its own)"
            )
        self._client = client
        self._fetch: Callable[[], RoleCredentials] = fetch
        self._region: str | None = getattr(session, "region_name", None)
        self.account_id: str = getattr(session, "ssooidc_account_id", "")
        self.role_name: str = getattr(session, "ssooidc_role_name", "")
        self._on_ended = on_ended
        self.state = ForwardState.FORWARDING
        #: Why renewing stopped (the sign-in ended), else None.
        self.error: BaseException | None = None
        #: Expiry of the credentials the workers hold.
        self.expiration: datetime | None = None
        #: How many times credentials were sent (the first included).
        self.sends = 0
        #: time.time() when the last sending began (after the fetch), how long it took until
        #: every worker had set the credentials up, and how long the fetch before it took.
        self.last_sent_at: float | None = None
        self.last_send_seconds: float | None = None
        self.last_fetch_seconds: float | None = None
        self._renew_at = 0.0  # time.monotonic() of the next renewal
        self._retired = threading.Event()  # the thread's signal to end
        self._sent = threading.Condition()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        until = f", until {self.expiration:%H:%M:%S} UTC" if self.expiration else ""
        return (
            f"<CredentialForwarder account_id={self.account_id!r} role_name={self.role_name!r} "
            f"{self.state.value}{until}>"
        )

    # ---- lifecycle --------------------------------------------------------------------------

    def start(self) -> CredentialForwarder:
        """Send the first credentials (this call returns once the workers have them), then
        renew them in the background."""
        self._send()
        self._thread = threading.Thread(
            target=self._renew_loop, name="ssooidc-dask-credentials", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop renewing and remove the credentials from every worker (and from the
        scheduler, so later workers get none). Idempotent."""
        self._retire()
        with _send_lock:
            if self.state is ForwardState.STOPPED:
                return
            self.state = ForwardState.STOPPED
            mine = _current.get(self._client) is self
            if mine:
                del _current[self._client]
            if not mine:
                return  # a newer forwarder owns the plugin now
            if getattr(self._client, "status", "") in ("closing", "closed"):
                return  # the cluster is gone, and the credentials with it
            with contextlib.suppress(ValueError):  # not registered (any more): nothing to do
                self._client.unregister_worker_plugin(PLUGIN_NAME)
        logger.info("Removed the %s credentials from the Dask workers", self.role_name)

    def __enter__(self) -> CredentialForwarder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def wait_sent(self, count: int, timeout: float) -> bool:
        """Block until credentials were sent ``count`` times in all (or the forwarding
        ended); True if they were."""
        with self._sent:
            self._sent.wait_for(
                lambda: self.sends >= count or self.state is not ForwardState.FORWARDING,
                timeout,
            )
            return self.sends >= count

    # ---- sending ----------------------------------------------------------------------------

    def _send(self) -> None:
        began = time.perf_counter()
        creds = self._fetch()  # GetRoleCredentials (refreshing the SSO token if need be)
        fetched_at = utcnow()
        fetch_seconds = time.perf_counter() - began
        plugin = _plugin(creds, self._region)
        with _send_lock:
            if self._retired.is_set():
                return  # stopped or replaced while fetching
            started, began = time.time(), time.perf_counter()
            # Waits until every worker has set it up; the scheduler keeps it for later ones.
            self._client.register_plugin(plugin, name=PLUGIN_NAME)
            self.last_send_seconds = time.perf_counter() - began
            self.last_fetch_seconds = fetch_seconds
            previous = _current.get(self._client)
            _current[self._client] = self
            if previous is not None and previous is not self:
                # Its plugin is replaced: it must not send again, nor remove ours.
                previous._retire()
                previous.state = ForwardState.STOPPED
            self.last_sent_at = started
            self.expiration = creds.expiration
            self._renew_at = time.monotonic() + renewal_delay(creds.expiration, fetched_at)
        with self._sent:
            self.sends += 1
            self._sent.notify_all()
        logger.info(
            "Sent %s credentials for account %s to the Dask workers (valid until %s UTC)",
            self.role_name,
            self.account_id,
            f"{creds.expiration:%H:%M:%S}",
        )

    def _renew_loop(self) -> None:
        retry = RETRY_FIRST
        wait = max(0.0, self._renew_at - time.monotonic())
        while not self._retired.wait(wait):
            try:
                self._send()
            except _ENDED as exc:
                self._ended(exc)
                return
            except Exception as exc:
                if getattr(self._client, "status", "") in ("closing", "closed"):
                    self._retire()
                    self.state = ForwardState.STOPPED
                    return
                logger.warning(
                    "Could not renew the %s credentials on the Dask workers (%s: %s); "
                    "trying again in %.0f s",
                    self.role_name,
                    type(exc).__name__,
                    _short(exc),
                    retry,
                )
                wait, retry = retry, min(retry * 2, RETRY_MAX)
            else:
                retry = RETRY_FIRST
                wait = max(0.0, self._renew_at - time.monotonic())

    def _ended(self, exc: BaseException) -> None:
        self.error = exc
        self.state = ForwardState.ENDED
        self._retire()
        when = f"{self.expiration:%H:%M:%S} UTC" if self.expiration else "their expiry"
        logger.warning(
            "The IAM Identity Center session has ended: the %s credentials on the Dask "
            "workers lapse at %s. Sign in again and forward again.",
            self.role_name,
            when,
        )
        if self._on_ended is not None:
            try:
                self._on_ended(exc)
            except Exception:  # from this thread: say it, never lose it
                logger.exception("the sign-in's signed-out handler failed")

    def _retire(self) -> None:
        self._retired.set()
        with self._sent:
            self._sent.notify_all()


def _short(exc: BaseException) -> str:
    # Our errors carry no secret (SSOOIDCError messages are written for users); others are
    # cut short so that a long remote traceback does not flood the log.
    text = str(exc)
    return text if isinstance(exc, SSOOIDCError) else text[:200]


def forward_credentials(client: Any, session: Any) -> CredentialForwarder:
    """Give the workers of the Dask ``client``'s cluster the credentials of ``session`` (a
    role session of ours: ``token.session(account_id, role_name)``,
    ``ssooidc_jupyter.session(profile=...)``), and keep them fresh there while the sign-in
    lasts.

    Every AWS SDK on the workers picks them up with no code in the task: boto3 (default
    session, clients made before and after a renewal), aiobotocore and s3fs (pandas and
    ``dask.dataframe`` on ``s3://``), the AWS CLI a task starts. Workers that join later get
    them too (the scheduler keeps the plugin). Only the role's credentials are sent, never
    the SSO tokens. Returns a handle: ``stop()`` (or a ``with`` block) removes them.
    """
    return CredentialForwarder(client, session).start()


def forward(client: Any, session: Any, *, on_ended: OnEnded | None = None) -> CredentialForwarder:
    """:func:`forward_credentials`, calling ``on_ended(error)`` (from the renewal thread)
    when the IAM Identity Center session ends: how the notebook turns to "signed out"."""
    return CredentialForwarder(client, session, on_ended=on_ended).start()
