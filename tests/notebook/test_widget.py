"""The sign-in widgets against the emulator, with the real controller: no mock of our code.

Widgets work in plain pytest: without a kernel, ipywidgets opens a no-op comm. The
``comm_log`` fixture swaps in a comm that records every message a widget would send to the
browser, so the secrets test sees what left the kernel, not only the final state.
"""

from __future__ import annotations

import html
import json
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from typing import Any

import comm
import ipywidgets
import pytest
from ipywidgets.embed import embed_data

from ssooidc_jupyter import ConfigurationError
from ssooidc_jupyter.auth._context import resolve_login
from ssooidc_jupyter.emulator import Emulator
from ssooidc_jupyter.notebook._controller import LoginController
from ssooidc_jupyter.notebook._widget import LoginView, LoginWidget, copy_button_html
from tests._support import emulator_fixture, wait_for

INTERVAL = 0.1
HOSTILE = "<img src=x onerror=alert(1)>"


class RecordingComm(comm.DummyComm):
    """A comm that keeps every message, serialized as the kernel would send it."""

    messages: list[str] = []

    def publish_msg(
        self,
        msg_type: str,
        data: Any = None,
        metadata: Any = None,
        buffers: Any = None,
        **keys: Any,
    ) -> None:
        self.messages.append(json.dumps({"type": msg_type, "data": data}, default=str))


@pytest.fixture(autouse=True)
def comm_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    messages: list[str] = []
    monkeypatch.setattr(RecordingComm, "messages", messages)
    monkeypatch.setattr(comm, "create_comm", RecordingComm)
    yield messages
    # Close what the test made: stops countdowns and cancels sign-ins still running.
    ipywidgets.Widget.close_all()


#: The portal and STS clients are boto3's: they find the emulator through AWS_ENDPOINT_URL.
emu = emulator_fixture(endpoint_env="AWS_ENDPOINT_URL", interval=INTERVAL)


def shown(root: Any) -> Iterator[Any]:
    """Every widget displayed under ``root`` (what a browser would render)."""
    yield root
    for child in getattr(root, "children", ()):
        yield from shown(child)


def find(root: Any, css_class: str) -> Any:
    """The displayed widget with ``css_class``, or None."""
    for widget in shown(root):
        if css_class in widget._dom_classes:
            return widget
    return None


def text(root: Any) -> str:
    """The visible strings under ``root``: HTML and Label values, button captions."""
    parts = []
    for widget in shown(root):
        for name in ("value", "description"):
            value = getattr(widget, name, None)
            if isinstance(value, str):
                parts.append(value)
    return "\n".join(parts)


def sign_in_widget(emu: Emulator, **kwargs: Any) -> LoginWidget:
    return LoginWidget(start_url=emu.start_url, region=emu.region, **kwargs)


def click_until_pending(widget: LoginWidget) -> str:
    find(widget, "ssooidc-signin").click()
    wait_for(lambda: widget.state == "pending", "the prompt")
    assert widget.controller is not None and widget.controller.prompt is not None
    return widget.controller.prompt.user_code


def operations(emu: Emulator, name: str) -> int:
    return sum(1 for record in emu.requests if record.get("operation") == name)


def bound_text(root: Any) -> str:
    """The outcome of "Use this role" (not the "Getting credentials..." shown meanwhile)."""

    def outcome() -> str:
        bound = find(root, "ssooidc-bound")
        value = bound.value if bound is not None else ""
        return "" if "Getting credentials" in value else value

    return str(wait_for(outcome, "the outcome of the pick"))


def pick(root: Any, account_id: str, role_name: str) -> None:
    select = wait_for(lambda: find(root, "ssooidc-account-select"), "the account selector")
    select.value = account_id
    find(root, "ssooidc-role-select").value = role_name
    find(root, "ssooidc-use-role").click()


# ---- the whole sign-in ------------------------------------------------------------------


