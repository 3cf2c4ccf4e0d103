"""Writing a small, private AWS config file (``%ssooidc login --export``): one
``[profile NAME]`` and its ``[sso-session NAME]``, each value checked so that botocore reads
back exactly what was written."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from .._exceptions import ConfigurationError
from ._files import atomic_write

__all__ = ["write_sso_profile"]

_SCOPES = "sso_registration_scopes"
# Names that shlex.split keeps as one word and configparser keeps in a header unchanged.
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
