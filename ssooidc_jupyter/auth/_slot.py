"""A sign-in's place in the token cache, and the cache steps carried out there.

Both drivers (``_drivers.py``) hand every cache step of a flow (load or save a token or a
registration, drop a registration) to :meth:`CacheSlot.carry_out`: they involve no waiting,
so the sync and async drivers do them the same way, in one place. A slot whose directory may
not be written turns read-only, with one warning, before the first write.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any

from ._cache import CacheWarning, TokenCache
from ._models import CachedRegistration, CachedToken
from ._steps import DropRegistration, LoadRegistration, LoadToken, SaveRegistration, SaveToken

__all__ = ["CacheSlot"]


@dataclass(frozen=True)
class CacheSlot:
    """Where one sign-in's entries live: the cache (None: caching off) and the two keys.

    ``read_only``: the cache is read but never written nor locked (its directory is not
    ours to write, see :meth:`settle_writes`)."""

    cache: TokenCache | None
    token_key: str
    registration_key: str
    read_only: bool = False

    def settle_writes(self) -> CacheSlot:
        """Before the first write (the lock comes first): this slot, or a read-only one with
        one :class:`CacheWarning` when the directory may not be written (read-only, or
        another user's). The sign-in then works, and its token stays in memory."""
        if self.cache is None or self.read_only:
            return self
        reason = self.cache.unwritable_reason()
        if reason is None:
            return self
        warnings.warn(
            f"Signing in without saving the token: {reason}. The token is kept in this "
            "process only, so other notebooks and the AWS CLI will not see it; make the "
            "directory writable (or set HOME to one of your own) to share it.",
            CacheWarning,
            stacklevel=4,
        )
        return replace(self, read_only=True)

    def load_token(self) -> CachedToken | None:
        return None if self.cache is None else self.cache.load_token(self.token_key)

    def save_token(self, token: CachedToken) -> None:
        if self.cache is not None and not self.read_only:
            self.cache.save_token(self.token_key, token)

    def load_registration(self) -> CachedRegistration | None:
        if self.cache is None:
            return None
        return self.cache.load_registration(self.registration_key)

    def save_registration(self, registration: CachedRegistration) -> None:
        if self.cache is not None and not self.read_only:
            self.cache.save_registration(self.registration_key, registration)

    def drop_registration(self) -> None:
        if self.cache is not None and not self.read_only:
            self.cache.delete_registration(self.registration_key)

    def carry_out(self, step: object) -> tuple[bool, Any]:
        """Do a cache step (no waiting involved); ``(False, None)`` if it is not one."""
        if isinstance(step, LoadToken):
            return True, self.load_token()
        if isinstance(step, SaveToken):
            self.save_token(step.token)
            return True, None
        if isinstance(step, LoadRegistration):
            return True, self.load_registration()
        if isinstance(step, SaveRegistration):
            self.save_registration(step.registration)
            return True, None
        if isinstance(step, DropRegistration):
            self.drop_registration()
            return True, None
        return False, None
