"""The notebooks in ``notebooks/`` run, match their recorded outputs, and leak nothing.

- ``notebooks/*.ipynb`` are committed without outputs (a user opens a clean notebook, and
  no stale port, account or ARN of an old run is shipped); a test keeps them so.
- Their reference outputs live in ``tests/frontends/references/`` (same cells, recorded outputs).
  ``pytest --nbval`` runs each reference in a subprocess against an auto-approving emulator
  and compares every cell's output with the recorded one, after sanitizing what changes
  from run to run (ports, codes, times, temp paths, the random part of role ARNs).
- nbclient executes them the way a user's save would (with widget state), and the saved
  file is searched for every secret the emulator issued.

The recorded outputs are what nbval sees: a cell's own outputs, not later display updates.
nbclient would fold those updates in, so it cannot record the references. To re-record them
after changing a notebook or an output, run ``python -m tests.frontends.test_notebooks``
(from the checkout).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from queue import Empty
from typing import Any

import nbformat
import pytest

from ssooidc_jupyter.emulator import Emulator
from tests._support import ROOT

NOTEBOOKS = ROOT / "notebooks"
QUICKSTART = NOTEBOOKS / "quickstart.ipynb"
ADMIN = NOTEBOOKS / "jupyterhub-admin.ipynb"
REFERENCES = Path(__file__).parent / "references"


def reference(notebook: Path) -> Path:
    """The copy of ``notebook`` with recorded outputs that nbval compares against."""
    return REFERENCES / notebook.name


def code_sources(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


# nbval's format: pairs of regex/replace lines per section, applied to both sides.
SANITIZE = r"""
[ports]
regex: (127\.0\.0\.1|localhost):\d+
replace: \1:PORT

[user codes]
regex: \b[A-Z]{4}-[A-Z]{4}\b
replace: CODE-CODE

[dates]
regex: \d{4}-\d{2}-\d{2}
replace: YYYY-MM-DD

[times]
regex: \b\d{2}:\d{2}(:\d{2})? ([A-Z]{2,5}|[+-]\d{2,4})\b
replace: HH:MM TZ

[time left]
regex: \bin (\d+ h \d+ min|\d+ h|\d+ min)\b
replace: in TIME

[role ARN suffix]
regex: AWSReservedSSO_(\w+?)_[0-9a-f]{16}
replace: AWSReservedSSO_\1_SUFFIX

[run marks]
regex: ssooidc-run-[0-9a-f]{12}
replace: ssooidc-run-MARK

[temporary paths]
regex: /tmp/[^\s'"<]+
replace: /tmp/PATH
"""


def admin_profile(ipythondir: Path, emu: Emulator) -> None:
    """A profile standing in for an admin's /etc/ipython (see docs/jupyterhub.md)."""
    profile = ipythondir / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_kernel_config.py").write_text(
        textwrap.dedent(
            f"""\
            c = get_config()  # noqa: F821
            c.InteractiveShellApp.extensions.append("ssooidc_jupyter")
            c.SSOOIDC.start_url = {emu.start_url!r}
            c.SSOOIDC.region = {emu.region!r}
            c.SSOOIDC.endpoint = {emu.url!r}
            """
        )
    )


def notebook_env(home: Path, emu: Emulator, notebook: Path) -> dict[str, str]:
    """The quickstart gets its defaults from SSOOIDC_* variables; the admin notebook from an
    admin-style kernel config. Both reach the portal and STS through AWS_ENDPOINT_URL."""
    home.mkdir(parents=True, exist_ok=True)
    ipythondir = home / ".ipython"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_", "SSOOIDC_"))}
    env.update(
        HOME=str(home),
        IPYTHONDIR=str(ipythondir),
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_ENDPOINT_URL=emu.url,
        AWS_EC2_METADATA_DISABLED="true",
        JUPYTER_PLATFORM_DIRS="1",
    )
    if notebook == ADMIN:
        admin_profile(ipythondir, emu)
    else:
        env.update(SSOOIDC_START_URL=emu.start_url, SSOOIDC_REGION=emu.region)
    return env


@contextmanager
def emulator() -> Iterator[Emulator]:
    with Emulator(interval=0.1, auto_approve=0.3) as emu:
        yield emu


