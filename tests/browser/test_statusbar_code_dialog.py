"""The code dialog follows the server's push, not a poll (issue 16, point 8).

While the dialog is open, a sign-in is pending in the server; the server pushes a status
event when it starts and when it ends (``server/_logins.py``, ``server/_events.py``). The
dialog reads its sign-in (``GET /ssooidc/api/login/<id>``) at each push, once when it opens
and every 30 s (to notice a server that forgot it); before, it read it every 500 ms. Only
where the server does not push does it poll, as before. Counted with Playwright's request
events in JupyterLab on Chromium.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from _harness import UI_TIMEOUT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIGNED_IN = re.compile(r"^AWS: signed in to emulator until \d\d:\d\d$")
# A window of the dialog's steady life (after the pushes of its start settled): the old
# dialog read its sign-in 2 times a second, so about 8 times in it. A measurement window
# is waited out, as there is no event to wait for: the point is that none comes.
SETTLE_MS = 1500
WINDOW_MS = 4000
# From the approval to the dialog closing: the server's next CreateToken (the emulator's
# interval, 1 s) and the push (the goal is 0.5 s; room for a loaded 2-core machine).
CLOSED_WITHIN_MS = 6000


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


class _Reads:
    """The page's GETs of one sign-in (``/ssooidc/api/login/<id>``), with their times."""

    def __init__(self, page: Any) -> None:
        self.times: list[float] = []
        page.on("request", self._seen)

    def _seen(self, request: Any) -> None:
        if request.method == "GET" and "/ssooidc/api/login/" in request.url:
            self.times.append(time.monotonic())

    def between(self, start: float, end: float) -> int:
        return sum(start <= t <= end for t in self.times)


def _open_code_dialog(page: Any) -> tuple[Any, str, float]:
    """Status bar, the emulator's entry: the code dialog, its code, when it showed."""
    expect = _expect()
    item = page.locator(".ssooidc-status.ssooidc-statusbar")
    expect(item).to_have_text("AWS: sign in", timeout=UI_TIMEOUT)
    item.click()
    page.locator(".jp-Dialog .ssooidc-choice-button[data-name='emulator']").click()
    dialog = page.locator(".jp-Dialog .ssooidc-code-dialog")
    code = dialog.locator(".ssooidc-code")
    expect(code).to_have_text(re.compile(r"\w{4}-\w{4}"), timeout=UI_TIMEOUT)
    return dialog, code.inner_text().strip(), time.monotonic()


def _sign_in_and_count(page: Any, emu: Any, watch: str) -> dict[str, float]:
    """Open the dialog, count its reads in a steady window, approve, see it close."""
    expect = _expect()
    reads = _Reads(page)
    dialog, user_code, opened = _open_code_dialog(page)
    expect(dialog).to_have_attribute("data-watch", watch)
    page.wait_for_timeout(SETTLE_MS)
    start = time.monotonic()
    page.wait_for_timeout(WINDOW_MS)
    end = time.monotonic()
    emu.approve(user_code)
    approved = time.monotonic()
    expect(dialog).to_have_count(0, timeout=CLOSED_WITHIN_MS)
    closed = time.monotonic()
    item = page.locator(".ssooidc-status.ssooidc-statusbar")
    expect(item).to_have_text(SIGNED_IN, timeout=UI_TIMEOUT)
    life = closed - opened
    figures = {
        "window_reads": reads.between(start, end),
        "window_s": end - start,
        "life_reads": reads.between(opened - 1, closed),
        "life_s": life,
        "closed_after_approval_s": closed - approved,
    }
    print(f"code dialog ({watch}): {figures}")
    return figures


@pytest.fixture
def signed_out(lab: Any) -> Iterator[Any]:
    try:
        yield lab
    finally:
        # The next test starts signed out (the sign-in may not have happened: no error).
        with contextlib.suppress(Exception):
            lab.api("POST", "/ssooidc/api/logout", {"session_name": "emulator"})


def test_the_code_dialog_follows_the_push_without_polling(
    bench: Any, signed_out: Any, emu: Any
) -> None:
    lab = signed_out
    ui = bench.open(lab, bench.notebook(lab, "dialog-push.ipynb", ["1 + 1"]))
    figures = _sign_in_and_count(ui.page, emu, "push")
    # No push in the steady window: only the liveness check every 2 s that notices a
    # stopped server (the old dialog: about 8, two a second).
    assert figures["window_reads"] <= WINDOW_MS // 2000 + 1, figures
    # The read at opening, one per push (the start's, the cache's writes, the end's) and
    # the liveness checks.
    assert figures["life_reads"] <= 6 + figures["life_s"] / 2 + 1, figures


def test_without_the_push_the_code_dialog_polls(bench: Any, signed_out: Any, emu: Any) -> None:
    """A server that does not push (an old one, no watcher: ``events`` absent from the
    status): the dialog polls its sign-in, and still closes when it ends."""
    lab = signed_out

    def no_push(route: Any) -> None:
        response = route.fetch()
        status = response.json()
        status["events"] = False
        route.fulfill(response=response, json=status)

    status_route = re.compile(r".*/ssooidc/api/status(\?.*)?$")
    bench.context.route(status_route, no_push)
    try:
        ui = bench.open(lab, bench.notebook(lab, "dialog-poll.ipynb", ["1 + 1"]))
        figures = _sign_in_and_count(ui.page, emu, "poll")
    finally:
        bench.context.unroute(status_route, no_push)
    # Every 500 ms: about 8 in 4 s (a loaded machine may lose a few).
    assert figures["window_reads"] >= 4, figures
