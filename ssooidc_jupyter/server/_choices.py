"""What the status route lists, without its state: :class:`Choice`, one sign-in the user can
choose, made from the parsed AWS config file (each entry judged by the sign-in's own
resolution, ``auth/_awsconfig.sso_settings_in``), from the admin's default (judged by
``auth/_context.check_where``) and from the sign-ins this server made; and the entry with
its state in the token cache (:meth:`Choice.entry`). No I/O but the cache reads of ``entry``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .._exceptions import ConfigurationError
from ..auth._awsconfig import sso_settings_in
from ..auth._cache import TokenCache
from ..auth._context import ADMIN_ENV, AdminDefaults, LoginContext, admin_defaults, check_where
from ..auth._flow import MANDATORY_REFRESH, TokenState, classify
from ..auth._inflight import read_pending
from ..auth._models import format_timestamp, token_cache_key

__all__ = ["SESSION_END_NOTICE", "STATE_NAMES", "Choice", "from_config", "ordered", "started_here"]

#: How long before ``session_ends_at`` the tabs warn that the session is about to end (a
#: sign-in can no longer be refreshed after it). As long as the MANDATORY refresh window.
#: sign-in can no longer be refreshed after it). As long as the MANDATORY refresh window.
SESSION_END_NOTICE: timedelta = MANDATORY_REFRESH

STATE_NAMES = {
    TokenState.FRESH: "signed_in",
    TokenState.ADVISORY: "expiring",
    TokenState.MANDATORY: "expiring",
    TokenState.EXPIRED: "expired",
    TokenState.MISSING: "signed_out",
}


@dataclass
class Choice:
    """One sign-in as the status lists it, without its state (what the config says)."""

    name: str
    kind: str
    start_url: object
    region: object
    session_name: str | None
    login: dict[str, str]
    profiles: list[str]
    default: bool = False
    error: str | None = None
    # The validated start URL and the cache key (None when the entry has an error).
    url: str | None = None
    key: str | None = None
    # "[sso-session dev] in /home/u/.aws/config": set for entries of the config file, so a
    # problem names the section to fix (the admin's entry names its variables instead).
    section: str | None = None

    def check(self, resolve: Callable[[], tuple[str, str | None]]) -> Choice:
        """Judge this entry by the sign-in's own resolution: ``resolve`` returns the start
        URL and sso-session name as login resolves them (or raises what login raises), so the
        status lists as signable exactly what ``POST /login`` accepts, under its cache key."""
        if self.error is None:
            try:
                self.url, session_name = resolve()
            except ConfigurationError as exc:
                self.error = self._explain(exc)
            else:
                self.key = token_cache_key(session_name, self.url)
        return self

    def _explain(self, exc: ConfigurationError) -> str:
        """What is wrong with this entry and how to fix it, naming its section and setting
        (not "None is not an AWS region name")."""
        if self.section is None:
            return str(exc)
        for setting, example, value in (
            ("sso_start_url", "https://my-portal.awsapps.com/start", self.start_url),
            ("sso_region", "us-east-1", self.region),
        ):
            if value is None or value == "":
                return (
                    f"{self.section} has no {setting}. Add a line {setting} = {example} (your "
                    f"organisation's value) to that section."
                )
        # Word for word what a sign-in answers (it names the section and the setting).
        return str(exc)

    def entry(self, cache: TokenCache, now: datetime) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "start_url": self.start_url if isinstance(self.start_url, str) else None,
            "region": self.region if isinstance(self.region, str) else None,
            "state": "signed_out",
            "expires_at": None,
            "profiles": self.profiles,
            "login": self.login,
            "error": self.error,
            "pending": None,
        }
        if self.key is None or self.url is None:
            return entry
        # Issue 20: a sign-in in progress for this entry, in any process (here: this
        # server's own); what the user must do, never a device code or verifier.
        pending = read_pending(cache, self.key)
        entry["pending"] = pending.summary() if pending is not None else None
        token = cache.load_token(self.key)
        state = classify(token, now, self.url)
        entry["state"] = STATE_NAMES[state]
        if token is not None and state is not TokenState.MISSING:
            entry["expires_at"] = format_timestamp(token.expires_at)
            entry["session_ends_at"] = format_timestamp(_session_end(token))
        return entry


def _session_end(token: Any) -> datetime:
    """When a refresh can no longer extend this sign-in: the client registration's end for
    a token that can be refreshed, else the access token's own expiry."""
    expires: datetime = token.expires_at
    refreshable = token.refresh_token and token.client_id and token.client_secret
    if not refreshable:
        return expires
    registration: datetime | None = token.registration_expires_at
    return expires if registration is None else max(expires, registration)


