"""What a person's browser does at /authorize, for tests that have no browser.

Real HTTP against the running emulator (so the requests are recorded and faults apply):
open the URL, click Approve or Deny on the consent page if there is one, and stop at the
redirect instead of following it, the way a test wants to see where the browser would go.
"""

from __future__ import annotations

import html
import http.client
import re
import ssl
from urllib.parse import urlencode, urlsplit

from ._pages import Decision

_CONSENT_FIELD = re.compile(r'name="consent" value="([^"]*)"')
_MESSAGE = re.compile(r'<p id="message">(.*?)</p>', re.S)


def _refusal(status: int, body: bytes) -> ValueError:
    found = _MESSAGE.search(body.decode("utf-8", "replace"))
    reason = html.unescape(found.group(1)) if found else f"HTTP {status}"
    return ValueError(f"the emulator refused the authorization request: {reason}")


def _location(response: http.client.HTTPResponse) -> str:
    location = response.getheader("Location")
    if location is None:  # pragma: no cover - every 302 from /authorize has one
        raise ValueError("redirect without a Location")
    return location


def consent(
    base_url: str,
    url: str,
    decision: Decision,
    timeout: float = 10,
    context: ssl.SSLContext | None = None,
) -> str:
    """The redirect URL the browser would be sent to; ValueError for an error page.
    ``context`` verifies an ``https`` emulator (one that trusts its throwaway CA)."""
    target, base = urlsplit(url), urlsplit(base_url)
    if (target.scheme, target.netloc, target.path) != (base.scheme, base.netloc, "/authorize"):
        raise ValueError("not an /authorize URL of this emulator")
    connection: http.client.HTTPConnection
    if base.scheme == "https":
        connection = http.client.HTTPSConnection(
            base.hostname or "", base.port, timeout=timeout, context=context
        )
    else:
        connection = http.client.HTTPConnection(base.hostname or "", base.port, timeout=timeout)
    try:
        connection.request("GET", f"/authorize?{target.query}")
        response = connection.getresponse()
        body = response.read()
        if response.status == 302:  # auto_approve, or an error reported to the client
            return _location(response)
        found = _CONSENT_FIELD.search(body.decode("utf-8", "replace"))
        if response.status != 200 or found is None:
            raise _refusal(response.status, body)
        form = urlencode({"consent": html.unescape(found.group(1)), "action": decision.value})
        connection.request(
            "POST",
            "/authorize",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = connection.getresponse()
        body = response.read()
        if response.status == 302:
            return _location(response)
        raise _refusal(response.status, body)
    finally:
        connection.close()
