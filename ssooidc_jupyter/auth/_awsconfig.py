"""Where to sign in, resolved from the AWS config file the way botocore resolves it.

The file is read by ``_configfile.py`` (parsed exactly as ``botocore.configloader`` parses
it); this module resolves what its sections mean: a profile, its ``sso_session`` and that
``[sso-session]`` section, or a legacy profile, and the profile's HTTP side (CA bundle,
endpoints). So the start URL, region and sso-session name we resolve are byte for byte the
ones botocore and the AWS CLI v2 use, and the token cache keys derived from them match.
Writing a private config file is ``_configwrite.py``'s; its names stay importable from here.

One deliberate difference: botocore does *not* strip inline comments (``region = x # y``
gives the region ``"x # y"``). Rather than silently use such a value, or silently differ
from botocore, we refuse it with a message that says how to fix the line.

Nothing in here needs botocore; it is an optional dependency of the package.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .._exceptions import ConfigurationError
from ..oidc._config import ProfileSettings
from ..oidc._values import validate_region, validate_start_url
from ._configfile import config_file_path, default_profile_name, load_aws_config
from ._configwrite import write_sso_profile
from ._models import DEFAULT_SCOPES

__all__ = [
    "DEFAULT_SCOPES",
    "SSOSettings",
    "config_file_path",
    "default_profile_name",
    "load_aws_config",
    "parse_registration_scopes",
    "profile_settings",
    "resolve_sso_settings",
    "sso_settings_in",
    "write_sso_profile",
]


_START_URL = "sso_start_url"
_REGION = "sso_region"
_SCOPES = "sso_registration_scopes"
_SESSION = "sso_session"
_ACCOUNT = "sso_account_id"
_ROLE = "sso_role_name"

# botocore keeps "# ..." after a value as part of the value; this spots that mistake.
_INLINE_COMMENT_RE = re.compile(r"\s[#;]")
_MAX_LISTED_PROFILES = 20


@dataclass(frozen=True)
class SSOSettings:
    """Where and how to sign in, resolved from the config file.

    ``session_name`` is None for a legacy profile (``sso_start_url`` in the profile itself);
    the token cache key is then the start URL's, as in botocore. ``scopes`` is what to
    register the client for: the sso-session's ``sso_registration_scopes``, or
    :data:`DEFAULT_SCOPES` when it gives none. ``source`` says in words where this came from,
    for messages.
    """

    start_url: str
    region: str
    scopes: list[str] = field(default_factory=lambda: list(DEFAULT_SCOPES), hash=False)
    session_name: str | None = None
    account_id: str | None = None
    role_name: str | None = None
    profile: str | None = None
    source: str = ""
    #: The profile's own ``region`` (for the AWS clients, not the sign-in), if it has one.
    profile_region: str | None = None
    #: The HTTP side of the profile (CA bundle, endpoints), from the same reading of the
    #: file; see :func:`profile_settings`.
    http: ProfileSettings | None = field(default=None, compare=False, repr=False)

    @property
    def legacy(self) -> bool:
        """A legacy profile: ``sso_start_url`` in the profile itself, no sso-session."""
        return self.session_name is None and self.profile is not None


# -- locating and loading the file --------------------------------------------------------


def parse_registration_scopes(raw: str) -> list[str]:
    """The AWS CLI's ``parse_sso_registration_scopes``: comma-split, stripped, no empties."""
    return [scope.strip() for scope in raw.split(",") if scope.strip()]


def _string_value(
    values: Mapping[str, Any], key: str, where: str, *, no_spaces: bool = True
) -> str | None:
    """*key* from a section as a usable string, None if absent; ConfigurationError if unusable."""
    if key not in values:
        return None
    value = values[key]
    if not isinstance(value, str):
        raise ConfigurationError(
            f"{key} in {where} is an indented sub-section; it must be a single value on the "
            f"same line, like '{key} = ...'."
        )
    value = value.strip()
    if not value:
        raise ConfigurationError(f"{key} in {where} is empty. Give it a value or remove it.")
    if _INLINE_COMMENT_RE.search(value):
        raise ConfigurationError(
            f"{key} in {where} has a comment after its value. The AWS CLI and boto3 read "
            f"'# ...' after a value as part of the value; move the comment to its own line."
        )
    if no_spaces and any(ch.isspace() for ch in value):
        raise ConfigurationError(f"{key} in {where} contains spaces; remove them.")
    return value