def _by_sign_in(profiles: Mapping[str, Any]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The profiles of each sso-session, and of each legacy start URL (one entry per start
    URL: its cache key is the start URL alone)."""
    users: dict[str, list[str]] = {}
    legacy: dict[str, list[str]] = {}
    for name, values in profiles.items():
        session = values.get("sso_session")
        url = values.get("sso_start_url")
        if isinstance(session, str):
            users.setdefault(session, []).append(name)
        elif isinstance(url, str):
            legacy.setdefault(url, []).append(name)
    return users, legacy


def from_config(config: Mapping[str, Any], path: str = "") -> list[Choice]:
    """Every entry of the parsed file, each resolved by ``sso_settings_in``: the one
    resolution a sign-in uses (``resolve_login`` → ``resolve_sso_settings``)."""
    profiles: Mapping[str, Any] = config.get("profiles", {})
    sessions: Mapping[str, Any] = config.get("sso_sessions", {})
    where = f" in {path}" if path else " in your AWS config file"
    users, legacy = _by_sign_in(profiles)
    file = Path(path or "~/.aws/config")

    def resolved(**named: str) -> Callable[[], tuple[str, str | None]]:
        def resolve() -> tuple[str, str | None]:
            settings = sso_settings_in(config, file, **named)
            return settings.start_url, settings.session_name

        return resolve

    choices = [
        Choice(
            name=name,
            kind="sso-session",
            start_url=_raw(section, "sso_start_url"),
            region=_raw(section, "sso_region"),
            session_name=name,
            login={"session_name": name},
            profiles=sorted(users.get(name, [])),
            section=f"[sso-session {name}]{where}",
        ).check(resolved(session_name=name))
        for name, section in sessions.items()
    ]
    choices += [
        _missing_session(name, sorted(users[name]), where)
        for name in sorted(set(users) - set(sessions))
    ]
    for url, names in legacy.items():
        names.sort()
        choices.append(
            Choice(
                name=names[0],
                kind="profile",
                start_url=url,
                region=_raw(profiles[names[0]], "sso_region"),
                session_name=None,
                login={"profile": names[0]},
                profiles=names,
                section=f"[profile {names[0]}]{where}",
            ).check(resolved(profile=names[0]))
        )
    return choices


def _raw(section: Mapping[str, Any], key: str) -> str | None:
    """A value as the file spells it, for display (an indented sub-section is no value)."""
    value = section.get(key)
    return value if isinstance(value, str) else None


def _missing_session(name: str, names: list[str], where: str) -> Choice:
    """Profiles naming an sso-session the file does not have: one entry saying so."""
    plural = "s" if len(names) > 1 else ""
    return Choice(
        name=name,
        kind="sso-session",
        start_url=None,
        region=None,
        session_name=name,
        login={"session_name": name},
        profiles=names,
        error=(
            f"The profile{plural} {', '.join(names)}{where} name{'' if plural else 's'} "
            f"sso_session = {name}, but there is no [sso-session {name}] section. "
            f"Add that section (with sso_start_url and sso_region), or correct the "
            f"name in the profile{plural}."
        ),
    )


def _admin_choice(defaults: AdminDefaults, config: list[Choice]) -> Choice | None:
    """The admin's default sign-in, resolved as ``resolve_login`` resolves it for a kernel's
    bare ``%ssooidc login`` (so both use one cache entry); None when the admin set none."""
    if defaults.start_url:
        name = defaults.session_name
        choice = Choice(
            name=name or defaults.start_url,
            kind="sso-session" if name else "start-url",
            start_url=defaults.start_url,
            region=defaults.region,
            session_name=name,
            # Resolved by the server from the same environment: the admin's values win.
            login={"session_name": name}
            if name
            else {"start_url": defaults.start_url, "region": defaults.region or ""},
            profiles=[],
            default=True,
        )
        if not defaults.region:
            choice.error = (
                f"{ADMIN_ENV['start_url']} is set but {ADMIN_ENV['region']} is not: the "
                "administrator must set the IAM Identity Center region too."
            )
        start_url, region = defaults.start_url, defaults.region
        return choice.check(lambda: (check_where(start_url, region), name))
    named = defaults.session_name or defaults.profile
    if named is None:
        return None
    for choice in config:
        if choice.name == defaults.session_name or defaults.profile in choice.profiles:
            choice.default = True
            return None
    variable = ADMIN_ENV["session_name" if defaults.session_name else "profile"]
    return Choice(
        name=named,
        kind="sso-session" if defaults.session_name else "profile",
        start_url=None,
        region=None,
        session_name=defaults.session_name,
        login={"session_name": named} if defaults.session_name else {"profile": named},
        profiles=[],
        default=True,
        error=f"{variable} names {named!r}, which the AWS config file does not have.",
    )


def ordered(cached: list[Choice]) -> list[Choice]:
    """The admin's default first, then the config file's entries."""
    # Copies: the admin's choice marks one as the default, and the cache is shared.
    config = [Choice(**vars(choice)) for choice in cached]
    admin = _admin_choice(admin_defaults(), config)
    if admin is None:
        return sorted(config, key=lambda c: not c.default)
    # The admin's default replaces the config's entry for the same cache entry (the
    # environment wins, as it does when a sign-in is resolved), keeping its profiles.
    same = [c for c in config if admin.key is not None and c.key == admin.key]
    if same:
        admin.profiles = same[0].profiles
    return [admin, *(c for c in config if c not in same)]


def started_here(context: LoginContext) -> Choice:
    request = context.request
    return Choice(
        name=request.session_name or request.start_url,
        kind="start-url",
        start_url=request.start_url,
        region=request.region,
        session_name=request.session_name,
        login={"start_url": request.start_url, "region": request.region},
        profiles=[],
        url=request.start_url,
        key=context.slot.token_key,
    )
