"""Signing in: the cache shared with the AWS CLI, the AWS config file, the I/O-free device
flow and its two drivers, ``login()``, ``SSOToken``, the portal and IAM token exchange.

Layer 2: imports ``oidc`` and the error tree, never ``notebook`` or ``server``. Nothing
here prints or displays; the public names are re-exported from :mod:`ssooidc_jupyter`.
Every sign-in runs through one runner pair, :func:`sign_in` / :func:`asign_in` (``_runner.py``),
given a resolved :class:`._context.LoginContext`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._runner import asign_in, sign_in

__all__ = ["asign_in", "sign_in"]


def __getattr__(name: str) -> Any:
    # PEP 562: the runner (and what it imports) loads on first use, so importing any module
    # of this package (as %load_ext does) stays cheap.
    if name in __all__:
        from . import _runner

        return getattr(_runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