def test_sign_in_approve_pick_role(emu: Emulator) -> None:
    namespace: dict[str, Any] = {}
    widget = sign_in_widget(emu, variable="tok", session_variable="sess", namespace=namespace)
    logins: list[Any] = []
    widget.on_login(logins.append)
    assert widget.children == (find(widget, "ssooidc-signin"),)
    assert (widget.signed_in, widget.token, widget.session) == (False, None, None)

    code = click_until_pending(widget)
    assert emu.user_codes == [code]
    prompt = find(widget, "ssooidc-prompt-box")
    assert code in prompt.value and 'target="_blank"' in prompt.value
    copy = find(widget, "ssooidc-copy-box")
    assert 'class="ssooidc-copy' in copy.value and f'data-code="{code}"' in copy.value
    assert find(widget, "ssooidc-countdown") is not None
    assert find(widget, "ssooidc-cancel") is not None
    assert find(widget, "ssooidc-status") is None  # the prompt says it: no second line
    assert widget.view is not None and "ssooidc-state-pending" in widget.view._dom_classes
    assert namespace == {} and logins == []

    emu.approve(code)
    wait_for(lambda: widget.signed_in, "signed_in")
    token = widget.token
    assert token is not None and token is widget.controller.token  # type: ignore[union-attr]
    assert namespace == {"tok": token}
    wait_for(lambda: logins, "the on_login callback")
    assert find(widget, "ssooidc-prompt-box") is None  # the code is gone once used
    assert "Signed in to" in widget.status
    assert find(widget, "ssooidc-cancel") is None

    # The selector offers exactly the emulator's accounts, and each account's roles.
    select = wait_for(lambda: find(widget, "ssooidc-account-select"), "the account selector")
    assert [value for _label, value in select.options] == [a["accountId"] for a in emu.accounts]
    for account in emu.accounts:
        select.value = account["accountId"]
        assert list(find(widget, "ssooidc-role-select").options) == account["roles"]
        assert account["accountName"] in select.label

    chosen = emu.accounts[-1]
    pick(widget, chosen["accountId"], chosen["roles"][-1])
    wait_for(lambda: widget.session is not None, "the session")
    assert namespace == {"tok": token, "sess": widget.session}
    identity = widget.session.client("sts").get_caller_identity()
    assert identity["Account"] == chosen["accountId"]
    bound = bound_text(widget)
    assert chosen["roles"][-1] in bound and chosen["accountId"] in bound
    assert widget.view.picked == (chosen["accountId"], chosen["roles"][-1])

    # Each callback runs once per sign-in; one registered late runs at once.
    late: list[Any] = []
    widget.on_login(late.append)
    assert logins == [token] and late == [token]


def test_the_accounts_arrive_with_their_selection_in_one_update(
    emu: Emulator, comm_log: list[str]
) -> None:
    """The browser never sees the account list without its selection: a pick made in
    between would be overwritten by the first account's (it was, under load, in
    tests/frontends/test_notebooks.py's quickstart test)."""
    widget = sign_in_widget(emu)
    emu.approve(click_until_pending(widget))
    select = wait_for(lambda: find(widget, "ssooidc-account-select"), "the account selector")
    wait_for(lambda: select.options, "the accounts")
    labels = [account_label for account_label, _ in select.options]
    updates = [
        message["data"]["state"]
        for message in map(json.loads, comm_log)
        if message["type"] == "comm_msg" and message["data"].get("method") == "update"
    ]
    listed = [state for state in updates if list(state.get("_options_labels", ())) == labels]
    assert listed and all(state.get("index") == 0 for state in listed), listed


def test_the_roles_belong_to_the_account_shown_whatever_the_order(emu: Emulator) -> None:
    """A selection from the browser (the kernel's thread) and one from the picker's own
    thread, their observers run in the opposite order: the role list still belongs to the
    account the dropdown shows, and "Use this role" binds that account."""
    widget = sign_in_widget(emu)
    emu.approve(click_until_pending(widget))
    select = wait_for(lambda: find(widget, "ssooidc-account-select"), "the account selector")
    wait_for(lambda: select.options, "the accounts")
    assert widget.view is not None and widget.view.picker is not None
    picker = widget.view.picker
    first, last = emu.accounts[0], emu.accounts[-1]
    assert first["roles"] != last["roles"]
    with picker._lock:  # the picker busy in another thread, as while it lists the accounts
        browser = threading.Thread(target=setattr, args=(select, "value", last["accountId"]))
        browser.start()
        wait_for(lambda: select.value == last["accountId"], "the browser's selection")
        select.value = first["accountId"]  # the picker's own, observed at once (same thread)
    browser.join(10)  # its observer, held back by the lock, runs last
    assert not browser.is_alive()
    roles = find(widget, "ssooidc-role-select")
    assert select.value == first["accountId"]
    assert list(roles.options) == first["roles"]
    roles.value = first["roles"][-1]
    find(widget, "ssooidc-use-role").click()
    assert first["accountId"] in bound_text(widget)
    assert picker.picked == (first["accountId"], first["roles"][-1])


