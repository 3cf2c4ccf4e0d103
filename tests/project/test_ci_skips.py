"""`.ci/run` stays honest: with ``CI`` set, a test skipped because a package is missing
fails (tests/conftest.py), and a skip that describes the machine stays a skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests._support import ROOT

SKIPS = """
import pytest

def test_needs_a_package():
    pytest.importorskip("ssooidc_no_such_package")

@pytest.mark.skipif(True, reason="needs voila (pip install voila)")
def test_says_how_to_install():
    pass

@pytest.mark.skipif(True, reason="no IPv6 loopback here")
def test_about_the_machine():
    pass
"""


PYTEST = [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "-p", "no:xdist"]


def _run(tmp_path: Path, ci: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_skips.py").write_text(SKIPS, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    if ci:
        env["CI"] = ci
    return subprocess.run(
        [*PYTEST, "-p", "tests.conftest", "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("ci", ["true", "1"])
def test_in_ci_a_missing_package_fails(tmp_path: Path, ci: str) -> None:
    done = _run(tmp_path, ci)
    assert done.returncode == 1, done.stdout
    lines = done.stdout.splitlines()
    # importorskip fails the test; a skipif mark (judged at set-up) errors it.
    assert any(line.startswith("FAILED") and "test_needs_a_package" in line for line in lines)
    assert any(line.startswith("ERROR") and "test_says_how_to_install" in line for line in lines)
    assert done.stdout.count("skipped in CI, where every test dependency is installed") >= 2
    assert any(line.startswith("SKIPPED") and "no IPv6 loopback" in line for line in lines)


@pytest.mark.parametrize("ci", ["", "false", "0"])
def test_elsewhere_they_are_skips(tmp_path: Path, ci: str) -> None:
    done = _run(tmp_path, ci)
    assert done.returncode == 0, done.stdout
    assert "3 skipped" in done.stdout, done.stdout
