"""Every user-facing path, with every secret the emulator issued, and none of them anywhere.

One real kernel (nbclient, as Jupyter runs a notebook and saves it with its widget state)
runs a notebook that does what users do: DEBUG logging for every library in the first cell,
then every ``%ssooidc`` subcommand, a role session and an AWS call made with it, the
widget's sign-in and role choice, the reprs and ``str`` of every object we hand out,
error paths (a usage error, a refused start URL, a refused refresh token), and the logout. The cell
outputs, the saved ``.ipynb`` (with widget state), the kernel's stderr and the emulator's
issued secrets are then compared: no access token, refresh token, client secret, device
code or AWS key may appear in any of them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from ssooidc_jupyter.emulator import Emulator

pytestmark = pytest.mark.slow

CELLS = [
    # DEBUG for everything, into the cell outputs (the worst case of issue 9, point 1).
    """
import logging, sys
logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, force=True)
for name in ("botocore", "boto3", "urllib3", "httpx", "httpcore", "ssooidc_jupyter"):
    logging.getLogger(name).setLevel(logging.DEBUG)
""",
    "%load_ext ssooidc_jupyter",
    "%ssooidc --help",
    "%ssooidc login --start-url {start_url} --region {region} --account {account} "
    "--role {role} --wait",
    "ssooidc_token",
    "print(repr(ssooidc_token), str(ssooidc_token))",
    "session",
    "print(session.client('sts').get_caller_identity()['Arn'])",
    "creds = ssooidc_token.credentials('{account}', '{role}')\nprint(repr(creds))",
    "print(ssooidc_token.accounts())",
    "%ssooidc status",
    "%ssooidc accounts",
    "%ssooidc refresh",
    "%ssooidc bogus",
    """
import ssooidc_jupyter as sj
try:
    sj.login('http://evil.example/start', 'us-east-1')
except sj.SSOOIDCError as exc:
    print(type(exc).__name__, exc, repr(exc))
""",
    """
import ssooidc_jupyter as sj
client = sj.ssooidc(endpoint='{endpoint}', region='{region}')
reg = client.register_client(clientName='leak-test', clientType='public')
print(reg)
try:
    client.create_token(clientId=reg['clientId'], clientSecret=reg['clientSecret'],
                        grantType='refresh_token', refreshToken='not-a-token')
except sj.SSOOIDCError as exc:
    print(type(exc).__name__, exc, repr(exc))
""",
    """
from ssooidc_jupyter import LoginWidget
ns = {{}}
w = LoginWidget(start_url='{start_url}', region='{region}', force=True, variable='tok',
                session_variable='sess', namespace=ns)
display(w)
w.sign_in()
import time
deadline = time.monotonic() + 60
while not w.signed_in and time.monotonic() < deadline:
    time.sleep(0.05)
while w.view.picker.account_select.value is None and time.monotonic() < deadline:
    time.sleep(0.05)
w.view.picker.use.click()
while w.session is None and time.monotonic() < deadline:
    time.sleep(0.05)
print(w.state, sorted(ns), repr(w.token), w.status)
""",
    "%ssooidc logout",
    "%ssooidc status",
]


def test_no_secret_in_any_output_log_repr_or_saved_notebook(
    tmp_path: Path, emulator_factory: Callable[..., Emulator]
) -> None:
    from nbclient import NotebookClient

    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    emu = emulator_factory(interval=0.1, auto_approve=0.2)
    account = emu.accounts[0]
    values = {
        "start_url": emu.start_url,
        "region": emu.region,
        "endpoint": emu.url,
        "account": account["accountId"],
        "role": account["roles"][0],
    }
    cells = [nbformat.v4.new_code_cell(source.format(**values)) for source in CELLS]
    notebook = nbformat.v4.new_notebook(cells=cells)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_"))}
    env.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_ENDPOINT_URL=emu.url,
        AWS_EC2_METADATA_DISABLED="true",
        IPYTHONDIR=str(home / ".ipython"),
        JUPYTER_PLATFORM_DIRS="1",
    )
    client = NotebookClient(
        notebook,
        timeout=90,
        kernel_name="python3",
        store_widget_state=True,
        allow_errors=True,  # the error paths are part of the test
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute(env=env)
    saved = tmp_path / "saved.ipynb"
    nbformat.write(notebook, saved)
    secrets = set(emu.secrets)
    for path in home.rglob("*"):
        # Secrets legitimately live in the token cache files (0600): nowhere else.
        if path.is_file() and path.suffix != ".json" and ".aws" not in path.parts:
            text = path.read_text(errors="replace")
            assert not [s for s in secrets if s in text], path

    assert len(secrets) >= 6, "the emulator issued too few secrets: the test proves nothing"
    text = saved.read_text()
    leaked = sorted(
        {
            f"cell {i}": s[:6]
            for i, cell in enumerate(notebook.cells)
            for s in secrets
            if s in json.dumps(cell.get("outputs", []))
        }.items()
    )
    assert not leaked, f"secrets in cell outputs: {leaked}"
    assert not [s for s in secrets if s in text], "a secret is in the saved notebook"
    # The notebook really went through the paths it claims to.
    outputs = json.dumps([cell.get("outputs", []) for cell in notebook.cells])
    assert "DEBUG" in outputs  # logging reached the outputs
    assert "assumed-role/AWSReservedSSO_" in outputs  # the STS call ran
    widget_cell = json.dumps(notebook.cells[16].get("outputs", []))
    assert "signed_in" in widget_cell and "'sess', 'tok'" in widget_cell, widget_cell[-2500:]
    assert "invalid choice" in outputs  # the usage error
    assert "Signed out of" in outputs
    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert any("ssooidc-view" in json.dumps(model) for model in state.values())


def test_the_checker_sees_a_leak(tmp_path: Path, emulator_factory: Callable[..., Emulator]) -> None:
    # The scan above must be able to fail: a cell that prints the token is caught.
    emu = emulator_factory(interval=0.1, auto_approve=0.1)
    os.environ["AWS_ENDPOINT_URL"] = emu.url
    try:
        import ssooidc_jupyter as sj

        token = sj.login(emu.start_url, emu.region, cache=tmp_path, on_prompt=lambda p: None)
        printed = f"oops {token.access_token}"
    finally:
        del os.environ["AWS_ENDPOINT_URL"]
    assert any(secret in printed for secret in emu.secrets)
