"""How a sign-in stands and how it ended: one :class:`LoginState`, one :func:`outcome_of`.

The notebook's controller and the Jupyter server's sign-ins both report through these, so
an exception ends a sign-in the same way wherever it ran: the same state (the server's REST
``state`` strings are these values) and the same reason for the user. A reason never holds
a secret: our errors are written without one, and an exception that is not ours (whose
message is unknown ground) is told by its type alone; its details go to the log.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .._exceptions import LoginCancelledError, LoginDeniedError, LoginExpiredError, SSOOIDCError

__all__ = ["CANCELLED", "LoginOutcome", "LoginState", "outcome_of"]

#: The reason of a sign-in stopped by its owner (an asyncio task cancelled).
CANCELLED = "The sign-in was cancelled."


class LoginState(enum.Enum):
    """Where a sign-in is. The values are the server's REST ``state`` strings and the
    widget's ``state`` trait."""

    IDLE = "idle"
    STARTING = "starting"  # resolving, reading the cache, registering
    PENDING = "pending"  # the prompt is out: waiting for the user's approval
    SIGNED_IN = "signed_in"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    FAILED = "failed"
    #: Was signed in, until the service refused the token (a logout elsewhere, a revoked
    #: session): a new sign-in is needed.
    SIGNED_OUT = "signed_out"

    @property
    def finished(self) -> bool:
        return self not in (LoginState.IDLE, LoginState.STARTING, LoginState.PENDING)


@dataclass(frozen=True)
class LoginOutcome:
    """How a sign-in ended: its state and the reason to show (never a secret)."""

    state: LoginState
    message: str


# The first class an exception is an instance of decides (subclasses before their bases).
_STATES: tuple[tuple[type[BaseException], LoginState], ...] = (
    (LoginDeniedError, LoginState.DENIED),
    (LoginExpiredError, LoginState.EXPIRED),
    (LoginCancelledError, LoginState.CANCELLED),
    (SSOOIDCError, LoginState.FAILED),
)


def outcome_of(exc: BaseException) -> LoginOutcome:
    """The outcome of a sign-in that ``exc`` ended."""
    for kind, state in _STATES:
        if isinstance(exc, kind):
            return LoginOutcome(state, str(exc))
    if _is_task_cancelled(exc):
        return LoginOutcome(LoginState.CANCELLED, CANCELLED)
    # Not one of ours: its message is unknown ground, so only its type goes out.
    return LoginOutcome(
        LoginState.FAILED, f"The sign-in failed ({type(exc).__name__}); see the log for details."
    )


def _is_task_cancelled(exc: BaseException) -> bool:
    # Lazy: asyncio (and ssl) costs ~25 ms to import, and a thread's sign-in never needs it;
    # an asyncio.CancelledError can only exist once asyncio was imported.
    import sys

    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and isinstance(exc, asyncio.CancelledError)
