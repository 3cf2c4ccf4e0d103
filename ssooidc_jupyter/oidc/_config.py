"""Client configuration: the ``ssooidc()`` options of the reference SDK, merged with the
standard AWS environment variables and (through :class:`ProfileSettings`, which
``auth/_awsconfig.py`` reads) the AWS config file's profile. No I/O apart from reading
``os.environ``.

The endpoint is chosen as botocore chooses it (``botocore.args`` and its
``ConfiguredEndpointProvider``): the argument; unless ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS``
(else the profile's ``ignore_configured_endpoint_urls``) is true, then
``AWS_ENDPOINT_URL_<SERVICE>``, ``AWS_ENDPOINT_URL``, the ``[services NAME]`` section named by
the profile's ``services``, the profile's ``endpoint_url``; else the region's AWS endpoint.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import ConfigurationError
from ._endpoints import SSO_OIDC, Service, resolve_endpoint
from ._values import validate_endpoint, validate_region, validate_timeout

__all__ = [
    "ClientConfig",
    "ProfileSettings",
    "StaticCredentials",
    "build_config",
    "configured_endpoint",
]

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
        # botocore's client(verify=...): False, True (the default CAs), or a CA bundle path.
        "verify",
        # What the AWS config file's profile says (ProfileSettings, read by auth/_awsconfig).
        "profile_settings",
        # True: the endpoint argument was resolved by the caller (a sign-in's LoginContext,
        # from the environment and the profile at resolution time): None then means the
        # region's endpoint, and the environment is not read again here.
        "endpoint_resolved",
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
class ProfileSettings:
    """What a profile of the AWS config file says about the HTTP side of a client: its
    ``ca_bundle``, its ``endpoint_url``, the ``endpoint_url`` of each service in the
    ``[services NAME]`` section it names, and ``ignore_configured_endpoint_urls``.

    Plain data: ``auth/_awsconfig.profile_settings`` reads the file (the clients stay free
    of file I/O); the precedence is applied here, by :func:`configured_endpoint` and the CA
    chain of ``_http``.
    """

    source: str = "the AWS config file"
    ca_bundle: str | None = None
    endpoint_url: str | None = None
    #: The ``services`` value of the profile (the name of a ``[services NAME]`` section).
    services_name: str | None = None
    #: That section's ``endpoint_url`` per service (``sso_oidc``, ``sso``); None when the
    #: section does not exist (an error botocore raises only if it gets that far).
    service_endpoints: Mapping[str, str] | None = None
    ignore_configured_endpoint_urls: bool | None = None


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
    #: botocore's ``verify``: None (not given), False (no verification), True (the default
    #: CAs, skipping AWS_CA_BUNDLE / ca_bundle, as botocore) or a CA bundle path.
    verify: bool | str | None = None
    profile_settings: ProfileSettings | None = None

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


def _botocore_boolean(value: object) -> bool:
    # botocore's utils.ensure_boolean: only "true" (any case) is true; "1" and "yes" are not.
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.lower() == "true"


def _ignore_configured(profile: ProfileSettings | None) -> bool:
    # botocore's config chain: the variable when it is set at all (even to "" or "false",
    # which then wins over the profile), else the profile's setting.
    name = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
    if name in os.environ:
        return _botocore_boolean(os.environ[name])
    return bool(profile is not None and profile.ignore_configured_endpoint_urls)


def configured_endpoint(
    service: Service, profile: ProfileSettings | None = None
) -> tuple[str, str] | None:
    """The configured endpoint of ``service`` and where it was found, or None: botocore's
    ``ConfiguredEndpointProvider`` (service variable, global variable, the service in the
    profile's ``[services]`` section, the profile's ``endpoint_url``), unless endpoint
    configuration is ignored. An empty value counts as unset, as in botocore."""
    if _ignore_configured(profile):
        return None
    found: list[tuple[str, str | None]] = [
        (
            f"AWS_ENDPOINT_URL_{service.env_id}",
            os.environ.get(f"AWS_ENDPOINT_URL_{service.env_id}"),
        ),
        ("AWS_ENDPOINT_URL", os.environ.get("AWS_ENDPOINT_URL")),
    ]
    for name, value in found:
        if value:
            return _checked_endpoint(name, value), name
    if profile is None:
        return None
    if profile.services_name is not None:
        if profile.service_endpoints is None:
            # botocore's InvalidConfigError, raised as late as botocore raises it.
            raise ConfigurationError(
                f"{profile.source} sets services = {profile.services_name}, but the file has "
                f"no [services {profile.services_name}] section. Add the section or remove "
                "the setting."
            )
        value = profile.service_endpoints.get(service.config_id)
        if value:
            where = f"endpoint_url of {service.config_id} in [services {profile.services_name}]"
            return _checked_endpoint(f"{where} ({profile.source})", value), where
    if profile.endpoint_url:
        where = f"endpoint_url of {profile.source}"
        return _checked_endpoint(where, profile.endpoint_url), where
    return None


def _checked_endpoint(where: str, value: str) -> str:
    try:
        return validate_endpoint(value)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}: {exc}") from exc


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


def _profile_and_verify(
    options: Mapping[str, Any],
) -> tuple[ProfileSettings | None, bool | str | None]:
    profile_settings = options.get("profile_settings")
    if profile_settings is not None and not isinstance(profile_settings, ProfileSettings):
        raise ConfigurationError(
            f"profile_settings must be a ProfileSettings, not {type(profile_settings).__name__}"
        )
    verify = options.get("verify")
    if verify is not None and not isinstance(verify, bool | str):
        raise ConfigurationError(
            f"verify must be True, False or a CA bundle path, not {type(verify).__name__}"
        )
    if isinstance(verify, str) and not verify.strip():
        raise ConfigurationError("verify is an empty string; give the path of a CA bundle file")
    return profile_settings, verify


def _endpoint_and_region(
    options: Mapping[str, Any],
    endpoint: str | None,
    region: str | None,
    service: Service,
    profile_settings: ProfileSettings | None,
) -> tuple[str | None, str | None]:
    """The argument, else the ``config`` key, else the environment (and the profile)."""
    chosen_endpoint = endpoint if endpoint is not None else options.get("endpoint")
    if chosen_endpoint is not None:
        endpoint_url: str | None = validate_endpoint(chosen_endpoint)
    elif options.get("endpoint_resolved"):
        endpoint_url = None
    else:
        configured = configured_endpoint(service, profile_settings)
        endpoint_url = configured[0] if configured else None

    chosen_region = region if region is not None else options.get("region")
    if chosen_region is None:
        for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            if os.environ.get(name):
                chosen_region = os.environ[name]
                break
    resolved_region = validate_region(chosen_region) if chosen_region is not None else None
    return endpoint_url, resolved_region


def _limits(options: Mapping[str, Any]) -> tuple[float, int, float]:
    """The timeout, the attempts and the retry back-off, each refused alone."""
    timeout = validate_timeout(options.get("timeout", 60))
    max_attempts = options.get("max_attempts", 3)
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise ConfigurationError(f"max_attempts must be an integer >= 1, not {max_attempts!r}")
    backoff = options.get("retry_backoff", 1.0)
    if isinstance(backoff, bool) or not isinstance(backoff, int | float) or backoff < 0:
        raise ConfigurationError(f"retry_backoff must be a number >= 0, not {backoff!r}")
    return float(timeout), max_attempts, float(backoff)


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

    profile_settings, verify = _profile_and_verify(options)
    endpoint_url, resolved_region = _endpoint_and_region(
        options, endpoint, region, service, profile_settings
    )
    timeout, max_attempts, backoff = _limits(options)

    fips = options.get("use_fips_endpoint")
    dualstack = options.get("use_dualstack_endpoint")
    built = ClientConfig(
        region=resolved_region,
        endpoint=endpoint_url,
        credentials=static,
        profile=profile,
        anonymous=anonymous,
        timeout=timeout,
        close_connection=bool(options.get("close_connection", False)),
        use_fips_endpoint=bool(fips) if fips is not None else _env_flag("AWS_USE_FIPS_ENDPOINT"),
        use_dualstack_endpoint=(
            bool(dualstack) if dualstack is not None else _env_flag("AWS_USE_DUALSTACK_ENDPOINT")
        ),
        max_attempts=max_attempts,
        retry_backoff=backoff,
        service=service,
        verify=verify,
        profile_settings=profile_settings,
    )
    if built.endpoint is not None and (built.use_fips_endpoint or built.use_dualstack_endpoint):
        # botocore's rule set refuses the combination too.
        raise ConfigurationError(
            "a custom endpoint cannot be combined with FIPS or dual-stack endpoints"
        )
    return built
