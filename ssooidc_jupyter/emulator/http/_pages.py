"""The pages a person uses (device verification, /authorize consent, the portal start
page): their HTML, their handlers, and the browser stand-in behind ``Emulator.consent``.

Plain HTML with a little inline CSS and no JavaScript, so it works in any browser, in a
notebook's iframe and with simple form-driving tests. Every dynamic value goes through
``html.escape``: the user code comes straight from the query string. The stand-in reads
the consent form with the patterns below, so page and reader change together.
"""

from __future__ import annotations

import html
import http.client
import re
import ssl
from collections.abc import Iterable
from html import escape
from typing import Any
from urllib.parse import urlencode, urlsplit

from ..model import (
    AuthorizeRejected,
    ConsentPrompt,
    DeviceStatus,
    IdentityCenter,
    Operation,
    Redirect,
    WireEnum,
)
from . import _wire
from ._wire import Handler, Request, Response, form_value

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; background: #f2f3f3;
       color: #16191f; margin: 0; }
main { max-width: 28rem; margin: 4rem auto; background: #fff; padding: 2rem;
       border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }
h1 { font-size: 1.4rem; margin-top: 0; }
label { display: block; font-weight: 600; margin-bottom: .4rem; }
input { font: inherit; font-size: 1.2rem; letter-spacing: .15em; width: 100%;
        box-sizing: border-box; padding: .5rem; margin-bottom: 1rem; }