def _list_profiles(profiles: Mapping[str, Any]) -> str:
    if not profiles:
        return "the file defines no profiles"
    names = sorted(profiles)
    shown = ", ".join(repr(name) for name in names[:_MAX_LISTED_PROFILES])
    if len(names) > _MAX_LISTED_PROFILES:
        shown += f" and {len(names) - _MAX_LISTED_PROFILES} more"
    return f"known profiles: {shown}"


def _session_section(
    config: Mapping[str, Any], path: Path, session_name: str, referrer: str
) -> Mapping[str, Any]:
    sessions: Mapping[str, Any] = config["sso_sessions"]
    if session_name not in sessions:
        known = ", ".join(repr(name) for name in sorted(sessions)) or "none"
        raise ConfigurationError(
            f"{path} has no [sso-session {session_name}] section, which {referrer} needs "
            f"(sso-sessions in the file: {known}). "
            f"Add the section with sso_start_url and sso_region, or run "
            f"`aws configure sso-session`."
        )
    section: Mapping[str, Any] = sessions[session_name]
    return section


def _from_session(
    session: Mapping[str, Any], path: Path, session_name: str
) -> tuple[str, str, list[str]]:
    """Start URL, region and scopes from an ``[sso-session]`` section (as the CLI reads them)."""
    where = f"[sso-session {session_name}] of {path}"
    start_url = _string_value(session, _START_URL, where)
    region = _string_value(session, _REGION, where)
    if start_url is None or region is None:
        missing = [key for key, value in ((_START_URL, start_url), (_REGION, region)) if not value]
        raise ConfigurationError(
            f"{where} is missing {' and '.join(missing)}. botocore and `aws sso login` read "
            f"these settings from the sso-session section, not from the profile; add them there."
        )
    scopes = list(DEFAULT_SCOPES)
    raw_scopes = session.get(_SCOPES)
    # An empty value is the CLI's "register without scopes"; we register for the default.
    if raw_scopes is not None and (not isinstance(raw_scopes, str) or raw_scopes.strip()):
        parsed = parse_registration_scopes(
            _string_value(session, _SCOPES, where, no_spaces=False) or ""
        )
        scopes = parsed or scopes
    return start_url, region, scopes


def _resolve_sso_settings(
    *, profile: str | None = None, session_name: str | None = None
) -> SSOSettings:
    """Resolve the sign-in settings from the AWS config file at call time.

    * ``session_name`` alone: that ``[sso-session NAME]`` section; no profile, account or role.
    * otherwise the profile (``profile``, else ``AWS_DEFAULT_PROFILE``/``AWS_PROFILE``, else
      ``default``): its ``sso_session`` names the ``[sso-session]`` section that gives
      ``sso_start_url``, ``sso_region`` and ``sso_registration_scopes``; a legacy profile
      carries ``sso_start_url``/``sso_region`` itself. ``sso_account_id``/``sso_role_name``
      come from the profile. With both ``profile`` and ``session_name``, the profile must
      use that sso-session.

    Keys present in both the profile and its sso-session must agree, as botocore requires.
    Every problem is a :class:`~ssooidc_jupyter.ConfigurationError` that names the file and
    says what to change.
    """
    path = config_file_path()
    config = load_aws_config(path)
    settings = sso_settings_in(config, path, profile=profile, session_name=session_name)
    # The profile whose CA bundle and endpoints the clients use: this one, else botocore's
    # default; read from this same parse of the file.
    name = settings.profile if settings.profile is not None else default_profile_name()
    return replace(settings, http=_http_settings(config, path, name))