def test_namespace_untouched_unless_asked(emu: Emulator) -> None:
    namespace: dict[str, Any] = {}
    no_name = sign_in_widget(emu, namespace=namespace)
    # force: the first sign-in's cached token would otherwise be reused without a prompt.
    no_namespace = sign_in_widget(emu, variable="tok", session_variable="sess", force=True)
    for widget in (no_name, no_namespace):
        emu.approve(click_until_pending(widget))
        wait_for(lambda w=widget: w.signed_in, "signed_in")  # type: ignore[misc]
    pick(no_name, emu.accounts[0]["accountId"], emu.accounts[0]["roles"][0])
    wait_for(lambda: no_name.session is not None, "the session")
    assert namespace == {}


def test_cached_token_signs_in_without_prompt(emu: Emulator) -> None:
    first = sign_in_widget(emu)
    emu.approve(click_until_pending(first))
    wait_for(lambda: first.signed_in, "the first sign-in")
    second = sign_in_widget(emu)
    find(second, "ssooidc-signin").click()
    wait_for(lambda: second.signed_in, "the cached sign-in")
    assert second.controller is not None and second.controller.reused
    assert "Already signed in" in find(second, "ssooidc-status").value
    assert len(emu.user_codes) == 1


# ---- ending without a token ---------------------------------------------------------------


def test_cancel_stops_polling(emu: Emulator) -> None:
    widget = sign_in_widget(emu)
    click_until_pending(widget)
    wait_for(lambda: operations(emu, "CreateToken") >= 1, "polling")
    find(widget, "ssooidc-cancel").click()
    wait_for(lambda: widget.state == "cancelled", "cancelled")
    polls = operations(emu, "CreateToken")
    time.sleep(3 * INTERVAL)
    assert operations(emu, "CreateToken") == polls
    assert "cancelled" in find(widget, "ssooidc-status").value
    assert find(widget, "ssooidc-retry") is not None
    assert find(widget, "ssooidc-cancel") is None
    assert not widget.signed_in and widget.token is None


def test_deny_shows_reason_and_retry_gives_new_code(emu: Emulator) -> None:
    widget = sign_in_widget(emu)
    first = click_until_pending(widget)
    emu.deny(first)
    wait_for(lambda: widget.state == "denied", "denied")
    status = find(widget, "ssooidc-status").value
    assert "denied" in status and first in status  # the reason, naming the code
    assert widget.status.startswith("Sign-in denied:")

    find(widget, "ssooidc-retry").click()
    wait_for(lambda: widget.state == "pending", "a new prompt")
    second = widget.controller.prompt.user_code  # type: ignore[union-attr]
    assert second != first and emu.user_codes == [first, second]
    assert f'data-code="{second}"' in find(widget, "ssooidc-copy-box").value
    assert second in find(widget, "ssooidc-prompt-box").value
    emu.approve(second)
    wait_for(lambda: widget.signed_in, "signed in after retry")


def test_code_expiry(
    monkeypatch: pytest.MonkeyPatch, emulator_factory: Callable[..., Emulator]
) -> None:
    emu = emulator_factory(interval=INTERVAL, code_ttl=1)
    monkeypatch.setenv("AWS_ENDPOINT_URL", emu.url)
    widget = sign_in_widget(emu)
    click_until_pending(widget)
    wait_for(lambda: widget.state == "expired", "expired")
    assert "expired" in find(widget, "ssooidc-status").value
    assert find(widget, "ssooidc-retry") is not None
    view = widget.view
    assert view is not None
    wait_for(lambda: not view.ticking, "the ticker to stop", timeout=2.5)


def test_configuration_error_is_shown() -> None:
    # A fresh HOME: no ~/.aws/config, so nothing says where to sign in.
    with pytest.raises(ConfigurationError) as expected:
        resolve_login()
    widget = LoginWidget()
    find(widget, "ssooidc-signin").click()
    message = find(widget, "ssooidc-message")
    assert message is not None and html.escape(str(expected.value)) in message.value
    assert widget.state == "failed" and str(expected.value) in widget.status
    assert widget.controller is None and not widget.signed_in
    assert find(widget, "ssooidc-signin") is not None  # fix the config, click again

    bad_region = LoginWidget(start_url="https://example.awsapps.com/start", region="<nowhere>")
    find(bad_region, "ssooidc-signin").click()
    shown_message = find(bad_region, "ssooidc-message").value
    assert "&lt;nowhere&gt;" in shown_message and "<nowhere>" not in shown_message


