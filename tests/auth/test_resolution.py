"""Issue 16, point 4: one resolution of where to sign in, and one validator per value.

``auth/_context.resolve_login`` is the one resolution (arguments, the environment, the AWS
config file, in botocore's order); it yields one :class:`LoginContext` carrying both
endpoints (sso-oidc and portal), resolved when the sign-in is resolved. ``login()``, the
magic and the widget resolve through it (the server's side: tests/server/test_server.py). The
timeout, the flow and the scopes are judged by ``oidc/_values.py`` alone, and each entry
point shows that one message (named as the entry point names the value).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from traitlets import TraitError
from traitlets.config import Config

import ssooidc_jupyter as sj
from ssooidc_jupyter.auth._context import LoginContext, resolve_login
from ssooidc_jupyter.emulator import Emulator
from ssooidc_jupyter.notebook._configurable import SSOOIDC
from ssooidc_jupyter.oidc._values import validate_flow, validate_scopes, validate_timeout
from tests._support import extension_shell

START_URL = "https://d-1234567890.awsapps.com/start"
OIDC_ENV = "https://oidc-env.example"  # AWS_ENDPOINT_URL_SSO_OIDC
PORTAL_ENV = "https://portal-env.example"  # AWS_ENDPOINT_URL_SSO
GLOBAL_ENV = "https://global-env.example"  # AWS_ENDPOINT_URL
PROFILE_URL = "https://profile.example"  # the profile's endpoint_url


def message(check: Any, value: Any, what: str) -> str:
    with pytest.raises(sj.ConfigurationError) as caught:
        check(value, what)
    return str(caught.value)


@pytest.fixture
def ip() -> Iterator[InteractiveShell]:
    with extension_shell() as shell:
        yield shell


def write_config(text: str) -> None:
    import os

    path = Path(os.environ["AWS_CONFIG_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


DEV = (
    f"[sso-session dev]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\n"
    "sso_registration_scopes = sso:account:access, codewhisperer:completions\n\n"
    "[profile p]\nsso_session = dev\nsso_account_id = 111111111111\nsso_role_name = R\n"
    f"endpoint_url = {PROFILE_URL}\n"
)


def described(context: LoginContext) -> tuple[Any, ...]:
    request = context.request
    return (
        context.endpoint,
        context.portal_endpoint,
        request.start_url,
        request.region,
        request.scopes,
        request.session_name,
        context.flow,
        context.slot.token_key,
        context.slot.registration_key,
    )


# ---- one resolution ------------------------------------------------------------------------


def test_login_the_magic_and_the_widget_resolve_one_context(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same inputs give the same context (both endpoints, start URL, region, scopes,
    flow, cache keys) whichever entry point resolves them."""
    write_config(DEV)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_OIDC", OIDC_ENV)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", PORTAL_ENV)
    from ssooidc_jupyter.notebook._source import Source, resolve_source
    from ssooidc_jupyter.notebook._widget import LoginWidget

    by_login = resolve_login(profile="p")  # what login(profile="p") signs in with
    from IPython.core import magic_arguments

    from ssooidc_jupyter.notebook._magic import _usage_parser

    # The magic's own parsing of `%ssooidc login --profile p`, then its resolution.
    magics = ip.magics_manager.registry["SSOOIDCMagics"]
    args = magic_arguments.parse_argstring(_usage_parser(), "login --profile p")
    options = magics._login_options(args)
    source = options.source
    by_magic = resolve_source(source, scopes=options.scopes, flow=options.flow)
    widget = LoginWidget(profile="p")
    by_widget = resolve_login(**widget._login_args)
    assert source == Source(profile="p", explicit=True)
    assert described(by_login) == described(by_magic) == described(by_widget)
    assert described(by_login)[:6] == (
        OIDC_ENV,
        PORTAL_ENV,
        START_URL,
        "eu-west-1",
        ("sso:account:access", "codewhisperer:completions"),
        "dev",
    )


