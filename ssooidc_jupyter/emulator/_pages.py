"""The HTML a person (or a browser test) sees: verification, consent, result and portal pages.

Plain HTML with a little inline CSS and no JavaScript, so it works in any browser, in a
notebook's iframe and with simple form-driving tests. Every dynamic value goes through
``html.escape``: the user code comes straight from the query string.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from ._enum import WireEnum

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
