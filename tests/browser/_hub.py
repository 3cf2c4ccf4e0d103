"""A real JupyterHub for the tests: the hub from PyPI, configurable-http-proxy from npm, the
SimpleLocalProcessSpawner with a home per user, the dummy authenticator with a password, and
the admin's defaults set where docs/jupyterhub.md says: ``c.Spawner.environment``.

Nothing here is a test. ``python tests/browser/_hub.py --spawn-times N`` prints the spawn time
of a user's server with and without the server extension (the figure in docs/jupyterhub.md).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _harness import REPO, _clean_environ, free_port, stop_group, write_settings

PASSWORD = "correct horse battery staple"
#: The admin's default sign-in, by its sso-session name (the cache key kernels use too).
SESSION = "corp"


def find_proxy() -> str | None:
    """configurable-http-proxy: installed by `make test` / .ci/run into .hub-proxy/, or on PATH."""
    local = REPO / ".hub-proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
    if os.access(local, os.X_OK):
        return str(local)
    return shutil.which("configurable-http-proxy")


def missing_hub_requirement() -> str | None:
    try:
        import jupyterhub  # noqa: F401
    except ImportError as exc:
        return f"the 'jupyterhub' package is not installed ({exc})"
    if find_proxy() is None:
        return (
            "configurable-http-proxy is not installed (make test installs it into "
            ".hub-proxy/: npm install --prefix .hub-proxy configurable-http-proxy@5)"
        )
    return None


class ApiFailure(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body[:300]}")
        self.status = status


def request(
    url: str,
    method: str = "GET",
    body: Any = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 20,
) -> tuple[int, Any]:
    """(status, decoded JSON or None); any HTTP status is returned, not raised."""
    data = None if body is None else json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"token {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, exc.read()
    try:
        decoded = json.loads(payload) if payload else None
    except ValueError:
        decoded = payload.decode(errors="replace")
    return status, decoded


@dataclass
class Hub:
    base: Path
    environment: dict[str, str]
    #: False: the server extension disabled (to time a spawn without it).
    extension: bool = True
    #: Lines appended to jupyterhub_config.py.
    extra_config: str = ""
    port: int = 0
    token: str = field(default_factory=lambda: secrets.token_hex(24))
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.homes = self.base / "homes"
        self.jupyter_config = self.base / "jupyter-config"
        self.jupyter_data = self.base / "jupyter-data"
        self.log_path = self.base / "hub.log"
        for path in (self.homes, self.jupyter_config, self.jupyter_data):
            path.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def home(self, user: str) -> Path:
        return self.homes / user

    # -- set-up ------------------------------------------------------------------------------

    def _install_extension(self) -> None:
        """What the wheel installs into the single-user environment's etc/ and share/, here
        in Jupyter dirs of the test's own (an editable install has neither)."""
        config_d = self.jupyter_config / "jupyter_server_config.d"
        config_d.mkdir(parents=True, exist_ok=True)
        enabled = {"ServerApp": {"jpserver_extensions": {"ssooidc_jupyter": self.extension}}}
        (config_d / "ssooidc_jupyter.json").write_text(json.dumps(enabled), encoding="utf-8")
        built = REPO / "ssooidc_jupyter" / "labextension"
        target = self.jupyter_data / "labextensions" / "ssooidc-jupyter"
        if self.extension and (built / "package.json").is_file() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(built, target_is_directory=True)
        settings = self.jupyter_config / "lab" / "user-settings"
        write_settings(
            settings,
            "@jupyterlab/apputils-extension:notification",
            {"fetchNews": "false", "checkForUpdates": False},
        )
        write_settings(
            settings, "@jupyterlab/notebook-extension:tracker", {"windowingMode": "none"}
        )

    def _config(self, proxy: str) -> str:
        bindir = Path(sys.executable).parent
        environment = {
            # The single-user servers find this environment's Jupyter, ours and the emulator's
            # settings; the test's own Jupyter dirs stand in for the image's etc/ and share/.
            "JUPYTER_CONFIG_DIR": str(self.jupyter_config),
            "JUPYTER_DATA_DIR": str(self.jupyter_data),
            "JUPYTERLAB_SETTINGS_DIR": str(self.jupyter_config / "lab" / "user-settings"),
            "JUPYTER_PLATFORM_DIRS": "1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "PYTHONDONTWRITEBYTECODE": "1",
            **self.environment,
        }
        allow_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
        lines = [
            "c = get_config()  # noqa: F821",
            "c.JupyterHub.ip = '127.0.0.1'",
            f"c.JupyterHub.port = {self.port}",
            "c.JupyterHub.hub_ip = '127.0.0.1'",
            f"c.JupyterHub.hub_port = {free_port()}",
            f"c.JupyterHub.db_url = {('sqlite:///' + str(self.base / 'hub.sqlite'))!r}",
            f"c.JupyterHub.cookie_secret_file = {str(self.base / 'cookie_secret')!r}",
            f"c.ConfigurableHTTPProxy.command = [{proxy!r}]",
            f"c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{free_port()}'",
            f"c.ConfigurableHTTPProxy.pid_file = {str(self.base / 'proxy.pid')!r}",
            "c.ConfigurableHTTPProxy.debug = False",
            "c.JupyterHub.authenticator_class = 'dummy'",
            f"c.DummyAuthenticator.password = {PASSWORD!r}",
            "c.Authenticator.allowed_users = {'alice', 'bob'}",
            "c.JupyterHub.spawner_class = 'simple'",
            f"c.SimpleLocalProcessSpawner.home_dir_template = {str(self.homes / '{username}')!r}",
            f"c.Spawner.cmd = [{str(bindir / 'jupyterhub-singleuser')!r}]",
            f"c.Spawner.args = {allow_root!r}",
            "c.Spawner.default_url = '/lab'",
            "c.Spawner.start_timeout = 90",
            "c.Spawner.http_timeout = 90",
            f"c.Spawner.environment = {environment!r}",
            "c.JupyterHub.cleanup_servers = True",
            f"c.JupyterHub.services = [{{'name': 'tests', 'api_token': {self.token!r}}}]",
            "c.JupyterHub.load_roles = [{'name': 'tests', 'scopes': ['admin:users', "
            "'admin:servers', 'tokens', 'read:users'], 'services': ['tests']}]",
        ]
        return "\n".join(lines) + "\n" + self.extra_config

    def start(self, timeout: float = 60.0) -> Hub:
        proxy = find_proxy()
        if proxy is None:
            raise RuntimeError(missing_hub_requirement() or "no proxy")
        self._install_extension()
        self.port = free_port()
        config = self.base / "jupyterhub_config.py"
        config.write_text(self._config(proxy), encoding="utf-8")
        env = _clean_environ()
        env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(config)],
                cwd=self.base,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyterhub exited:\n{self.log_tail()}")
            with suppress(OSError):
                status, _ = request(f"{self.url}/hub/api/", timeout=2)
                if status == 200:
                    return self
            time.sleep(0.2)
        raise RuntimeError(f"jupyterhub not ready after {timeout:.0f} s:\n{self.log_tail()}")

    # -- the hub's REST API -------------------------------------------------------------------

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return request(f"{self.url}/hub/api{path}", method, body, token=self.token)

    def user_token(self, user: str) -> str:
        self.api("POST", "/users", {"usernames": [user]})
        status, data = self.api("POST", f"/users/{user}/tokens", {"note": "tests"})
        if status not in (200, 201):
            raise ApiFailure(status, str(data))
        return str(data["token"])

    def server_ready(self, user: str) -> bool:
        status, data = self.api("GET", f"/users/{user}")
        server = (data or {}).get("servers", {}).get("", {}) if status == 200 else {}
        return bool(server.get("ready"))

    def spawn(self, user: str, timeout: float = 90.0) -> float:
        """Start ``user``'s server; seconds until the hub says it is ready."""
        began = time.monotonic()
        self.api("POST", "/users", {"usernames": [user]})
        status, data = self.api("POST", f"/users/{user}/server")
        if status not in (201, 202, 400):  # 400: already running
            raise ApiFailure(status, str(data))
        self.wait(lambda: self.server_ready(user), timeout, f"{user}'s server did not start")
        return time.monotonic() - began

    def stop_server(self, user: str, timeout: float = 60.0) -> None:
        self.api("DELETE", f"/users/{user}/server")

        def stopped() -> bool:
            status, data = self.api("GET", f"/users/{user}")
            return status == 200 and not data.get("servers")

        self.wait(stopped, timeout, f"{user}'s server did not stop")

    def wait(self, condition: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} within {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.1)

    # -- tear-down ------------------------------------------------------------------------------

    def stop(self) -> None:
        process = self.process
        if process is None:
            return
        # SIGTERM: the hub stops the users' servers (cleanup_servers) and its proxy.
        stop_group(process, grace=30)
        self.process = None

    def log_tail(self, lines: int = 80) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


