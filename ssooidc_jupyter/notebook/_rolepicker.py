"""``RolePicker``: choose an AWS account and a role once signed in, and bind it.

A small composed widget of :class:`LoginView`. Listing the accounts and fetching the role
credentials are network calls: they run in small daemon threads, never on the kernel's
thread or event loop. Dropdown labels are text in the browser (never parsed as HTML); every
other string from a server is escaped before it reaches an ``HTML`` widget.
"""

from __future__ import annotations

import html
import importlib.util
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .._exceptions import UnauthorizedException
from ._display import ERROR_COLOUR

if TYPE_CHECKING:
    from ..auth._aws import Account
    from ..auth._token import SSOToken

__all__ = ["PickHandler", "RolePicker", "account_label", "note_html"]

logger = logging.getLogger("ssooidc_jupyter.widget")

PickHandler = Callable[[str, str], None]


def note_html(text: str, *, error: bool = False) -> str:
    colour = ERROR_COLOUR if error else "inherit"
    return f'<span style="color: {colour};">{html.escape(text)}</span>'


def account_label(account: Account) -> str:
    # Dropdown labels are shown as text by the frontend, never parsed as HTML: no escaping
    # (it would show up as "&amp;").
    if account.account_name and account.account_name != account.account_id:
        return f"{account.account_name} ({account.account_id})"
    return account.account_id


def _start_daemon(target: Callable[..., None], name: str, *args: Any) -> None:
    threading.Thread(target=target, args=args, name=name, daemon=True).start()


