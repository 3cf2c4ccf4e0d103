"""What the sso-oidc and portal clients share about HTTP: options, reading, transport errors.

Both clients build their httpx clients, cap what they read and explain a failed connection
the same way. No requests are sent from here (that is :mod:`._transport`): the helpers take
the configuration, or the httpx exception the transport got.

Which certificate authorities are trusted (:func:`ca_setting`), in botocore's order
(``Session.create_client``: ``verify``, else the ``ca_bundle`` config variable, which is
``AWS_CA_BUNDLE`` then the profile's ``ca_bundle``; then ``REQUESTS_CA_BUNDLE`` in
``botocore.endpoint``), followed by what Python's TLS stack honours (``SSL_CERT_FILE``, then
``SSL_CERT_DIR``, as httpx reads them), then, when the ``truststore`` package is installed,
the operating system's trust store (plus certifi's bundle, as pip does), else certifi's
bundle. Proxies (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``) are httpx's ``trust_env``;
the CA setting also verifies the endpoint through a CONNECT tunnel.
"""

from __future__ import annotations

import functools
import os
import platform
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import httpx

from .._exceptions import (
    ConfigurationError,
    EndpointConnectionError,
    InvalidResponseError,
    RequestTimeoutError,
    ServiceError,
    SSOOIDCError,
    TransportError,
)
from ._config import ClientConfig
from ._version import package_version

__all__ = [
    "MAX_RESPONSE_BYTES",
    "USER_AGENT",
    "CASetting",
    "CertificateVerifyError",
    "ServiceClientBase",
    "ca_setting",
    "exceptions_namespace",
    "http_options",
    "ssl_context",
    "too_large_error",
    "transport_error",
]

USER_AGENT = (
    f"ssooidc-jupyter/{package_version()} httpx/{httpx.__version__} "
    f"python/{platform.python_version()}"
)

#: The largest body read from an endpoint. Real answers are a few KB (a ListAccounts page
#: of 100 accounts is ~15 KB); anything far beyond is not the service, and reading it whole
#: would let a broken or hostile endpoint fill the kernel's memory.
MAX_RESPONSE_BYTES = 256 * 1024


@dataclass(frozen=True)
class CASetting:
    """Which CAs verify the endpoint's certificate, and which setting chose them."""

    #: The setting, for messages: ``AWS_CA_BUNDLE``, ``ca_bundle in profile 'x' of ...``,
    #: ``verify=``, ``REQUESTS_CA_BUNDLE``, ``SSL_CERT_FILE``, ``SSL_CERT_DIR``,
    #: ``the operating system's trust store (truststore)`` or ``certifi's CA bundle``.
    name: str
    cafile: str | None = None
    capath: str | None = None
    #: "path" (cafile/capath), "truststore", "certifi" or "off" (verify=False).
    kind: str = "path"

    @property
    def explicit(self) -> bool:
        """True if a setting named the CAs (not a default)."""
        return self.kind in ("path", "off")


def _truststore_available() -> bool:
    try:
        import truststore  # noqa: F401
    except ImportError:
        return False
    return True


def _path_setting(name: str, value: str) -> CASetting:
    if not value.strip():
        # botocore's InvalidConfigError for the same value.
        raise ConfigurationError(
            f"{name} is empty; set it to the path of a CA bundle file (PEM) or unset it."
        )
    if os.path.isdir(value):
        return CASetting(name, capath=value)
    return CASetting(name, cafile=value)


def ca_setting(config: ClientConfig | None = None) -> CASetting:
    """The CA setting in force for a client of ``config`` (see the module docstring)."""
    verify = config.verify if config is not None else None
    if verify is False:
        return CASetting("verify=False", kind="off")
    if verify is None:
        # botocore's "ca_bundle" config variable: the environment, then the profile.
        if "AWS_CA_BUNDLE" in os.environ:
            return _path_setting("AWS_CA_BUNDLE", os.environ["AWS_CA_BUNDLE"])
        profile = config.profile_settings if config is not None else None
        if profile is not None and profile.ca_bundle is not None:
            return _path_setting(f"ca_bundle in {profile.source}", profile.ca_bundle)
        if "REQUESTS_CA_BUNDLE" in os.environ:
            return _path_setting("REQUESTS_CA_BUNDLE", os.environ["REQUESTS_CA_BUNDLE"])
    elif isinstance(verify, str):
        return _path_setting("verify=", verify)
    # verify=True skips the AWS settings (as in botocore); Python's own variables still count.
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        value = os.environ.get(name)
        if value:  # httpx and OpenSSL ignore an empty one
            return _path_setting(name, value)
    if _truststore_available():
        return CASetting("the operating system's trust store (truststore)", kind="truststore")
    return CASetting("certifi's CA bundle", kind="certifi")


def _stamp(path: str | None) -> tuple[int, int] | None:
    # Part of the cache key: a CA file replaced in place (a renewed corporate CA) is re-read.
    if path is None:
        return None
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)


def ssl_context(setting: CASetting) -> ssl.SSLContext:
    """One verifying SSL context per CA setting, shared by all clients: building one (loading
    the CA bundle) costs ~15 ms, more than the rest of a client's construction. A bundle that
    cannot be loaded is a :class:`ConfigurationError` naming the setting."""
    try:
        return _cached_context(setting, _stamp(setting.cafile or setting.capath))
    except (OSError, ssl.SSLError) as exc:
        path = setting.cafile or setting.capath
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigurationError(
            f"{setting.name} points at {path!r}, which cannot be loaded as CA certificates "
            f"({reason}). Point it at a PEM file of your organisation's CA certificates, "
            "or unset it."
        ) from exc