# ---- the countdown --------------------------------------------------------------------------


def test_countdown_ticks_then_stops(emu: Emulator) -> None:
    widget = sign_in_widget(emu)
    code = click_until_pending(widget)
    view = widget.view
    assert view is not None and view.ticking
    countdown = find(widget, "ssooidc-countdown")
    bar, label = countdown.children
    start_value, start_label = bar.value, label.value
    assert 590 <= start_value <= bar.max and start_label.startswith("Code expires in ")
    wait_for(lambda: bar.value < start_value, "the bar to move", timeout=2.5)
    wait_for(lambda: label.value != start_label, "the label to change", timeout=1.5)

    emu.approve(code)
    wait_for(lambda: widget.signed_in, "signed_in")
    wait_for(lambda: not view.ticking, "the ticker to stop", timeout=2.5)
    assert not [t for t in threading.enumerate() if t.name == "ssooidc-countdown"]


def test_closing_stops_the_countdown_and_the_sign_in(emu: Emulator) -> None:
    widget = sign_in_widget(emu)
    click_until_pending(widget)
    view, controller = widget.view, widget.controller
    assert view is not None and controller is not None
    widget.close()
    wait_for(lambda: controller.state.value == "cancelled", "the sign-in to be cancelled")
    wait_for(lambda: not view.ticking, "the ticker to stop", timeout=2.5)


# ---- the view on its own (as the magic shows it) ---------------------------------------------


def test_view_over_a_controller(emu: Emulator) -> None:
    controller = LoginController(resolve_login(emu.start_url, emu.region))
    picks: list[tuple[str, str]] = []
    view = LoginView(controller, on_pick=lambda a, r: picks.append((a, r)))
    bare = LoginView(controller, show_status=False)  # no on_pick: no selector
    assert view.state == "idle"
    controller.start()
    wait_for(lambda: view.state == bare.state == "pending", "pending")
    assert "ssooidc-state-pending" in view._dom_classes
    emu.approve(controller.prompt.user_code)  # type: ignore[union-attr]
    wait_for(lambda: view.state == "signed_in", "signed_in")
    # The first account and its first role are preselected.
    account = emu.accounts[0]
    wait_for(lambda: find(view, "ssooidc-use-role"), "the selector").click()
    wait_for(lambda: picks, "on_pick")
    assert picks == [(account["accountId"], account["roles"][0])]
    assert bound_text(view).startswith("Using role")
    assert find(bare, "ssooidc-account-select") is None
    assert find(bare, "ssooidc-status") is None and bare.children == ()
    assert "ssooidc-state-signed_in" in view._dom_classes
    assert not [c for c in view._dom_classes if c == "ssooidc-state-pending"]


def test_failed_pick_is_shown(emu: Emulator) -> None:
    controller = LoginController(resolve_login(emu.start_url, emu.region))

    def refuse(account_id: str, role_name: str) -> None:
        raise ValueError(f"no {HOSTILE}")

    view = LoginView(controller, on_pick=refuse)
    controller.start()
    wait_for(lambda: view.state == "pending", "pending")
    emu.approve(controller.prompt.user_code)  # type: ignore[union-attr]
    account = emu.accounts[0]
    pick(view, account["accountId"], account["roles"][0])
    bound = bound_text(view)
    assert "Could not use" in bound and "&lt;img" in bound and HOSTILE not in bound
    assert view.picked is None and not find(view, "ssooidc-use-role").disabled


# ---- escaping and secrets -------------------------------------------------------------------


