"""The one clock of the client: :func:`utcnow`, an aware UTC ``datetime``.

Everything that asks "what time is it" (the flows' ``now``, a token's expiry, a pending
sign-in's start, the server's expiry timers) asks here. A test that needs another time
passes its own ``now`` to the flow (they all take one) rather than patching this.
"""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["utcnow"]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
