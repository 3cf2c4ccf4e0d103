"""The AWS config file, located and parsed exactly as botocore does it.

The file is parsed as ``botocore.configloader`` parses it (``RawConfigParser`` with its
defaults, option names lower-cased, section names case-sensitive, indented sub-sections,
``[profile NAME]`` / ``[default]`` / ``[sso-session NAME]`` split with ``shlex``), into
botocore's ``full_config`` shape. What the sections *mean* (where to sign in) is
``_awsconfig.py``'s job; this module only reads. Every failure is a
:class:`~ssooidc_jupyter.ConfigurationError` that quotes no value of the file (it may hold
``aws_secret_access_key``).
"""

from __future__ import annotations

import configparser
import os
import shlex
from pathlib import Path
from typing import Any

from .._exceptions import ConfigurationError

__all__ = ["config_file_path", "default_profile_name", "fix_hint", "load_aws_config"]


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


def fix_hint() -> str:
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
    return ConfigurationError(f"AWS config file {path}: {what}. {fix_hint()}")


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
                        f"{exc} in its indented sub-section. {fix_hint()}"
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
