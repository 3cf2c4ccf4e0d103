"""What many test modules share: the repository's root, the one ``wait_for``, and the one
way a module declares the emulator its tests run against (``emulator_fixture``), over the
conftest's factories. Nothing here is a test."""

from __future__ import annotations

import contextlib
import inspect
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

#: The checkout (tests/ is one level below it): notebooks, docs, demo.py, the Makefile.
ROOT = Path(__file__).resolve().parents[1]

T = TypeVar("T")


def _described(condition: Callable[[], Any]) -> str:
    """The condition's own source line (a lambda reads as what it checks), else its name."""
    try:
        source = inspect.getsource(condition).strip()
    except (OSError, TypeError):
        source = ""
    if "lambda" in source:
        source = source[source.index("lambda") :]
    return " ".join(source.split())[:200] or getattr(condition, "__qualname__", repr(condition))


def wait_for(
    condition: Callable[[], T],
    what: str | None = None,
    *,
    timeout: float = 10.0,
    interval: float = 0.02,
) -> T:
    """Poll ``condition`` until it returns something true, and return that; fail after
    ``timeout`` seconds saying what was waited for (``what``, or the condition's source).

    For state another thread or process changes and that offers no event to wait on; where
    there is an event (a ``threading.Event``, a queue, a message), wait on it instead.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:g} s waiting for {what or _described(condition)}"
            )
        time.sleep(interval)


@contextlib.contextmanager
def extension_shell(config: Any = None) -> Iterator[Any]:
    """An IPython ``InteractiveShell`` with ``%load_ext ssooidc_jupyter`` (history in memory:
    no sqlite file or saving thread per test), ``config`` a traitlets ``Config``. At the end
    the extension is unloaded -- which cancels a running sign-in, undoes ``--export`` and
    stops Dask forwarding -- and the singleton cleared for the next test."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = config or Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "ssooidc_jupyter")
    try:
        yield shell
    finally:
        shell.run_line_magic("unload_ext", "ssooidc_jupyter")
        InteractiveShell.clear_instance()


def emulator_fixture(
    *,
    scope: str = "function",
    scheme: str = "http",
    endpoint_env: str | None = None,
    name: str = "emu",
    **options: Any,
) -> Any:
    """A module's emulator fixture, started through the conftest's factory:
    ``emu = emulator_fixture(interval=0.1, auto_approve=None)``.

    ``scope="module"``: one emulator for all the module's tests (``module_emulator_factory``).
    ``endpoint_env="AWS_ENDPOINT_URL"``: the variable set to its URL for each test, as a user
    points every AWS SDK at it (function scope only: the conftest's clean environment is
    per test). Parametrized indirectly with ``"http"`` / ``"https"``, the same tests also run
    over TLS (see ``emulator_factory``); ``scheme="https"``: only over TLS.
    """
    if scope == "module":
        assert endpoint_env is None, "an environment variable lives per test, not per module"

        @pytest.fixture(scope="module", name=name)
        def module_emulator(
            request: pytest.FixtureRequest, module_emulator_factory: Callable[..., Any]
        ) -> Any:
            return module_emulator_factory(getattr(request, "param", scheme), **options)

        return module_emulator

    assert scope == "function", scope

    @pytest.fixture(name=name)
    def emulator(
        request: pytest.FixtureRequest,
        emulator_factory: Callable[..., Any],
        monkeypatch: pytest.MonkeyPatch,
    ) -> Any:
        started = emulator_factory(getattr(request, "param", scheme), **options)
        if endpoint_env is not None:
            monkeypatch.setenv(endpoint_env, started.url)
        return started

    return emulator


#: The client's timeout where no timeout is under test: far above any answer of the emulator
#: on a loaded machine, so an attempt the client makes is the fault's doing, never a slow
#: answer's or a slow TLS handshake's. A tight timeout belongs only to the "timeout" fault.
SLACK_TIMEOUT = 10.0

#: How long an injected "timeout" holds its answer: past the client's timeout and past the
#: test (``Emulator.stop`` cuts it short). Held for less, the abandoned attempt was carried
#: out behind the client's back while its retry was on the way: a late Logout signed the
#: retry's token out (401).
TIMEOUT_HOLD = 5.0


def _attempts(emu: Any, operation: str, since: int) -> list[dict[str, Any]]:
    return [r for r in emu.requests[since:] if r["operation"] == operation]


def assert_one_fault_retried(
    emu: Any, operation: str, kind: str, reported: int, since: int
) -> None:
    """One injected ``kind`` fault on ``operation`` was ridden out, judged from the emulator's
    record of the attempts (those since request number ``since``), not from the clock.

    The first attempt the emulator saw met the fault and every later one was a healthy
    answer. With any fault but "timeout" the client runs with ``SLACK_TIMEOUT``: exactly one
    retry, and the client's ``RetryAttempts`` says 1. Under the "timeout" fault the client's
    timeout is tight and each retry opens a new connection under it: on a loaded machine a
    TLS handshake can outlast it, an attempt the emulator never records (its record starts
    with a request), so the client may count more attempts than the emulator saw, never fewer.
    """
    tried = _attempts(emu, operation, since)
    assert tried, f"the emulator saw no {operation}"
    assert tried[0]["fault"] == kind, tried[0]
    assert [r["fault"] for r in tried[1:]] == [None] * (len(tried) - 1), tried
    if kind == "timeout":
        assert len(tried) >= 2 and len(tried) - 1 <= reported <= 2, (reported, tried)
    else:
        assert [r["status"] for r in tried[1:]] == [200], tried
        assert reported == 1, (reported, tried)


def assert_attempts(emu: Any, operation: str, kind: str, expected: int, since: int = 0) -> None:
    """``expected`` attempts of ``operation`` reached the emulator, each meeting the fault;
    under the "timeout" fault an attempt may die in its TLS handshake unseen (see
    ``assert_one_fault_retried``), so at most ``expected``."""
    tried = _attempts(emu, operation, since)
    assert all(r["fault"] == kind for r in tried), tried
    if kind == "timeout":
        assert 1 <= len(tried) <= expected, tried
    else:
        assert len(tried) == expected, tried
