"""The endpoint rules of sso-oidc and of the portal (``sso``), no I/O, no botocore.

The hosts are those of botocore's endpoint rule sets for ``sso-oidc`` and ``sso``
(``endpoint-rule-set-1.json``) over its partitions: the two differ only in the host prefix
(``oidc`` / ``portal.sso``). ``tests/oidc/test_endpoints.py`` checks them against botocore's own
resolver so they cannot drift silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._partitions import Partition, partition_for
from ._values import validate_endpoint, validate_region

__all__ = [
    "SSO_OIDC",
    "SSO_PORTAL",
    "Partition",
    "Service",
    "partition_for",
    "resolve_endpoint",
    "validate_endpoint",
    "validate_region",
]


@dataclass(frozen=True)
class Service:
    """Which service an endpoint is for: its host prefix, its ``AWS_ENDPOINT_URL_<ID>`` and
    its key in a ``[services NAME]`` section of the AWS config file."""

    name: str  # botocore's service name
    host_prefix: str
    env_id: str  # the service id in AWS_ENDPOINT_URL_<ID>, as botocore spells it

    @property
    def config_id(self) -> str:
        """The key of the service in a ``[services NAME]`` section (``sso_oidc``, ``sso``):
        botocore's snake-case service id, the lower-case of :attr:`env_id`."""
        return self.env_id.lower()


SSO_OIDC = Service("sso-oidc", "oidc", "SSO_OIDC")
SSO_PORTAL = Service("sso", "portal.sso", "SSO")


def resolve_endpoint(
    region: str,
    *,
    use_fips: bool = False,
    use_dualstack: bool = False,
    service: Service = SSO_OIDC,
) -> str:
    """The endpoint of ``service`` (sso-oidc by default) for ``region``, as botocore's rule
    set gives it."""
    region = validate_region(region)
    partition = partition_for(region)
    host = service.host_prefix
    if use_fips and use_dualstack:
        return f"https://{host}-fips.{region}.{partition.dual_stack_dns_suffix}"
    if use_fips:
        if partition.name == "aws-us-gov":
            # GovCloud's regular endpoint is already FIPS validated.
            return f"https://{host}.{region}.amazonaws.com"
        return f"https://{host}-fips.{region}.{partition.dns_suffix}"
    if use_dualstack:
        return f"https://{host}.{region}.{partition.dual_stack_dns_suffix}"
    return f"https://{host}.{region}.{partition.dns_suffix}"
