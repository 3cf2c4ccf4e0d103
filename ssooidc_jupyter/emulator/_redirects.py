"""Redirect URI rules, shared by RegisterClient and /authorize.

* Registration (what IAM Identity Center accepts): ``https`` with a host anywhere, plain
  ``http`` only on a loopback host (the native-app pattern), never a fragment.
* Matching (RFC 8252 section 7.3): a native app cannot know in advance which port its
  loopback listener gets, so a registered loopback redirect matches the same URI with any
  port. Everything else, including a different loopback host spelling, must match exactly.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _split(uri: str) -> SplitResult | None:
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return None
    return parts


def _is_loopback_http(parts: SplitResult) -> bool:
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS


def registrable(uri: str) -> bool:
    """Whether RegisterClient accepts ``uri`` as a redirect URI."""
    parts = _split(uri)
    if parts is None or parts.fragment or "#" in uri or parts.username or parts.password:
        return False
    if parts.scheme == "https" and parts.hostname:
        return True
    return _is_loopback_http(parts)


def matches(registered: str, presented: str) -> bool:
    """Whether ``presented`` (from /authorize) is the ``registered`` redirect URI."""
    if registered == presented:
        return True
    reg, pres = _split(registered), _split(presented)
    if reg is None or pres is None or not _is_loopback_http(reg) or not registrable(presented):
        return False
    # Everything but the port must be the same: scheme, host spelling, path and query.
    # An empty path and "/" are the same resource (RFC 3986 section 6.2.3).
    return (pres.scheme, pres.hostname, pres.path or "/", pres.query) == (
        reg.scheme,
        reg.hostname,
        reg.path or "/",
        reg.query,
    )


def matches_any(registered: tuple[str, ...], presented: str) -> bool:
    return any(matches(uri, presented) for uri in registered)
