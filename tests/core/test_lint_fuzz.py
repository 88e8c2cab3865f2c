"""The linter never crashes: any JSON value lints or raises PolicyInputError.

Arbitrary JSON finds type confusion; policy-shaped JSON (real element names,
operators, keys and ARNs in random places) reaches the rules behind the grammar.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wizard.core.policy.lint import (
    RULES,
    PolicyInputError,
    findings_to_json,
    lint_policy,
    parse_policy_text,
)
from wizard.core.values import PolicyOptions, Values

ACCOUNT = "111122223333"
HARBOR = f"arn:aws:iam::{ACCOUNT}:role/HarborS3Role"
VALUES = Values(
    account_id=ACCOUNT,
    region="us-east-1",
    key_id="1234abcd-12ab-34cd-56ef-1234567890ab",
    harbor_role_arn=HARBOR,
    bucket="harbor-bucket",
    admin_principals=(f"arn:aws:iam::{ACCOUNT}:role/KMSAdminRole",),
    options=PolicyOptions(encryption_context="both"),
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=25,
)

words = st.sampled_from(
    [
        "*",
        "Allow",
        "Deny",
        "kms:*",
        "kms:Decrypt",
        "kms:GenerateDataKey*",
        "kms:PutKeyPolicy",
        "kms:CreateGrant",
        "kms:DescribeKey",
        "s3:GetObject",
        ACCOUNT,
        HARBOR,
        f"arn:aws:iam::{ACCOUNT}:root",
        f"arn:aws:iam::{ACCOUNT}:user/bob",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/R/s",
        "arn:aws:s3:::harbor-bucket/*",
        "arn:aws:s3:::harbor-bucket",
        "s3.us-east-1.amazonaws.com",
        "s3.amazonaws.com",
        "10.0.0.0/8",
        "true",
        "false",
        "ACCOUNT_ID",
        "${aws:username}",
    ]
)
condition_keys = st.sampled_from(
    [
        "kms:ViaService",
        "kms:CallerAccount",
        "kms:EncryptionContext:aws:s3:arn",
        "kms:EncryptionContextKeys",
        "kms:GrantIsForAWSResource",
        "aws:SourceIp",
        "aws:SourceVpce",
        "aws:ViaAWSService",
        "aws:PrincipalOrgID",
        "aws:SourceAccount",
    ]
)
operators = st.sampled_from(
    [
        "StringEquals",
        "StringLike",
        "StringNotEquals",
        "StringEqualsIfExists",
        "ForAllValues:StringEquals",
        "ForAnyValue:StringLike",
        "Bool",
        "BoolIfExists",
        "Null",
        "NullIfExists",
        "IpAddress",
        "NotIpAddress",
        "ArnLike",
        "NumericLessThan",
        "DateGreaterThan",
        "Foo:Bar",
    ]
)
loose = words | json_values | st.lists(words, max_size=4)
conditions = st.dictionaries(
    operators,
    st.dictionaries(condition_keys, loose, max_size=3) | json_values,
    max_size=3,
)
principals = (
    words
    | st.dictionaries(
        st.sampled_from(["AWS", "Service", "Federated", "CanonicalUser", "X"]),
        loose,
        max_size=2,
    )
    | json_values
)
statements = st.fixed_dictionaries(
    {},
    optional={
        "Sid": st.text(max_size=8) | json_values,
        "Effect": words | json_values,
        "Principal": principals,
        "NotPrincipal": principals,
        "Action": loose,
        "NotAction": loose,
        "Resource": loose,
        "NotResource": loose,
        "Condition": conditions | json_values,
    },
)
policies = st.fixed_dictionaries(
    {"Statement": st.lists(statements | json_values, max_size=5) | statements},
    optional={"Version": st.sampled_from(["2012-10-17", "2008-10-17"]) | json_values},
)


def _check(document: Any, values: Values | None) -> None:
    try:
        findings = lint_policy(document, values)
    except PolicyInputError:
        return
    for finding in findings:
        assert finding.rule in RULES
        assert finding.severity in ("error", "warning", "info")
        assert finding.message and finding.fix
    json.dumps(findings_to_json(findings))


_settings = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@_settings
@given(json_values, st.booleans())
def test_any_json_value_lints_or_is_rejected(document: Any, with_values: bool) -> None:
    _check(document, VALUES if with_values else None)
    _check({"Statement": document}, VALUES if with_values else None)
    _check({"Statement": [document]}, None)


@_settings
@given(policies, st.booleans())
def test_policy_shaped_json_never_crashes(document: Any, with_values: bool) -> None:
    _check(document, VALUES if with_values else None)


@_settings
@given(st.text(max_size=60))
def test_any_text_parses_or_is_rejected(text: str) -> None:
    try:
        parse_policy_text(text)
    except PolicyInputError as error:
        assert str(error).endswith(".")


def test_deep_nesting_does_not_recurse() -> None:
    deep: Any = "kms:Decrypt"
    for _ in range(50_000):
        deep = [deep]
    _check({"Statement": [{"Effect": "Allow", "Action": deep}]}, VALUES)
    nested: Any = {}
    for _ in range(50_000):
        nested = {"a": nested}
    _check({"Statement": {"Condition": {"Null": nested}}, "Id": nested}, None)
