"""Every public ``SSOToken`` method in both modes against the emulator: the sync call and
its ``a``-twin must make the same requests, take the cache lock the same number of times
(``TokenCache.lock`` in a thread, ``alock`` on a loop, never the other), leave the same
files, and answer the same (issue 16, point 1: twins that cannot drift)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import ssooidc_jupyter as sj
from ssooidc_jupyter.auth._cache import TokenCache
from ssooidc_jupyter.emulator import Emulator

#: Public methods with no twin: no I/O (``export``), or a boto3 session whose refresh runs
#: in botocore's threads and calls ``credentials`` (covered below).
SYNC_ONLY = {"export", "session"}

#: What a request record is compared on (the client id and times differ per emulator).
COMPARED = ("operation", "method", "path", "status", "grant_type", "error")


@dataclass(frozen=True)
class Case:
    doc: str
    sync: Callable[[sj.SSOToken, Emulator], Any]
    asynchronous: Callable[[sj.SSOToken, Emulator], Awaitable[Any]]
    #: 300 s: every token is inside the mandatory refresh window (10 min), so each call
    #: that needs a token refreshes it under the lock first.
    token_ttl: float = 3600


def _role(emu: Emulator) -> tuple[str, str]:
    account = emu.accounts[0]
    return account["accountId"], account["roles"][0]


def _sync_with(token: sj.SSOToken, emu: Emulator) -> Any:
    with token as entered:
        return entered.accounts()


async def _async_with(token: sj.SSOToken, emu: Emulator) -> Any:
    async with token as entered:
        return await entered.aaccounts()


def _twice(token: sj.SSOToken, emu: Emulator) -> Any:
    with token:
        first = token.accounts()
        return first, token.credentials(*_role(emu))


async def _atwice(token: sj.SSOToken, emu: Emulator) -> Any:
    async with token:
        first = await token.aaccounts()
        return first, await token.acredentials(*_role(emu))


def _loops(token: sj.SSOToken, emu: Emulator) -> Any:
    return token.accounts(), token.accounts()


def _aloops(token: sj.SSOToken, emu: Emulator) -> Any:
    # Two event loops one after the other (as two asyncio.run calls in a script): each
    # call's client is closed with its call, none is left to a closed loop.
    return asyncio.run(token.aaccounts()), asyncio.run(token.aaccounts())


async def _asum(token: sj.SSOToken, emu: Emulator) -> Any:
    return await asyncio.to_thread(_aloops, token, emu)


CASES = [
    Case("refresh now", lambda t, e: t.refresh(), lambda t, e: t.arefresh()),
    Case(
        "current access token, fresh: no request, no lock",
        lambda t, e: t.current_access_token(),
        lambda t, e: t.acurrent_access_token(),
    ),
    Case(
        "current access token in the mandatory window: refreshed under the lock",
        lambda t, e: t.current_access_token(),
        lambda t, e: t.acurrent_access_token(),
        token_ttl=300,
    ),
    Case("accounts", lambda t, e: t.accounts(), lambda t, e: t.aaccounts()),
    Case(
        "accounts with a token to refresh first",
        lambda t, e: t.accounts(),
        lambda t, e: t.aaccounts(),
        token_ttl=300,
    ),
    Case(
        "credentials",
        lambda t, e: t.credentials(*_role(e)),
        lambda t, e: t.acredentials(*_role(e)),
    ),
    Case("accounts then credentials on one portal client", _twice, _atwice),
    Case("calls on two event loops one after the other", _loops, _asum),
    Case("logout keeps the registration", lambda t, e: t.logout(), lambda t, e: t.alogout()),
    Case(
        "logout forgets the registration",
        lambda t, e: t.logout(forget_registration=True),
        lambda t, e: t.alogout(forget_registration=True),
    ),
    Case("close", lambda t, e: t.close(), lambda t, e: t.aclose()),
    Case("a with block closes the portal client", _sync_with, _async_with),
]


def _summary(result: Any) -> Any:
    """The answer's shape, comparable across two emulators (their secrets differ)."""
    if isinstance(result, tuple):
        return tuple(_summary(item) for item in result)
    if isinstance(result, list):
        return [(a.account_id, a.roles) for a in result]
    if isinstance(result, sj.RoleCredentials):
        return ("credentials", result.account_id, result.role_name)
    if isinstance(result, sj.SSOToken):
        return ("token", result.expired)
    if isinstance(result, str):
        return "str"
    return result


@dataclass
class Observed:
    requests: list[tuple[Any, ...]]
    locks: dict[str, int]
    files: dict[str, bool]
    answer: Any
    closed: bool


