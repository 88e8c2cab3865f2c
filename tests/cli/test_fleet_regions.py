"""``--region`` for fleets: one region everywhere, several with --all-keys."""

from __future__ import annotations

import pytest

from wizard.commands.fleet import key_region, parse_regions
from wizard.core.errors import InputError


def test_one_region_is_a_list_of_one() -> None:
    assert parse_regions("eu-west-1", all_keys=False) == ["eu-west-1"]


def test_no_region_is_an_empty_list() -> None:
    assert parse_regions(None, all_keys=True) == []


def test_several_regions_keep_their_order_without_repeats() -> None:
    assert parse_regions("us-east-1, eu-west-1,us-east-1", all_keys=True) == [
        "us-east-1",
        "eu-west-1",
    ]


def test_several_regions_need_all_keys() -> None:
    with pytest.raises(InputError, match="only be given with --all-keys"):
        parse_regions("us-east-1,eu-west-1", all_keys=False)


@pytest.mark.parametrize("option", ["us-east-1,", ",eu-west-1", "us-east-1,,eu-west-1"])
def test_an_empty_entry_is_refused(option: str) -> None:
    with pytest.raises(InputError, match="empty"):
        parse_regions(option, all_keys=True)


def test_a_bad_region_is_named() -> None:
    with pytest.raises(InputError, match="--region mars-north-9"):
        parse_regions("us-east-1,mars-north-9", all_keys=True)


def test_key_region_reads_the_arn_and_falls_back_for_a_bare_id() -> None:
    arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert key_region(arn, "us-east-1") == "eu-west-1"
    assert key_region("1234abcd-12ab-34cd-56ef-1234567890ab", "us-east-1") == (
        "us-east-1"
    )
