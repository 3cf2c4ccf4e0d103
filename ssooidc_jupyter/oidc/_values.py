"""The one validator of each value a user gives: region, endpoint URL, start URL, redirect
URI, and the sign-in's timeout, flow and registration scopes.

Every entry point (``login()``, the magic, the widget, the ``SSOOIDC`` configurable, the
AWS config resolver, the clients) calls these functions, so a value is judged by one rule
everywhere. Each returns the value normalised, or raises :class:`ConfigurationError` (an
:class:`InvalidRegionError` for the region) saying what is wrong and what is expected.
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Sequence
from ipaddress import ip_address
from urllib.parse import urlsplit

from .._exceptions import ConfigurationError, InvalidRegionError
from ._partitions import PARTITIONS, known_partition, listed_region

__all__ = [
    "FLOWS",
    "MAX_URL_LENGTH",
    "UnlistedRegionWarning",
    "is_loopback_host",
    "safe_link",
    "validate_endpoint",
    "validate_flow",
    "validate_redirect_uri",
    "validate_region",
    "validate_scopes",
    "validate_start_url",
    "validate_timeout",
]

#: The sign-in flows: ``device`` (RFC 8628) and ``pkce`` (the authorization code with PKCE).
FLOWS = ("device", "pkce")

# A region is one DNS label: lowercase letters, digits and inner dashes. Anything else
# ("us-east-1.evil.example/", " us-east-1", "") could steer the request to another host.
_REGION_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")

#: Real start URLs are ~40 characters; browsers cap URLs near 2 KB. A longer value is a
#: paste accident (or an attack on a log line), never an access portal.
MAX_URL_LENGTH = 2048

# Whitespace and control characters: a URL with them is a copy-paste accident, and a
# trailing newline would silently give another cache key than the same URL without it.
_BAD_CHARS_RE = re.compile(r"[\s\x00-\x1f\x7f]")


class UnlistedRegionWarning(UserWarning):
    """A sign-in region that has the shape of an AWS region but is not in our table of
    regions (a region newer than this package): the sign-in goes on."""


def _all_regions() -> list[str]:
    return sorted(region for partition in PARTITIONS for region in partition.regions)


# The words before a region's number in every listed region ("east", "northeast", ...). A
# new region reuses them (ap-east-2, mx-central-1); "est" or "eats" is a typo.
_DIRECTIONS = frozenset(region.rsplit("-", 2)[-2] for region in _all_regions())


def _unknown_region(region: str) -> InvalidRegionError:
    close = difflib.get_close_matches(region, _all_regions(), n=2, cutoff=0.75)
    hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
    return InvalidRegionError(
        f"{region!r} is not a region of any AWS partition (expected something like "
        f"'us-east-1' or 'eu-west-1').{hint} Use the region of your IAM Identity Center "
        "instance, shown in its console (sso_region in the AWS config file)."
    )


def validate_region(region: object, *, known: bool = False, warn: bool = True) -> str:
    """Return ``region`` if it is a region name, else raise :class:`InvalidRegionError`.

    ``known=True`` (a sign-in) also checks it against the partitions' tables before any
    request, so ``us-est-1`` is refused at once instead of failing three attempts later with
    a DNS error: a listed region passes; a region of a partition's pattern whose direction
    word is one AWS uses (``ap-east-9``: newer than our table) passes with an
    :class:`UnlistedRegionWarning`; anything else is refused. The client alone accepts any
    well-formed name, as botocore does (new regions, private endpoints). ``warn=False``
    judges by the same rule without the warning (the server's status route lists entries
    from a worker thread, where a warning would be noise on every poll).
    """
    if not isinstance(region, str) or not _REGION_RE.fullmatch(region):
        raise InvalidRegionError(
            f"{region!r} is not an AWS region name (expected something like 'us-east-1'); "
            "check the region argument, AWS_REGION / AWS_DEFAULT_REGION, or sso_region in "
            "your AWS config file."
        )
    if not known or listed_region(region):
        return region
    partition = known_partition(region)
    if partition is None or region.rsplit("-", 2)[-2] not in _DIRECTIONS:
        raise _unknown_region(region)
    if not warn:
        return region
    warnings.warn(
        f"{region!r} is not in this package's table of {partition.name} regions; going on "
        "as it looks like a region newer than the table (a DNS error follows if it is not).",
        UnlistedRegionWarning,
        stacklevel=3,
    )
    return region


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def safe_link(url: str) -> str | None:
    """``url`` if it may be offered as a link or sent a sign-in (https, or http to a
    loopback host such as the emulator), else None. Schemes compare case-insensitively."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not parts.hostname:
        return None
    if scheme == "https" or (scheme == "http" and is_loopback_host(parts.hostname)):
        return url
    return None


