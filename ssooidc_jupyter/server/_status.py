"""``GET /ssooidc/api/status``: every sign-in the user's AWS config names, with its state.

The sso-sessions and the legacy start URLs (profiles with ``sso_start_url`` and no
``sso_session``) of ``~/.aws/config``, plus sign-ins made through the server by start URL;
each with the state of its token in the shared cache. Reads two kinds of small local
files (the config and one cache entry per sign-in) and makes no network call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from .._exceptions import ConfigurationError
from ..auth._awsconfig import config_file_path, load_aws_config
from ..auth._cache import TokenCache
from ..auth._context import LoginContext
from ..auth._flow import TokenState, classify
from ..auth._models import format_timestamp, token_cache_key
from ..oidc._values import validate_region, validate_start_url

__all__ = ["STATE_NAMES", "sign_ins"]

STATE_NAMES = {
    TokenState.FRESH: "signed_in",
    TokenState.ADVISORY: "expiring",
    TokenState.MANDATORY: "expiring",
    TokenState.EXPIRED: "expired",
    TokenState.MISSING: "signed_out",
}


def _entry(
    cache: TokenCache,
    now: datetime,
    *,
    name: str,
    kind: str,
    start_url: object,
    region: object,
    session_name: str | None,
    login: dict[str, str],
    profiles: list[str],
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "start_url": start_url if isinstance(start_url, str) else None,
        "region": region if isinstance(region, str) else None,
        "state": "signed_out",
        "expires_at": None,
        "profiles": profiles,
        "login": login,
        "error": None,
    }
    try:
        url = validate_start_url(start_url)
        validate_region(region)
    except ConfigurationError as exc:
        entry["error"] = str(exc)
        return entry
    token = cache.load_token(token_cache_key(session_name, url))
    state = classify(token, now, url)
    entry["state"] = STATE_NAMES[state]
    if token is not None and state is not TokenState.MISSING:
        entry["expires_at"] = format_timestamp(token.expires_at)
    return entry


def _from_config(
    config: Mapping[str, Any], cache: TokenCache, now: datetime
) -> list[dict[str, Any]]:
    profiles: Mapping[str, Any] = config.get("profiles", {})
    entries = []
    for name, section in config.get("sso_sessions", {}).items():
        users = sorted(p for p, values in profiles.items() if values.get("sso_session") == name)
        entries.append(
            _entry(
                cache,
                now,
                name=name,
                kind="sso-session",
                start_url=section.get("sso_start_url"),
                region=section.get("sso_region"),
                session_name=name,
                login={"session_name": name},
                profiles=users,
            )
        )
    # Legacy profiles: one entry per start URL (the cache key is the start URL alone).
    legacy: dict[str, list[str]] = {}
    for name, values in profiles.items():
        url = values.get("sso_start_url")
        if isinstance(url, str) and "sso_session" not in values:
            legacy.setdefault(url, []).append(name)
    for url, names in legacy.items():
        names.sort()
        entries.append(
            _entry(
                cache,
                now,
                name=names[0],
                kind="profile",
                start_url=url,
                region=profiles[names[0]].get("sso_region"),
                session_name=None,
                login={"profile": names[0]},
                profiles=names,
            )
        )
    return entries


def sign_ins(
    now: datetime, extra: Iterable[LoginContext] = ()
) -> tuple[list[dict[str, Any]], str | None]:
    """``(entries, config_error)``: the sign-ins with their states, and why the config file
    could not be read (None when it was, or when there is none)."""
    cache = TokenCache()
    entries: list[dict[str, Any]] = []
    error = None
    if config_file_path().exists():
        try:
            entries = _from_config(load_aws_config(), cache, now)
        except ConfigurationError as exc:
            error = str(exc)
    seen = {
        (entry["start_url"], entry["name"] if entry["kind"] == "sso-session" else None)
        for entry in entries
    }
    for context in extra:
        request = context.request
        if (request.start_url, request.session_name) in seen:
            continue
        entries.append(
            _entry(
                cache,
                now,
                name=request.session_name or request.start_url,
                kind="start-url",
                start_url=request.start_url,
                region=request.region,
                session_name=request.session_name,
                login={"start_url": request.start_url, "region": request.region},
                profiles=[],
            )
        )
    return entries, error