@functools.lru_cache(maxsize=8)
def _cached_context(setting: CASetting, stamp: tuple[int, int] | None) -> ssl.SSLContext:
    del stamp  # only part of the cache key
    if setting.kind == "off":
        return httpx.create_ssl_context(verify=False)
    if setting.kind == "truststore":
        import certifi
        import truststore

        # As pip: the OS store, and certifi's bundle so that nothing trusted before is lost.
        context: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cafile=certifi.where())
        return context
    if setting.kind == "certifi":
        return httpx.create_ssl_context(trust_env=False)
    return ssl.create_default_context(cafile=setting.cafile, capath=setting.capath)


def http_options(config: ClientConfig) -> dict[str, Any]:
    """Keyword arguments for ``httpx.Client`` / ``httpx.AsyncClient``."""
    limits = httpx.Limits(max_keepalive_connections=0 if config.close_connection else 10)
    return {
        "verify": ssl_context(ca_setting(config)),
        "timeout": httpx.Timeout(config.timeout),
        "limits": limits,
        "headers": {"User-Agent": USER_AGENT},
        # HTTPS_PROXY / ALL_PROXY / NO_PROXY from the environment, as the AWS CLI.
        "trust_env": True,
    }


def too_large_error(operation: str, host: str, status: int) -> InvalidResponseError:
    return InvalidResponseError(
        f"{operation} got HTTP {status} from {host} with a body larger than "
        f"{MAX_RESPONSE_BYTES // 1024} KiB, far more than the service ever sends; it was not "
        "read. Something other than IAM Identity Center answered: check the endpoint "
        "(AWS_ENDPOINT_URL...) and any proxy, then try again.",
        operation=operation,
        status_code=status,
    )


class CertificateVerifyError(EndpointConnectionError):
    """The endpoint's TLS certificate could not be verified with the CA setting in force.
    Not retried: the same certificate and the same CAs fail the same way every time."""

    retryable = False


def _verify_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _ca_advice(
    operation: str, host: str, failure: ssl.SSLError, config: ClientConfig | None
) -> str:
    setting = ca_setting(config)
    reason = getattr(failure, "verify_message", None) or failure.reason or "verification failed"
    aws_way = (
        "set AWS_CA_BUNDLE (or ca_bundle in your profile of ~/.aws/config) to your "
        "organisation's CA bundle (PEM), as for the AWS CLI"
    )
    used = setting.name
    if setting.cafile or setting.capath:
        used = f"the CA certificates of {setting.name} ({setting.cafile or setting.capath})"
    if setting.name.startswith(("AWS_CA_BUNDLE", "ca_bundle", "verify")):
        fix = f"make {setting.name} hold the CA that signed it (your organisation's, PEM)."
    elif setting.explicit:
        fix = f"{aws_way}; it comes before {setting.name}."
    else:
        fix = f"behind a TLS-inspecting proxy, {aws_way}."
    return (
        f"{operation}: the TLS certificate of {host} could not be verified ({reason}) with "
        f"{used}. If {host} is the right endpoint, {fix}"
    )


def transport_error(
    operation: str,
    host: str,
    timeout: float,
    exc: Exception,
    config: ClientConfig | None = None,
) -> TransportError:
    """The error for an httpx failure (no answer at all), saying what happened and what to do
    (for a certificate that could not be verified: which CA setting to use)."""
    what = "Check the endpoint and region and that the network is up, then try again."
    failure = _verify_failure(exc)
    if failure is not None:
        return CertificateVerifyError(
            _ca_advice(operation, host, failure, config), operation=operation
        )
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeoutError(
            f"{operation}: no answer from {host} within {timeout:g} s "
            f"({type(exc).__name__}). {what}",
            operation=operation,
        )
    if isinstance(exc, httpx.TransportError):
        return EndpointConnectionError(
            f"{operation}: the connection to {host} failed ({type(exc).__name__}: {exc}). {what}",
            operation=operation,
        )
    return EndpointConnectionError(
        f"{operation}: request to {host} failed ({type(exc).__name__}). {what}",
        operation=operation,
    )


def exceptions_namespace(modeled: Mapping[str, type[Exception]]) -> SimpleNamespace:
    """``client.exceptions`` as in boto3: the service's modeled errors, and the bases."""
    names: dict[str, type[Exception]] = dict(modeled)
    names["ServiceError"] = ServiceError
    names["SSOOIDCError"] = SSOOIDCError
    names["ClientError"] = ServiceError  # boto3 code catches ClientError
    return SimpleNamespace(**names)


class ServiceClientBase:
    """What the sso-oidc and the portal clients share before any I/O: the resolved
    configuration, the endpoint and its host, boto3's ``meta`` and ``exceptions``, the repr,
    and the httpx options."""

    def __init__(
        self,
        config: ClientConfig,
        service_name: str,
        modeled: Mapping[str, type[Exception]],
    ) -> None:
        self._config = config
        self._endpoint = config.endpoint_url()
        self._host = urlsplit(self._endpoint).netloc
        #: The modeled exceptions, as ``client.exceptions.<Name>`` in boto3.
        self.exceptions = exceptions_namespace(modeled)
        self.meta = SimpleNamespace(
            region_name=config.region,
            endpoint_url=self._endpoint,
            service_name=service_name,
            config=config,
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} endpoint={self._endpoint!r} region={self._config.region!r}>"
