"""The members of the SSO cache's JSON files, read and written as botocore does: timestamps
(parsed as liberally as botocore parses them, written in its one format) and typed member
reads that raise ``ValueError`` naming the member, never quoting its value.

``_models.py`` builds the cached objects from these; pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from .._secret import Secret, as_optional_secret, as_secret
from ._clock import utcnow

__all__ = [
    "as_utc",
    "format_timestamp",
    "now_utc",
    "optional_secret",
    "optional_str",
    "optional_timestamp",
    "parse_timestamp",
    "required_secret",
    "required_str",
    "required_timestamp",
    "string_list",
]

#: botocore's serialisation of datetimes in the SSO cache (``tokens._serialize_utc_timestamp``).
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


_TIMESTAMP_RE = re.compile(
    r"""
    (?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})
    (?:[Tt\s]+
        (?P<hour>\d{1,2}):(?P<minute>\d{2})
        (?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?
    )?
    \s*
    (?P<tz>[Zz]|UTC|utc|GMT|gmt|[+-]\d{2}(?::?\d{2})?)?
    """,
    re.VERBOSE,
)


def parse_timestamp(value: object) -> datetime:
    """Parse a cache timestamp into an aware UTC datetime, as liberally as botocore does.

    botocore hands these strings to ``dateutil.parser.parse``; we accept what the AWS tools
    and their look-alikes actually write: ``Z``, ``+00:00``, ``+0000``, ``UTC``/``GMT``
    suffixes (also from ``strftime('%Z')``), fractional seconds of any length, a space
    instead of ``T``. A timestamp without a zone is taken as UTC (every writer means UTC).
    Raises ValueError for anything else.
    """
    if not isinstance(value, str):
        raise ValueError("timestamp is not a string")
    match = _TIMESTAMP_RE.fullmatch(value.strip())
    if match is None:
        raise ValueError("timestamp is not in ISO 8601 form")
    fraction = match["fraction"] or "0"
    # Round to microseconds the way dateutil does (truncate beyond 6 digits).
    microsecond = int(fraction[:6].ljust(6, "0"))
    offset = timedelta(0)
    tz_text = match["tz"]
    if tz_text and tz_text[0] in "+-":
        digits = tz_text[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            raise ValueError("timestamp has an invalid UTC offset")
        offset = timedelta(hours=hours, minutes=minutes)
        if tz_text[0] == "-":
            offset = -offset
    try:
        parsed = datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"] or 0),
            int(match["minute"] or 0),
            int(match["second"] or 0),
            microsecond,
            tzinfo=timezone(offset),
        )
    except (ValueError, OverflowError):
        raise ValueError("timestamp is not a valid date and time") from None
    return parsed.astimezone(timezone.utc)


def format_timestamp(value: datetime) -> str:
    """botocore's cache format: ``2024-01-31T12:00:00Z`` (UTC, whole seconds)."""
    return as_utc(value, "timestamp").strftime(_TIMESTAMP_FORMAT)


def as_utc(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        # A naive datetime is a bug in the caller: local time or UTC cannot be guessed.
        raise ValueError(f"{what} must be timezone-aware")
    return value.astimezone(timezone.utc)


def now_utc(now: datetime | None) -> datetime:
    return utcnow() if now is None else as_utc(now, "now")


# -- JSON member helpers ------------------------------------------------------------------


def required_str(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        # Name the member, never its value: it may be a secret.
        raise ValueError(f"member {name!r} is missing or not a non-empty string")
    return value


def required_secret(data: Mapping[str, Any], name: str) -> Secret:
    # Wrapped in the frame that checks it: no caller's frame ever holds the plain value.
    return as_secret(required_str(data, name))


def optional_secret(data: Mapping[str, Any], name: str) -> Secret | None:
    return as_optional_secret(optional_str(data, name))


def optional_str(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"member {name!r} is not a string")
    return value


def required_timestamp(data: Mapping[str, Any], name: str) -> datetime:
    value = data.get(name)
    if value is None:
        raise ValueError(f"member {name!r} is missing")
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise ValueError(f"member {name!r}: {exc}") from None


def optional_timestamp(data: Mapping[str, Any], name: str) -> datetime | None:
    return None if data.get(name) is None else required_timestamp(data, name)


def string_list(data: Mapping[str, Any], name: str) -> list[str] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"member {name!r} is not a list of strings")
    return list(value)
