"""The generated policy applies every correction, and renders in three formats."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.factories import ACCOUNT, HARBOR_ROLE, guide_values
from wizard.core.policy import formats
from wizard.core.policy.build import build_policy, build_statements
from wizard.core.policy.diff import normalise, same_policy, unified_diff
from wizard.core.policy.explain import explain
from wizard.core.values import PolicyOptions


def _by_sid(policy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in policy["Statement"]}


def test_every_statement_has_a_unique_sid_and_a_reason() -> None:
    values = guide_values(
        principal_org_id="o-a1b2c3d4e5",
        source_ip=("10.0.0.0/8",),
        break_glass_principals=(HARBOR_ROLE.replace("HarborS3", "Glass"),),
        options=PolicyOptions(
            deny_decrypt_without_s3_context=True, s3_service_principal=True
        ),
    )
    statements = build_statements(values)
    sids = [s.sid for s in statements]
    assert len(sids) == len(set(sids)) == 11
    assert all(s.reason and s.guide_section for s in statements)
    assert all(s.body["Sid"] == s.sid for s in statements)


def test_root_statement_has_no_caller_account_condition() -> None:
    root = _by_sid(build_policy(guide_values()))["EnableIAMPolicies"]
    assert root["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert "Condition" not in root  # correction 6


@pytest.mark.parametrize(
    ("bucket_keys", "form", "operator", "value"),
    [
        (True, "auto", "StringEquals", "arn:aws:s3:::B"),
        (False, "auto", "StringLike", "arn:aws:s3:::B/*"),
        (True, "both", "StringLike", ["arn:aws:s3:::B", "arn:aws:s3:::B/*"]),
        (True, "object", "StringLike", "arn:aws:s3:::B/*"),
        (False, "bucket", "StringEquals", "arn:aws:s3:::B"),
    ],
)
def test_encryption_context_form_and_operator(
    bucket_keys: bool, form: Any, operator: str, value: Any
) -> None:
    values = guide_values(
        bucket="b-b",
        bucket_key_enabled=bucket_keys,
        options=PolicyOptions(encryption_context=form),
    )
    harbor = _by_sid(build_policy(values))["HarborUseThroughS3"]
    expected = json.loads(json.dumps(value).replace(":::B", ":::b-b"))
    assert harbor["Condition"][operator]["kms:EncryptionContext:aws:s3:arn"] == expected
    # Correction 1: never a wildcard under StringEquals.
    equals = harbor["Condition"].get("StringEquals", {})
    assert not any("*" in str(v) for v in equals.values())


def test_harbor_gets_only_s3_actions_and_describe_key_separately() -> None:
    policy = _by_sid(build_policy(guide_values()))
    assert policy["HarborUseThroughS3"]["Action"] == [
        "kms:Decrypt",
        "kms:GenerateDataKey",
    ]
    describe = policy["HarborDescribeKey"]
    assert describe["Action"] == "kms:DescribeKey"
    assert "Condition" not in describe  # correction 2


def test_no_s3_service_principal_unless_asked() -> None:
    plain = json.dumps(build_policy(guide_values()))
    assert "s3.amazonaws.com" not in plain
    asked = _by_sid(
        build_policy(guide_values(options=PolicyOptions(s3_service_principal=True)))
    )["AllowS3ServicePrincipal"]
    assert asked["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT


def test_admins_have_no_wildcards_and_grants_only_for_aws_resources() -> None:
    policy = _by_sid(build_policy(guide_values()))
    actions = policy["KeyAdministration"]["Action"]
    assert not any("*" in a for a in actions)
    assert "kms:CreateGrant" not in actions
    grant = policy["AdminGrantsForAWSResourcesOnly"]
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    without = _by_sid(build_policy(guide_values(grants_for_aws_resources_only=False)))
    assert "AdminGrantsForAWSResourcesOnly" not in without


def test_break_glass_takes_put_key_policy_from_admins() -> None:
    glass = f"arn:aws:iam::{ACCOUNT}:role/BreakGlass"
    policy = _by_sid(build_policy(guide_values(break_glass_principals=(glass,))))
    assert "kms:PutKeyPolicy" not in policy["KeyAdministration"]["Action"]
    assert "kms:PutKeyPolicy" in policy["BreakGlassPolicyChange"]["Action"]


def test_network_conditions_are_a_deny_with_service_exemption() -> None:
    values = guide_values(
        source_vpce=("vpce-0a1b2c3d4e5f67890",), source_ip=("10.0.0.0/8",)
    )
    policy = _by_sid(build_policy(values))
    harbor = policy["HarborUseThroughS3"]["Condition"]
    assert "IpAddress" not in harbor and "aws:SourceVpce" not in str(harbor)
    deny = policy["DenyHarborOutsideNetwork"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"]["BoolIfExists"] == {"aws:ViaAWSService": "false"}


def test_org_id_is_a_condition_on_harbor_use() -> None:
    policy = _by_sid(build_policy(guide_values(principal_org_id="o-a1b2c3d4e5")))
    condition = policy["HarborUseThroughS3"]["Condition"]["StringEquals"]
    assert condition["aws:PrincipalOrgID"] == "o-a1b2c3d4e5"


def test_for_all_values_is_paired_with_null() -> None:
    values = guide_values(options=PolicyOptions(restrict_encryption_context_keys=True))
    condition = _by_sid(build_policy(values))["HarborUseThroughS3"]["Condition"]
    assert condition["ForAllValues:StringEquals"]
    assert condition["Null"] == {"kms:EncryptionContextKeys": "false"}  # correction 4


def test_terraform_escapes_template_sequences() -> None:
    policy = {"Statement": [{"Resource": "${aws:username} %{x}"}]}
    text = formats.to_terraform(policy, guide_values())
    assert 'resource "aws_kms_key_policy" "harbor"' in text
    assert "$${aws:username} %%{x}" in text
    assert '"1234abcd-12ab-34cd-56ef-1234567890ab"' in text


def test_cloudformation_snippet_embeds_the_policy() -> None:
    policy = build_policy(guide_values())
    snippet = json.loads(formats.to_cloudformation(policy, guide_values()))
    key = snippet["Resources"]["HarborKmsKey"]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["KeyPolicy"] == policy


def test_normalised_diff_ignores_layout_and_shows_changes() -> None:
    policy = build_policy(guide_values())
    reordered = json.loads(json.dumps(policy, sort_keys=True))
    assert same_policy(json.dumps(policy), reordered)
    assert unified_diff(policy, reordered) == ""
    changed = build_policy(guide_values(bucket_key_enabled=False))
    diff = unified_diff(policy, changed)
    assert diff.startswith("--- current\n+++ proposed\n")
    assert '+        "StringLike"' in diff
    assert normalise(policy).endswith("\n")


def test_explain_names_each_statement_and_the_corrections() -> None:
    text = explain(guide_values())
    for statement in build_statements(guide_values()):
        assert statement.sid in text
    assert "Correction 6" in text and "Correction 1" in text