def _check_url_text(what: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{what} must be a non-empty URL string, not {value!r}")
    if len(value) > MAX_URL_LENGTH:
        raise ConfigurationError(
            f"{what} is {len(value)} characters long; a URL of at most {MAX_URL_LENGTH} "
            "characters is expected (check what was pasted)."
        )
    if _BAD_CHARS_RE.search(value):
        raise ConfigurationError(
            f"{what} {value!r} contains whitespace or control characters; "
            "remove them (a URL has none)."
        )
    return value


def validate_start_url(start_url: object) -> str:
    """The AWS access portal URL, normalised (scheme and host lower-cased), or
    ConfigurationError.

    https (any case of the scheme), or http to a loopback host (the emulator); no
    whitespace or control characters; at most :data:`MAX_URL_LENGTH` characters. Plain
    http to another host would send the sign-in to whoever sits on the network.
    """
    value = _check_url_text("start_url", start_url)
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise ConfigurationError(f"start_url {value!r} is not a URL: {exc}") from exc
    if safe_link(value) is None:
        raise ConfigurationError(
            f"start_url must be an https:// URL (or http:// to localhost), not {value!r}; "
            "it looks like 'https://d-1234567890.awsapps.com/start'."
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(f"start_url {value!r} must not carry a user name or password")
    netloc = parts.netloc.lower()
    return parts._replace(scheme=parts.scheme.lower(), netloc=netloc).geturl()


def validate_endpoint(endpoint: object) -> str:
    """Return a normalised endpoint URL (no trailing slash) or raise ConfigurationError.

    Any http(s) URL with a host: an endpoint is chosen by whoever configures the client
    (``AWS_ENDPOINT_URL`` may point at a proxy on the network), as in botocore."""
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise ConfigurationError(f"endpoint must be a URL such as 'https://host', not {endpoint!r}")
    parts = urlsplit(endpoint.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"endpoint {endpoint!r} is not an http(s) URL with a host; "
            "use for example 'https://oidc.us-east-1.amazonaws.com' or 'http://127.0.0.1:8080'."
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(f"endpoint {endpoint!r} must not carry a query or a fragment")
    return endpoint.strip().rstrip("/")


def validate_redirect_uri(uri: object) -> str:
    """A redirect URI IAM Identity Center may accept: ``https`` with a host, or ``http`` on
    a loopback host; no fragment, no user info (the emulator's and RFC 8252's rules)."""
    if not isinstance(uri, str) or not uri:
        raise ConfigurationError(f"redirect_uri must be a URL string, not {uri!r}")
    parts = urlsplit(uri)
    host = parts.hostname or ""
    ok = parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(host))
    if not ok or not host or parts.fragment or parts.username or parts.password:
        raise ConfigurationError(
            f"redirect_uri {uri!r} must be an https URL, or http on 127.0.0.1 / [::1] / "
            "localhost, without a fragment or a user name."
        )
    return uri


def validate_timeout(timeout: object, what: str = "timeout") -> float:
    """A number of seconds above zero (not a bool), as a float, or ConfigurationError.
    ``what`` names the value in the message (``timeout``, ``--timeout``, ``SSOOIDC.timeout``)."""
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not timeout > 0
        or timeout != timeout  # NaN
    ):
        raise ConfigurationError(f"{what} must be a positive number of seconds, not {timeout!r}")
    return float(timeout)


def validate_flow(flow: object, what: str = "flow") -> str:
    """``device`` or ``pkce`` (see :data:`FLOWS`), or ConfigurationError."""
    if not isinstance(flow, str) or flow not in FLOWS:
        raise ConfigurationError(f"{what} must be 'device' or 'pkce', not {flow!r}")
    return flow


def validate_scopes(scopes: object, what: str = "scopes") -> tuple[str, ...]:
    """Registration scopes: a sequence (list, tuple) of scope names, each non-empty without
    whitespace or commas (``sso_registration_scopes`` is comma-separated), or
    ConfigurationError. One string is refused: ``"a,b"`` for ``["a", "b"]`` is a mistake."""
    if isinstance(scopes, str) or not isinstance(scopes, Sequence):
        raise ConfigurationError(f"{what} must be a list of strings, not {scopes!r}")
    for scope in scopes:
        if (
            not isinstance(scope, str)
            or not scope
            or any(ch.isspace() or ch == "," for ch in scope)
        ):
            raise ConfigurationError(
                f"{what}: {scope!r} is not a scope name (like 'sso:account:access')"
            )
    return tuple(scopes)