class _Buttons(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_copy_button_keeps_hostile_code_inert() -> None:
    code = "'\"><img src=x onerror=alert(1)>');alert('x"
    markup = copy_button_html(code)
    parser = _Buttons()
    parser.feed(markup)
    assert [tag for tag, _ in parser.tags] == ["button"]
    attrs = parser.tags[0][1]
    assert attrs["data-code"] == code  # the browser reads back exactly the code
    assert "ssooidc-copy" in (attrs["class"] or "").split()
    assert code not in (attrs["onclick"] or "")  # the script never contains the code
    assert "navigator.clipboard.writeText(c)" in (attrs["onclick"] or "")


def test_hostile_strings_are_escaped(
    monkeypatch: pytest.MonkeyPatch, emulator_factory: Callable[..., Emulator]
) -> None:
    # Nothing runs here: the status line of a resolved (not started) sign-in.
    # A start URL has no spaces (the validator refuses them), but may carry markup.
    hostile_url = HOSTILE.replace(" ", "/")
    start_url = f"https://example.com/{hostile_url}"
    view = LoginView(LoginController(resolve_login(start_url, "us-east-1")))
    status = find(view, "ssooidc-status").value
    assert "&lt;img/src=x" in status and hostile_url not in status

    accounts = [{"accountId": "123456789012", "accountName": HOSTILE, "roles": ["Admin&Co"]}]
    emu = emulator_factory(interval=INTERVAL, accounts=accounts)
    monkeypatch.setenv("AWS_ENDPOINT_URL", emu.url)
    widget = sign_in_widget(emu)
    emu.approve(click_until_pending(widget))
    select = wait_for(lambda: find(widget, "ssooidc-account-select"), "the selector")
    # Dropdown labels are text in the browser: shown as given, never parsed.
    assert select.label == f"{HOSTILE} (123456789012)"
    pick(widget, "123456789012", "Admin&Co")
    wait_for(lambda: widget.session is not None, "the session")
    bound = bound_text(widget)
    assert "Admin&amp;Co" in bound and "&lt;img src=x" in bound and HOSTILE not in bound


def test_no_secret_reaches_widget_state(emu: Emulator, comm_log: list[str]) -> None:
    namespace: dict[str, Any] = {}
    widget = sign_in_widget(emu, variable="tok", session_variable="sess", namespace=namespace)
    emu.approve(click_until_pending(widget))
    wait_for(lambda: widget.signed_in, "signed_in")
    account = emu.accounts[0]
    pick(widget, account["accountId"], account["roles"][0])
    wait_for(lambda: widget.session is not None, "the session")
    bound_text(widget)  # every update of the pick has been made
    credentials = widget.session.get_credentials()
    token = widget.token
    assert token is not None

    secrets = emu.secrets
    # The check is only worth something if the secrets are the ones the widget holds.
    assert token.access_token in secrets and credentials.secret_key in secrets
    assert all(len(secret) >= 16 for secret in secrets)

    # Every widget's state (what the notebook saves) ...
    with warnings.catch_warnings():
        # Widget.widgets is deprecated in ipywidgets 8 but is still the registry to walk.
        warnings.simplefilter("ignore", DeprecationWarning)
        registry = dict(ipywidgets.Widget.widgets)
    assert find(widget, "ssooidc-account-select").model_id in registry
    states = {key: json.dumps(w.get_state(), default=str) for key, w in registry.items()}
    # ... the embed snippet ("Save notebook widget state", nbconvert) ...
    states["embed"] = json.dumps(embed_data(views=[widget]), default=str)
    # ... and every message sent to the browser along the way.
    assert comm_log
    states.update({f"message {i}": message for i, message in enumerate(comm_log)})
    leaks = {where for where, dumped in states.items() for secret in secrets if secret in dumped}
    assert not leaks


def _widget_state() -> str:
    """Every widget's state, as a notebook saves it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the registry to walk
        registry = dict(ipywidgets.Widget.widgets)
    return json.dumps([w.get_state() for w in registry.values()], default=str)


def _drawn(view: LoginView, state: str) -> bool:
    """The view is in ``state`` and has drawn it (its observer runs in the sign-in's thread,
    after the state is set): the end's status line is there and the prompt box is gone."""
    return (
        view.state == state
        and find(view, "ssooidc-status") is not None
        and find(view, "ssooidc-prompt-box") is None
    )


@pytest.mark.parametrize("end", ["approve", "cancel", "deny"])
def test_the_code_leaves_the_widget_state_when_the_sign_in_ends(emu: Emulator, end: str) -> None:
    """While pending the view shows the code and the link (and hides the marked plain
    output); the moment the sign-in ends, no widget state holds the code or the link."""
    controller = LoginController(resolve_login(emu.start_url, emu.region, force=True))
    view = LoginView(controller, on_pick=lambda a, r: None, hide="ssooidc-run-0123456789ab")
    controller.start()
    # The state is set from the sign-in's thread before its observer has drawn the
    # children: wait for the box itself.
    wait_for(lambda: find(view, "ssooidc-prompt-box") is not None, "the prompt box")
    code = controller.prompt.user_code  # type: ignore[union-attr]
    prompt = find(view, "ssooidc-prompt-box").value
    assert f">{code}</div>" in prompt and f'href="{emu.url}/device?user_code={code}"' in prompt
    assert ".ssooidc-run-0123456789ab{display:none" in prompt.replace(" ", "")
    assert code in _widget_state()
    if end == "approve":
        emu.approve(code)
        wait_for(lambda: _drawn(view, "signed_in"), "signed in")
        status = find(view, "ssooidc-status").value
        assert "It reaches 2 accounts" in status
    elif end == "deny":
        emu.deny(code)
        wait_for(lambda: _drawn(view, "denied"), "denied")
    else:
        controller.cancel()
        wait_for(lambda: _drawn(view, "cancelled"), "cancelled")
    # The style still hides the plain output: the view shows the end itself.
    assert "ssooidc-run-0123456789ab{display:none" in find(view, "ssooidc-status").value
    state = _widget_state()
    assert "user_code=" not in state and "ssooidc-code" not in state
    if end != "deny":  # a denial names the code in its reason (it can never be used again)
        assert code not in state
    assert controller.prompt is None


KERNEL_CELLS = [
    """
import time
from ssooidc_jupyter.notebook._widget import LoginWidget

def wait(condition):
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)

ns = {}
w = LoginWidget(start_url=START_URL, region=REGION, variable="tok", session_variable="sess",
                namespace=ns)
display(w)
w.sign_in()  # returns at once: the sign-in runs in a thread
""",
    """
wait(lambda: w.signed_in)
wait(lambda: w.view.picker.account_select.value is not None)
w.view.picker.use.click()
wait(lambda: w.session is not None and "Using role" in w.view.picker.bound.value)
print(w.state, sorted(ns), w.session.client("sts").get_caller_identity()["Account"])
""",
]


@pytest.mark.slow
def test_in_a_real_kernel_no_secret_in_the_saved_notebook(
    monkeypatch: pytest.MonkeyPatch, emulator_factory: Callable[..., Emulator]
) -> None:
    """In ipykernel, state set from the sign-in's threads reaches the frontend (here
    nbclient, which saves the widget state into the notebook as Jupyter does) -- and the
    saved notebook holds none of the secrets."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    emu = emulator_factory(interval=INTERVAL, auto_approve=0)
    monkeypatch.setenv("AWS_ENDPOINT_URL", emu.url)
    setup = f"START_URL, REGION = {emu.start_url!r}, {emu.region!r}\n"
    cells = [nbformat.v4.new_code_cell(setup + KERNEL_CELLS[0])]
    cells += [nbformat.v4.new_code_cell(source) for source in KERNEL_CELLS[1:]]
    notebook = nbformat.v4.new_notebook(cells=cells)
    client = nbclient.NotebookClient(
        notebook, timeout=60, kernel_name="python3", store_widget_state=True
    )
    client.execute()
    saved = nbformat.writes(notebook)
    secrets = emu.secrets

    account = emu.accounts[0]["accountId"]
    assert f"signed_in ['sess', 'tok'] {account}" in notebook.cells[1].outputs[0]["text"]
    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    dumped = json.dumps(state)
    # Set from the controller's and the pick's threads, yet received by the frontend.
    assert "ssooidc-state-signed_in" in dumped and "Using role" in dumped
    assert len(secrets) >= 4
    assert not [secret for secret in secrets if secret in saved]


def test_the_view_offers_a_new_sign_in_when_the_portal_refuses_the_token(emu: Emulator) -> None:
    import ssooidc_jupyter as sj
    from ssooidc_jupyter.oidc._portal import PortalClient

    token = sj.login(
        emu.start_url, emu.region, on_prompt=lambda prompt: emu.approve(prompt.user_code)
    )
    with PortalClient(endpoint=emu.url, region=emu.region) as portal:
        portal.logout(accessToken=token.access_token)  # signed out elsewhere
    controller = LoginController(resolve_login(emu.start_url, emu.region))
    view = LoginView(controller, on_pick=lambda account, role: None)
    controller.start()  # the cached token: signed in at once, then the accounts are refused
    wait_for(lambda: "ssooidc-state-signed_out" in view._dom_classes, "the signed-out state")
    retry = wait_for(lambda: find(view, "ssooidc-retry"), "the Try again button")
    assert not retry.disabled
    assert "Sign in again" in text(view)
    view.close()
