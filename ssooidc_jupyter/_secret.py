"""``Secret``: a credential that cannot show itself.

Layer 0 (imports nothing of the package). A traceback rendered with its frames' locals
(IPython's ``%xmode Verbose``, ``pytest -l``, rich's ``show_locals``, Sentry-style reporters,
``traceback.TracebackException(capture_locals=True)``) prints the ``repr`` of every local
variable and argument of every frame. A token held as a plain ``str`` is then printed into
the notebook. Held as a :class:`Secret`, it prints as ``Secret('**********')``.

The rule (as pydantic's ``SecretStr``): a secret is wrapped where it is received (a service
answer, a cache file, a caller's argument) and unwrapped with :meth:`Secret.get_secret_value`
only where bytes go on the wire or into the cache file, in a frame that keeps no plain copy
in a named local and cannot raise once it has unwrapped.

Not a ``str`` subclass on purpose: a ``str`` subclass is printed, concatenated, sliced,
``json.dumps``-ed and ``%``-formatted as its value by C code that never calls ``__repr__``.
"""

from __future__ import annotations

import hmac
from typing import Any, NoReturn, final

__all__ = ["MASK", "Secret", "as_optional_secret", "as_secret", "reveal"]

#: What a secret shows instead of its value (fixed length: the value's length stays hidden).
MASK = "**********"


@final
class Secret:
    """A secret string whose ``repr``, ``str`` and ``format`` show ``**********``.

    ``get_secret_value()`` returns the string. Equality and hash are by value (two
    ``Secret`` of the same string are equal; a ``Secret`` never equals a plain ``str``),
    compared in constant time. Immutable; ``copy`` and ``deepcopy`` return the same object.

    ``json.dumps`` refuses it (``TypeError``) rather than writing the value: a secret reaches
    JSON only where the cache file is written, unwrapped on purpose.

    Pickling keeps the value and the masking: the unpickled object is a ``Secret`` again.
    Refusing would break handing credentials to a worker process (``multiprocessing``,
    Dask), which needs the value as much as this process does; the pickle bytes are then a
    secret, like everything that carries the value on purpose (``SSOToken.export()``).
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Secret wraps a str, not {type(value).__name__}")
        object.__setattr__(self, "_value", value)

    def get_secret_value(self) -> str:
        """The secret itself. Keep it out of named locals of frames that may raise."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        try:
            return format(MASK, spec)
        except (TypeError, ValueError):  # a numeric spec: the mask, never the value
            return MASK

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Secret is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("Secret is immutable")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __reduce__(self) -> tuple[type[Secret], tuple[str]]:
        return (Secret, (self._value,))


def reveal(value: object) -> Any:
    """``value`` unwrapped if it is a :class:`Secret`, else ``value`` unchanged. For the
    edges (request bodies, the cache file, the redaction registry); returns at once, so a
    traceback never goes through it after unwrapping."""
    return value.get_secret_value() if isinstance(value, Secret) else value


def as_secret(value: str | Secret) -> Secret:
    """``value`` as a :class:`Secret` (a ``Secret`` is returned as it is). Rebind an argument
    with it on the first line of a function (``token = as_secret(token)``) so that the
    function's frame never shows the caller's plain string."""
    return value if isinstance(value, Secret) else Secret(value)


def as_optional_secret(value: str | Secret | None) -> Secret | None:
    """:func:`as_secret`, with ``None`` (an absent member) kept as ``None``."""
    return None if value is None else as_secret(value)
