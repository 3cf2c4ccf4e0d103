"""Keeping secrets out of log lines: ours and those of the libraries on our path.

Layer 0 (imports nothing of the package but its sibling :mod:`._secret`). botocore logs
request headers (the portal's ``x-amz-sso_bearer_token``, ``X-Amz-Security-Token``),
response bodies (GetRoleCredentials' secret key and session token) and canonical requests
at DEBUG; a notebook with
``logging.basicConfig(level=logging.DEBUG)`` in its first cell would save them in its outputs.

Two complementary guards, applied to every record of the loggers in :data:`REDACTED_LOGGERS`
(and their children) as the record is created, before any handler or frontend sees it:

* **known values**: each secret is registered where it is received (:func:`register_secret`:
  the oidc client, the cached token and registration); any occurrence, in any shape of
  message, becomes ``***``;
* **known places**: the JSON members, headers and ``Bearer`` values that carry secrets are
  masked by pattern even when the value was never registered (botocore logs the
  GetRoleCredentials body before anyone of ours has seen it); a value found so is registered
  too, so its later appearances elsewhere (a canonical request, a signed header) are masked.

The same work is available as :class:`RedactingFilter` for a handler of one's own.

Neither the factory nor the filter may ever make logging fail: a record of any shape
(``logging.makeLogRecord({})`` has no name and no message, a forwarder's record may carry
anything in ``msg`` and ``args``) passes through untouched when it cannot be read, and the
factory never lets an error of the redaction escape into the caller's ``logger.info``.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

from ._secret import Secret

__all__ = [
    "REDACTED",
    "REDACTED_LOGGERS",
    "RedactingFilter",
    "install",
    "redact_record",
    "redact_text",
    "register_secret",
]

REDACTED = "***"

#: Loggers whose records are redacted (each with all its children).
REDACTED_LOGGERS = (
    "ssooidc_jupyter",
    "httpx",
    "httpcore",
    "botocore",
    "boto3",
    "s3transfer",
    "urllib3",
)

# Shorter values would mask ordinary words; every real secret is far longer.
_MIN_SECRET_LENGTH = 8
# Kept bounded: a long-lived kernel refreshing hourly registers a few values an hour.
_MAX_SECRETS = 1024

# The JSON members, form fields and headers whose values are secrets.
_MEMBER_NAMES = (
    "accessToken|refreshToken|idToken|clientSecret|deviceCode|codeVerifier|"
    "secretAccessKey|sessionToken|SecretAccessKey|SessionToken|"
    "access_token|refresh_token|id_token|client_secret|device_code|code_verifier|"
    "aws_secret_access_key|aws_session_token"
)
_HEADER_NAMES = "x-amz-sso[_-]bearer[_-]token|x-amz-security-token|authorization"

# Each pattern has the groups head (kept), q (the opening quote, if any) and value (masked,
# up to but not including the closing quote).
_PATTERNS = (
    # "accessToken": "value"  /  'sessionToken': b'value'  /  \"secretAccessKey\":\"value\"
    re.compile(
        rf"""(?P<head>(?:\\?["'])?(?:{_MEMBER_NAMES})(?:\\?["'])?\s*[:=]\s*b?(?P<q>\\?["']))"""
        r"""(?P<value>.+?)(?=(?P=q))"""
    ),
    # headers in a dict repr: 'X-Amz-Security-Token': b'value'
    re.compile(
        rf"""(?P<head>(?<![\w-])(?i:{_HEADER_NAMES})["']\s*:\s*b?(?P<q>["']))(?P<value>.+?)"""
        r"""(?=(?P=q))"""
    ),
    # headers on a line (HTTP, canonical request): x-amz-security-token:value
    # (whole header names only: "StartDeviceAuthorization: POST" is no Authorization header)
    re.compile(
        rf"""(?P<head>(?<![\w-])(?i:{_HEADER_NAMES})\s*:\s*(?:(?i:bearer)\s+)?)(?P<q>)"""
        r"""(?P<value>[^\s"',}]+)"""
    ),
    # form-encoded or query members: refresh_token=value&...
    re.compile(rf"""(?P<head>(?:{_MEMBER_NAMES})=)(?P<q>)(?P<value>[^&\s"',)]+)"""),
    re.compile(r"""(?P<head>(?i:bearer)\s+)(?P<q>)(?P<value>[A-Za-z0-9._~+/=-]{8,})"""),
    # STS's XML answers: <SessionToken>value</SessionToken>
    re.compile(r"""(?P<head><(?:SecretAccessKey|SessionToken)>)(?P<q>)(?P<value>[^<]+)"""),
)

