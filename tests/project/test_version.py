"""The version is written once, in package.json: every place that shows it agrees.

The build reads it from package.json (``[tool.hatch.version] source = "nodejs"``) into the
installed metadata; ``ssooidc_jupyter.__version__`` and the User-Agent read that metadata; the
built labextension's package.json is copied from it. The wheel's metadata and the
labextension inside the wheel are checked in tests/server/test_server_wheel.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version

import pytest

import ssooidc_jupyter as sj
from tests._support import ROOT

PACKAGE_JSON = json.loads((ROOT / "package.json").read_text())
#: The one source.
VERSION: str = PACKAGE_JSON["version"]
#: How a version could be spelled in a Python source ("0.1.0", '1.2.3rc1').
_VERSION_LITERAL = re.compile(r"""["']\d+\.\d+\.\d+[\w.+-]*["']""")


def test_package_json_holds_a_version() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+([-.+]\w+)*", VERSION), VERSION


def test_pyproject_takes_the_version_from_package_json() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["hatch"]["version"] == {"source": "nodejs"}
    assert any(
        requirement.startswith("hatch-nodejs-version")
        for requirement in pyproject["build-system"]["requires"]
    )


def test_no_version_literal_in_the_package() -> None:
    """No module writes the version again (as __init__.py and oidc/_http.py once did)."""
    for path in sorted((ROOT / "ssooidc_jupyter").rglob("*.py")):
        text = path.read_text()
        for match in _VERSION_LITERAL.finditer(text):
            line = text[: match.start()].count("\n") + 1
            source = text.splitlines()[line - 1]
            assert VERSION not in match.group(), f"{path.relative_to(ROOT)}:{line}: {source}"


def test_installed_metadata_and_dunder_version_agree_with_package_json() -> None:
    # A failure here after a version bump in an editable install: reinstall
    # (`make` does, as its stamp depends on package.json).
    assert version("ssooidc-jupyter") == VERSION
    assert sj.__version__ == VERSION
    assert "__version__" in sj.__all__ and "__version__" in dir(sj)


def test_dunder_version_costs_no_import_until_read() -> None:
    code = (
        "import sys, ssooidc_jupyter as s\n"
        "before = 'importlib.metadata' in sys.modules\n"
        "print(before, s.__version__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", VERSION]


def test_built_labextension_carries_the_version() -> None:
    built = ROOT / "ssooidc_jupyter" / "labextension" / "package.json"
    if not built.exists():
        pytest.skip("the labextension is not built (make labextension)")
    assert json.loads(built.read_text())["version"] == VERSION


class _Recorder(BaseHTTPRequestHandler):
    agents: list[str] = []

    def do_POST(self) -> None:
        self.agents.append(self.headers.get("User-Agent", ""))
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = b'{"error":"invalid_request","error_description":"recorded"}'
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    agents: list[str] = []
    handler = type("Handler", (_Recorder,), {"agents": agents})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", agents
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_user_agent_on_the_wire_carries_the_version(recorder: tuple[str, list[str]]) -> None:
    url, agents = recorder
    with (
        sj.ssooidc(endpoint=url, region="us-east-1") as client,
        pytest.raises(sj.InvalidRequestException),
    ):
        client.register_client(clientName="version-test", clientType="public")
    assert agents, "no request reached the server"
    assert agents[0].startswith(f"ssooidc-jupyter/{VERSION} "), agents
