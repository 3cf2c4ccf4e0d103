"""The one enum base the emulator uses for values that also travel on the wire."""

from __future__ import annotations

import enum


class WireEnum(str, enum.Enum):
    """A ``str`` enum whose ``str()`` and ``format()`` are its value, on every Python.

    The members compare equal to their wire strings (so callers may keep passing plain
    strings), and formatting one into a message or a URL never yields ``Class.MEMBER``:
    Python 3.12 changed ``format()`` of mixed-in enums to follow ``Enum.__str__``.
    """

    def __str__(self) -> str:
        return str.__str__(self)
