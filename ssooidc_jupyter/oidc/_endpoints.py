"""The sso-oidc endpoint rules (no I/O, no botocore).

The hosts are those of botocore's endpoint rule set for ``sso-oidc``
(``endpoint-rule-set-1.json``) over its partitions; ``tests/test_endpoints.py`` checks them
against botocore's own resolver so the two cannot drift silently.
"""

from __future__ import annotations

from ._partitions import Partition, partition_for
from ._values import validate_endpoint, validate_region

__all__ = ["Partition", "partition_for", "resolve_endpoint", "validate_endpoint", "validate_region"]


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
