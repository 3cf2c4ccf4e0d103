"""The built wheel, installed non-editable into a throwaway venv, enables the server extension
(jupyter_server_config.d) and ships the prebuilt labextension, with no step for the user."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path
from typing import Any

import pytest

from tests._support import ROOT

#: The version's one source (tests/project/test_version.py).
VERSION = json.loads((ROOT / "package.json").read_text())["version"]
pytestmark = pytest.mark.slow


def _run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # No build isolation: hatchling and hatch-jupyter-builder are in the test extra, and the
    # labextension is already built (make builds it; else the hook runs npm here).
    result = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(ROOT),
        ]
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (built,) = out.glob("ssooidc_jupyter-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A venv with the wheel installed non-editable; jupyter and the dependencies come from
    this interpreter's site-packages (a .pth file), our package only from the wheel."""
    env_dir = tmp_path_factory.mktemp("venv") / "env"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
    site = Path(purelib.stdout.strip())
    (site / "_parent_env.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # `jupyter SUB` runs the `jupyter-SUB` script on PATH: give this venv its own two.
    for script, module in (
        ("jupyter-server", "jupyter_server"),
        ("jupyter-labextension", "jupyterlab.labextensions"),
    ):
        path = env_dir / "bin" / script
        path.write_text(f'#!/bin/sh\nexec "{python}" -m {module} "$@"\n')
        path.chmod(0o755)
    home = env_dir.parent / "home"
    home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "PYTHONPATH" and not key.startswith("JUPYTER")
    }
    env.update(HOME=str(home), PATH=f"{env_dir / 'bin'}:{env.get('PATH', '')}")
    result = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return python, env


def test_the_wheel_ships_the_labextension_and_the_server_config(wheel: Path) -> None:
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    data = f"ssooidc_jupyter-{VERSION}.data/data/"
    assert data + "etc/jupyter/jupyter_server_config.d/ssooidc_jupyter.json" in names
    share = data + "share/jupyter/labextensions/ssooidc-jupyter/"
    assert share + "package.json" in names and share + "install.json" in names
    assert share + "static/style.js" in names
    assert any(name.startswith(share + "static/remoteEntry.") for name in names)
    assert "ssooidc_jupyter/py.typed" in names
    # The demo runs from a checkout only (it opens the checkout's notebooks/): not shipped.
    assert "ssooidc_jupyter/demo.py" not in names
    assert not any(name.startswith("ssooidc_jupyter/_demo/") for name in names)
    assert "ssooidc_jupyter/emulator/__main__.py" in names  # the ssooidc-emulator script's
    # The built frontend is not shipped twice (inside the package as well).
    assert not any(name.startswith("ssooidc_jupyter/labextension/") for name in names)


def test_the_wheel_carries_the_version_of_package_json(wheel: Path) -> None:
    import zipfile

    archive = zipfile.ZipFile(wheel)
    assert wheel.name.startswith(f"ssooidc_jupyter-{VERSION}-")
    metadata = archive.read(f"ssooidc_jupyter-{VERSION}.dist-info/METADATA").decode()
    assert f"\nVersion: {VERSION}\n" in metadata
    share = f"ssooidc_jupyter-{VERSION}.data/data/share/jupyter/labextensions/ssooidc-jupyter/"
    assert json.loads(archive.read(share + "package.json"))["version"] == VERSION


def test_installed_wheel_enables_the_server_extension(
    installed: tuple[Path, dict[str, str]],
) -> None:
    python, env = installed
    where = _run(
        [
            str(python),
            "-c",
            "import ssooidc_jupyter as s; print(s.__file__); print(s.__version__)",
        ],
        env=env,
        cwd=env["HOME"],
    )
    assert str(python.parent.parent) in where.stdout, where.stdout + where.stderr
    assert where.stdout.split()[-1] == VERSION, where.stdout
    listed = _run(
        [str(python), "-m", "jupyter", "server", "extension", "list"], env=env, cwd=env["HOME"]
    )
    output = listed.stdout + listed.stderr
    assert listed.returncode == 0, output
    lines = [line for line in output.splitlines() if "ssooidc_jupyter" in line]
    assert any("enabled" in line for line in lines), output
    assert any("OK" in line for line in lines), output


def test_installed_wheel_ships_the_labextension(installed: tuple[Path, dict[str, str]]) -> None:
    python, env = installed
    listed = _run([str(python), "-m", "jupyter", "labextension", "list"], env=env, cwd=env["HOME"])
    output = listed.stdout + listed.stderr
    assert listed.returncode == 0, output
    line = next(line for line in output.splitlines() if "ssooidc-jupyter" in line)
    assert "enabled" in line and "OK" in line, output
    assert str(python.parent.parent) in output, output