# ---- nbval --------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("notebook", [QUICKSTART, ADMIN], ids=lambda p: p.name)
def test_notebook_matches_its_recorded_outputs(tmp_path: Path, notebook: Path) -> None:
    assert code_sources(reference(notebook)) == code_sources(notebook), (
        f"{reference(notebook)} is out of date: run python -m tests.frontends.test_notebooks"
    )
    sanitize = tmp_path / "sanitize.cfg"
    sanitize.write_text(SANITIZE)
    with emulator() as emu:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--nbval",
                "--nbval-current-env",
                "--nbval-cell-timeout=60",
                f"--nbval-sanitize-with={sanitize}",
                "-p",
                "no:cacheprovider",
                "-q",
                str(reference(notebook)),
            ],
            cwd=ROOT,
            env=notebook_env(tmp_path / "home", emu, notebook),
            capture_output=True,
            text=True,
            timeout=300,
        )
        issued = emu.secrets
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert issued, "the notebook never signed in"
    for secret in issued:
        assert secret not in result.stdout + result.stderr


# ---- saved notebooks hold no secret -------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("notebook", [QUICKSTART, ADMIN], ids=lambda p: p.name)
def test_a_saved_executed_notebook_holds_no_secret(tmp_path: Path, notebook: Path) -> None:
    from nbclient import NotebookClient

    saved = tmp_path / notebook.name
    with emulator() as emu:
        nb = nbformat.read(notebook, as_version=4)
        client = NotebookClient(
            nb,
            timeout=60,
            kernel_name="python3",
            store_widget_state=True,
            resources={"metadata": {"path": str(tmp_path)}},
        )
        env = notebook_env(tmp_path / "home", emu, notebook)
        client.execute(env=env)
        nbformat.write(nb, saved)
        secrets = emu.secrets
    text = saved.read_text()
    assert len(secrets) >= 3  # client secret, access and refresh tokens at least
    for secret in secrets:
        assert secret not in text
    # The widget's state was saved (so the check above covered it) and holds no secret.
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert state
    assert any("ssooidc-view" in json.dumps(model) for model in state.values())


def test_committed_notebooks_hold_nothing_secret_looking() -> None:
    for notebook in (QUICKSTART, ADMIN):
        text = notebook.read_text()
        for marker in ("emu-secret", "accessToken", "refreshToken", "clientSecret", "ASIA"):
            assert marker not in text, f"{marker} in {notebook.name}"
        nb = nbformat.read(notebook, as_version=4)
        nbformat.validate(nb)