@pytest.fixture
def lock_counts(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often ``TokenCache.lock`` / ``alock`` were entered (counted, not replaced: the
    real lock is taken)."""
    counts = {"lock": 0, "alock": 0}
    real_lock, real_alock = TokenCache.lock, TokenCache.alock

    @contextlib.contextmanager
    def lock(self: TokenCache, *args: Any, **kwargs: Any) -> Iterator[None]:
        with real_lock(self, *args, **kwargs):
            counts["lock"] += 1
            yield

    @contextlib.asynccontextmanager
    async def alock(self: TokenCache, *args: Any, **kwargs: Any) -> AsyncIterator[None]:
        async with real_alock(self, *args, **kwargs):
            counts["alock"] += 1
            yield

    monkeypatch.setattr(TokenCache, "lock", lock)
    monkeypatch.setattr(TokenCache, "alock", alock)
    return counts


def _observe(
    case: Case,
    mode: str,
    home: Path,
    counts: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    make_emulator: Callable[..., Emulator],
) -> Observed:
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    emu = make_emulator(interval=0.05, auto_approve=0.0, token_ttl=case.token_ttl)
    monkeypatch.setenv("AWS_ENDPOINT_URL", emu.url)
    token = sj.login(emu.start_url, emu.region, on_prompt=lambda p: None)
    before = len(emu.requests)
    counts.update(lock=0, alock=0)
    if mode == "sync":
        answer = case.sync(token, emu)
    else:

        async def run() -> Any:
            try:
                return await case.asynchronous(token, emu)
            finally:
                await token.aclose()  # the loop's client closes with the loop

        answer = asyncio.run(run())
    token.close()
    slot = token._context.slot
    cache = TokenCache()
    return Observed(
        requests=[tuple(r[k] for k in COMPARED) for r in emu.requests[before:]],
        locks=dict(counts),
        files={
            "token": cache.token_path(slot.token_key).exists(),
            "registration": cache.registration_path(slot.registration_key).exists(),
        },
        answer=_summary(answer),
        closed=token._portals.kept == 0,
    )


@pytest.mark.parametrize("case", CASES, ids=[c.doc for c in CASES])
def test_twins_mirror(
    case: Case,
    tmp_path: Path,
    lock_counts: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    emulator_factory: Callable[..., Emulator],
) -> None:
    sync = _observe(case, "sync", tmp_path / "sync", lock_counts, monkeypatch, emulator_factory)
    asynchronous = _observe(
        case, "async", tmp_path / "async", lock_counts, monkeypatch, emulator_factory
    )
    assert sync.requests == asynchronous.requests
    assert sync.files == asynchronous.files
    assert sync.answer == asynchronous.answer
    # The same cache lock, each mode through its own door.
    assert sync.locks["alock"] == 0 and asynchronous.locks["lock"] == 0
    assert sync.locks["lock"] == asynchronous.locks["alock"]
    assert sync.closed and asynchronous.closed


def test_the_cases_mean_something(
    tmp_path: Path,
    lock_counts: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    emulator_factory: Callable[..., Emulator],
) -> None:
    """The comparison can fail: a refresh takes the lock and calls CreateToken, a fresh
    token costs nothing, a logout calls Logout and removes the files it is told to."""
    by_doc = {c.doc: c for c in CASES}
    refresh = _observe(
        by_doc["refresh now"], "async", tmp_path / "a", lock_counts, monkeypatch, emulator_factory
    )
    assert refresh.locks["alock"] == 1
    assert [r[0] for r in refresh.requests] == ["CreateToken"]
    fresh = by_doc["current access token, fresh: no request, no lock"]
    quiet = _observe(fresh, "sync", tmp_path / "b", lock_counts, monkeypatch, emulator_factory)
    assert quiet.requests == [] and quiet.locks == {"lock": 0, "alock": 0}
    logout = by_doc["logout forgets the registration"]
    gone = _observe(logout, "async", tmp_path / "c", lock_counts, monkeypatch, emulator_factory)
    assert [r[0] for r in gone.requests] == ["Logout"]
    assert gone.files == {"token": False, "registration": False}
    kept = _observe(
        by_doc["logout keeps the registration"],
        "sync",
        tmp_path / "d",
        lock_counts,
        monkeypatch,
        emulator_factory,
    )
    assert kept.files == {"token": False, "registration": True}


def test_every_public_method_has_a_case() -> None:
    """A new public method of SSOToken needs its twin and a case above."""
    public = {
        name
        for name, member in inspect.getmembers(sj.SSOToken)
        if not name.startswith("_") and callable(member)
    }
    twins = {name for name in public if name.startswith("a") and name[1:] in public}
    sync = public - twins - SYNC_ONLY
    assert {f"a{name}" for name in sync} == twins
    assert {"refresh", "current_access_token", "accounts", "credentials", "logout", "close"} == sync


def test_session_refreshes_through_credentials(
    monkeypatch: pytest.MonkeyPatch, emulator_factory: Callable[..., Emulator]
) -> None:
    """``session`` (sync only: botocore refreshes in its own threads) asks the portal through
    ``credentials``: the same GetRoleCredentials the twins make."""
    pytest.importorskip("boto3")
    emu = emulator_factory(interval=0.05, auto_approve=0.0)
    monkeypatch.setenv("AWS_ENDPOINT_URL", emu.url)
    with sj.login(emu.start_url, emu.region, on_prompt=lambda p: None) as token:
        before = len(emu.requests)
        session = token.session(*_role(emu))
        assert session.get_credentials().get_frozen_credentials().access_key
    assert [r["operation"] for r in emu.requests[before:]] == ["GetRoleCredentials"]
