"""AWS partitions: which regions exist where, and their DNS suffixes (botocore's
``partitions.json``). Pure data, shared by the endpoint rules and the region validator."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["PARTITIONS", "Partition", "known_partition", "partition_for"]


@dataclass(frozen=True)
class Partition:
    name: str
    region_regex: str
    dns_suffix: str
    dual_stack_dns_suffix: str


# The patterns are disjoint; a region no pattern matches falls back to "aws", as in botocore.
PARTITIONS: tuple[Partition, ...] = (
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
    """The partition of ``region``; "aws" for a region no pattern matches, as in botocore."""
    return known_partition(region) or PARTITIONS[0]


def known_partition(region: str) -> Partition | None:
    """The partition whose region pattern ``region`` matches, or None (no AWS region)."""
    for partition in PARTITIONS:
        if re.fullmatch(partition.region_regex, region):
            return partition
    return None
