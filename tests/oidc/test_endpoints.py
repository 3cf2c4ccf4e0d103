"""Endpoint and region resolution, with botocore's own resolver as the oracle."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config
from botocore.endpoint_provider import EndpointProvider

from ssooidc_jupyter import ConfigurationError, InvalidRegionError, ssooidc
from ssooidc_jupyter.oidc._endpoints import SSO_PORTAL, resolve_endpoint
from ssooidc_jupyter.oidc._portal import PortalClient

REGIONS = [
    "us-east-1",
    "eu-west-3",
    "ap-southeast-2",
    "il-central-1",
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-west-1",
    "us-gov-east-1",
    "us-iso-east-1",
    "us-isob-east-1",
    "eu-isoe-west-1",
    "us-isof-south-1",
    "eusc-de-east-1",
    "xx-unknown-9",
]


def botocore_endpoint(region: str, fips: bool, dualstack: bool) -> str:
    """The URL botocore really sends an sso-oidc request to (its endpoint rule set at request
    time; ``client.meta.endpoint_url`` comes from the legacy resolver and can differ)."""
    session = botocore.session.get_session()
    client = session.create_client(
        "sso-oidc",
        region_name=region,
        config=Config(use_fips_endpoint=fips, use_dualstack_endpoint=dualstack),
        aws_access_key_id="x",
        aws_secret_access_key="y",
    )
    sent: list[str] = []

    def capture(request: AWSPreparedRequest, **_: object) -> AWSResponse:
        sent.append(request.url)
        return AWSResponse(request.url, 200, {}, RawBody(b"{}"))

    client.meta.events.register("before-send.sso-oidc", capture)
    client.register_client(clientName="n", clientType="public")
    return sent[0].removesuffix("/client/register")


class RawBody:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: object) -> list[bytes]:
        return [self._data]

    def read(self, *_: object) -> bytes:
        data, self._data = self._data, b""
        return data


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize(
    ("fips", "dualstack"),
    [(False, False), (True, False), (False, True), (True, True)],
    ids=["plain", "fips", "dualstack", "fips+dualstack"],
)
def test_endpoint_matches_botocore_rule_set(region: str, fips: bool, dualstack: bool) -> None:
    loader = botocore.session.get_session().get_component("data_loader")
    provider = EndpointProvider(
        loader.load_service_model("sso-oidc", "endpoint-rule-set-1"),
        loader.load_data("partitions"),
    )
    expected = provider.resolve_endpoint(Region=region, UseFIPS=fips, UseDualStack=dualstack)
    assert resolve_endpoint(region, use_fips=fips, use_dualstack=dualstack) == expected.url


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize(
    ("fips", "dualstack"),
    [(False, False), (True, False), (False, True), (True, True)],
    ids=["plain", "fips", "dualstack", "fips+dualstack"],
)
def test_portal_endpoint_matches_botocore_rule_set(
    region: str, fips: bool, dualstack: bool
) -> None:
    loader = botocore.session.get_session().get_component("data_loader")
    provider = EndpointProvider(
        loader.load_service_model("sso", "endpoint-rule-set-1"), loader.load_data("partitions")
    )
    expected = provider.resolve_endpoint(Region=region, UseFIPS=fips, UseDualStack=dualstack)
    ours = resolve_endpoint(region, use_fips=fips, use_dualstack=dualstack, service=SSO_PORTAL)
    assert ours == expected.url
    config = {"use_fips_endpoint": fips, "use_dualstack_endpoint": dualstack}
    assert PortalClient(config=config, region=region).meta.endpoint_url == expected.url


@pytest.mark.parametrize("region", ["us-east-1", "cn-north-1", "us-gov-west-1", "xx-unknown-9"])
@pytest.mark.parametrize("fips", [False, True], ids=["plain", "fips"])
def test_endpoint_matches_what_a_botocore_client_sends_to(region: str, fips: bool) -> None:
    assert resolve_endpoint(region, use_fips=fips) == botocore_endpoint(region, fips, False)


def test_client_uses_partition_host() -> None:
    assert (
        ssooidc(region="cn-north-1").meta.endpoint_url == "https://oidc.cn-north-1.amazonaws.com.cn"
    )
    fips = ssooidc(config={"region": "us-east-1", "use_fips_endpoint": True})
    assert fips.meta.endpoint_url == "https://oidc-fips.us-east-1.amazonaws.com"


def test_fips_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", "true")
    assert (
        ssooidc(region="us-west-2").meta.endpoint_url == "https://oidc-fips.us-west-2.amazonaws.com"
    )


@pytest.mark.parametrize(
    "region",
    [
        pytest.param("us-east-1.evil.example/", id="host-suffix"),
        pytest.param("us-east-1/../x", id="path"),
        pytest.param(" us-east-1", id="leading-space"),
        pytest.param("us east 1", id="spaces"),
        pytest.param("", id="empty"),
        pytest.param("US-EAST-1", id="uppercase"),
        pytest.param("evil.example", id="dotted"),
        pytest.param("a" * 70, id="too-long"),
    ],
)
def test_bad_region_is_refused_before_any_request(region: str) -> None:
    with pytest.raises(InvalidRegionError) as info:
        ssooidc(region=region)
    assert "not an AWS region name" in str(info.value)


def test_bad_region_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1.evil.example")
    with pytest.raises(InvalidRegionError):
        ssooidc()


def test_region_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert ssooidc().meta.region_name == "eu-west-1"
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert ssooidc().meta.region_name == "eu-central-1"
    assert ssooidc(config={"region": "ap-south-1"}).meta.region_name == "ap-south-1"
    assert ssooidc(config={"region": "ap-south-1"}, region="sa-east-1").meta.region_name == (
        "sa-east-1"
    )


def test_no_region_no_endpoint_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="region"):
        ssooidc()


def test_endpoint_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1111")
    assert ssooidc(region="us-east-1").meta.endpoint_url == "http://127.0.0.1:1111"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_OIDC", "http://127.0.0.1:2222/")
    assert ssooidc(region="us-east-1").meta.endpoint_url == "http://127.0.0.1:2222"
    assert ssooidc(endpoint="http://localhost:3333").meta.endpoint_url == "http://localhost:3333"
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    assert ssooidc(region="us-east-1").meta.endpoint_url == "https://oidc.us-east-1.amazonaws.com"


@pytest.mark.parametrize(
    "endpoint",
    ["ftp://example.com", "example.com", "http://", "https://host/?q=1", ""],
)
def test_bad_endpoint_is_refused(endpoint: str) -> None:
    with pytest.raises(ConfigurationError, match="endpoint"):
        ssooidc(endpoint=endpoint)


def test_custom_endpoint_with_fips_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="FIPS"):
        ssooidc(config={"endpoint": "http://127.0.0.1:1", "use_fips_endpoint": True})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"config": {"regoin": "us-east-1"}}, "regoin", id="typo-in-config"),
        pytest.param({"config": {"timeout": 0}}, "timeout", id="zero-timeout"),
        pytest.param({"config": {"timeout": "60"}}, "timeout", id="string-timeout"),
        pytest.param({"config": {"max_attempts": 0}}, "max_attempts", id="zero-attempts"),
        pytest.param({"config": []}, "config must be a dict", id="config-not-dict"),
        pytest.param({"credentials": {"creds": {"access_key_id": "A"}}}, "secret", id="half-creds"),
        pytest.param({"credentials": {"prfile": "x"}}, "prfile", id="typo-in-credentials"),
    ],
)
def test_malformed_config_is_a_clear_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ssooidc(region="us-east-1", **kwargs)  # type: ignore[arg-type]


def test_config_reprs_hide_keys() -> None:
    client = ssooidc(
        region="us-east-1",
        credentials={"creds": {"access_key_id": "AKIASECRETID", "secret_access_key": "s3cr3tkey"}},
    )
    text = repr(client) + repr(client.meta.config)
    assert "AKIASECRETID" not in text
    assert "s3cr3tkey" not in text
