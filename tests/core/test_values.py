"""Validators follow AWS's published rules and name the field and the rule."""

from __future__ import annotations

import pytest

from tests.factories import guide_values
from wizard.core import values as v

KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.mark.parametrize(
    ("validator", "good", "bad", "words"),
    [
        (v.check_account_id, "012345678901", "12345678901", "12 digits"),
        (v.check_account_id, "111122223333", "1111-2222-3333", "12 digits"),
        (v.check_region, "eu-west-1", "eu-west-9", "known AWS region"),
        (v.check_region, "cn-north-1", "US-EAST-1", "known AWS region"),
        (v.check_key_id, "1234abcd-12ab-34cd-56ef-1234567890ab", "1234", "key id"),
        (
            v.check_key_id,
            "mrk-1234abcd12ab34cd56ef1234567890ab",
            "alias/harbor",
            "alias",
        ),
        (
            v.check_key_id,
            "arn:aws:kms:us-east-1:111122223333:key/" + KEY,
            "arn:aws:kms:us-east-1:111122223333:alias/harbor",
            "key/ID",
        ),
        (
            v.check_key_id,
            "arn:aws-cn:kms:cn-north-1:111122223333:key/" + KEY,
            "arn:aws:kms:cn-north-1:111122223333:key/" + KEY,
            "partition",
        ),
        (
            v.check_role_arn,
            "arn:aws:iam::111122223333:role/path/HarborS3Role",
            "arn:aws:iam::111122223333:user/harbor",
            "role",
        ),
        (
            v.check_role_arn,
            "arn:aws:iam::111122223333:role/HarborS3Role",
            "arn:aws:iam:us-east-1:111122223333:role/HarborS3Role",
            "not an IAM ARN",
        ),
        (
            v.check_admin_arn,
            "arn:aws:iam::111122223333:user/security-admin",
            "arn:aws:iam::11112222333:role/KMSAdminRole",
            "12-digit",
        ),
        (
            v.check_bucket,
            "harbor-registry-storage-111122223333-us-east-1",
            "Harbor_Bucket",
            "lowercase",
        ),
        (v.check_bucket, "my.bucket.name", "my..bucket", "'..'"),
        (v.check_bucket, "abc", "192.168.5.4", "IP address"),
        (v.check_bucket, "xn-bucket", "xn--bucket", "must not start"),
        (v.check_bucket, "bucket-s3", "bucket-s3alias", "must not end"),
        (v.check_org_id, "o-a1b2c3d4e5", "o-ABC1234567", "lowercase"),
        (v.check_org_id, "o-" + "a" * 32, "o-abc", "10 to 32"),
        (v.check_vpce_id, "vpce-0a1b2c3d4e5f67890", "vpce-0a1b2c3d4e5f6789", "8 or 17"),
        (v.check_vpce_id, "vpce-1a2b3c4d", "vpc-1a2b3c4d", "vpce-"),
        (v.check_cidr, "10.0.0.0/8", "10.0.0.1/8", "not a valid network"),
        (v.check_cidr, "2001:db8::/32", "300.0.0.0/8", "not a valid network"),
        (v.check_rotation_days, "90", "89", "90 to 2560"),
        (v.check_rotation_days, "2560", "2561", "90 to 2560"),
    ],
)
def test_validator_accepts_good_and_names_rule_for_bad(
    validator: v.Validator, good: str, bad: str, words: str
) -> None:
    assert validator(good) is None
    message = validator(bad)
    assert message is not None
    assert words in message
    assert bad in message


def test_guide_values_are_valid() -> None:
    assert v.validate(guide_values()) == []


def test_missing_required_values_each_reported() -> None:
    problems = v.validate(v.Values())
    fields = {p.field for p in problems if p.severity == "error"}
    assert set(v.REQUIRED) <= fields


def test_iam_user_admin_is_a_warning_not_an_error() -> None:
    values = guide_values(
        admin_principals=("arn:aws:iam::111122223333:user/security-admin",)
    )
    problems = v.validate(values)
    assert [p.severity for p in problems] == ["warning"]
    assert "prefer a role" in problems[0].message


def test_no_admin_is_an_error_because_of_lockout() -> None:
    problems = v.validate(guide_values(admin_principals=()))
    assert any(p.field == "admin_principals" and "lock" in p.message for p in problems)


def test_partition_mismatch_between_region_and_role() -> None:
    values = guide_values(region="cn-north-1")
    problems = v.validate(values)
    assert any("partition 'aws'" in p.message for p in problems)


def test_key_arn_region_must_match() -> None:
    arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    problems = v.validate(guide_values(key_id=arn))
    assert any(p.field == "key_id" and "region" in p.message for p in problems)


def test_derived_arns_are_partition_aware() -> None:
    values = guide_values(
        region="cn-north-1",
        harbor_role_arn="arn:aws-cn:iam::111122223333:role/HarborS3Role",
    )
    assert values.key_arn.startswith("arn:aws-cn:kms:cn-north-1:111122223333:key/")
    assert values.bucket_arn == f"arn:aws-cn:s3:::{values.bucket}"
    assert values.via_services == (
        "s3.cn-north-1.amazonaws.com",
        "s3.cn-north-1.amazonaws.com.cn",
    )


def test_context_form_follows_bucket_keys_unless_chosen() -> None:
    assert guide_values(bucket_key_enabled=True).context_form == "bucket"
    assert guide_values(bucket_key_enabled=False).context_form == "object"
    both = v.PolicyOptions(encryption_context="both")
    assert guide_values(options=both).context_form == "both"


def test_context_form_that_breaks_harbor_is_an_error() -> None:
    bucket_form = v.PolicyOptions(encryption_context="bucket")
    problems = v.validate(guide_values(bucket_key_enabled=False, options=bucket_form))
    assert [p.field for p in problems] == ["options.encryption_context"]
    assert "breaks Harbor" in problems[0].message
    object_form = v.PolicyOptions(encryption_context="object")
    assert v.validate(guide_values(options=object_form))
