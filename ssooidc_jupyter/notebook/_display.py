"""Plain rich outputs for the sign-in: ``text/html`` + ``text/plain``, no widgets needed.

These show in every frontend -- JupyterLab, Notebook 7, VS Code (where widgets may not
render), Voila, nbconvert/papermill logs, ``jupyter console`` and terminal IPython. Everything
from the server is escaped, and a link is only made for ``https:`` (or ``http:`` to a
loopback host, the emulator). Nothing here ever contains a secret: the user code is meant to
be shown (and is gone from the output the moment the sign-in ends).

A ``mark`` is a CSS class put on the output's outer element: the widget of the same sign-in
hides the element so marked where it renders (``hide_css``), and is then the whole UI there.
Where widgets do not render, nothing hides it and the plain output stands on its own.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..oidc._values import safe_link
from ._localtime import local_time

if TYPE_CHECKING:
    from ..auth._flow import DevicePrompt
    from ..auth._inflight import PendingSignIn
    from ._controller import LoginController

__all__ = ["Table", "hide_css", "line_bundle", "local_time", "status_bundle"]


# JupyterLab's theme colours (readable in light and dark themes), with fallbacks for
# frontends without them (VS Code, nbconvert HTML).
SUCCESS_COLOUR = "var(--jp-success-color1, #1a7f37)"
ERROR_COLOUR = "var(--jp-error-color1, #cf222e)"
WARN_COLOUR = "var(--jp-warn-color1, #9a6700)"
# A link that looks like one in every theme (JupyterLab's and Voila's CSS reset anchors).
LINK_STYLE = "color: var(--jp-content-link-color, #0969da); text-decoration: underline;"


def state_colour(state: object) -> str:
    from ._controller import LoginState

    colours: dict[object, str] = {
        LoginState.SIGNED_IN: SUCCESS_COLOUR,
        LoginState.DENIED: ERROR_COLOUR,
        LoginState.EXPIRED: ERROR_COLOUR,
        LoginState.FAILED: ERROR_COLOUR,
        LoginState.CANCELLED: WARN_COLOUR,
        LoginState.SIGNED_OUT: WARN_COLOUR,
    }
    return colours.get(state, "inherit")


def clock(seconds: float) -> str:
    """``m:ss``, rounded up: "0:00" only once the time is really over (as the widget)."""
    whole = max(0, math.ceil(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def prompt_text(prompt: DevicePrompt) -> str:
    # A PKCE sign-in has no code to confirm: the browser comes back to us by itself.
    confirm = (
        f"and confirm the code  {prompt.user_code}\n"
        if prompt.user_code
        else ("and approve there (the page comes back to this sign-in by itself)\n")
    )
    # When, not how long: a time left printed once would be stale a second later.
    return (
        "To sign in to AWS IAM Identity Center, open\n"
        f"    {prompt.verification_uri_complete}\n"
        f"{confirm}"
        f"(it expires at {local_time(prompt.expires_at)})"
    )


def hide_css(mark: str) -> str:
    """A ``<style>`` that hides the plain output marked ``mark`` (and, in JupyterLab,
    Notebook 7 and Voila, its whole output row): put in the widget, so it applies only
    where the widget renders."""
    if not mark.replace("-", "").isalnum():
        raise ValueError(f"not a CSS class name: {mark!r}")
    return (
        f"<style>.{mark}{{display:none !important}}"
        f".jp-OutputArea-child:has(.{mark}){{display:none !important}}</style>"
    )


def prompt_html(prompt: DevicePrompt, *, expiry: bool = True, mark: str = "") -> str:
    """The code in large type, the clickable link and (with ``expiry``) when it expires.
    The widget leaves the expiry out: its countdown is live."""
    code = html.escape(prompt.user_code)
    link = safe_link(prompt.verification_uri_complete)
    shown = html.escape(prompt.verification_uri_complete)
    if link is not None:
        anchor = (
            f'<a class="ssooidc-link" href="{html.escape(link, quote=True)}" target="_blank" '
            f'rel="noopener noreferrer" style="{LINK_STYLE}">{shown}</a>'
        )
    else:
        anchor = f'<span class="ssooidc-link">{shown}</span> (not a secure link: copy it)'
    if prompt.user_code:
        ask = (
            f"{anchor} and confirm the code:</div>"
            '<div class="ssooidc-code" style="font-family: monospace; font-size: 2em; '
            f'font-weight: bold; letter-spacing: 0.1em; margin: 0.2em 0;">{code}</div>'
        )
    else:  # PKCE: no code, the browser comes back to this sign-in by itself
        ask = f"{anchor} and approve there.</div>"
    # When, not how long: this output is not updated every second (the widget's countdown
    # is), so a time left here would be stale beside it.
    until = (
        f'<div class="ssooidc-expiry" style="opacity: 0.75;">Expires at '
        f"{html.escape(local_time(prompt.expires_at))}.</div>"
        if expiry
        else ""
    )
    return (
        f'<div class="ssooidc-prompt{_classes(mark)}" style="font-family: sans-serif; '
        'line-height: 1.5; padding: 0.5em 0;">'
        "<div>To sign in to <b>AWS IAM Identity Center</b>, open "
        f"{ask}{until}"
        "</div>"
    )


def _classes(mark: str) -> str:
    return f" {mark}" if mark else ""


def status_bundle(controller: LoginController, mark: str = "") -> dict[str, str]:
    """The output for the controller's current state: the prompt while pending, else one
    status line (the code is gone once the sign-in ends)."""
    from ._controller import LoginState

    if controller.state is LoginState.PENDING and controller.prompt is not None:
        return {
            "text/plain": prompt_text(controller.prompt),
            "text/html": prompt_html(controller.prompt, mark=mark),
        }
    waiting = controller.waiting
    if waiting is not None and not controller.state.finished:
        return waiting_bundle(waiting, mark)
    line = controller.status_line()
    colour = state_colour(controller.state)
    return {
        "text/plain": line,
        "text/html": (
            f'<div class="ssooidc-status ssooidc-{controller.state.value}{_classes(mark)}" '
            f'style="font-family: sans-serif; color: {colour};">{html.escape(line)}</div>'
        ),
    }


def waiting_bundle(pending: PendingSignIn, mark: str = "") -> dict[str, str]:
    """Another process's sign-in this one waits for (issue 20): what to do there, and how
    to cancel it (the widget beside it has a button for that)."""
    text = f"{pending.message()}.\n{pending.how_to_cancel()}"
    sentence = html.escape(pending.message())
    uri = pending.verification_uri
    link = safe_link(uri) if uri else None
    if uri and link is not None:
        # The link the holder shows, made clickable where it appears in the sentence.
        anchor = (
            f'<a class="ssooidc-link" href="{html.escape(link, quote=True)}" target="_blank" '
            f'rel="noopener noreferrer" style="{LINK_STYLE}">{html.escape(uri)}</a>'
        )
        sentence = sentence.replace(html.escape(uri), anchor, 1)
    return {
        "text/plain": text,
        "text/html": (
            f'<div class="ssooidc-waiting{_classes(mark)}" style="font-family: sans-serif; '
            f'color: {WARN_COLOUR};">{sentence}.<div style="opacity: 0.75;">'
            f"{html.escape(pending.how_to_cancel())}</div></div>"
        ),
    }


def line_bundle(text: str, mark: str = "") -> dict[str, str]:
    return {
        "text/plain": text,
        "text/html": f'<div class="ssooidc-status{_classes(mark)}">{html.escape(text)}</div>',
    }


class Table:
    """A small table as ``text/html`` and aligned ``text/plain`` (escaped, no secrets)."""

    def __init__(
        self,
        title: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        header: bool = True,
    ) -> None:
        self.title = title
        self.columns = tuple(columns)
        self.rows = [tuple(str(cell) for cell in row) for row in rows]
        self.header = header

    def __repr__(self) -> str:
        lines = [tuple(self.columns)] if self.header else []
        lines += self.rows
        widths = [
            max((len(line[i]) for line in lines), default=0) for i in range(len(self.columns))
        ]
        text = [self.title]
        for n, line in enumerate(lines):
            text.append(
                "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
            )
            if self.header and n == 0:
                text.append("  ".join("-" * w for w in widths))
        return "\n".join(text)

    def _repr_html_(self) -> str:
        esc = html.escape
        head = (
            "<tr>" + "".join(f"<th>{esc(c)}</th>" for c in self.columns) + "</tr>"
            if self.header
            else ""
        )
        body = "".join(
            "<tr>"
            + "".join(
                f"<th style='text-align:left'>{esc(c)}</th>"
                if (i == 0 and not self.header)
                else f"<td style='text-align:left'>{esc(c)}</td>"
                for i, c in enumerate(row)
            )
            + "</tr>"
            for row in self.rows
        )
        return (
            f'<div class="ssooidc-table"><div><b>{esc(self.title)}</b></div>'
            f"<table>{head}{body}</table></div>"
        )
