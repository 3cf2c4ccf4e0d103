"""The prebuilt extension loads, with no "Unsatisfied version" warning, in the JupyterLab and
Notebook 7 of the environment that runs this test.

A prebuilt extension takes JupyterLab's own copies of the packages it imports (the shared
scope); it states which versions it accepts in its build (package.json's ``sharedPackages``).
Built against a newer JupyterLab without them, it asked for that JupyterLab's versions
(``^4.7.6``), and JupyterLab 4.0 loaded it with a warning per package. `make test` runs this
in the main environment (the newest JupyterLab) and in nox's ``lowest`` session, where
jupyterlab and notebook are at the floors of pyproject.toml (4.0.x and 7.0.x): the oldest the
package claims to work with.
"""

from __future__ import annotations

import json
from importlib import metadata

import pytest
from _harness import REPO, UI_TIMEOUT, NotebookUI

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BUILT = REPO / "ssooidc_jupyter" / "labextension" / "package.json"
#: Where JupyterLab and Notebook 7 serve our prebuilt extension's scripts from.
OURS = "/extensions/ssooidc-jupyter/static/"


def _versions() -> str:
    return ", ".join(f"{name} {metadata.version(name)}" for name in ("jupyterlab", "notebook"))


def test_the_build_accepts_every_jupyterlab_4() -> None:
    """What the built extension asks of the shared scope is what package.json requires (the
    ranges the source needs), whatever JupyterLab built it."""
    source = json.loads((REPO / "package.json").read_text(encoding="utf-8"))
    built = json.loads(BUILT.read_text(encoding="utf-8"))
    shared = source["jupyterlab"]["sharedPackages"]
    assert set(shared) == set(source["dependencies"])
    for name, wanted in source["dependencies"].items():
        assert shared[name]["requiredVersion"] == wanted, name
    assert built["jupyterlab"]["sharedPackages"] == shared


def test_the_extension_loads_without_a_version_warning(bench, any_server) -> None:
    """The page of JupyterLab (or of a notebook in Notebook 7) shows our item, and our
    extension's code logs no "Unsatisfied version" (webpack logs it from the remoteEntry of
    the extension whose requirement failed: other extensions' warnings are not ours)."""
    from playwright.sync_api import expect

    server = any_server
    if server.flavour == "lab":
        url = f"{server.url}/lab?reset&token={server.token}"
    else:
        path = bench.notebook(server, "shared-versions.ipynb", ["1 + 1"])
        url = server.page_url(path)
    bench.servers.append(server)
    page = bench.context.new_page()
    bench.pages.append(page)
    console: list[tuple[str, str]] = []  # (script URL, "type: text")
    loaded: list[str] = []
    page.on(
        "console",
        lambda message: console.append(
            (str(message.location.get("url", "")), f"{message.type}: {message.text}")
        ),
    )
    page.on("response", lambda response: loaded.append(response.url))
    page.goto(url)
    # The shared scope is checked when the extension's module loads, before its plugin
    # activates: once the item is on the page, any such warning is in the console.
    item = page.locator(".ssooidc-status.ssooidc-statusbar")
    expect(item).to_have_text("AWS: sign in", timeout=UI_TIMEOUT)
    expect(item).to_be_visible()
    # The build of this tree was loaded (not a copy an install left in the environment).
    entry = json.loads(BUILT.read_text(encoding="utf-8"))["jupyterlab"]["_build"]["load"]
    assert any(seen.endswith(f"/extensions/ssooidc-jupyter/{entry}") for seen in loaded), loaded
    ours = [text for where, text in console if OURS in where]
    unsatisfied = [text for text in ours if "Unsatisfied version" in text]
    assert not unsatisfied, f"with {_versions()}:\n" + "\n".join(unsatisfied)
    errors = [text for text in ours if text.startswith("error")]
    assert not errors, f"with {_versions()}:\n" + "\n".join(errors)
    if server.flavour == "notebook":
        # Let the notebook finish opening (its kernel connected, idle). Stopped with its
        # requests in flight, jupyter_server waited at exit for an anyio worker thread (not
        # a daemon; released only when the task that started it ends) until the harness
        # killed it 15 s later.
        NotebookUI(page, server).wait_kernel_ready(path)
