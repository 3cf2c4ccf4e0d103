"""The public :class:`Emulator`: configuration, lifecycle and the test-facing API."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from .http import Api, Decision, EmulatorHTTPServer, RequestLog, consent_as_browser
from .model import (
    IAM_ACCESS_KEY_ID,
    IAM_CLIENT_ID,
    IAM_SECRET_ACCESS_KEY,
    DeviceStatus,
    FaultKind,
    FaultPlan,
    IdentityCenter,
    Operation,
    make_settings,
)

if TYPE_CHECKING:
    from .http._tls import ThrowawayCA

# The accept loop checks for shutdown this often; it bounds how long stop() can take.
_POLL_INTERVAL = 0.05


class Emulator:
    """A local AWS IAM Identity Center (sso-oidc + sso portal + sts) on 127.0.0.1.

    Use it as a context manager::

        with Emulator(auto_approve=0) as emu:
            client = session.create_client("sso-oidc", endpoint_url=emu.url, ...)

    Every HTTP request is recorded in :attr:`requests`; :meth:`inject` scripts failures;
    :attr:`secrets` lists every secret value issued so tests can check none leaks;
    :meth:`approve`/:meth:`deny` and :meth:`consent` stand in for the person at the
    device verification page and the /authorize consent page.
    """

    def __init__(
        self,
        region: str = "us-east-1",
        auto_approve: float | None = None,
        interval: float = 1,
        code_ttl: float = 600,
        token_ttl: float = 3600,
        role_credentials_ttl: float = 3600,
        registration_ttl: float = 90 * 86400,
        accounts: Iterable[Mapping[str, Any]] | None = None,
        page_size: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        user_name: str = "jupyter-user",
        tls: bool = False,
    ) -> None:
        # The port is the HTTP layer's; every other argument is a setting of the model.
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an integer in 0..65535, got {port!r}")
        settings = make_settings(
            region=region,
            auto_approve=auto_approve,
            interval=interval,
            code_ttl=code_ttl,
            token_ttl=token_ttl,
            role_credentials_ttl=role_credentials_ttl,
            registration_ttl=registration_ttl,
            accounts=accounts,
            page_size=page_size,
            user_name=user_name,
        )
        self._host = host
        self._port = port
        # tls=True: HTTPS with a certificate of a throwaway CA (see ca_file). Lazy: trustme
        # (a test dependency) is imported only then.
        self._ca: ThrowawayCA | None = None
        if tls:
            from .http._tls import ThrowawayCA

            self._ca = ThrowawayCA(host)
        self._center = IdentityCenter(settings)
        self._log = RequestLog()
        self._faults = FaultPlan()
        self._api = Api(self._center)
        self._lifecycle = threading.Lock()
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Bind and serve in a daemon thread. Idempotent while running."""
        with self._lifecycle:
            if self._server is not None:
                return self
            server = EmulatorHTTPServer(
                (self._host, self._port),
                self._api,
                self._log,
                self._faults,
                tls=None if self._ca is None else self._ca.server_context(),
            )
            host, port = server.server_address[:2]
            self._url = f"{server.scheme}://{_url_host(str(host))}:{port}"
            self._api.base_url = self._url
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": _POLL_INTERVAL},
                name=f"ssooidc-emulator:{port}",
                daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread
            return self

    def stop(self) -> None:
        """Stop serving and close open connections. Idempotent, returns promptly."""
        with self._lifecycle:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            if server is None:
                return
            server.stopping.set()  # cuts injected delays short
            server.shutdown()  # stop accepting; returns within one poll interval
            server.close_connections()  # idle keep-alive handlers see EOF and exit
            server.server_close()
            if thread is not None:
                thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    def __repr__(self) -> str:
        where = self._url if self.running else "stopped"
        return f"<Emulator {where} region={self.region}>"

    # -- addresses and configuration ----------------------------------------------------------

    @property
    def tls(self) -> bool:
        """True if the emulator speaks HTTPS (``Emulator(tls=True)``)."""
        return self._ca is not None

    @property
    def ca_file(self) -> str | None:
        """The PEM file of the throwaway CA that signed the HTTPS certificate (for
        ``AWS_CA_BUNDLE`` or a profile's ``ca_bundle``); None without TLS."""
        return None if self._ca is None else self._ca.ca_file

    def client_ssl_context(self) -> ssl.SSLContext | None:
        """A client SSL context trusting the throwaway CA only; None without TLS."""
        return None if self._ca is None else self._ca.client_context()

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (``https://`` with TLS) without a trailing slash (available
        once started)."""
        if self._url is None:
            raise RuntimeError("the emulator has not been started")
        return self._url

    @property
    def start_url(self) -> str:
        return f"{self.url}/start/"

    @property
    def region(self) -> str:
        return self._center.settings.region

    @property
    def user_name(self) -> str:
        return self._center.settings.user_name

    @property
    def accounts(self) -> list[dict[str, Any]]:
        """The configured accounts, as ``{"accountId", "accountName", "emailAddress", "roles"}``."""
        return [account.as_dict() for account in self._center.settings.accounts]

    @property
    def iam_credentials(self) -> tuple[str, str]:
        """Static IAM user credentials accepted for SigV4 (CreateTokenWithIAM, STS)."""
        return (IAM_ACCESS_KEY_ID, IAM_SECRET_ACCESS_KEY)

    @property
    def iam_client_id(self) -> str:
        """The application ARN accepted as ``clientId`` by CreateTokenWithIAM."""
        return IAM_CLIENT_ID

    # -- observation -------------------------------------------------------------------------

    @property
    def requests(self) -> list[dict[str, Any]]:
        """One record per HTTP request, in arrival order (a copy)."""
        return self._log.snapshot()

    @property
    def secrets(self) -> set[str]:
        """Every secret value the emulator has issued (a copy), for leak tests."""
        return self._center.store.secrets()

    @property
    def user_codes(self) -> list[str]:
        """User codes issued by StartDeviceAuthorization, oldest first."""
        return self._center.devices.user_codes()

    # -- control -------------------------------------------------------------------------------

    def approve(self, user_code: str) -> None:
        """Approve as the user would. KeyError: never issued; ValueError: expired/used/denied."""
        self._center.devices.decide(user_code, DeviceStatus.APPROVED)

    def deny(self, user_code: str) -> None:
        """Deny as the user would. KeyError: never issued; ValueError: expired/used/approved."""
        self._center.devices.decide(user_code, DeviceStatus.DENIED)

    def inject(
        self,
        operation: Operation | str,
        kind: FaultKind | str,
        times: int = 1,
        delay: float | None = None,
    ) -> None:
        """Make the next ``times`` requests for ``operation`` fail with ``kind``.

        Kinds (a :class:`FaultKind` or its string): http_500, html_502, throttle_429,
        slow_down, timeout (wait ``delay``, default 3 s, then answer normally), drop (hang
        up without answering), malformed_json (a complete 200 with broken JSON), truncated
        (a Content-Length the body never reaches, then a hang-up). For the kinds other
        than timeout a ``delay`` is waited before the fault is delivered.
        """
        self._faults.inject(operation, kind, times=times, delay=delay)

    def issue_authorization_code(
        self,
        redirect_uri: str,
        code_challenge: str | None = None,
        *,
        client_id: str | None = None,
        scopes: Sequence[str] = (),
    ) -> str:
        """An authorization code, as if the user had completed a browser sign-in.

        By default it is redeemable by CreateTokenWithIAM (``client_id`` = :attr:`iam_client_id`);
        pass a registered client id to redeem it with CreateToken instead. With a
        ``code_challenge`` (S256), the matching ``codeVerifier`` is required. Single use.
        """
        return self._center.codes.issue(
            client_id=IAM_CLIENT_ID if client_id is None else client_id,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            scopes=scopes,
        )

    def authorize_url(
        self,
        client_id: str,
        redirect_uri: str,
        code_challenge: str,
        *,
        scopes: Sequence[str] = (),
        state: str | None = None,
    ) -> str:
        """The /authorize URL a client would open in the browser (S256 PKCE)."""
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        if scopes:
            params["scopes"] = " ".join(scopes)  # space-separated, as AWS's clients send them
        if state is not None:
            params["state"] = state
        return f"{self.url}/authorize?{urlencode(params)}"

    def consent(self, url: str, *, approve: bool = True) -> str:
        """Act as the person's browser at an /authorize ``url``: open it, click Approve (or
        Deny), and return the redirect the browser would follow (``redirect_uri?code=...``
        or ``?error=access_denied``) without following it. ValueError if the emulator
        answers with an error page (unknown client, unregistered redirect URI, ...).
        """
        decision = Decision.APPROVE if approve else Decision.DENY
        return consent_as_browser(self.url, url, decision, context=self.client_ssl_context())

    def expire_registration(self, client_id: str) -> None:
        """Age a registration past its lifetime: its client gets ``invalid_client``."""
        self._center.clients.expire(client_id)

    def expire_access_token(self, token: str) -> None:
        """Age an access token past its lifetime: the portal answers it with 401."""
        self._center.sessions.expire_access_token(token)


def _url_host(host: str) -> str:
    # A wildcard bind is reachable on loopback; clients cannot connect to "0.0.0.0".
    if host in {"", "0.0.0.0"}:  # noqa: S104 - comparing, not binding
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
