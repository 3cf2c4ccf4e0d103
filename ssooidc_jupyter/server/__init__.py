"""The Jupyter server side: REST routes under ``/ssooidc/api/`` that sign in, report and sign
out in the server process, writing the same token cache every kernel, terminal and boto3 reads.

Layer 3 (beside ``notebook``): imports ``auth``, ``oidc`` and the error tree; nothing imports it.
The extension point is the package's (``ssooidc_jupyter._jupyter_server_extension_points``,
enabled by ``jupyter-config/server-config/ssooidc_jupyter.json``): it names this module, whose
:func:`_load_jupyter_server_extension` the server calls. Importing this package costs the
server start nearly nothing: the handlers (and tornado, the flow, the cache) load only in
:func:`_load_jupyter_server_extension`.
"""

from __future__ import annotations

from typing import Any

__all__: list[str] = []


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Register the handlers on ``serverapp``'s web application."""
    # Lazy: jupyter_server imports every enabled extension's package at start; the handlers
    # pull in the sign-in machinery, which only a request needs.
    from ._handlers import setup_handlers

    setup_handlers(serverapp)
