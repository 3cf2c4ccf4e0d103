"""The cache as an ordinary user sees it: permissions that root would walk through.

CI runs as root, which hides every permission fault. So, when run as root, this file runs
the cache tests (``test_cache.py`` and this file) again as ``nobody`` with a HOME of its own
(``setpriv``); when run as an ordinary user, its own cases run directly.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import warnings
from pathlib import Path

import pytest

import ssooidc_jupyter as sj
from ssooidc_jupyter.auth._cache import CacheWarning
from ssooidc_jupyter.emulator import Emulator
from tests._support import ROOT, emulator_fixture

NOBODY = 65534
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _as_nobody(*command: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _interpreter(env: dict[str, str], cwd: Path) -> str | None:
    """A Python of this version that ``nobody`` may run (a pyenv build under /root is not)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, f"/usr/bin/python{version}"):
        if os.path.exists(candidate):
            # It must also start itself again: multiprocessing's children do.
            again = (
                "import subprocess, sys; subprocess.run([sys.executable, '-c', '0'], check=True)"
            )
            probe = _as_nobody(candidate, "-c", again, env=env, cwd=cwd)
            if probe.returncode == 0:
                return candidate
    return None


@pytest.mark.skipif(not IS_ROOT, reason="runs the cache tests as nobody; already unprivileged")
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux)")
def test_cache_tests_pass_as_an_unprivileged_user() -> None:
    # pytest's tmp_path lies under a 0700 directory of root's: a directory of our own.
    with tempfile.TemporaryDirectory(prefix="ssooidc-nonroot-") as scratch:
        Path(scratch).chmod(0o755)
        _run_cache_tests_as_nobody(Path(scratch))


def _run_cache_tests_as_nobody(tmp_path: Path) -> None:
    # A copy nobody can read, wherever the checkout lives: the package, the cache tests and
    # the pytest configuration. Dependencies come from this environment's site-packages.
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "ssooidc_jupyter", tree / "ssooidc_jupyter")
    packages = [str(init.relative_to(ROOT)) for init in ROOT.glob("tests/**/__init__.py")]
    support = ["tests/conftest.py", "tests/_support.py", *packages]
    for name in (*support, "tests/auth/test_cache.py", "tests/auth/test_nonroot.py"):
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tree / name)
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    home = tmp_path / "nobody-home"
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    for path in [*tree.rglob("*"), tree]:
        path.chmod(path.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if path.is_dir() else 0))
    site = sysconfig.get_paths()["purelib"]
    env = {
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        # The site directory too, for multiprocessing's children (they skip our addsitedir).
        "PYTHONPATH": os.pathsep.join([str(tree), sysconfig.get_paths()["purelib"]]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
    }
    python = _interpreter(env, tree)
    if python is None:
        pytest.skip("no Python interpreter of this version that nobody may run")
    readable = _as_nobody(python, "-c", f"import os; os.listdir({site!r})", env=env, cwd=tree)
    if readable.returncode != 0:
        pytest.skip(f"nobody cannot read the installed packages in {site}")
    script = (
        "import site, sys\n"
        # Only this environment's packages: the system's dist-packages (Debian's pyOpenSSL,
        # say) mixed with this environment's newer cryptography warn, and warnings are errors.
        "sys.path[:] = [p for p in sys.path if not p.endswith('dist-packages')]\n"
        f"site.addsitedir({site!r})\n"
        "import pytest\n"
        "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', "
        "'tests/auth/test_cache.py', 'tests/auth/test_nonroot.py']))\n"
    )
    run = _as_nobody(python, "-c", script, env=env, cwd=tree)
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-2000:]
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in summary and "failed" not in summary


emu = emulator_fixture(endpoint_env="AWS_ENDPOINT_URL", interval=0.05, auto_approve=0.02)


def _unwritable_cache(home: Path) -> Path:
    """The default cache directory, made unwritable for this user: read-only as an
    ordinary user, another user's as root (chmod does not stop root)."""
    directory = home / ".aws" / "sso" / "cache"
    directory.mkdir(parents=True, mode=0o700)
    if IS_ROOT:
        os.chown(directory, NOBODY, NOBODY)
    else:
        directory.chmod(0o500)
    return directory


def test_unwritable_cache_still_signs_in_without_caching_with_one_warning(
    clean_aws_env: Path, emu: Emulator
) -> None:
    directory = _unwritable_cache(clean_aws_env)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        token = sj.login(emu.start_url, emu.region, on_prompt=lambda prompt: None)
    cache_warnings = [w for w in caught if issubclass(w.category, CacheWarning)]
    assert len(cache_warnings) == 1, [str(w.message) for w in caught]
    assert len(caught) == 1
    message = str(cache_warnings[0].message)
    assert "without saving the token" in message and str(directory) in message
    assert token.access_token in emu.secrets and not token.expired
    assert list(directory.iterdir()) == []
    directory.chmod(0o700)  # let pytest clean up


async def test_unwritable_cache_async_sign_in_works_too(clean_aws_env: Path, emu: Emulator) -> None:
    directory = _unwritable_cache(clean_aws_env)
    with pytest.warns(CacheWarning, match="without saving the token"):
        token = await sj.login_async(emu.start_url, emu.region, on_prompt=lambda p: None)
    assert token.access_token in emu.secrets
    assert list(directory.iterdir()) == []
    directory.chmod(0o700)


def test_unwritable_home_signs_in_without_caching(clean_aws_env: Path, emu: Emulator) -> None:
    # No ~/.aws at all, and a HOME that cannot get one.
    if IS_ROOT:
        os.chown(clean_aws_env, NOBODY, NOBODY)
        clean_aws_env.chmod(0o755)
    else:
        clean_aws_env.chmod(0o500)
    with pytest.warns(CacheWarning, match="not writable|owned by another user"):
        token = sj.login(emu.start_url, emu.region, on_prompt=lambda prompt: None)
    assert token.access_token in emu.secrets
    assert not (clean_aws_env / ".aws").exists()
    clean_aws_env.chmod(0o700)
