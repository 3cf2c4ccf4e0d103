"""A sign-in region is checked against the partitions' tables before any request.

README: a bad region is refused before any request. A typo (``us-est-1``) used to pass the
partition's pattern and fail three attempts later with a DNS error.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from botocore.loaders import Loader

import ssooidc_jupyter as sj
from ssooidc_jupyter.emulator import Emulator
from ssooidc_jupyter.oidc._partitions import PARTITIONS
from ssooidc_jupyter.oidc._values import UnlistedRegionWarning, validate_region


def test_the_tables_are_botocores() -> None:
    data = Loader().load_data("partitions")
    theirs = {
        p["id"]: (p["regionRegex"], {r for r in p["regions"] if not r.endswith("-global")})
        for p in data["partitions"]
    }
    ours = {p.name: (p.region_regex, set(p.regions)) for p in PARTITIONS}
    # Regions are only ever added: one table is an earlier state of the other. botocore may
    # know regions newer than our table (they then pass with a warning), or be older than
    # the botocore our table was taken from (s3fs's aiobotocore pins an older botocore in
    # the test environment); a region only one of them lists is never a typo of ours.
    for name, (regex, regions) in ours.items():
        assert theirs[name][0] == regex
        assert regions <= theirs[name][1] or theirs[name][1] <= regions, name


@pytest.mark.parametrize(
    ("region", "hint"),
    [
        ("us-est-1", "Did you mean 'us-west-1' or 'us-east-1'?"),
        ("eu-centrl-1", "Did you mean 'eu-central-1'"),
        ("xx-east-1", "not a region of any AWS partition"),
        ("nowhere-1", "not a region of any AWS partition"),
    ],
)
def test_a_region_of_no_partition_is_refused_before_any_request(
    region: str, hint: str, emulator_factory: Callable[..., Emulator]
) -> None:
    emu = emulator_factory()
    with pytest.raises(sj.InvalidRegionError) as caught:
        sj.login(emu.start_url, region, endpoint=emu.url, cache=False)
    assert hint in str(caught.value)
    assert emu.requests == []


def test_a_malformed_region_is_refused() -> None:
    for region in ("us_east_1", "US-EAST-1", "us-east-1.evil.example", ""):
        with pytest.raises(sj.InvalidRegionError):
            validate_region(region, known=True)


def test_a_region_newer_than_the_table_warns_and_goes_on(
    emulator_factory: Callable[..., Emulator],
) -> None:
    """ap-east-9: the aws partition's pattern and a direction AWS uses, not yet listed."""
    emu = emulator_factory(interval=0.05, auto_approve=0.0)
    with pytest.warns(UnlistedRegionWarning, match="'ap-east-9' is not in this package"):
        token = sj.login(emu.start_url, "ap-east-9", endpoint=emu.url, cache=False)
    assert token.region == "ap-east-9"


def test_a_typo_in_the_config_file_names_the_profile() -> None:
    path = Path(os.environ["AWS_CONFIG_FILE"])
    path.parent.mkdir(parents=True)
    path.write_text(
        "[profile p]\nsso_session = s\n\n[sso-session s]\n"
        "sso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = us-est-1\n"
    )
    with pytest.raises(sj.InvalidRegionError, match=r"sso-session 's'.*'us-est-1'.*us-east-1"):
        sj.login(profile="p", cache=False)
