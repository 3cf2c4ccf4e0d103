"""The quick tests on every CPython the package supports, and on the oldest versions it allows.

`make test` runs these sessions (see the Makefile's ``versions`` target); by hand::

    .venv/bin/nox                        # every session
    .venv/bin/nox -s quick-3.13          # one Python
    .venv/bin/nox -s lowest              # the floors of pyproject.toml

The interpreters come from pyenv's directory when there is one (pyenv's shims only run the
version selected in the shell, so nox could not find the others through them). uv makes the
environments and never downloads a Python: a version missing on the machine is a skip here,
and a failure when ``CI`` is set (nox's default there).
"""

from __future__ import annotations

import glob
import os

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

#: The library's core, sync and async, against the emulator over real sockets: the flow, both
#: clients, the portal, the wire format against botocore's model, the cache beside botocore's
#: reader, the AWS config, login(), the layers (an AST walk) and the widget. About 100 s on one
#: core of the 2-core CI machine. Everything else (magic, kernels, notebooks, servers, browsers,
#: fuzzing, the benchmark) runs once, on the main Python, in `make pytest`.
QUICK_TESTS = [
    "tests/auth/test_flow.py",
    "tests/oidc/test_client.py",
    "tests/oidc/test_portal.py",
    "tests/oidc/test_wire_format.py",
    "tests/auth/test_cache.py",
    "tests/auth/test_awsconfig.py",
    "tests/auth/test_login.py",
    "tests/test_layers.py",
    "tests/notebook/test_widget.py",
]

nox.options.default_venv_backend = "uv"
nox.options.download_python = "never"
nox.options.sessions = [*(f"quick-{version}" for version in PYTHONS), "lowest"]


def _release(bin_dir: str) -> list[int]:
    """(3, 13, 0) of ``.../versions/3.13.0/bin``."""
    name = os.path.basename(os.path.dirname(bin_dir))
    return [int(part) for part in name.split(".") if part.isdigit()]


def _pyenv_on_path() -> None:
    """Put each CPython 3 that pyenv installed on PATH (the newest patch release first)."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = sorted(glob.glob(os.path.join(root, "versions", "3.*", "bin")), key=_release)
    os.environ["PATH"] = os.pathsep.join([*reversed(found), os.environ.get("PATH", "")])


_pyenv_on_path()


# An editable install runs the labextension's npm build (hatch-jupyter-builder): these tests
# do not need it, and parallel sessions must not rebuild the tree's copy at once.
NO_BUILD = {"SKIP_JUPYTER_BUILDER": "1"}


def _pytest(session: nox.Session, *extra: str) -> None:
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *QUICK_TESTS, *extra)


@nox.session(python=PYTHONS)
def quick(session: nox.Session) -> None:
    """The quick tests with the newest versions pyproject.toml allows."""
    session.install("-e", ".[test,aws]", env=NO_BUILD)
    _pytest(session)


@nox.session(python=PYTHONS[0])
def lowest(session: nox.Session) -> None:
    """The quick tests with the lowest version of every direct dependency (the floors of
    pyproject.toml), on the oldest Python; and the prebuilt extension in the oldest
    JupyterLab and Notebook 7 so claimed (tests/browser/test_shared_versions.py)."""
    session.install("--resolution", "lowest-direct", "-e", ".[test,aws]", env=NO_BUILD)
    session.run("python", ".ci/floors.py", "test", "aws")
    _pytest(session, "tests/browser/test_shared_versions.py")
