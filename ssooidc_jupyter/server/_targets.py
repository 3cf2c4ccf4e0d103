"""What a request body names: a profile, an sso-session, or a start URL and region.

One parser for the bodies of ``POST /ssooidc/api/login`` and ``POST /ssooidc/api/logout``:
a body is checked key by key here, then the values go through :func:`resolve_login`, which
validates the start URL, region and endpoint with the package's one validator each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..auth._context import LoginContext, resolve_login
from ..oidc._values import validate_flow

__all__ = ["BadBody", "Target", "parse_target"]

_STRING_KEYS = ("profile", "session_name", "start_url", "region", "endpoint")
_MAX_VALUE = 2048  # as MAX_URL_LENGTH: anything longer is a paste accident
_FORMS = '{"profile": NAME}, {"session_name": NAME} or {"start_url": URL, "region": REGION}'


class BadBody(ValueError):
    """The body is not one of the accepted forms; the message says what to send."""


@dataclass(frozen=True)
class Target:
    """A sign-in named by a request body (no secret, nothing resolved yet)."""

    profile: str | None = None
    session_name: str | None = None
    start_url: str | None = None
    region: str | None = None
    endpoint: str | None = None

    def resolve(
        self, *, force: bool = False, flow: str = "device", redirect_uri: str | None = None
    ) -> LoginContext:
        """The resolved sign-in. Reads ``~/.aws/config`` for a profile or sso-session: a
        small local file, read on the server's loop like Jupyter's own config files."""
        return resolve_login(
            self.start_url,
            self.region,
            profile=self.profile,
            session_name=self.session_name,
            endpoint=self.endpoint,
            force=force,
            flow=flow,
            redirect_uri=redirect_uri,
        )

    @property
    def name(self) -> str | None:
        return self.session_name or self.profile


def parse_target(body: object, *, allow_force: bool = False) -> tuple[Target, bool, str | None]:
    """``(target, force, flow)`` from a decoded JSON body, or :class:`BadBody` (a bad flow is
    the package's one validator's ConfigurationError). ``force`` and ``flow`` (None: the
    server's default) are for a sign-in only."""
    if not isinstance(body, dict):
        raise BadBody(f"The body must be a JSON object: {_FORMS}.")
    allowed = {*_STRING_KEYS, "force", "flow"} if allow_force else set(_STRING_KEYS)
    unknown = sorted(str(key) for key in body if key not in allowed)
    if unknown:
        raise BadBody(f"Unknown key(s) {', '.join(unknown)}; send {_FORMS}.")
    values = _strings(body)
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise BadBody("force must be true or false.")
    flow = body.get("flow")
    if flow is not None:
        validate_flow(flow)  # the package's one validator: a ConfigurationError is a 400 too
    _check_form(values)
    return Target(**values), force, flow


def _strings(body: dict[Any, Any]) -> dict[str, str]:
    """The body's string values, each a non-empty string of bounded length."""
    values: dict[str, str] = {}
    for key in _STRING_KEYS:
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > _MAX_VALUE:
            raise BadBody(f"{key} must be a non-empty string of at most {_MAX_VALUE} characters.")
        values[key] = value
    return values


def _check_form(values: dict[str, str]) -> None:
    """One of the accepted forms: exactly one sign-in named, a start URL with its region."""
    named = [key for key in ("profile", "session_name", "start_url") if key in values]
    if len(named) != 1:
        raise BadBody(f"Name exactly one sign-in: {_FORMS}.")
    if ("start_url" in values) != ("region" in values):
        raise BadBody("start_url and region go together: send both, or a profile or session_name.")