@pytest.mark.parametrize("notebook", [QUICKSTART, ADMIN], ids=lambda p: p.name)
def test_committed_notebooks_have_no_outputs(notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"a cell of {notebook.name} has outputs: clear them"
            assert cell.execution_count is None
    assert "widgets" not in nb.metadata, f"{notebook.name} carries saved widget state"


# ---- the quickstart uses the role picked in the widget ----------------------------------------


class _Frontend:
    """The part of a notebook frontend the role picker talks to: the widget models a kernel
    opens and updates (comm messages on iopub), and the updates and clicks a browser sends
    back (comm messages on the shell channel), as JupyterLab's widget manager does."""

    def __init__(self, kc: Any) -> None:
        self.kc = kc
        self.models: dict[str, dict[str, Any]] = {}

    def pump(self, done: Any, timeout: float = 60) -> None:
        """Apply iopub messages to the models until ``done()``."""
        import time

        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("the widgets never got there")
            try:
                message = self.kc.get_iopub_msg(timeout=min(left, 1.0))
            except Empty:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "comm_open":
                self.models[content["comm_id"]] = dict(content["data"].get("state", {}))
            elif kind == "comm_msg" and content["data"].get("method") in ("update", "echo_update"):
                self.models.setdefault(content["comm_id"], {}).update(content["data"]["state"])

    def find(self, css_class: str) -> str | None:
        for comm_id, state in self.models.items():
            if css_class in state.get("_dom_classes", ()):
                return comm_id
        return None

    def state(self, css_class: str) -> dict[str, Any]:
        comm_id = self.find(css_class)
        return self.models[comm_id] if comm_id else {}

    def send(self, css_class: str, data: dict[str, Any]) -> None:
        comm_id = self.find(css_class)
        assert comm_id, f"no widget .{css_class}"
        self.kc.shell_channel.send(
            self.kc.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
        )

    def select(self, css_class: str, label: str) -> None:
        labels = list(self.state(css_class)["_options_labels"])
        self.send(
            css_class,
            {"method": "update", "state": {"index": labels.index(label)}, "buffer_paths": []},
        )


@pytest.mark.slow
def test_the_quickstart_uses_the_role_picked_in_the_widget(tmp_path: Path) -> None:
    """After "Use this role" (the last account, its last role), the quickstart's next
    cells -- unchanged -- get STS's answer for that account and role, not the first ones."""
    from jupyter_client import KernelManager

    cells = code_sources(QUICKSTART)
    login = next(i for i, source in enumerate(cells) if source.startswith("%ssooidc login"))
    with emulator() as emu:
        target = emu.accounts[-1]
        role = target["roles"][-1]
        assert (target["accountId"], role) != (
            emu.accounts[0]["accountId"],
            emu.accounts[0]["roles"][0],
        )
        km = KernelManager(kernel_name="python3")
        km.start_kernel(env=notebook_env(tmp_path / "home", emu, QUICKSTART), cwd=str(NOTEBOOKS))
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            ui = _Frontend(kc)
            for source in cells[: login + 1]:
                kc.execute(source, allow_stdin=False)
            accounts = "ssooidc-account-select"
            ui.pump(lambda: len(ui.state(accounts).get("_options_labels", ())) == 2)
            ui.select(accounts, f"{target['accountName']} ({target['accountId']})")
            roles = "ssooidc-role-select"
            ui.pump(lambda: list(ui.state(roles).get("_options_labels", ())) == target["roles"])
            ui.select(roles, role)
            ui.pump(lambda: ui.state(roles).get("index") == target["roles"].index(role))
            ui.send("ssooidc-use-role", {"method": "custom", "content": {"event": "click"}})
            ui.pump(lambda: "Using role" in ui.state("ssooidc-bound").get("value", ""))
            assert f"<b>{role}</b>" in ui.state("ssooidc-bound")["value"]

            # The cells after the sign-in, down to "Who am I?", as a person runs them.
            identity = next(i for i, c in enumerate(cells) if "get_caller_identity" in c)
            shown = ""
            for source in cells[login + 1 : identity + 1]:
                for output in _run_cell(kc, source):
                    shown += output.get("text", "") + str(output.get("data", {}))
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    assert f"account_id='{target['accountId']}', role_name='{role}'" in shown, shown
    assert f"Account: {target['accountId']}" in shown, shown
    assert f"assumed-role/AWSReservedSSO_{role}_" in shown, shown


# ---- recording the references --------------------------------------------------------------


def record_outputs(notebook: Path, env: dict[str, str], cwd: Path) -> None:
    """Execute ``notebook`` and store each cell's outputs as nbval will see them."""
    from jupyter_client import KernelManager

    nb = nbformat.read(notebook, as_version=4)
    km = KernelManager(kernel_name="python3")
    km.start_kernel(env=env, cwd=str(cwd))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        for count, cell in enumerate((c for c in nb.cells if c.cell_type == "code"), 1):
            cell.outputs = _run_cell(kc, cell.source)
            cell.execution_count = count
            for output in cell.outputs:
                if output.get("output_type") == "execute_result":
                    output["execution_count"] = count
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    nbformat.write(nb, notebook)


def _run_cell(kc: Any, source: str) -> list[Any]:
    msg_id = kc.execute(source, allow_stdin=False)
    outputs: list[Any] = []
    while True:
        try:
            message = kc.get_iopub_msg(timeout=60)
        except Empty as exc:
            raise RuntimeError(f"no output from {source!r}") from exc
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "status" and content["execution_state"] == "idle":
            from nbval.plugin import coalesce_streams

            return list(coalesce_streams(outputs))
        if kind in {"display_data", "execute_result", "stream", "error"}:
            output = nbformat.v4.output_from_msg(message)
            if kind == "error":
                raise RuntimeError(f"{source!r} failed: {content['evalue']}")
            outputs.append(output)


def main() -> None:
    import tempfile

    REFERENCES.mkdir(exist_ok=True)
    for notebook in (QUICKSTART, ADMIN):
        target = reference(notebook)
        target.write_bytes(notebook.read_bytes())
        with emulator() as emu, tempfile.TemporaryDirectory() as tmp:
            # The kernel runs next to the original: relative paths resolve the same.
            record_outputs(target, notebook_env(Path(tmp) / "home", emu, notebook), NOTEBOOKS)
        sys.stderr.write(f"recorded {target.relative_to(ROOT)}\n")


if __name__ == "__main__":
    main()
