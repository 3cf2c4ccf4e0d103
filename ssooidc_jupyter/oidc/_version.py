"""This package's version, read from its one source.

The version is written only in ``package.json`` (as in the JupyterLab extension template):
the build reads it there (``[tool.hatch.version] source = "nodejs"``, hatch-nodejs-version)
into the installed metadata, and the built labextension carries it too. Python reads the
metadata, on first use only, so ``import ssooidc_jupyter`` stays cheap.
"""

from __future__ import annotations

from functools import cache

__all__ = ["DISTRIBUTION", "package_version"]

#: The distribution name on PyPI (and the npm package's name).
DISTRIBUTION = "ssooidc-jupyter"


@cache
def package_version() -> str:
    """The installed distribution's version, or ``0+unknown`` outside an installation
    (a checkout put on ``sys.path`` by hand)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"
