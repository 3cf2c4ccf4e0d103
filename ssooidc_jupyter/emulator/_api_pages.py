"""The pages a person uses: device verification, /authorize consent, the portal start page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from . import _pages, _wire
from ._authcode import AuthorizeRejected, ConsentPrompt, Redirect
from ._operations import Operation
from ._pages import Decision, Outcome
from ._request import Handler, Request, form_value
from ._state import EmulatorState
from ._store import DeviceStatus
from ._wire import Response

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
    response = _wire.html_response(_pages.authorize_error_page(exc.message), status=400)
    response.error = AUTHORIZE_REJECTED
    return response


def _redirected(redirect: Redirect, note: dict[str, Any]) -> Response:
    note["client_id"] = redirect.client_id
    response = _wire.redirect_response(redirect.location)
    response.error = None if redirect.error is None else redirect.error.value
    return response


class PagesApi:
    def __init__(self, state: EmulatorState) -> None:
        self._state = state

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
        info = self._state.describe_user_code(user_code) if user_code else None
        client_name = (
            info.client_name if info is not None and info.status is DeviceStatus.PENDING else None
        )
        return _wire.html_response(_pages.verification_page(user_code, client_name))

    def _verification_submit(self, req: Request, _rid: str, _note: dict[str, Any]) -> Response:
        user_code = form_value(req.body, "user_code")
        decision = _decision(form_value(req.body, "action"))
        if decision is None:
            return _wire.html_response(_pages.verification_page(user_code), status=400)
        try:
            if decision is Decision.APPROVE:
                self._state.approve(user_code)
            else:
                self._state.deny(user_code)
        except (KeyError, ValueError):
            return _wire.html_response(_pages.result_page(Outcome.UNKNOWN, user_code), status=400)
        outcome = Outcome.APPROVED if decision is Decision.APPROVE else Outcome.DENIED
        return _wire.html_response(_pages.result_page(outcome, user_code))

    # -- the authorization code grant's consent ---------------------------------------------------

    def _authorize(self, req: Request, _rid: str, note: dict[str, Any]) -> Response:
        client_id = req.param("client_id")
        if client_id:
            note["client_id"] = client_id  # an identifier, not a secret
        try:
            answer = self._state.begin_authorization(req.query)
        except AuthorizeRejected as exc:
            return _rejected(exc)
        if isinstance(answer, Redirect):
            return _redirected(answer, note)
        return self._consent(answer)

    def _consent(self, prompt: ConsentPrompt) -> Response:
        html = _pages.consent_page(
            prompt.consent_id, prompt.client_name, prompt.scopes, self._state.settings.user_name
        )
        return _wire.html_response(html, form_origin=_origin(prompt.redirect_uri))

    def _authorize_submit(self, req: Request, _rid: str, note: dict[str, Any]) -> Response:
        decision = _decision(form_value(req.body, "action"))
        if decision is None:
            return _rejected(AuthorizeRejected("Choose Approve or Deny."))
        try:
            redirect = self._state.decide_authorization(
                form_value(req.body, "consent"), approve=decision is Decision.APPROVE
            )
        except AuthorizeRejected as exc:
            return _rejected(exc)
        return _redirected(redirect, note)

    # -- the portal ---------------------------------------------------------------------------

    def _start_page(self, _req: Request, _rid: str, _note: dict[str, Any]) -> Response:
        accounts = [(a.account_id, a.account_name, a.roles) for a in self._state.accounts]
        return _wire.html_response(_pages.start_page(self._state.settings.region, accounts))
