"""Binding sign-in results into a notebook namespace: one place, shared by the magic and
the widget.

A :class:`Binder` remembers what it put where, so a later sign-in can swap a pending
stand-in for the real object without overwriting a name the user has reassigned meanwhile,
and a logout can remove exactly what it bound. Thread-safe: sign-ins finish in worker
threads while cells run.
"""

from __future__ import annotations

import threading
from collections.abc import MutableMapping
from typing import Any

__all__ = ["Binder"]


class Binder:
    """Puts values into ``namespace`` (a shell's ``user_ns``, or any dict) and takes back
    what it put there."""

    def __init__(self, namespace: MutableMapping[str, Any]) -> None:
        self.namespace = namespace
        self._bound: dict[str, object] = {}
        self._lock = threading.Lock()

    def bind(self, name: str, value: object) -> None:
        with self._lock:
            self.namespace[name] = value
            self._bound[name] = value

    def rebind(self, name: str, old: object, new: object) -> None:
        """Replace ``old`` by ``new`` unless the user has reassigned the name meanwhile."""
        with self._lock:
            if self.namespace.get(name) is old:
                self.namespace[name] = new
                self._bound[name] = new

    def unbind_all(self) -> list[str]:
        """Remove every name still holding what this binder put there; return the names."""
        with self._lock:
            removed = [
                name for name, value in self._bound.items() if self.namespace.get(name) is value
            ]
            for name in removed:
                del self.namespace[name]
            self._bound.clear()
        return removed