def _settings_in(
    config: Mapping[str, Any], path: Path, *, profile: str | None, session_name: str | None
) -> SSOSettings:
    if profile is None and session_name is not None:
        return _session_settings(config, path, session_name)

    profile_name = profile if profile is not None else default_profile_name()
    profiles: Mapping[str, Any] = config["profiles"]
    if profile_name not in profiles:
        how = "" if profile is not None else " (pass profile=... or set AWS_PROFILE)"
        raise ConfigurationError(
            f"Profile {profile_name!r} is not in {path}{how}; {_list_profiles(profiles)}."
        )
    values: Mapping[str, Any] = profiles[profile_name]
    where = f"profile '{profile_name}' of {path}"
    referenced = _string_value(values, _SESSION, where, no_spaces=False)
    if referenced is not None:
        if session_name is not None and referenced != session_name:
            raise ConfigurationError(
                f"Profile {profile_name!r} uses sso-session {referenced!r}, not "
                f"{session_name!r} ({path}). Pass only one of them, or fix the profile."
            )
        return _profile_session_settings(config, path, profile_name, values, referenced)
    if session_name is not None:
        raise ConfigurationError(
            f"Profile {profile_name!r} in {path} has no sso_session setting, so it cannot "
            f"use sso-session {session_name!r}. Add 'sso_session = {session_name}' to it."
        )
    return _legacy_profile_settings(path, profile_name, values)


def _session_settings(config: Mapping[str, Any], path: Path, session_name: str) -> SSOSettings:
    """An ``[sso-session NAME]`` on its own: no profile, account or role."""
    session = _session_section(config, path, session_name, "session_name=" + repr(session_name))
    start_url, region, scopes = _from_session(session, path, session_name)
    return SSOSettings(
        start_url=start_url,
        region=region,
        scopes=scopes,
        session_name=session_name,
        source=f"sso-session '{session_name}' in {path}",
    )


def _profile_session_settings(
    config: Mapping[str, Any],
    path: Path,
    profile_name: str,
    values: Mapping[str, Any],
    referenced: str,
) -> SSOSettings:
    """A profile whose ``sso_session`` names the section that says where to sign in."""
    where = f"profile '{profile_name}' of {path}"
    session = _session_section(config, path, referenced, f"profile {profile_name!r}")
    for key, value in session.items():
        # botocore's SSOProvider._resolve_sso_session_reference: a key set in both
        # places must have the same value.
        if key in values and values[key] != value:
            raise ConfigurationError(
                f"The value for {key} is inconsistent between profile {profile_name!r} "
                f"({values[key]!r}) and sso-session {referenced!r} ({value!r}) in {path}. "
                f"Remove it from the profile or make them equal."
            )
    start_url, region, scopes = _from_session(session, path, referenced)
    merged = {**values, **session}
    return SSOSettings(
        start_url=start_url,
        region=region,
        scopes=scopes,
        session_name=referenced,
        account_id=_string_value(merged, _ACCOUNT, where),
        role_name=_string_value(merged, _ROLE, where),
        profile=profile_name,
        source=f"profile '{profile_name}' → sso-session '{referenced}' in {path}",
        profile_region=_string_value(values, "region", where),
    )


def _legacy_profile_settings(
    path: Path, profile_name: str, values: Mapping[str, Any]
) -> SSOSettings:
    """A legacy profile: ``sso_start_url`` and ``sso_region`` in the profile itself."""
    where = f"profile '{profile_name}' of {path}"
    legacy_url = _string_value(values, _START_URL, where)
    legacy_region = _string_value(values, _REGION, where)
    if legacy_url is None and legacy_region is None:
        raise ConfigurationError(
            f"Profile {profile_name!r} in {path} has no IAM Identity Center settings: add "
            f"'sso_session = NAME' and an [sso-session NAME] section with sso_start_url and "
            f"sso_region (or run `aws configure sso --profile {profile_name}`)."
        )
    if legacy_url is None or legacy_region is None:
        missing = _START_URL if legacy_url is None else _REGION
        raise ConfigurationError(
            f"Profile {profile_name!r} in {path} has legacy SSO settings but no {missing}. "
            f"Add it, or move the settings to an [sso-session NAME] section."
        )
    # Legacy profiles: the AWS CLI registers without scopes (and so gets no refresh token);
    # we sign in exactly as it does, so the files we share are the ones it writes.
    return SSOSettings(
        start_url=legacy_url,
        region=legacy_region,
        scopes=[],
        session_name=None,
        account_id=_string_value(values, _ACCOUNT, where),
        role_name=_string_value(values, _ROLE, where),
        profile=profile_name,
        source=f"profile '{profile_name}' (legacy sso_start_url) in {path}",
        profile_region=_string_value(values, "region", where),
    )