class HubUserServer:
    """One user's server behind the hub, shaped like ``_harness.JupyterServer`` for
    :class:`_harness.NotebookUI` (``flavour``, ``page_url``, ``api``)."""

    flavour = "lab"

    def __init__(self, hub: Hub, user: str, token: str) -> None:
        self.hub = hub
        self.user = user
        self.token = token

    @property
    def url(self) -> str:
        return f"{self.hub.url}/user/{self.user}"

    def page_url(self, path: str) -> str:
        return f"{self.url}/lab/tree/{path}?reset"

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10) -> Any:
        status, data = request(f"{self.url}{path}", method, body, token=self.token, timeout=timeout)
        if status >= 400:
            raise ApiFailure(status, str(data))
        return data


def spawn_times(runs: int) -> dict[str, list[float]]:
    """Seconds to spawn a user's server, ``runs`` times with and without the extension."""
    import tempfile

    from ssooidc_jupyter.emulator import Emulator

    times: dict[str, list[float]] = {"with": [], "without": []}
    with Emulator() as emu, tempfile.TemporaryDirectory() as tmp:
        env = {
            "SSOOIDC_START_URL": emu.start_url,
            "SSOOIDC_REGION": emu.region,
            "SSOOIDC_SESSION_NAME": SESSION,
            "AWS_ENDPOINT_URL": emu.url,
        }
        hubs = {
            label: Hub(Path(tmp) / label, env, extension=enabled)
            for label, enabled in (("without", False), ("with", True))
        }
        try:
            for hub in hubs.values():
                hub.start()
            # Alternate, so that the machine's load (shared, 2 cores) hits both alike.
            for _ in range(runs):
                for label, hub in hubs.items():
                    times[label].append(hub.spawn("alice"))
                    hub.stop_server("alice")
        finally:
            for hub in hubs.values():
                hub.stop()
    return times


if __name__ == "__main__":
    runs = int(sys.argv[sys.argv.index("--spawn-times") + 1]) if "--spawn-times" in sys.argv else 3
    for label, values in spawn_times(runs).items():
        shown = ", ".join(f"{value:.2f}" for value in values)
        print(f"{label} the extension: {shown} s (median {sorted(values)[len(values) // 2]:.2f} s)")
