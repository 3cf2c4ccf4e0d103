"""The sso-oidc endpoint rules (no I/O, no botocore).

The hosts are those of botocore's endpoint rule set for ``sso-oidc``
(``endpoint-rule-set-1.json``) over its partitions; ``tests/test_endpoints.py`` checks them
against botocore's own resolver so the two cannot drift silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._values import validate_endpoint, validate_region

__all__ = ["Partition", "partition_for", "resolve_endpoint", "validate_endpoint", "validate_region"]


@dataclass(frozen=True)
class Partition:
    name: str
    region_regex: str
    dns_suffix: str
    dual_stack_dns_suffix: str


# The patterns are disjoint; a region no pattern matches falls back to "aws", as in botocore.
_PARTITIONS: tuple[Partition, ...] = (
    Partition("aws", r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$", "amazonaws.com", "api.aws"),
    Partition("aws-cn", r"^cn\-\w+\-\d+$", "amazonaws.com.cn", "api.amazonwebservices.com.cn"),
    Partition("aws-us-gov", r"^us\-gov\-\w+\-\d+$", "amazonaws.com", "api.aws"),
    Partition("aws-iso", r"^us\-iso\-\w+\-\d+$", "c2s.ic.gov", "api.aws.ic.gov"),
    Partition("aws-iso-b", r"^us\-isob\-\w+\-\d+$", "sc2s.sgov.gov", "api.aws.scloud"),
    Partition("aws-iso-e", r"^eu\-isoe\-\w+\-\d+$", "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk"),
    Partition("aws-iso-f", r"^us\-isof\-\w+\-\d+$", "csp.hci.ic.gov", "api.aws.hci.ic.gov"),
    Partition("aws-eusc", r"^eusc\-(de)\-\w+\-\d+$", "amazonaws.eu", "api.amazonwebservices.eu"),
)


def partition_for(region: str) -> Partition:
    for partition in _PARTITIONS:
        if re.fullmatch(partition.region_regex, region):
            return partition
    return _PARTITIONS[0]


def resolve_endpoint(region: str, *, use_fips: bool = False, use_dualstack: bool = False) -> str:
    """The ``sso-oidc`` endpoint for ``region``, as botocore's rule set gives it."""
    region = validate_region(region)
    partition = partition_for(region)
    if use_fips and use_dualstack:
        return f"https://oidc-fips.{region}.{partition.dual_stack_dns_suffix}"
    if use_fips:
        if partition.name == "aws-us-gov":
            # GovCloud's regular endpoint is already FIPS validated.
            return f"https://oidc.{region}.amazonaws.com"
        return f"https://oidc-fips.{region}.{partition.dns_suffix}"
    if use_dualstack:
        return f"https://oidc.{region}.{partition.dual_stack_dns_suffix}"
    return f"https://oidc.{region}.{partition.dns_suffix}"
