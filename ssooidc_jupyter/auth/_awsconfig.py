"""Read IAM Identity Center settings from the AWS config file, the way botocore does.

The file is parsed exactly as ``botocore.configloader`` parses it (``RawConfigParser``
with its defaults, option names lower-cased, section names case-sensitive, indented
sub-sections, ``[profile NAME]`` / ``[default]`` / ``[sso-session NAME]`` split with
``shlex``), so the start URL, region and sso-session name we resolve are byte for byte the
ones botocore and the AWS CLI v2 use, and the token cache keys derived from them match.

One deliberate difference: botocore does *not* strip inline comments (``region = x # y``
gives the region ``"x # y"``). Rather than silently use such a value, or silently differ
from botocore, we refuse it with a message that says how to fix the line.

Nothing in here needs botocore; it is an optional dependency of the package.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .._exceptions import ConfigurationError
from ..oidc._config import ProfileSettings
from ..oidc._values import validate_region, validate_start_url
from ._files import atomic_write
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


def config_file_path() -> Path:
    """``$AWS_CONFIG_FILE`` or ``~/.aws/config``, expanded as botocore expands it, at call time."""
    raw = os.environ.get("AWS_CONFIG_FILE") or os.path.join("~", ".aws", "config")
    return Path(os.path.expanduser(os.path.expandvars(raw)))


def default_profile_name() -> str:
    """The profile botocore uses when none is named.

    botocore's ``profile`` setting reads ``AWS_DEFAULT_PROFILE`` before ``AWS_PROFILE``;
    we keep that order so ``boto3.Session()`` and we agree. An empty variable counts as unset.
    """
    for name in ("AWS_DEFAULT_PROFILE", "AWS_PROFILE"):
        value = os.environ.get(name)
        if value:
            return value
    return "default"


def _fix_hint() -> str:
    return "Fix the file: the AWS CLI and boto3 cannot read it either."


def _parse_error(path: Path, exc: configparser.Error) -> ConfigurationError:
    # Built from line numbers and names only: configparser's own messages quote the
    # offending line, and a config file can hold aws_secret_access_key.
    if isinstance(exc, configparser.MissingSectionHeaderError):
        what = f"line {exc.lineno} comes before the first [section] header"
    elif isinstance(exc, configparser.DuplicateOptionError):
        what = f"option {exc.option!r} appears twice in section [{exc.section}]"
        if exc.lineno is not None:
            what += f" (again on line {exc.lineno})"
    elif isinstance(exc, configparser.DuplicateSectionError):
        what = f"section [{exc.section}] appears twice"
        if exc.lineno is not None:
            what += f" (again on line {exc.lineno})"
    elif isinstance(exc, configparser.ParsingError):
        lines = [str(err[0]) for err in getattr(exc, "errors", []) if err]
        where = f"line {lines[0]}" if len(lines) == 1 else f"lines {', '.join(lines)}"
        what = f"{where} cannot be parsed (expected 'name = value' or a [section] header)"
    else:
        what = f"it cannot be parsed ({type(exc).__name__})"
    return ConfigurationError(f"AWS config file {path}: {what}. {_fix_hint()}")


def _parse_nested(value: str) -> dict[str, str]:
    # botocore's configloader._parse_nested: one level of "key = value" lines.
    parsed: dict[str, str] = {}
    for line in value.splitlines():
        line = line.strip()
        if not line:
            continue
        key, sep, rest = line.partition("=")
        if not sep:
            raise ValueError("a line has no '='")
        parsed[key.strip()] = rest.strip()
    return parsed


def _section_name(key: str) -> str | None:
    # botocore's configloader._parse_section: "profile foo" -> "foo", quotes honoured,
    # anything that does not split into exactly two words is ignored.
    try:
        parts = shlex.split(key)
    except ValueError:
        return None
    return parts[1] if len(parts) == 2 else None


def load_aws_config(path: Path | None = None) -> dict[str, Any]:
    """Parse *path* (default :func:`config_file_path`) into botocore's ``full_config`` shape.

    ``{"profiles": {...}, "sso_sessions": {...}, "services": {...}, <other sections>}``,
    equal to ``botocore.configloader.load_config(path)``. Raises
    :class:`~ssooidc_jupyter.ConfigurationError` (never a configparser error) for a missing,
    unreadable or malformed file.
    """
    path = config_file_path() if path is None else path
    return _profile_map(_sections(path, _read(path)))


def _read(path: Path) -> configparser.RawConfigParser:
    """The file read as botocore reads it; every failure a ConfigurationError."""
    if not path.is_file():
        if path.exists():
            raise ConfigurationError(
                f"AWS config file {path} is not a regular file. Point AWS_CONFIG_FILE at your "
                f"config file, or move what is at that path aside."
            )
        raise ConfigurationError(
            f"AWS config file {path} does not exist. Run `aws configure sso` to create it, "
            f"write a [profile NAME] and [sso-session NAME] section yourself, or set "
            f"AWS_CONFIG_FILE to the file you use."
        )
    cp = configparser.RawConfigParser()
    try:
        # The locale encoding, as configparser.read() (and so botocore) uses.
        with open(path, encoding="locale") as handle:
            cp.read_file(handle, source=str(path))
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"AWS config file {path} is not valid {exc.encoding} text (byte {exc.start}). "
            f"Save it as UTF-8 text."
        ) from None  # the UnicodeDecodeError carries the file's bytes: maybe a secret
    except configparser.Error as exc:
        # Not chained: configparser quotes the offending lines, and a config file may hold
        # aws_secret_access_key. _parse_error says where and what, without the values.
        raise _parse_error(path, exc) from None
    except OSError as exc:
        raise ConfigurationError(
            f"AWS config file {path} cannot be read: {exc.strerror or type(exc).__name__}. "
            f"Check its permissions."
        ) from exc
    return cp


def _sections(path: Path, cp: configparser.RawConfigParser) -> dict[str, dict[str, Any]]:
    """Every section's options, indented sub-sections parsed into dicts."""
    raw: dict[str, dict[str, Any]] = {}
    for section in cp.sections():
        values: dict[str, Any] = {}
        for option in cp.options(section):
            value = cp.get(section, option)
            if value.startswith("\n"):
                try:
                    values[option] = _parse_nested(value)
                except ValueError as exc:
                    raise ConfigurationError(
                        f"AWS config file {path}, section [{section}], option {option!r}: "
                        f"{exc} in its indented sub-section. {_fix_hint()}"
                    ) from None  # the ValueError quotes the line: it may carry a secret
            else:
                values[option] = value
        raw[section] = values
    return raw


