"""A retry back-off in progress ends when the sign-in is cancelled (issue 16 point 5).

The clients retry with botocore's full-jitter back-off (up to 20 s). The sync driver of the
sign-in passes the client a sleep built on its cancel event, and the async client sleeps with
``asyncio.sleep``, so Cancel (the event, or cancelling the task) interrupts a back-off at
once instead of after it. Against the emulator, whose fault injection makes every attempt
fail with a 500; the moment the back-off starts is the client's own "retrying in" log record.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

import ssooidc_jupyter as sj
from ssooidc_jupyter.auth._drivers import CacheSlot, run_sync
from ssooidc_jupyter.auth._flow import LoginRequest, RefreshFailures, login_flow
from ssooidc_jupyter.emulator import Emulator
from ssooidc_jupyter.oidc._client import AsyncSSOOIDCClient, SSOOIDCClient

#: How soon after Cancel the call must have ended. The back-off it interrupts is drawn from
#: up to 20 s (retry_backoff=1000 puts the cap at botocore's MAX_BACKOFF).
PROMPTLY = 0.1
CONFIG = {"retry_backoff": 1000.0, "max_attempts": 5, "timeout": 5}
REGISTER = {"clientName": "c", "clientType": "public"}


class BackoffStarted(logging.Handler):
    """Sets :attr:`started` when a client logs that it is about to back off."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.started = threading.Event()
        self.also: list[Callable[[], None]] = []  # e.g. an asyncio.Event's set, on its loop

    def emit(self, record: logging.LogRecord) -> None:
        if "retrying in" in record.getMessage():
            self.started.set()
            for call in self.also:
                call()


@pytest.fixture
def backoff() -> Iterator[BackoffStarted]:
    logger = logging.getLogger("ssooidc_jupyter.client")
    handler = BackoffStarted()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def emu(emulator_factory: Callable[..., Emulator]) -> Iterator[Emulator]:
    emulator = emulator_factory(interval=0.05)
    emulator.inject("RegisterClient", "http_500", times=100)
    yield emulator


def _cancel_when_backing_off(
    backoff: BackoffStarted, cancel: threading.Event, cancelled_at: list[float]
) -> threading.Thread:
    def watch() -> None:
        assert backoff.started.wait(10), "the client never backed off"
        cancelled_at.append(time.monotonic())
        cancel.set()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_a_sleep_hook_on_an_event_ends_the_client_back_off(
    emu: Emulator, backoff: BackoffStarted
) -> None:
    cancel = threading.Event()

    class Cancelled(Exception):
        pass

    def sleep(seconds: float) -> None:
        if cancel.wait(seconds):
            raise Cancelled

    cancelled_at: list[float] = []
    watcher = _cancel_when_backing_off(backoff, cancel, cancelled_at)
    client = SSOOIDCClient(config=CONFIG, endpoint=emu.url, region="us-east-1")
    with client, pytest.raises(Cancelled):
        client.invoke("RegisterClient", dict(REGISTER), sleep=sleep)
    ended = time.monotonic()
    watcher.join()
    assert ended - cancelled_at[0] < PROMPTLY


def test_cancel_ends_the_sign_in_during_a_back_off(emu: Emulator, backoff: BackoffStarted) -> None:
    # The sign-in's own sync driver: its cancel event reaches the client's back-off.
    request = LoginRequest(start_url=emu.start_url, region="us-east-1", scopes=())
    flow = login_flow(request, lambda: datetime.now(timezone.utc), RefreshFailures())
    cancel = threading.Event()
    cancelled_at: list[float] = []
    watcher = _cancel_when_backing_off(backoff, cancel, cancelled_at)
    client = SSOOIDCClient(config=CONFIG, endpoint=emu.url, region="us-east-1")
    with client, pytest.raises(sj.LoginCancelledError):
        run_sync(
            flow,
            client,
            CacheSlot(None, "token", "registration"),
            on_prompt=lambda prompt: None,
            on_notice=lambda message: None,
            cancel=cancel,
        )
    ended = time.monotonic()
    watcher.join()
    assert ended - cancelled_at[0] < PROMPTLY


async def test_cancelling_the_task_ends_the_async_back_off(
    emu: Emulator, backoff: BackoffStarted
) -> None:
    async with AsyncSSOOIDCClient(config=CONFIG, endpoint=emu.url, region="us-east-1") as client:
        started = asyncio.Event()
        backoff.also.append(started.set)  # the record is emitted on this loop's thread
        task = asyncio.ensure_future(client.register_client(**REGISTER))  # type: ignore[arg-type]
        await asyncio.wait_for(started.wait(), 10)
        assert not task.done()
        cancelled_at = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - cancelled_at < PROMPTLY


def test_without_a_hook_the_back_off_is_time_sleep(emu: Any) -> None:
    # The default is unchanged: a plain client call retries (here quickly) and fails for good.
    quick = {**CONFIG, "retry_backoff": 0.001, "max_attempts": 2}
    client = SSOOIDCClient(config=quick, endpoint=emu.url, region="us-east-1")
    with client, pytest.raises(sj.InternalServerException, match="after 2 attempts"):
        client.register_client(clientName="c", clientType="public")
