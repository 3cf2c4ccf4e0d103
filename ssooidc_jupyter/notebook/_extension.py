"""``%load_ext ssooidc_jupyter``: register ``%ssooidc`` and the ``SSOOIDC`` configurable.

Loading must stay nearly free -- it runs in every kernel of a JupyterHub image that
auto-loads it -- so nothing here (or in ``_magic``/``_configurable`` at import) pulls in
httpx, ipywidgets, boto3 or botocore; they load when a command first needs them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load", "unload"]

_MAGICS = "SSOOIDCMagics"


def load(shell: Any) -> None:
    from ._magic import SSOOIDCMagics

    magics = SSOOIDCMagics(shell)
    shell.register_magics(magics)
    # So that `%config SSOOIDC` lists the options and `%config SSOOIDC.x = ...` sets them.
    shell.configurables.append(magics.settings)


def unload(shell: Any) -> None:
    manager = shell.magics_manager
    magics = manager.registry.pop(_MAGICS, None)
    if magics is None:
        return
    magics.close()
    # IPython has no unregister_magics: forget the name and the configurable ourselves.
    manager.magics["line"].pop("ssooidc", None)
    if magics.settings in shell.configurables:
        shell.configurables.remove(magics.settings)