def _profile_map(raw: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """botocore's configloader.build_profile_map, including its quirks (a later [default]
    or [profile default] wins; "profile" is matched as a prefix)."""
    profiles: dict[str, Any] = {}
    sso_sessions: dict[str, Any] = {}
    services: dict[str, Any] = {}
    config: dict[str, Any] = {}
    for key, values in raw.items():
        for prefix, target in (
            ("profile", profiles),
            ("sso-session", sso_sessions),
            ("services", services),
        ):
            if key.startswith(prefix):
                name = _section_name(key)
                if name is not None:
                    target[name] = values
                break
        else:
            if key == "default":
                profiles[key] = values
            else:
                config[key] = values
    config["profiles"] = profiles
    config["sso_sessions"] = sso_sessions
    config["services"] = services
    return config


# -- resolving ----------------------------------------------------------------------------


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
    settings = _settings_in(config, path, profile=profile, session_name=session_name)
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


# -- writing a private profile ------------------------------------------------------------


# Names that shlex.split keeps as one word and configparser keeps in a header unchanged.
def resolve_sso_settings(
    *, profile: str | None = None, session_name: str | None = None
) -> SSOSettings:
    """Where and how to sign in, from the AWS config file (see :func:`_resolve_sso_settings`).

    The start URL and region go through the same validators as ``login()``'s arguments, and
    an error names the profile or section they came from."""
    settings = _resolve_sso_settings(profile=profile, session_name=session_name)
    try:
        start_url = validate_start_url(settings.start_url)
        validate_region(settings.region, known=True)
    except ConfigurationError as exc:
        # The same class (an InvalidRegionError stays one), with where the value came from.
        raise type(exc)(f"{settings.source}: {exc}") from exc
    return replace(settings, start_url=start_url)


_NAME_RE = re.compile(r"[A-Za-z0-9_.@+=,:/-]+")


def _check_name(kind: str, value: str) -> str:
    if not isinstance(value, str) or not _NAME_RE.fullmatch(value):
        raise ConfigurationError(
            f"{kind} name {value!r} cannot be written to an AWS config file; use letters, "
            f"digits and _.@+=,:/- only."
        )
    return value


def _check_token(kind: str, value: str) -> str:
    if not isinstance(value, str) or not value or any(ch.isspace() for ch in value):
        raise ConfigurationError(f"{kind} {value!r} must be a non-empty value without spaces.")
    return value


def write_sso_profile(
    path: Path,
    *,
    profile: str,
    session_name: str,
    start_url: str,
    region: str,
    scopes: Sequence[str],
    account_id: str | None = None,
    role_name: str | None = None,
    default_region: str | None = None,
) -> None:
    """Write a small config file with ``[profile NAME]`` and ``[sso-session NAME]``.

    Meant for a kernel-private ``AWS_CONFIG_FILE``, so ``!aws`` commands and default boto3
    clients use the session signed in here. The whole file is replaced atomically and is
    0600 (its directory is created 0700 when missing). Raises ConfigurationError for a
    value that cannot be written faithfully or when the file cannot be written.
    """
    _check_name("Profile", profile)
    _check_name("sso-session", session_name)
    lines = [
        "# Written by ssooidc-jupyter for this kernel; rewritten at each sign-in.",
        f"[profile {profile}]",
        f"sso_session = {session_name}",
    ]
    if account_id is not None:
        lines.append(f"sso_account_id = {_check_token('Account id', account_id)}")
    if role_name is not None:
        lines.append(f"sso_role_name = {_check_token('Role name', role_name)}")
    if default_region is not None:
        lines.append(f"region = {_check_token('Region', default_region)}")
    lines += [
        "",
        f"[sso-session {session_name}]",
        f"sso_start_url = {_check_token('Start URL', start_url)}",
        f"sso_region = {_check_token('Region', region)}",
    ]
    checked = [_check_token("Scope", scope) for scope in scopes]
    if any("," in scope for scope in checked):
        raise ConfigurationError("A scope cannot contain a comma.")
    if checked:
        lines.append(f"{_SCOPES} = {', '.join(checked)}")
    data = ("\n".join(lines) + "\n").encode("utf-8")
    try:
        atomic_write(Path(path), data)
    except OSError as exc:
        raise ConfigurationError(
            f"Could not write the AWS config file {path}: "
            f"{exc.strerror or type(exc).__name__}. Make its directory writable."
        ) from exc