class RolePicker(widgets.VBox):  # type: ignore[misc]
    """Account and role dropdowns and a "Use this role" button that calls
    ``on_pick(account_id, role_name)`` in a background thread, then says what was bound."""

    def __init__(
        self, on_pick: PickHandler, on_refused: Callable[[BaseException], None] | None = None
    ) -> None:
        super().__init__()
        self._on_pick = on_pick
        # Called when the service refuses the token (HTTP 401): the sign-in is over.
        self._on_refused = on_refused
        # The account list and the pick finish in their own threads, selections in the
        # kernel's: one re-entrant lock keeps each update whole.
        self._lock = threading.RLock()
        self._closed = False
        self._token: SSOToken | None = None
        self._accounts: list[Account] | None = None
        self._picked: tuple[str, str] | None = None

        style = {"description_width": "initial"}
        self.account_select = widgets.Dropdown(description="Account", options=[], style=style)
        self.account_select.add_class("ssooidc-account-select")
        self.account_select.observe(self._account_changed, "value")
        self.role_select = widgets.Dropdown(description="Role", options=[], style=style)
        self.role_select.add_class("ssooidc-role-select")
        self.use = widgets.Button(
            description="Use this role", button_style="primary", disabled=True
        )
        self.use.add_class("ssooidc-use-role")
        self.use.on_click(self._use_clicked)
        # "Use this role" also forwards it to the Dask workers of `client` when ticked
        # (ssooidc_jupyter.dask); shown only where distributed is installed.
        self.forward = widgets.Checkbox(
            value=False, description="Also send to the Dask workers of client", indent=False
        )
        self.forward.add_class("ssooidc-dask-forward")
        if importlib.util.find_spec("distributed") is None:
            self.forward.layout.display = "none"
        self._selector = widgets.HBox(
            [self.account_select, self.role_select, self.use, self.forward]
        )
        self.note = widgets.HTML()
        self.note.add_class("ssooidc-accounts-note")
        self.bound = widgets.HTML()
        self.bound.add_class("ssooidc-bound")
        self._parts = (
            self.account_select,
            self.role_select,
            self.use,
            self.forward,
            self._selector,
            self.note,
            self.bound,
        )

    @property
    def picked(self) -> tuple[str, str] | None:
        """``(account_id, role_name)`` last bound through "Use this role", else None."""
        return self._picked

    def show(self, token: SSOToken) -> None:
        """Offer the accounts of ``token`` (listed once per token, in the background)."""
        with self._lock:
            if self._token is not token:
                self._token, self._accounts, self._picked = token, None, None
                self.bound.value = ""
                self.note.value = note_html("Loading your AWS accounts...")
                _start_daemon(self._load_accounts, "ssooidc-accounts", token)
            self._render()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        for child in self._parts:
            child.close()
        super().close()

    def _render(self) -> None:
        shown: tuple[Any, ...] = (self.note,)
        if self._accounts:
            shown = (self._selector, self.bound) if self.bound.value else (self._selector,)
        self.children = shown

    def _load_accounts(self, token: SSOToken) -> None:
        try:
            accounts: list[Account] | None = token.accounts()
            note = "" if accounts else "No AWS accounts are assigned to you."
        except Exception as exc:  # shown to the user: a thread would lose it
            if not self._closed:  # after a logout the failure is expected, not news
                logger.warning("listing AWS accounts failed: %s", exc)
                if self._on_refused is not None and isinstance(exc, UnauthorizedException):
                    self._on_refused(exc)
            accounts, note = None, f"Could not list your AWS accounts: {exc}"
        try:
            with self._lock:
                if self._closed or self._token is not token:
                    return  # a newer sign-in took over
                self._accounts = accounts
                self.note.value = note_html(note, error=accounts is None)
                if accounts:
                    # One message to the browser with the options and the selection: seen
                    # apart, a person (or a test) could pick an account in between, and
                    # this thread's first selection would then overwrite it.
                    with self.account_select.hold_sync():
                        self.account_select.options = [
                            (account_label(a), a.account_id) for a in accounts
                        ]
                        # New options leave no selection (ipywidgets 8): the first one.
                        self.account_select.value = accounts[0].account_id
                    self._show_roles()
                self._render()
        except Exception:
            logger.exception("showing the AWS accounts failed")

    def _account_changed(self, _change: dict[str, Any]) -> None:
        try:
            with self._lock:
                self._show_roles()
        except Exception:
            logger.exception("updating the role list failed")

    def _show_roles(self) -> None:
        # The account selected *now*, not the one a change named: a selection from the
        # browser (the kernel's thread) and the account list (its own thread) can run their
        # observers in either order, and the last one must leave the roles of the account
        # the dropdown shows.
        account = self._account(self.account_select.value)
        roles = list(account.roles) if account is not None else []
        with self.role_select.hold_sync():  # the roles and their selection as one update
            self.role_select.options = roles
            self.role_select.value = roles[0] if roles else None
        self.use.disabled = not roles

    def _account(self, account_id: str | None) -> Account | None:
        return next((a for a in self._accounts or () if a.account_id == account_id), None)

    def _use_clicked(self, _button: Any) -> None:
        with self._lock:  # the pair as one update left it, not mid-way through another
            account_id, role_name = self.account_select.value, self.role_select.value
            if not account_id or not role_name:
                return
            self.use.disabled = True
            self.bound.value = note_html(f"Getting credentials for {role_name}...")
            self._render()
        _start_daemon(self._pick, "ssooidc-pick", account_id, role_name)

    def _pick(self, account_id: str, role_name: str) -> None:
        # on_pick fetches role credentials (a network call): never on the kernel's thread.
        try:
            self._on_pick(account_id, role_name)
        except Exception as exc:  # shown to the user: a thread would lose it
            logger.warning("binding the role failed: %s", exc)
            message = note_html(f"Could not use {role_name}: {exc}", error=True)
        else:
            self._picked = (account_id, role_name)
            account = self._account(account_id)
            where = account_label(account) if account is not None else account_id
            message = (
                f"Using role <b>{html.escape(role_name)}</b> in account "
                f"<b>{html.escape(where)}</b>"
                + (" (and on the Dask workers)." if self.forward.value else ".")
            )
        with self._lock:
            self.bound.value = message
            self.use.disabled = False
            self._render()
