"""Region validation and the sso-oidc endpoint rules (no I/O, no botocore).

The hosts are those of botocore's endpoint rule set for ``sso-oidc``
(``endpoint-rule-set-1.json``) over its partitions; ``tests/test_endpoints.py`` checks them
against botocore's own resolver so the two cannot drift silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._exceptions import ConfigurationError, InvalidRegionError

__all__ = ["Partition", "partition_for", "resolve_endpoint", "validate_endpoint", "validate_region"]

# A region is one DNS label: lowercase letters, digits and inner dashes. Anything else
# ("us-east-1.evil.example/", " us-east-1", "") could steer the request to another host.
_REGION_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


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


def validate_region(region: object) -> str:
    """Return ``region`` if it is a region name, else raise :class:`InvalidRegionError`."""
    if not isinstance(region, str) or not _REGION_RE.fullmatch(region):
        raise InvalidRegionError(
            f"{region!r} is not an AWS region name (expected something like 'us-east-1'); "
            "check the region argument, AWS_REGION / AWS_DEFAULT_REGION, or sso_region in "
            "your AWS config file."
        )
    return region


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


def validate_endpoint(endpoint: object) -> str:
    """Return a normalised endpoint URL (no trailing slash) or raise ConfigurationError."""
    from urllib.parse import urlsplit

    if not isinstance(endpoint, str) or not endpoint.strip():
        raise ConfigurationError(f"endpoint must be a URL such as 'https://host', not {endpoint!r}")
    parts = urlsplit(endpoint.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"endpoint {endpoint!r} is not an http(s) URL with a host; "
            "use for example 'https://oidc.us-east-1.amazonaws.com' or 'http://127.0.0.1:8080'."
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(f"endpoint {endpoint!r} must not carry a query or a fragment")
    return endpoint.strip().rstrip("/")