button { font: inherit; padding: .5rem 1.2rem; border-radius: 4px; border: 1px solid #545b64;
         background: #fff; cursor: pointer; margin-right: .5rem; }
button#approve { background: #ec7211; border-color: #ec7211; color: #fff; }
.note { color: #545b64; font-size: .9rem; }
code { background: #f2f3f3; padding: .1rem .3rem; }
"""


def _document(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def verification_page(user_code: str, client_name: str | None = None) -> str:
    app = ""
    if client_name:
        app = f'<p class="note">Application: <strong>{escape(client_name)}</strong></p>\n'
    body = (
        "<h1>Authorize request</h1>\n"
        f"{app}"
        '<p class="note">Check that this code matches the one shown by the application '
        "asking for access.</p>\n"
        '<form method="POST" action="/device">\n'
        '<label for="user_code">Code</label>\n'
        f'<input id="user_code" name="user_code" value="{escape(user_code, quote=True)}" '
        'autocomplete="off" spellcheck="false" required>\n'
        '<button id="approve" name="action" value="approve" type="submit">Approve</button>\n'
        '<button id="deny" name="action" value="deny" type="submit">Deny</button>\n'
        "</form>\n"
        '<p class="note">Local IAM Identity Center emulator: no real AWS account is involved.</p>'
    )
    return _document("Authorize request", body)


class Decision(WireEnum):
    """The ``action`` of the Approve and Deny buttons (verification and consent pages)."""

    APPROVE = "approve"
    DENY = "deny"


class Outcome(WireEnum):
    """How a verification form submission ended (``data-outcome`` on the result page)."""

    APPROVED = "approved"
    DENIED = "denied"
    UNKNOWN = "unknown"


RESULT_TITLES = {
    Outcome.APPROVED: "Request approved",
    Outcome.DENIED: "Request denied",
    Outcome.UNKNOWN: "Unknown or expired code",
}

_RESULT_TEXT = {
    Outcome.APPROVED: "You can close this window and return to the application.",
    Outcome.DENIED: "The application will not get access. You can close this window.",
    Outcome.UNKNOWN: "This code is not valid any more, or was never issued. "
    "Start the sign-in again from the application to get a new code.",
}


def result_page(outcome: Outcome, user_code: str) -> str:
    title = RESULT_TITLES[outcome]
    code = f"<p>Code: <code>{escape(user_code)}</code></p>\n" if user_code else ""
    body = (
        f'<h1 id="result" data-outcome="{escape(outcome.value, quote=True)}">{escape(title)}</h1>\n'
        f'{code}<p class="note">{escape(_RESULT_TEXT[outcome])}</p>\n'
        '<p><a href="/device">Enter another code</a></p>'
    )
    return _document(title, body)


def consent_page(consent_id: str, client_name: str, scopes: Iterable[str], user_name: str) -> str:
    """The /authorize consent: Approve or Deny, posted back to /authorize."""
    items = "".join(f"<li><code>{escape(scope)}</code></li>\n" for scope in scopes)
    scope_list = (
        f'<p class="note">It asks for:</p>\n<ul id="scopes">\n{items}</ul>\n' if items else ""
    )
    body = (
        "<h1>Allow access?</h1>\n"
        f'<p><strong id="client_name">{escape(client_name)}</strong> wants to access your '
        f"AWS accounts as <strong>{escape(user_name)}</strong>.</p>\n"
        f"{scope_list}"
        '<form method="POST" action="/authorize">\n'
        f'<input type="hidden" name="consent" value="{escape(consent_id, quote=True)}">\n'
        '<button id="approve" name="action" value="approve" type="submit">Approve</button>\n'
        '<button id="deny" name="action" value="deny" type="submit">Deny</button>\n'
        "</form>\n"
        '<p class="note">Local IAM Identity Center emulator: no real AWS account is involved.</p>'
    )
    return _document("Allow access?", body)


def authorize_error_page(message: str) -> str:
    """/authorize refusing a request it must not redirect (bad client or redirect URI)."""
    body = (
        '<h1 id="result" data-outcome="error">Sign-in request not valid</h1>\n'
        f'<p id="message">{escape(message)}</p>\n'
        '<p class="note">Start the sign-in again from the application.</p>'
    )
    return _document("Sign-in request not valid", body)


def start_page(region: str, accounts: Iterable[tuple[str, str, tuple[str, ...]]]) -> str:
    items = "".join(
        f"<li><strong>{escape(name)}</strong> ({escape(account_id)}): "
        f"{escape(', '.join(roles))}</li>\n"
        for account_id, name, roles in accounts
    )
    body = (
        "<h1>AWS access portal (emulator)</h1>\n"
        f'<p class="note">Region <code>{escape(region)}</code>. Sign in from your application '
        'with the device flow; approve codes at <a href="/device">/device</a>.</p>\n'
        f"<h2>Accounts</h2>\n<ul>\n{items}</ul>"
    )
    return _document("AWS access portal (emulator)", body)


# -- the handlers: what each page request does to the model ----


# The request record's error for an /authorize request refused on a page.
AUTHORIZE_REJECTED = "InvalidAuthorizeRequest"


def _decision(raw: str) -> Decision | None:
    try:
        return Decision(raw)
    except ValueError:
        return None


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def _rejected(exc: AuthorizeRejected) -> Response:
    response = _wire.html_response(authorize_error_page(exc.message), status=400)
    response.error = AUTHORIZE_REJECTED
    return response


def _redirected(redirect: Redirect, note: dict[str, Any]) -> Response:
    note["client_id"] = redirect.client_id
    response = _wire.redirect_response(redirect.location)
    response.error = None if redirect.error is None else redirect.error.value
    return response


class PagesApi:
    def __init__(self, center: IdentityCenter) -> None:
        self._center = center

    def handlers(self) -> dict[Operation, Handler]:
        return {
            Operation.VERIFICATION_PAGE: self._verification_page,
            Operation.VERIFICATION_SUBMIT: self._verification_submit,
            Operation.START_PAGE: self._start_page,
            Operation.AUTHORIZE: self._authorize,
            Operation.AUTHORIZE_SUBMIT: self._authorize_submit,
        }

    # -- the device flow's verification page --------------------------------------------------

    def _verification_page(self, req: Request, _rid: str, _note: dict[str, Any]) -> Response:
        user_code = req.param("user_code") or ""
        info = self._center.devices.describe(user_code) if user_code else None
        client_name = (
            info.client_name if info is not None and info.status is DeviceStatus.PENDING else None
        )
        return _wire.html_response(verification_page(user_code, client_name))

    def _verification_submit(self, req: Request, _rid: str, _note: dict[str, Any]) -> Response:
        user_code = form_value(req.body, "user_code")
        decision = _decision(form_value(req.body, "action"))
        if decision is None:
            return _wire.html_response(verification_page(user_code), status=400)
        try:
            if decision is Decision.APPROVE:
                self._center.devices.decide(user_code, DeviceStatus.APPROVED)
            else:
                self._center.devices.decide(user_code, DeviceStatus.DENIED)
        except (KeyError, ValueError):
            return _wire.html_response(result_page(Outcome.UNKNOWN, user_code), status=400)
        outcome = Outcome.APPROVED if decision is Decision.APPROVE else Outcome.DENIED
        return _wire.html_response(result_page(outcome, user_code))

    # -- the authorization code grant's consent ---------------------------------------------------

    def _authorize(self, req: Request, _rid: str, note: dict[str, Any]) -> Response:
        client_id = req.param("client_id")
        if client_id:
            note["client_id"] = client_id  # an identifier, not a secret
        try:
            answer = self._center.codes.begin(req.query)
        except AuthorizeRejected as exc:
            return _rejected(exc)
        if isinstance(answer, Redirect):
            return _redirected(answer, note)
        return self._consent(answer)

    def _consent(self, prompt: ConsentPrompt) -> Response:
        html = consent_page(
            prompt.consent_id, prompt.client_name, prompt.scopes, self._center.settings.user_name
        )
        return _wire.html_response(html, form_origin=_origin(prompt.redirect_uri))

    def _authorize_submit(self, req: Request, _rid: str, note: dict[str, Any]) -> Response:
        decision = _decision(form_value(req.body, "action"))
        if decision is None:
            return _rejected(AuthorizeRejected("Choose Approve or Deny."))
        try:
            redirect = self._center.codes.decide(
                form_value(req.body, "consent"), approve=decision is Decision.APPROVE
            )
        except AuthorizeRejected as exc:
            return _rejected(exc)
        return _redirected(redirect, note)

    # -- the portal ---------------------------------------------------------------------------

    def _start_page(self, _req: Request, _rid: str, _note: dict[str, Any]) -> Response:
        accounts = [(a.account_id, a.account_name, a.roles) for a in self._center.settings.accounts]
        return _wire.html_response(start_page(self._center.settings.region, accounts))


# -- the browser stand-in: what Emulator.consent does, over real HTTP ----


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


def consent_as_browser(
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