# -- the HTTP side of a profile: CA bundle and endpoints -----------------------------------


def profile_settings(profile: str | None = None) -> ProfileSettings | None:
    """What ``profile`` (default: :func:`default_profile_name`) says about the clients' HTTP:
    ``ca_bundle``, ``endpoint_url``, ``services`` and its ``[services NAME]`` section,
    ``ignore_configured_endpoint_urls``: the values botocore's ``ConfiguredEndpointProvider``
    and ``ca_bundle`` config variable read. None when there is no file or no such profile.

    One difference from botocore: a file that cannot be parsed gives None here rather than
    an error, since nothing else of the sign-in came from it (a sign-in that does use the
    file has already reported it)."""
    path = config_file_path()
    if not path.is_file():
        return None
    try:
        config = load_aws_config(path)
    except ConfigurationError:
        return None
    return _http_settings(config, path, profile if profile is not None else default_profile_name())


def _http_settings(config: Mapping[str, Any], path: Path, name: str) -> ProfileSettings | None:
    values: Mapping[str, Any] | None = config["profiles"].get(name)
    if values is None:
        return None
    where = f"profile '{name}' of {path}"
    services_name = _string_value(values, "services", where, no_spaces=False)
    service_endpoints: dict[str, str] | None = None
    if services_name is not None:
        section = config["services"].get(services_name)
        if section:
            service_endpoints = {
                key: value["endpoint_url"]
                for key, value in section.items()
                if isinstance(value, Mapping) and isinstance(value.get("endpoint_url"), str)
            }
    ignore = values.get("ignore_configured_endpoint_urls")
    return ProfileSettings(
        source=where,
        ca_bundle=_string_value(values, "ca_bundle", where, no_spaces=False),
        endpoint_url=_string_value(values, "endpoint_url", where),
        services_name=services_name,
        service_endpoints=service_endpoints,
        # botocore's ensure_boolean: only "true", in any case.
        ignore_configured_endpoint_urls=(
            None if ignore is None else isinstance(ignore, str) and ignore.lower() == "true"
        ),
    )


def resolve_sso_settings(
    *, profile: str | None = None, session_name: str | None = None
) -> SSOSettings:
    """Where and how to sign in, from the AWS config file (see :func:`_resolve_sso_settings`).

    The start URL and region go through the same validators as ``login()``'s arguments, and
    an error names the profile or section they came from."""
    return _resolve_sso_settings(profile=profile, session_name=session_name)


def sso_settings_in(
    config: Mapping[str, Any],
    path: Path,
    *,
    profile: str | None = None,
    session_name: str | None = None,
) -> SSOSettings:
    """:func:`resolve_sso_settings` on a file already parsed (``load_aws_config(path)``): the
    server's status route judges every entry of the file with it, so it lists as signable
    exactly what a sign-in accepts, with the same message for what it refuses."""
    settings = _settings_in(config, path, profile=profile, session_name=session_name)
    try:
        start_url = validate_start_url(settings.start_url)
        # No warning: the status route judges every entry on each parse; a sign-in warns
        # when resolve_login validates the region it uses (its own call below).
        validate_region(settings.region, known=True, warn=False)
    except ConfigurationError as exc:
        # The same class (an InvalidRegionError stays one), with where the value came from.
        raise type(exc)(f"{settings.source}: {exc}") from exc
    return replace(settings, start_url=start_url)
