"""Client configuration: the ``ssooidc()`` options of the reference SDK, merged with the
standard AWS environment variables. No I/O apart from reading ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import ConfigurationError
from ._endpoints import SSO_OIDC, Service, resolve_endpoint
from ._values import validate_endpoint, validate_region

__all__ = ["ClientConfig", "StaticCredentials", "build_config"]

_CONFIG_KEYS = frozenset(
    {
        "credentials",
        "endpoint",
        "region",
        "close_connection",
        "timeout",
        # Accepted for parity with the reference SDK; they do not apply to sso-oidc.
        "s3_force_path_style",
        "sts_regional_endpoint",
        # Our additions.
        "use_fips_endpoint",
        "use_dualstack_endpoint",
        "max_attempts",
        "retry_backoff",
    }
)
_CREDENTIAL_KEYS = frozenset({"creds", "profile", "anonymous"})
_CREDS_KEYS = frozenset({"access_key_id", "secret_access_key", "session_token"})
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class StaticCredentials:
    """Explicit AWS keys. Their repr shows neither key."""

    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ClientConfig:
    """Everything a client needs, resolved once when it is made."""

    region: str | None = None
    endpoint: str | None = None
    credentials: StaticCredentials | None = None
    profile: str | None = None
    anonymous: bool = False
    timeout: float = 60.0
    close_connection: bool = False
    use_fips_endpoint: bool = False
    use_dualstack_endpoint: bool = False
    max_attempts: int = 3
    retry_backoff: float = 1.0  # seconds; botocore standard mode's base
    service: Service = SSO_OIDC

    def endpoint_url(self) -> str:
        if self.endpoint is not None:
            return self.endpoint
        if self.region is None:
            raise ConfigurationError(
                "No region for IAM Identity Center: pass region= (the region of your IAM "
                "Identity Center instance, for example 'us-east-1') or set AWS_REGION."
            )
        return resolve_endpoint(
            self.region,
            use_fips=self.use_fips_endpoint,
            use_dualstack=self.use_dualstack_endpoint,
            service=self.service,
        )


def _check_keys(where: str, given: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise ConfigurationError(
            f"unknown {where} option(s) {', '.join(map(repr, unknown))}; "
            f"valid options: {', '.join(sorted(allowed))}"
        )


def _mapping(where: str, value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{where} must be a dict, not {type(value).__name__}")
    return value


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def _env_endpoint(service: Service) -> str | None:
    if _env_flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
        return None
    for name in (f"AWS_ENDPOINT_URL_{service.env_id}", "AWS_ENDPOINT_URL"):
        value = os.environ.get(name, "").strip()
        if value:
            try:
                return validate_endpoint(value)
            except ConfigurationError as exc:
                raise ConfigurationError(f"{name}: {exc}") from exc
    return None


def _credentials(value: Mapping[str, Any]) -> tuple[StaticCredentials | None, str | None, bool]:
    _check_keys("credentials", value, _CREDENTIAL_KEYS)
    creds = _mapping("credentials['creds']", value.get("creds"))
    _check_keys("credentials['creds']", creds, _CREDS_KEYS)
    static = None
    if creds:
        key_id, secret = creds.get("access_key_id"), creds.get("secret_access_key")
        if not (isinstance(key_id, str) and key_id and isinstance(secret, str) and secret):
            raise ConfigurationError(
                "credentials['creds'] needs both access_key_id and secret_access_key as "
                "non-empty strings"
            )
        token = creds.get("session_token")
        if token is not None and not isinstance(token, str):
            raise ConfigurationError("credentials['creds']['session_token'] must be a string")
        static = StaticCredentials(key_id, secret, token or None)
    profile = value.get("profile")
    if profile is not None and (not isinstance(profile, str) or not profile):
        raise ConfigurationError("credentials['profile'] must be a non-empty string")
    return static, profile, bool(value.get("anonymous", False))


def build_config(
    config: Mapping[str, Any] | None = None,
    credentials: Mapping[str, Any] | None = None,
    endpoint: str | None = None,
    region: str | None = None,
    *,
    service: Service = SSO_OIDC,
) -> ClientConfig:
    """Merge ``ssooidc()``'s arguments as the reference SDK does: the shorthand arguments
    win over the same keys in ``config``; the environment fills what neither gives
    (``AWS_ENDPOINT_URL_<service>`` before ``AWS_ENDPOINT_URL``, as botocore)."""
    options = _mapping("config", config)
    _check_keys("config", options, _CONFIG_KEYS)
    cred_options = credentials if credentials is not None else options.get("credentials")
    static, profile, anonymous = _credentials(_mapping("credentials", cred_options))

    chosen_endpoint = endpoint if endpoint is not None else options.get("endpoint")
    if chosen_endpoint is not None:
        endpoint_url: str | None = validate_endpoint(chosen_endpoint)
    else:
        endpoint_url = _env_endpoint(service)

    chosen_region = region if region is not None else options.get("region")
    if chosen_region is None:
        for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            if os.environ.get(name):
                chosen_region = os.environ[name]
                break
    resolved_region = validate_region(chosen_region) if chosen_region is not None else None

    timeout = options.get("timeout", 60)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigurationError(f"timeout must be a positive number of seconds, not {timeout!r}")
    max_attempts = options.get("max_attempts", 3)
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise ConfigurationError(f"max_attempts must be an integer >= 1, not {max_attempts!r}")
    backoff = options.get("retry_backoff", 1.0)
    if isinstance(backoff, bool) or not isinstance(backoff, int | float) or backoff < 0:
        raise ConfigurationError(f"retry_backoff must be a number >= 0, not {backoff!r}")

    fips = options.get("use_fips_endpoint")
    dualstack = options.get("use_dualstack_endpoint")
    built = ClientConfig(
        region=resolved_region,
        endpoint=endpoint_url,
        credentials=static,
        profile=profile,
        anonymous=anonymous,
        timeout=float(timeout),
        close_connection=bool(options.get("close_connection", False)),
        use_fips_endpoint=bool(fips) if fips is not None else _env_flag("AWS_USE_FIPS_ENDPOINT"),
        use_dualstack_endpoint=(
            bool(dualstack) if dualstack is not None else _env_flag("AWS_USE_DUALSTACK_ENDPOINT")
        ),
        max_attempts=max_attempts,
        retry_backoff=float(backoff),
        service=service,
    )
    if built.endpoint is not None and (built.use_fips_endpoint or built.use_dualstack_endpoint):
        # botocore's rule set refuses the combination too.
        raise ConfigurationError(
            "a custom endpoint cannot be combined with FIPS or dual-stack endpoints"
        )
    return built
