"""The sign-in state machine on its own: no network, no disk, a fake clock.

Each case scripts the service's answers and checks the steps the flow yields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import ssooidc_jupyter as sj
from ssooidc_jupyter._secret import reveal
from ssooidc_jupyter.auth._flow import (
    ADVISORY_REFRESH,
    DEVICE_GRANT,
    MANDATORY_REFRESH,
    Call,
    DropRegistration,
    LoadRegistration,
    LoadToken,
    Lock,
    LoginRequest,
    Notice,
    SaveRegistration,
    SaveToken,
    ShowPrompt,
    TokenState,
    Wait,
    classify,
    forget_refresh_failures,
    login_flow,
)
from ssooidc_jupyter.auth._models import CachedRegistration, CachedToken

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
START = "https://d-123.awsapps.com/start"
REQUEST = LoginRequest(start_url=START, region="us-east-1", scopes=("sso:account:access",))


@pytest.fixture(autouse=True)
def no_refresh_failures() -> Any:
    """Failed refreshes are remembered process-wide (one attempt a minute): not across tests."""
    forget_refresh_failures()
    yield
    forget_refresh_failures()


def pending() -> sj.ServiceError:
    return sj.AuthorizationPendingException(operation="CreateToken", status_code=400)


def service(cls: type[sj.ServiceError]) -> sj.ServiceError:
    return cls(operation="CreateToken", status_code=400)


REGISTERED = {"clientId": "cid", "clientSecret": "cs", "clientSecretExpiresAt": 1893456000}
STARTED = {
    "deviceCode": "dc",
    "userCode": "ABCD-EFGH",
    "verificationUri": "https://device.sso.us-east-1.amazonaws.com/",
    "verificationUriComplete": "https://device.sso.us-east-1.amazonaws.com/?user_code=ABCD-EFGH",
    "expiresIn": 600,
    "interval": 1,
}
TOKEN = {"accessToken": "at", "expiresIn": 3600, "refreshToken": "rt", "tokenType": "Bearer"}


@dataclass
class Script:
    """Answers each step; the clock moves only with Wait steps."""

    cached: CachedToken | None = None
    registration: CachedRegistration | None = None
    answers: dict[str, list[Any]] = field(default_factory=dict)
    now: datetime = T0
    steps: list[Any] = field(default_factory=list)
    lock_free: bool = True  # whether a Lock(wait=False) finds the lock free

    def clock(self) -> datetime:
        return self.now

    def run(self, request: LoginRequest = REQUEST) -> CachedToken:
        flow = login_flow(request, self.clock)
        outcome: Any = None
        while True:
            try:
                step = flow.send(outcome)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            self.steps.append(step)
            outcome = None
            if isinstance(step, LoadToken):
                outcome = self.cached
            elif isinstance(step, LoadRegistration):
                outcome = self.registration
            elif isinstance(step, SaveToken):
                self.cached = step.token
            elif isinstance(step, SaveRegistration):
                self.registration = step.registration
            elif isinstance(step, DropRegistration):
                self.registration = None
            elif isinstance(step, Wait):
                self.now += timedelta(seconds=step.seconds)
            elif isinstance(step, Lock):
                outcome = True if step.wait else self.lock_free
            elif isinstance(step, Call):
                queue = self.answers[step.operation]
                outcome = queue.pop(0) if len(queue) > 1 else queue[0]

    def ops(self) -> list[str]:
        return [s.operation for s in self.steps if isinstance(s, Call)]

    def waits(self) -> list[float]:
        return [s.seconds for s in self.steps if isinstance(s, Wait)]


def cached_token(expires_in: timedelta, **changes: Any) -> CachedToken:
    values: dict[str, Any] = {
        "start_url": START,
        "region": "us-east-1",
        "access_token": "old-at",
        "expires_at": T0 + expires_in,
        "refresh_token": "old-rt",
        "client_id": "cid",
        "client_secret": "cs",
        "registration_expires_at": T0 + timedelta(days=30),
    }
    values.update(changes)
    return CachedToken(**values)


def device_answers(*polls: Any) -> dict[str, list[Any]]:
    return {
        "RegisterClient": [REGISTERED],
        "StartDeviceAuthorization": [STARTED],
        "CreateToken": [*polls],
    }


def test_cold_login_registers_starts_prompts_once_and_polls() -> None:
    script = Script(answers=device_answers(pending(), pending(), TOKEN))
    token = script.run()
    assert reveal(token.access_token) == "at" and reveal(token.refresh_token) == "rt"
    assert token.expires_at == T0 + timedelta(seconds=3 + 3600)
    assert script.ops() == ["RegisterClient", "StartDeviceAuthorization"] + ["CreateToken"] * 3
    assert sum(isinstance(s, ShowPrompt) for s in script.steps) == 1
    assert script.waits() == [1.0, 1.0, 1.0]
    polls = [s for s in script.steps if isinstance(s, Call) and s.operation == "CreateToken"]
    assert {p.params["grantType"] for p in polls} == {DEVICE_GRANT}
    assert {reveal(p.params["deviceCode"]) for p in polls} == {"dc"}
    # The registration and the token are saved, the token last.
    saves = [s for s in script.steps if isinstance(s, SaveRegistration | SaveToken)]
    assert isinstance(saves[0], SaveRegistration) and isinstance(saves[-1], SaveToken)
    assert isinstance(script.steps[0], LoadToken) and isinstance(script.steps[1], Lock)


@pytest.mark.parametrize(
    ("remaining", "state"),
    [
        pytest.param(timedelta(hours=1), TokenState.FRESH, id="fresh"),
        pytest.param(timedelta(minutes=14), TokenState.ADVISORY, id="advisory-window"),
        pytest.param(timedelta(minutes=9), TokenState.MANDATORY, id="mandatory-window"),
        pytest.param(timedelta(seconds=-1), TokenState.EXPIRED, id="expired"),
    ],
)
def test_classify_windows(remaining: timedelta, state: TokenState) -> None:
    assert classify(cached_token(remaining), T0, START) is state


def test_token_for_another_start_url_is_missing() -> None:
    other = cached_token(timedelta(hours=1), start_url="https://other.awsapps.com/start")
    assert classify(other, T0, START) is TokenState.MISSING


def test_fresh_cached_token_means_no_call_and_no_lock() -> None:
    script = Script(cached=cached_token(timedelta(hours=2)))
    token = script.run()
    assert reveal(token.access_token) == "old-at"
    assert script.steps == [LoadToken()]


def test_token_near_expiry_is_refreshed_silently() -> None:
    script = Script(
        cached=cached_token(timedelta(minutes=5)),
        answers={"CreateToken": [{"accessToken": "new-at", "expiresIn": 3600}]},
    )
    token = script.run()
    assert reveal(token.access_token) == "new-at"
    # No rotation in the answer: the previous refresh token is kept.
    assert reveal(token.refresh_token) == "old-rt"
    assert script.ops() == ["CreateToken"]
    call = next(s for s in script.steps if isinstance(s, Call))
    assert call.params["grantType"] == "refresh_token"
    assert not any(isinstance(s, ShowPrompt) for s in script.steps)


def test_invalid_grant_on_refresh_says_so_then_signs_in_again() -> None:
    script = Script(
        cached=cached_token(timedelta(minutes=5)),
        registration=CachedRegistration(
            client_id="cid",
            client_secret="cs",
            expires_at=T0 + timedelta(days=30),
            scopes=["sso:account:access"],
        ),
        answers={
            "CreateToken": [service(sj.InvalidGrantException), TOKEN],
            "StartDeviceAuthorization": [STARTED],
        },
    )
    token = script.run()
    assert reveal(token.access_token) == "at"
    notices = [s.message for s in script.steps if isinstance(s, Notice)]
    assert len(notices) == 1 and "session" in notices[0] and "has ended" in notices[0]
    assert script.ops() == ["CreateToken", "StartDeviceAuthorization", "CreateToken"]


def test_failed_advisory_refresh_keeps_the_current_token() -> None:
    script = Script(
        cached=cached_token(timedelta(minutes=14)),
        answers={"CreateToken": [sj.EndpointConnectionError("down", operation="CreateToken")]},
    )
    assert reveal(script.run().access_token) == "old-at"


def test_failed_mandatory_refresh_raises() -> None:
    script = Script(
        cached=cached_token(timedelta(minutes=5)),
        answers={"CreateToken": [sj.EndpointConnectionError("down", operation="CreateToken")]},
    )
    with pytest.raises(sj.EndpointConnectionError):
        script.run()


def test_slow_down_adds_five_seconds_for_good() -> None:
    script = Script(
        answers=device_answers(
            pending(),
            service(sj.SlowDownException),
            pending(),
            service(sj.SlowDownException),
            pending(),
            TOKEN,
        )
    )
    script.run()
    assert script.waits() == [1.0, 1.0, 6.0, 6.0, 11.0, 11.0]


def test_persistent_slow_down_says_so_not_that_nobody_approved() -> None:
    started = {**STARTED, "expiresIn": 60, "interval": 1}
    script = Script(
        answers={
            "RegisterClient": [REGISTERED],
            "StartDeviceAuthorization": [started],
            "CreateToken": [service(sj.SlowDownException)],
        }
    )
    with pytest.raises(sj.LoginExpiredError, match="kept asking to slow down") as caught:
        script.run()
    assert "not approved in time" not in str(caught.value)
    assert script.cached is None


def test_a_single_slow_down_before_the_deadline_is_not_blamed() -> None:
    started = {**STARTED, "expiresIn": 2, "interval": 1}
    script = Script(
        answers={
            "RegisterClient": [REGISTERED],
            "StartDeviceAuthorization": [started],
            "CreateToken": [pending(), service(sj.SlowDownException)],
        }
    )
    with pytest.raises(sj.LoginExpiredError, match="not approved in time"):
        script.run()
    assert script.ops().count("CreateToken") == 2


def test_pending_after_slow_down_is_still_not_approved_in_time() -> None:
    started = {**STARTED, "expiresIn": 8, "interval": 1}
    script = Script(
        answers={
            "RegisterClient": [REGISTERED],
            "StartDeviceAuthorization": [started],
            "CreateToken": [service(sj.SlowDownException), pending()],
        }
    )
    with pytest.raises(sj.LoginExpiredError, match="not approved in time"):
        script.run()


@pytest.mark.parametrize(
    ("member", "value"),
    [("expiresIn", 0), ("expiresIn", None), ("interval", -1), ("verificationUri", None)],
    ids=lambda v: str(v),
)
def test_bad_device_answer_from_any_client_is_refused_before_the_prompt(
    member: str, value: Any
) -> None:
    # The flow checks answers itself: it may be driven with boto3's client, which does not.
    script = Script(
        answers={
            "RegisterClient": [REGISTERED],
            "StartDeviceAuthorization": [{**STARTED, member: value}],
            "CreateToken": [TOKEN],
        }
    )
    with pytest.raises(sj.InvalidResponseError, match=repr(member)):
        script.run()
    assert not any(isinstance(step, ShowPrompt) for step in script.steps)


@pytest.mark.parametrize(
    "answer",
    [{**TOKEN, "accessToken": None}, {**TOKEN, "expiresIn": -100}, {**TOKEN, "expiresIn": 1e12}],
    ids=["null-access-token", "negative-lifetime", "float-lifetime"],
)
def test_bad_token_answer_from_any_client_saves_nothing(answer: dict[str, Any]) -> None:
    script = Script(answers=device_answers(answer))
    with pytest.raises(sj.InvalidResponseError, match="CreateToken"):
        script.run()
    assert not any(isinstance(step, SaveToken) for step in script.steps)


def test_no_interval_from_the_service_means_five_seconds() -> None:
    started = {k: v for k, v in STARTED.items() if k != "interval"}
    script = Script(
        answers={
            "RegisterClient": [REGISTERED],
            "StartDeviceAuthorization": [started],
            "CreateToken": [pending(), TOKEN],
        }
    )
    script.run()
    assert script.waits() == [5.0, 5.0]


def test_polling_stops_at_the_codes_deadline() -> None:
    started = {**STARTED, "expiresIn": 10, "interval": 3}
    script = Script(
        answers={
            "RegisterClient": [REGISTERED],
            "StartDeviceAuthorization": [started],
            "CreateToken": [pending()],
        }
    )
    with pytest.raises(sj.LoginExpiredError, match="ABCD-EFGH"):
        script.run()
    # 3 + 3 + 3 + 1 = 10 seconds: the last wait is cut to the deadline, then it stops.
    assert script.waits() == [3.0, 3.0, 3.0, 1.0]
    assert script.now == T0 + timedelta(seconds=10)


def test_client_side_timeout_bounds_the_wait() -> None:
    script = Script(answers=device_answers(pending()))
    with pytest.raises(sj.LoginExpiredError):
        script.run(LoginRequest(start_url=START, region="us-east-1", scopes=("x",), timeout=2.5))
    assert sum(script.waits()) == pytest.approx(2.5)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        pytest.param(service(sj.ExpiredTokenException), sj.LoginExpiredError, id="expired_token"),
        pytest.param(service(sj.AccessDeniedException), sj.LoginDeniedError, id="access_denied"),
        pytest.param(service(sj.InvalidGrantException), sj.InvalidGrantException, id="other"),
    ],
)
def test_terminal_poll_answers(answer: Exception, error: type[Exception]) -> None:
    script = Script(answers=device_answers(pending(), answer))
    with pytest.raises(error):
        script.run()
    assert script.cached is None


def test_invalid_client_on_start_registers_again_once() -> None:
    script = Script(
        registration=CachedRegistration(
            client_id="revoked",
            client_secret="x",
            expires_at=T0 + timedelta(days=30),
            scopes=["sso:account:access"],
        ),
        answers={
            "RegisterClient": [REGISTERED],
            "StartDeviceAuthorization": [service(sj.InvalidClientException), STARTED],
            "CreateToken": [TOKEN],
        },
    )
    script.run()
    assert script.ops() == [
        "StartDeviceAuthorization",
        "RegisterClient",
        "StartDeviceAuthorization",
        "CreateToken",
    ]
    assert any(isinstance(s, DropRegistration) for s in script.steps)


def test_invalid_client_twice_is_an_error() -> None:
    script = Script(
        answers={
            "RegisterClient": [REGISTERED],
            "StartDeviceAuthorization": [service(sj.InvalidClientException)],
        }
    )
    with pytest.raises(sj.InvalidClientException):
        script.run()
    assert script.ops().count("RegisterClient") == 2


def test_registration_near_expiry_is_not_reused() -> None:
    script = Script(
        registration=CachedRegistration(
            client_id="old",
            client_secret="x",
            expires_at=T0 + timedelta(minutes=10),
            scopes=["sso:account:access"],
        ),
        answers=device_answers(TOKEN),
    )
    script.run()
    assert script.ops()[0] == "RegisterClient"


def test_force_ignores_a_fresh_token() -> None:
    script = Script(cached=cached_token(timedelta(hours=5)), answers=device_answers(TOKEN))
    token = script.run(
        LoginRequest(
            start_url=START, region="us-east-1", scopes=("sso:account:access",), force=True
        )
    )
    assert reveal(token.access_token) == "at"


def test_transient_poll_failures_are_ridden_out_then_reported() -> None:
    down: Callable[[], Exception] = lambda: sj.EndpointConnectionError("x", operation="CreateToken")  # noqa: E731
    script = Script(answers=device_answers(down(), down(), pending(), TOKEN))
    assert reveal(script.run().access_token) == "at"
    script = Script(answers=device_answers(down()))
    with pytest.raises(sj.LoginError, match="repeatedly"):
        script.run()


def test_not_interactive_never_prompts() -> None:
    script = Script(answers=device_answers(TOKEN))
    with pytest.raises(sj.LoginError, match="login again"):
        script.run(
            LoginRequest(start_url=START, region="us-east-1", scopes=("x",), interactive=False)
        )
    assert script.ops() == []


def test_call_steps_hide_their_parameters() -> None:
    step = Call("CreateToken", {"clientSecret": "cs-secret", "deviceCode": "dc-secret"})
    assert "secret" not in repr(step)


# ---- refresh discipline: the windows, the minute between attempts, the advisory lock ----------


def _down() -> sj.SSOOIDCError:
    return sj.EndpointConnectionError("down", operation="CreateToken")


@dataclass(frozen=True)
class RefreshCase:
    doc: str
    left: timedelta  # time to expiry of the cached token
    outcome: str  # "cached", "refreshed" or "raises"
    calls: int  # CreateToken calls made
    answer: Any = field(default_factory=lambda: dict(TOKEN))
    failed_ago: timedelta | None = None  # the last refresh failed this long ago
    lock_free: bool = True  # the lock, for an advisory refresh (a mandatory one waits)


MIN, SEC = timedelta(minutes=1), timedelta(seconds=1)
REFRESH_CASES = [
    RefreshCase("16 min left: fresh, used as is, no network", 16 * MIN, "cached", 0),
    RefreshCase("15 min + 1 s left: still fresh", 15 * MIN + SEC, "cached", 0),
    RefreshCase("exactly 15 min left: advisory, refreshed", 15 * MIN, "refreshed", 1),
    RefreshCase("10 min + 1 s left: advisory, refreshed", 10 * MIN + SEC, "refreshed", 1),
    RefreshCase(
        "advisory, lock held by another process: no wait, token kept",
        12 * MIN,
        "cached",
        0,
        lock_free=False,
    ),
    RefreshCase("advisory, refresh fails: token kept", 12 * MIN, "cached", 1, answer=_down()),
    RefreshCase(
        "advisory, failed 59 s ago: no new attempt", 12 * MIN, "cached", 0, failed_ago=59 * SEC
    ),
    RefreshCase(
        "advisory, failed 60 s ago: attempted again", 12 * MIN, "refreshed", 1, failed_ago=MIN
    ),
    RefreshCase("exactly 10 min left: mandatory, refreshed", 10 * MIN, "refreshed", 1),
    RefreshCase("1 s left: mandatory, refreshed", SEC, "refreshed", 1),
    RefreshCase(
        "mandatory waits for a held lock, then refreshes",
        5 * MIN,
        "refreshed",
        1,
        lock_free=False,
    ),
    RefreshCase("mandatory, refresh fails: raised", 5 * MIN, "raises", 1, answer=_down()),
    RefreshCase(
        "mandatory, failed 30 s ago: no new attempt, the still-valid token is used",
        5 * MIN,
        "cached",
        0,
        failed_ago=30 * SEC,
    ),
    RefreshCase(
        "expired, failed 30 s ago: refreshed at once (nothing to keep using)",
        -SEC,
        "refreshed",
        1,
        failed_ago=30 * SEC,
    ),
    RefreshCase("expired 0 s ago: refreshed", timedelta(0), "refreshed", 1),
]


@pytest.mark.parametrize("case", REFRESH_CASES, ids=[case.doc for case in REFRESH_CASES])
def test_refresh_windows(case: RefreshCase) -> None:
    from ssooidc_jupyter.auth._flow import _failures

    if case.failed_ago is not None:
        _failures.failed(REQUEST, T0 - case.failed_ago)
    script = Script(
        cached=cached_token(case.left),
        answers={"CreateToken": [case.answer]},
        lock_free=case.lock_free,
    )
    if case.outcome == "raises":
        with pytest.raises(sj.SSOOIDCError):
            script.run()
    else:
        token = script.run()
        expected = "old-at" if case.outcome == "cached" else "at"
        assert reveal(token.access_token) == expected
    assert script.ops().count("CreateToken") == case.calls
    assert "RegisterClient" not in script.ops()  # never a new sign-in
    advisory = ADVISORY_REFRESH >= case.left > MANDATORY_REFRESH
    waits = [s.wait for s in script.steps if isinstance(s, Lock)]
    if advisory and case.calls + (not case.lock_free):
        assert waits == [False]  # the advisory refresh never waits for the lock
    elif case.left <= MANDATORY_REFRESH and case.calls:
        assert waits == [True]


def test_a_failing_advisory_refresh_is_tried_once_a_minute_however_often_used() -> None:
    script = Script(cached=cached_token(14 * MIN), answers={"CreateToken": [_down()]})
    for _ in range(150):  # an access every second for 2.5 minutes
        assert reveal(script.run().access_token) == "old-at"
        script.now += SEC
    assert script.ops().count("CreateToken") == 3  # at 0 s, 60 s and 120 s


def test_a_successful_refresh_forgets_the_failure() -> None:
    script = Script(cached=cached_token(14 * MIN), answers={"CreateToken": [_down(), TOKEN]})
    script.run()
    script.now += MIN
    assert reveal(script.run().access_token) == "at"
    script.cached = cached_token(14 * MIN)  # another token in the advisory window
    script.answers["CreateToken"] = [dict(TOKEN, accessToken="at-2")]
    assert reveal(script.run().access_token) == "at-2"  # no minute to wait after a success