_lock = threading.Lock()
_secrets: dict[str, None] = {}  # an ordered set, oldest first
_ordered: tuple[str, ...] = ()  # longest first, so a secret containing another is masked whole
_installed = False


def register_secret(*values: object) -> None:
    """Remember ``values`` (strings or :class:`~._secret.Secret`; others and short ones are
    ignored) as secrets to mask.

    Also installs the redaction on first use: a process that never handled a secret pays
    nothing."""
    global _ordered
    fresh = [
        value
        for value in map(_plain, values)
        if isinstance(value, str) and len(value) >= _MIN_SECRET_LENGTH and value not in _secrets
    ]
    if fresh:
        with _lock:
            for value in fresh:
                _secrets[value] = None
            while len(_secrets) > _MAX_SECRETS:
                del _secrets[next(iter(_secrets))]
            _ordered = tuple(sorted(_secrets, key=len, reverse=True))
    install()


def _plain(value: object) -> object:
    return value.get_secret_value() if isinstance(value, Secret) else value


def _mask_place(match: re.Match[str], learned: list[str]) -> str:
    value = match["value"]
    if value == REDACTED:
        return match.group(0)
    learned.append(value)
    return f"{match['head']}{REDACTED}"


def redact_text(text: str) -> str:
    """``text`` with every registered secret and every secret-bearing member masked."""
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, REDACTED)
    learned: list[str] = []
    for pattern in _PATTERNS:
        text = pattern.sub(lambda match: _mask_place(match, learned), text)
    if learned:
        # botocore's header values are repr'd bytes; their text is the secret itself.
        register_secret(*learned, *(v.replace("\\/", "/") for v in learned))
    return text


def redact_record(record: logging.LogRecord) -> None:
    """Mask secrets in ``record`` in place: its message (with the arguments merged in), its
    formatted traceback and its stack. A part that cannot be read is left as it is (the
    handler reports a broken record as it always does): this never raises."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string, a msg whose str() fails: the handler's
        message = None
    if isinstance(message, str):
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
    exc_info = getattr(record, "exc_info", None)
    if (
        isinstance(exc_info, tuple)
        and len(exc_info) == 3
        and exc_info[1] is not None
        and not getattr(record, "exc_text", None)
    ):
        # Formatted now, masked, and cached where every Formatter looks first.
        # A traceback that cannot be formatted is the handler's business.
        with contextlib.suppress(Exception):
            record.exc_text = logging.Formatter().formatException(exc_info)
    for attribute in ("exc_text", "stack_info"):
        value = getattr(record, attribute, None)
        if isinstance(value, str) and value:
            setattr(record, attribute, redact_text(value))


def _ours(name: object) -> bool:
    # makeLogRecord({}) and hand-made records may have no name, or not a string.
    if not isinstance(name, str):
        return False
    return any(name == root or name.startswith(root + ".") for root in REDACTED_LOGGERS)


class RedactingFilter(logging.Filter):
    """A filter that masks secrets and lets every record through.

    Attached by :func:`install` to the loggers in :data:`REDACTED_LOGGERS`; add it to a
    handler of your own (``handler.addFilter(RedactingFilter())``) to mask every record that
    handler emits, from any logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_safely(record)
        return True


def _redact_safely(record: logging.LogRecord) -> None:
    """:func:`redact_record`, and whatever goes wrong stays here: masking is a courtesy of
    ours to the caller's logging, which must never fail because of it."""
    with contextlib.suppress(Exception):  # redact_record already guards every part
        redact_record(record)


_FILTER = RedactingFilter()


def install(loggers: Iterable[str] = REDACTED_LOGGERS) -> None:
    """Mask secrets in every record of ``loggers`` and of their children, at any level.

    A filter on a logger only sees records logged on that very logger, not on its children
    (``botocore.endpoint``), so the masking happens where records are made: a log record
    factory, chained to the one in place. The filter is attached to the named loggers as
    well, for records made before a later factory replaced ours. Idempotent."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if _ours(getattr(record, "name", None)):
                _redact_safely(record)
            return record

        logging.setLogRecordFactory(factory)
    for name in loggers:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