ENDPOINT_CASES = [
    pytest.param({}, (PROFILE_URL, PROFILE_URL), id="the profile's endpoint_url for both"),
    pytest.param(
        {"AWS_ENDPOINT_URL": GLOBAL_ENV}, (GLOBAL_ENV, GLOBAL_ENV), id="env beats the profile"
    ),
    pytest.param(
        {"AWS_ENDPOINT_URL": GLOBAL_ENV, "AWS_ENDPOINT_URL_SSO_OIDC": OIDC_ENV},
        (OIDC_ENV, GLOBAL_ENV),
        id="the service's variable beats the global one",
    ),
    pytest.param(
        {"AWS_ENDPOINT_URL": GLOBAL_ENV, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"},
        (None, None),
        id="ignored: the region's endpoints",
    ),
]


@pytest.mark.parametrize(("env", "expected"), ENDPOINT_CASES)
def test_both_endpoints_are_resolved_with_the_context_in_botocores_order(
    env: dict[str, str], expected: tuple[str | None, str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The context carries both endpoints as botocore chooses them (see
    tests/auth/test_config_endpoints.py for botocore itself), and the clients use them: the
    environment is read when the sign-in is resolved, not again when a client is made."""
    import boto3

    from ssooidc_jupyter.auth._aws import portal_client

    write_config(DEV.replace("[profile p]\n", "[profile p]\nregion = eu-west-1\n"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    context = resolve_login(profile="p", cache=False)
    assert (context.endpoint, context.portal_endpoint) == expected
    session = boto3.Session(profile_name="p")
    oidc, sso = session.client("sso-oidc"), session.client("sso")
    try:
        botocore_urls = (oidc.meta.endpoint_url, sso.meta.endpoint_url)
    finally:
        oidc.close()
        sso.close()
    regional = (
        "https://oidc.eu-west-1.amazonaws.com",
        "https://portal.sso.eu-west-1.amazonaws.com",
    )
    assert botocore_urls == tuple(e or r for e, r in zip(expected, regional, strict=True))
    # Later changes of the environment do not move a resolved sign-in's clients.
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_OIDC", "https://moved.example")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", "https://moved.example")
    client, portal = context.sync_client(), portal_client(context)
    try:
        assert (client.meta.endpoint_url, portal.meta.endpoint_url) == botocore_urls
    finally:
        client.close()
        portal.close()


# ---- one validator per value, its message at every entry point -----------------------------


BAD = [
    pytest.param("timeout", validate_timeout, -5.0, id="timeout"),
    pytest.param("scopes", validate_scopes, ["sso:account:access", "two words"], id="scopes"),
    pytest.param("flow", validate_flow, "implicit", id="flow"),
]


@pytest.mark.parametrize(("name", "check", "value"), BAD)
def test_login_and_its_twins_refuse_with_the_validators_message(
    name: str, check: Any, value: Any
) -> None:
    expected = message(check, value, name)
    for entry in (sj.login, resolve_login):
        with pytest.raises(sj.ConfigurationError) as caught:
            entry(START_URL, "us-east-1", **{name: value})
        assert str(caught.value) == expected


@pytest.mark.parametrize(("name", "check", "value"), BAD[:2])
def test_the_configurable_refuses_with_the_validators_message(
    name: str, check: Any, value: Any
) -> None:
    with pytest.raises(TraitError) as caught:
        SSOOIDC(**{name: value})
    assert str(caught.value) == message(check, value, f"SSOOIDC.{name}")


def test_the_magic_refuses_with_the_validators_message(ip: InteractiveShell) -> None:
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic(
            "ssooidc", f"login --start-url {START_URL} --region us-east-1 --timeout -5"
        )
    assert str(caught.value) == message(validate_timeout, -5.0, "--timeout")


def test_the_widget_shows_the_validators_message() -> None:
    from ssooidc_jupyter.notebook._widget import LoginWidget

    widget = LoginWidget(start_url=START_URL, region="us-east-1", scopes=["two words"])
    widget.sign_in()
    assert widget.status == f"Sign-in failed: {message(validate_scopes, ['two words'], 'scopes')}"


def test_the_client_config_refuses_with_the_validators_message(emulator: Emulator) -> None:
    with pytest.raises(sj.ConfigurationError) as caught:
        sj.ssooidc(config={"timeout": 0}, region="us-east-1")
    assert str(caught.value) == message(validate_timeout, 0, "timeout")


# ---- the SSOOIDC section: the server's configurable and the kernels' -------------------------


def test_the_server_and_kernel_configurables_share_the_section_without_warnings() -> None:
    """``c.SSOOIDC.*`` is read by the server's Configurable (server/_options.py) and by the
    kernels' (notebook/_configurable.py): each declares the other's options, so neither warns
    about them; a typo still draws traitlets' "not recognized" warning."""
    import warnings

    from ssooidc_jupyter.server._options import SSOOIDC as ServerSSOOIDC

    section = {
        "flow": "pkce",
        "redirect_base_url": "https://hub.example.org/",
        "start_url": START_URL,
        "region": "us-east-1",
        "timeout": 30.0,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        server = ServerSSOOIDC(config=Config({"SSOOIDC": section}))
        kernel = SSOOIDC(config=Config({"SSOOIDC": section}))
    assert (server.flow, server.redirect_base_url) == ("pkce", "https://hub.example.org/")
    assert (kernel.start_url, kernel.region, kernel.timeout) == (START_URL, "us-east-1", 30.0)
    with pytest.warns(UserWarning, match="flwo"):
        ServerSSOOIDC(config=Config({"SSOOIDC": {"flwo": "pkce"}}))
