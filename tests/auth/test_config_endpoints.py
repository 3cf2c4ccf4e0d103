"""Endpoints written in the AWS config file, resolved as botocore resolves them.

Each case is one environment and one config file; botocore's own clients
(``boto3.Session(profile_name=...).client("sso-oidc" / "sso")``) say which URL they use, and
our sign-in context (its sso-oidc client and its portal client) must use the same. The
precedence: the argument; unless ignored (``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS``, else the
profile's ``ignore_configured_endpoint_urls``), ``AWS_ENDPOINT_URL_<SERVICE>``,
``AWS_ENDPOINT_URL``, the profile's ``[services NAME]`` section, the profile's
``endpoint_url``; else the region's endpoint.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import botocore.exceptions
import pytest

import ssooidc_jupyter as sj
from ssooidc_jupyter.auth._aws import portal_client
from ssooidc_jupyter.auth._context import resolve_login

AWS_OIDC = "https://oidc.us-east-1.amazonaws.com"
AWS_PORTAL = "https://portal.sso.us-east-1.amazonaws.com"
GLOBAL = "https://global.example"  # the profile's endpoint_url
OIDC_SECTION = "https://oidc-section.example"  # [services] sso_oidc
PORTAL_SECTION = "https://portal-section.example"  # [services] sso
ENV = "https://env.example"  # AWS_ENDPOINT_URL
ENV_OIDC = "https://env-oidc.example"  # AWS_ENDPOINT_URL_SSO_OIDC
ENV_PORTAL = "https://env-portal.example"  # AWS_ENDPOINT_URL_SSO
ARGUMENT = "https://argument.example"


@dataclass(frozen=True)
class Case:
    doc: str
    expected: tuple[str, str]  # (sso-oidc, sso portal)
    env: dict[str, str] = field(default_factory=dict)
    profile: tuple[str, ...] = ()
    services: dict[str, str] = field(default_factory=dict)
    argument: str | None = None


GLOBAL_LINE = f"endpoint_url = {GLOBAL}"
BOTH_SECTIONS = {"sso_oidc": OIDC_SECTION, "sso": PORTAL_SECTION}
EVERY_ENV = {"AWS_ENDPOINT_URL": ENV, "AWS_ENDPOINT_URL_SSO_OIDC": ENV_OIDC}

CASES = [
    Case("nothing configured: the region's endpoints", (AWS_OIDC, AWS_PORTAL)),
    Case(
        "the profile's endpoint_url, for both",
        (GLOBAL, GLOBAL),
        profile=(GLOBAL_LINE := f"endpoint_url = {GLOBAL}",),
    ),
    Case(
        "a [services] section beats the profile's endpoint_url",
        (OIDC_SECTION, PORTAL_SECTION),
        profile=(GLOBAL_LINE,),
        services=BOTH_SECTIONS,
    ),
    Case(
        "a service missing from the section falls back to endpoint_url",
        (OIDC_SECTION, GLOBAL),
        profile=(GLOBAL_LINE,),
        services={"sso_oidc": OIDC_SECTION},
    ),
    Case(
        "AWS_ENDPOINT_URL beats the config file",
        (ENV, ENV),
        env={"AWS_ENDPOINT_URL": ENV},
        profile=(GLOBAL_LINE,),
        services=BOTH_SECTIONS,
    ),
    Case(
        "AWS_ENDPOINT_URL_SSO_OIDC beats AWS_ENDPOINT_URL, for sso-oidc only",
        (ENV_OIDC, ENV),
        env=EVERY_ENV,
        services=BOTH_SECTIONS,
    ),
    Case(
        "AWS_ENDPOINT_URL_SSO, for the portal only",
        (OIDC_SECTION, ENV_PORTAL),
        env={"AWS_ENDPOINT_URL_SSO": ENV_PORTAL},
        profile=(GLOBAL_LINE,),
        services={"sso_oidc": OIDC_SECTION},
    ),
    Case(
        "an empty variable counts as unset",
        (GLOBAL, GLOBAL),
        env={"AWS_ENDPOINT_URL": ""},
        profile=(GLOBAL_LINE,),
    ),
    Case(
        "ignore_configured_endpoint_urls in the profile ignores the file and the variables",
        (AWS_OIDC, AWS_PORTAL),
        env=EVERY_ENV,
        profile=(GLOBAL_LINE, "ignore_configured_endpoint_urls = true"),
        services=BOTH_SECTIONS,
    ),
    Case(
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true ignores them too",
        (AWS_OIDC, AWS_PORTAL),
        env={**EVERY_ENV, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"},
        profile=(GLOBAL_LINE,),
    ),
    Case(
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=false wins over the profile's true",
        (ENV_OIDC, ENV),
        env={**EVERY_ENV, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false"},
        profile=("ignore_configured_endpoint_urls = true",),
    ),
    Case(
        "only 'true' is true (botocore's ensure_boolean): '1' does not ignore",
        (GLOBAL, GLOBAL),
        env={"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "1"},
        profile=(GLOBAL_LINE,),
    ),
    Case(
        "the argument beats everything, for both services",
        (ARGUMENT, ARGUMENT),
        env={**EVERY_ENV, "AWS_ENDPOINT_URL_SSO": ENV_PORTAL},
        profile=(GLOBAL_LINE,),
        services=BOTH_SECTIONS,
        argument=ARGUMENT,
    ),
    Case(
        "the argument is not ignored",
        (ARGUMENT, ARGUMENT),
        env={"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"},
        argument=ARGUMENT,
    ),
]


def write_config(case: Case) -> None:
    lines = [
        "[profile p]",
        "sso_start_url = https://d-1234567890.awsapps.com/start",
        "sso_region = us-east-1",
        "region = us-east-1",
        *case.profile,
    ]
    if case.services:
        lines += ["services = mine", "", "[services mine]"]
        for service, url in case.services.items():
            lines += [f"{service} =", f"  endpoint_url = {url}"]
    path = Path(os.environ["AWS_CONFIG_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def botocore_urls(argument: str | None) -> tuple[str, str]:
    session = boto3.Session(profile_name="p")
    urls = []
    for service in ("sso-oidc", "sso"):
        client = session.client(service, endpoint_url=argument)
        urls.append(client.meta.endpoint_url)
        client.close()
    return urls[0], urls[1]


def our_urls(argument: str | None) -> tuple[str, str]:
    context = resolve_login(profile="p", endpoint=argument, cache=False)
    client = context.sync_client()
    portal = portal_client(context)
    try:
        return client.meta.endpoint_url, portal.meta.endpoint_url
    finally:
        client.close()
        portal.close()


@pytest.mark.parametrize("case", CASES, ids=[case.doc for case in CASES])
def test_ours_resolves_the_endpoints_botocore_resolves(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    write_config(case)

    assert botocore_urls(case.argument) == case.expected
    assert our_urls(case.argument) == case.expected


def test_a_missing_services_section_fails_in_both(monkeypatch: pytest.MonkeyPatch) -> None:
    path = Path(os.environ["AWS_CONFIG_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "[profile p]\nsso_start_url = https://d-1234567890.awsapps.com/start\n"
        "sso_region = us-east-1\nregion = us-east-1\nservices = nowhere\n"
    )
    with pytest.raises(botocore.exceptions.InvalidConfigError):
        boto3.Session(profile_name="p").client("sso-oidc")
    with pytest.raises(sj.ConfigurationError, match=r"no \[services nowhere\] section"):
        our_urls(None)
    # As in botocore, a variable that answers first means the section is never looked at.
    monkeypatch.setenv("AWS_ENDPOINT_URL", ENV)
    assert botocore_urls(None) == our_urls(None) == (ENV, ENV)


def test_portal_endpoint_names_the_portal_apart() -> None:
    """login(endpoint=X) sends the portal calls to X too (one emulator or gateway serves
    both); portal_endpoint= names the portal's own."""
    write_config(Case("", ("", "")))
    context = resolve_login(
        profile="p", endpoint=ARGUMENT, portal_endpoint=ENV_PORTAL + "/", cache=False
    )
    assert (context.endpoint, context.portal_endpoint) == (ARGUMENT, ENV_PORTAL)
    portal = portal_client(context)
    assert portal.meta.endpoint_url == ENV_PORTAL
    portal.close()


def test_a_bad_configured_endpoint_names_where_it_came_from() -> None:
    write_config(Case("", ("", ""), profile=("endpoint_url = ftp://nowhere",)))
    with pytest.raises(sj.ConfigurationError, match=r"endpoint_url of profile 'p'"):
        our_urls(None)
