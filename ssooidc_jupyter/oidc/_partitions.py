"""AWS partitions: which regions exist where, and their DNS suffixes (botocore's
``partitions.json``). Pure data, shared by the endpoint rules and the region validator.

``tests/oidc/test_endpoints.py`` compares the patterns, suffixes and region lists with the
botocore installed, so a region AWS adds shows up there first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["PARTITIONS", "Partition", "known_partition", "listed_region", "partition_for"]


@dataclass(frozen=True)
class Partition:
    name: str
    region_regex: str
    dns_suffix: str
    dual_stack_dns_suffix: str
    #: The regions botocore's table lists (without the ``aws-global`` pseudo-regions).
    regions: frozenset[str] = frozenset()


# The patterns are disjoint; a region no pattern matches falls back to "aws", as in botocore.
PARTITIONS: tuple[Partition, ...] = (
    Partition(
        "aws",
        r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$",
        "amazonaws.com",
        "api.aws",
        frozenset(
            {
                "af-south-1",
                "ap-east-1",
                "ap-east-2",
                "ap-northeast-1",
                "ap-northeast-2",
                "ap-northeast-3",
                "ap-south-1",
                "ap-south-2",
                "ap-southeast-1",
                "ap-southeast-2",
                "ap-southeast-3",
                "ap-southeast-4",
                "ap-southeast-5",
                "ap-southeast-6",
                "ap-southeast-7",
                "ca-central-1",
                "ca-west-1",
                "eu-central-1",
                "eu-central-2",
                "eu-north-1",
                "eu-south-1",
                "eu-south-2",
                "eu-west-1",
                "eu-west-2",
                "eu-west-3",
                "il-central-1",
                "me-central-1",
                "me-south-1",
                "me-west-1",
                "mx-central-1",
                "sa-east-1",
                "sa-west-1",
                "us-east-1",
                "us-east-2",
                "us-west-1",
                "us-west-2",
            }
        ),
    ),
    Partition(
        "aws-cn",
        r"^cn\-\w+\-\d+$",
        "amazonaws.com.cn",
        "api.amazonwebservices.com.cn",
        frozenset({"cn-north-1", "cn-northwest-1"}),
    ),
    Partition(
        "aws-us-gov",
        r"^us\-gov\-\w+\-\d+$",
        "amazonaws.com",
        "api.aws",
        frozenset({"us-gov-east-1", "us-gov-west-1"}),
    ),
    Partition(
        "aws-iso",
        r"^us\-iso\-\w+\-\d+$",
        "c2s.ic.gov",
        "api.aws.ic.gov",
        frozenset({"us-iso-east-1", "us-iso-west-1"}),
    ),
    Partition(
        "aws-iso-b",
        r"^us\-isob\-\w+\-\d+$",
        "sc2s.sgov.gov",
        "api.aws.scloud",
        frozenset({"us-isob-east-1", "us-isob-west-1"}),
    ),
    Partition(
        "aws-iso-e",
        r"^eu\-isoe\-\w+\-\d+$",
        "cloud.adc-e.uk",
        "api.cloud-aws.adc-e.uk",
        frozenset({"eu-isoe-west-1"}),
    ),
    Partition(
        "aws-iso-f",
        r"^us\-isof\-\w+\-\d+$",
        "csp.hci.ic.gov",
        "api.aws.hci.ic.gov",
        frozenset({"us-isof-east-1", "us-isof-south-1"}),
    ),
    Partition(
        "aws-eusc",
        r"^eusc\-(de)\-\w+\-\d+$",
        "amazonaws.eu",
        "api.amazonwebservices.eu",
        frozenset({"eusc-de-east-1"}),
    ),
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


def listed_region(region: str) -> bool:
    """True if some partition's table lists ``region``."""
    return any(region in partition.regions for partition in PARTITIONS)
