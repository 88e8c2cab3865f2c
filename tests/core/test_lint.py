"""The key policy linter: every rule fires on a bad policy and not on its fix.

The rule table at the top is the contract: a rule added to ``RULES`` without a
row here fails ``test_every_rule_has_a_case``. The guide's own template must
produce the errors ``shared/guide/CORRECTIONS.md`` predicts, and the wizard's
generated policy and AWS's default key policy must be clean at error level.
"""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass, replace
from typing import Any

import pytest

from wizard.core.policy.build import build_policy
from wizard.core.policy.lint import (
    RULES,
    Finding,
    PolicyInputError,
    findings_to_json,
    has_errors,
    lint_policy,
    parse_policy_text,
)
from wizard.core.values import PolicyOptions, Values

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
HARBOR = f"arn:aws:iam::{ACCOUNT}:role/HarborS3Role"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/KMSAdminRole"
BREAK_GLASS = f"arn:aws:iam::{ACCOUNT}:role/BreakGlass"
VIA = "s3.us-east-1.amazonaws.com"
BUCKET_ARN = "arn:aws:s3:::harbor-bucket"
EC = "kms:EncryptionContext:aws:s3:arn"

VALUES = Values(
    account_id=ACCOUNT,
    region="us-east-1",
    key_id="1234abcd-12ab-34cd-56ef-1234567890ab",
    harbor_role_arn=HARBOR,
    bucket="harbor-bucket",
    bucket_key_enabled=True,
    admin_principals=(ADMIN,),
    principal_org_id="o-a1b2c3d4e5",
    source_vpce=("vpce-0a1b2c3d4e5f67890",),
    source_ip=("10.0.0.0/8",),
)
VALUES_OBJECT = replace(VALUES, bucket_key_enabled=False)


def stmt(
    sid: str = "S",
    effect: str = "Allow",
    principal: Any = None,
    action: Any = "kms:Decrypt",
    condition: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A statement with sensible defaults (Harbor's role, Resource "*")."""
    body: dict[str, Any] = {
        "Sid": sid,
        "Effect": effect,
        "Principal": principal if principal is not None else {"AWS": HARBOR},
        "Action": action,
        "Resource": "*",
    }
    if condition is not None:
        body["Condition"] = condition
    body.update(extra)
    return body


def policy(*statements: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A policy document around ``statements``; ``top`` overrides elements."""
    document: dict[str, Any] = {"Version": "2012-10-17", "Statement": list(statements)}
    document.update(top)
    return {k: v for k, v in document.items() if v is not None}


ROOT_STMT = stmt("Root", principal={"AWS": ROOT}, action="kms:*")
ADMIN_STMT = stmt(
    "Admin",
    principal={"AWS": ADMIN},
    action=["kms:CreateAlias", "kms:DescribeKey", "kms:ScheduleKeyDeletion"],
)
HARBOR_USE = stmt(
    "HarborUse",
    action=["kms:Decrypt", "kms:GenerateDataKey"],
    condition={"StringEquals": {"kms:ViaService": VIA, EC: BUCKET_ARN}},
)
DENY_DIRECT = stmt(
    "DenyDirect",
    "Deny",
    action=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
    condition={"StringNotEquals": {"kms:ViaService": VIA}},
)

AWS_DEFAULT = {
    "Version": "2012-10-17",
    "Id": "key-default-1",
    "Statement": [
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": ROOT},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}

# The wizard's generated policy for VALUES (bucket keys on, org id, vpce, CIDR).
GENERATED: dict[str, Any] = policy(
    stmt("EnableIAMPolicies", principal={"AWS": ROOT}, action="kms:*"),
    stmt(
        "KeyAdministration",
        principal={"AWS": [ADMIN]},
        action=[
            f"kms:{a}"
            for a in [
                "CancelKeyDeletion",
                "CreateAlias",
                "DeleteAlias",
                "DescribeKey",
                "DisableKey",
                "DisableKeyRotation",
                "EnableKey",
                "EnableKeyRotation",
                "GetKeyPolicy",
                "GetKeyRotationStatus",
                "ListGrants",
                "ListKeyPolicies",
                "ListKeyRotations",
                "ListResourceTags",
                "PutKeyPolicy",
                "RevokeGrant",
                "RotateKeyOnDemand",
                "ScheduleKeyDeletion",
                "TagResource",
                "UntagResource",
                "UpdateAlias",
                "UpdateKeyDescription",
            ]
        ],
    ),
    stmt(
        "AdminGrantsForAWSResourcesOnly",
        principal={"AWS": [ADMIN]},
        action="kms:CreateGrant",
        condition={"Bool": {"kms:GrantIsForAWSResource": "true"}},
    ),
    stmt(
        "HarborUseThroughS3",
        action=["kms:Decrypt", "kms:GenerateDataKey"],
        condition={
            "StringEquals": {
                "kms:ViaService": VIA,
                EC: BUCKET_ARN,
                "aws:PrincipalOrgID": "o-a1b2c3d4e5",
            }
        },
    ),
    stmt("HarborDescribeKey", action="kms:DescribeKey"),
    {**DENY_DIRECT, "Sid": "DenyHarborDirectUse"},
    stmt(
        "DenyHarborOutsideNetwork",
        "Deny",
        action="kms:*",
        condition={
            "StringNotEquals": {"aws:SourceVpce": ["vpce-0a1b2c3d4e5f67890"]},
            "NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8"]},
            "BoolIfExists": {"aws:ViaAWSService": "false"},
        },
    ),
    stmt(
        "DenyGrantsForNonAWSResources",
        "Deny",
        principal="*",
        action=["kms:CreateGrant"],
        condition={"Bool": {"kms:GrantIsForAWSResource": "false"}},
    ),
    Id="harbor-kms-hardened",
)


def generated_with(*extra: dict[str, Any]) -> dict[str, Any]:
    """The generated policy with more statements (a deep copy)."""
    document = copy.deepcopy(GENERATED)
    document["Statement"].extend(copy.deepcopy(list(extra)))
    return document


def generated_without(sid: str) -> dict[str, Any]:
    """The generated policy without the statement ``sid``."""
    document = copy.deepcopy(GENERATED)
    document["Statement"] = [s for s in document["Statement"] if s["Sid"] != sid]
    return document


def guide_template(**fill: str) -> dict[str, Any]:
    """The guide's "Hardened Key Policy Template", placeholders replaced by ``fill``."""
    template: dict[str, Any] = {
        "Version": "2012-10-17",
        "Id": "harbor-s3-kms-hardened-policy",
        "Statement": [
            stmt(
                "Enable IAM Policies",
                principal={"AWS": "arn:aws:iam::ACCOUNT_ID:root"},
                action="kms:*",
                condition={"StringEquals": {"kms:CallerAccount": "ACCOUNT_ID"}},
            ),
            stmt(
                "Allow Key Administrators",
                principal={
                    "AWS": [
                        "arn:aws:iam::ACCOUNT_ID:role/KMSAdminRole",
                        "arn:aws:iam::ACCOUNT_ID:user/security-admin",
                    ]
                },
                action=[
                    f"kms:{a}"
                    for a in [
                        "Create*",
                        "Describe*",
                        "Enable*",
                        "List*",
                        "Put*",
                        "Update*",
                        "Revoke*",
                        "Disable*",
                        "Get*",
                        "Delete*",
                        "TagResource",
                        "UntagResource",
                        "ScheduleKeyDeletion",
                        "CancelKeyDeletion",
                    ]
                ],
            ),
            stmt(
                "Allow Harbor Role Encryption Operations",
                principal={"AWS": "arn:aws:iam::ACCOUNT_ID:role/HarborS3Role"},
                action=["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
                condition={
                    "StringEquals": {
                        "kms:ViaService": "s3.REGION.amazonaws.com",
                        EC: "arn:aws:s3:::BUCKET_NAME/*",
                    }
                },
            ),
            stmt(
                "Allow S3 Service to Use Key",
                principal={"Service": "s3.amazonaws.com"},
                action=["kms:Decrypt", "kms:GenerateDataKey"],
                condition={
                    "StringEquals": {"kms:ViaService": "s3.REGION.amazonaws.com"},
                    "ArnLike": {EC: "arn:aws:s3:::BUCKET_NAME/*"},
                },
            ),
            stmt(
                "Deny Key Usage Outside S3",
                "Deny",
                principal={"AWS": "arn:aws:iam::ACCOUNT_ID:role/HarborS3Role"},
                action=["kms:Decrypt", "kms:GenerateDataKey"],
                condition={
                    "StringNotEquals": {"kms:ViaService": "s3.REGION.amazonaws.com"}
                },
            ),
            stmt(
                "Deny Unencrypted S3 Operations",
                "Deny",
                principal="*",
                action="kms:Decrypt",
                condition={"Null": {EC: "true"}},
            ),
        ],
    }
    filled: dict[str, Any] = _fill(template, fill)
    return filled


def _fill(value: Any, fill: dict[str, str]) -> Any:
    if isinstance(value, str):
        for placeholder, text in fill.items():
            value = value.replace(placeholder, text)
        return value
    if isinstance(value, list):
        return [_fill(v, fill) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, fill) for k, v in value.items()}
    return value


FILLED = {"ACCOUNT_ID": ACCOUNT, "REGION": "us-east-1", "BUCKET_NAME": "harbor-bucket"}


def rules_of(document: Any, values: Values | None = None) -> set[str]:
    return {f.rule for f in lint_policy(document, values)}


def errors_of(document: Any, values: Values | None = None) -> list[Finding]:
    return [f for f in lint_policy(document, values) if f.severity == "error"]


def harbor(condition: dict[str, Any], action: Any = None) -> dict[str, Any]:
    """Harbor's use statement with other conditions."""
    return stmt(
        "HarborUse",
        action=action or ["kms:Decrypt", "kms:GenerateDataKey"],
        condition=condition,
    )


@dataclass(frozen=True)
class Case:
    """A policy that triggers ``rule`` and one that does not."""

    rule: str
    bad: Any
    good: Any
    values: Values | None = None


_LIKE_OBJECT = {"StringLike": {EC: f"{BUCKET_ARN}/*"}}
_NETWORK_DENY = stmt(
    "DenyNet",
    "Deny",
    action="kms:*",
    condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
)
_BLANKET = stmt("Blanket", "Deny", "*", condition={"Null": {EC: "true"}})

CASES = [
    # Grammar.
    Case("policy-version", policy(ROOT_STMT, Version=None), policy(ROOT_STMT)),
    Case("empty-statement", policy(), policy(ROOT_STMT)),
    Case(
        "policy-too-large",
        policy(ROOT_STMT, stmt(action=["kms:Decrypt"] * 3000)),
        policy(ROOT_STMT, stmt(action=["kms:Decrypt"] * 30)),
    ),
    Case(
        "policy-invalid-characters",
        policy({**ROOT_STMT, "Sid": "Root\u2019s"}),
        policy({**ROOT_STMT, "Sid": "Root caf\u00e9"}),
    ),
    Case(
        "duplicate-sid",
        policy(ROOT_STMT, {**ADMIN_STMT, "Sid": "Root"}),
        policy(ROOT_STMT, ADMIN_STMT),
    ),
    Case(
        "sid-characters",
        policy({**ROOT_STMT, "Sid": "Enable-IAM"}),
        policy({**ROOT_STMT, "Sid": "Enable IAM User Permissions"}),
    ),
    Case(
        "unknown-element",
        policy({**ROOT_STMT, "Condtion": {}}),
        policy(ROOT_STMT, Id="x"),
    ),
    Case("malformed-element", policy(stmt(action=42)), policy(stmt())),
    Case(
        "invalid-effect",
        policy({**ROOT_STMT, "Effect": "allow"}),
        policy(ROOT_STMT),
    ),
    Case(
        "missing-principal",
        policy({k: v for k, v in ROOT_STMT.items() if k != "Principal"}),
        policy(ROOT_STMT),
    ),
    Case(
        "not-principal",
        policy(ROOT_STMT, {**stmt(effect="Deny"), "NotPrincipal": {"AWS": ADMIN}}),
        policy(ROOT_STMT, stmt(effect="Deny")),
    ),
    Case(
        "action-element",
        policy({k: v for k, v in ROOT_STMT.items() if k != "Action"}),
        policy(ROOT_STMT),
    ),
    Case(
        "resource-element",
        policy({**ROOT_STMT, "NotResource": "*"}),
        policy(ROOT_STMT),
    ),
    Case(
        "unknown-condition-operator",
        policy(harbor({"StringEqualz": {"kms:ViaService": VIA}})),
        policy(harbor({"StringEquals": {"kms:ViaService": VIA}})),
    ),
    Case(
        "condition-value-type",
        policy(stmt(condition={"Bool": {"aws:SecureTransport": "yes"}})),
        policy(stmt(condition={"Bool": {"aws:SecureTransport": "true"}})),
    ),
    Case(
        "unknown-condition-key",
        policy(harbor({"StringEquals": {"kms:ViaServices": VIA}})),
        policy(harbor({"StringEquals": {"kms:ViaService": VIA}})),
    ),
    Case(
        "principal-malformed",
        policy(stmt(principal={"AWS": f"arn:aws:iam::{ACCOUNT}:group/admins"})),
        policy(stmt(principal={"AWS": [ACCOUNT, HARBOR, "*"]})),
    ),
    Case(
        "unknown-kms-action",
        policy(stmt(action="kms:Decript")),
        policy(stmt(action=["kms:Decrypt", "kms:GenerateDataKey*"])),
    ),
    Case(
        "non-kms-action",
        policy(stmt(action=["kms:Decrypt", "s3:GetObject"])),
        policy(stmt(action=["kms:Decrypt"])),
    ),
    Case(
        "resource-not-this-key",
        policy({**stmt(), "Resource": BUCKET_ARN}),
        policy({**stmt(), "Resource": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/*"}),
        VALUES,
    ),
    # Conditions (CORRECTIONS.md 1, 2, 4, 5).
    Case(
        "encryption-context-literal-wildcard",
        policy(
            harbor({"StringEquals": {"kms:ViaService": VIA, EC: f"{BUCKET_ARN}/*"}})
        ),
        policy(harbor({"StringEquals": {"kms:ViaService": VIA}, **_LIKE_OBJECT})),
    ),
    Case(
        "context-condition-on-non-crypto-action",
        policy(
            harbor(
                {"StringEquals": {"kms:ViaService": VIA}, **_LIKE_OBJECT},
                ["kms:Decrypt", "kms:DescribeKey"],
            )
        ),
        policy(
            harbor({"StringEquals": {"kms:ViaService": VIA}, **_LIKE_OBJECT}),
            stmt("Describe", action="kms:DescribeKey"),
        ),
    ),
    Case(
        "for-all-values-empty-set",
        policy(
            harbor(
                {
                    "StringEquals": {"kms:ViaService": VIA},
                    "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": "x"},
                }
            )
        ),
        policy(
            harbor(
                {
                    "StringEquals": {"kms:ViaService": VIA},
                    "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": "x"},
                    "Null": {"kms:EncryptionContextKeys": "false"},
                }
            )
        ),
    ),
    Case(
        "for-all-values-single-valued",
        policy(harbor({"ForAllValues:StringLike": {EC: f"{BUCKET_ARN}/*"}})),
        policy(harbor(_LIKE_OBJECT)),
    ),
    Case(
        "network-condition-on-forwarded-call",
        policy(
            harbor(
                {
                    "StringEquals": {"kms:ViaService": VIA},
                    "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                }
            )
        ),
        policy(harbor({"StringEquals": {"kms:ViaService": VIA}}), _NETWORK_DENY),
    ),
    Case(
        "network-deny-without-service-exemption",
        policy(HARBOR_USE, _NETWORK_DENY),
        policy(
            HARBOR_USE,
            {
                **_NETWORK_DENY,
                "Condition": {
                    **_NETWORK_DENY["Condition"],
                    "BoolIfExists": {"aws:ViaAWSService": "false"},
                },
            },
        ),
    ),
    Case(
        "allow-if-exists-bypass",
        policy(harbor({"StringEqualsIfExists": {"kms:ViaService": VIA}})),
        policy(harbor({"StringEquals": {"kms:ViaService": VIA}})),
    ),
    Case(
        "unfilled-placeholder",
        policy(stmt(principal={"AWS": "arn:aws:iam::${AWS_ACCOUNT_ID}:root"})),
        policy(stmt(principal={"AWS": "${aws:username}"}), Id="ACCOUNT_ID"),
    ),
    Case(
        "via-service-malformed",
        policy(harbor({"StringEquals": {"kms:ViaService": "s3.amazonaws.com"}})),
        policy(harbor({"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}})),
    ),
    # Access (guide misconfigurations 1-5, corrections 3, 6, 8, 9, 10).
    Case("root-delegation", AWS_DEFAULT, policy(ADMIN_STMT)),
    Case(
        "root-caller-account-redundant",
        policy(
            {**ROOT_STMT, "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT}}}
        ),
        policy(ROOT_STMT),
    ),
    Case("crypto-without-via-service", policy(stmt()), policy(HARBOR_USE)),
    Case(
        "missing-encryption-context",
        policy(harbor({"StringEquals": {"kms:ViaService": VIA}})),
        policy(HARBOR_USE),
    ),
    Case(
        "kms-star-to-service-role",
        policy(stmt(action="kms:*")),
        policy(stmt(action="kms:DescribeKey")),
        VALUES,
    ),
    Case("no-explicit-deny", AWS_DEFAULT, policy(ROOT_STMT, DENY_DIRECT)),
    Case(
        "deny-can-lock-out",
        policy(ROOT_STMT, stmt("DenyAll", "Deny", "*", "kms:*")),
        policy(ROOT_STMT, stmt("DenyGrants", "Deny", "*", "kms:CreateGrant")),
    ),
    Case(
        "admin-can-grant-itself-use",
        policy(stmt(principal={"AWS": ADMIN}, action=["kms:Create*", "kms:Delete*"])),
        policy(stmt(principal={"AWS": ADMIN}, action=["kms:CreateAlias"])),
    ),
    Case(
        "admin-can-change-policy",
        policy(stmt(principal={"AWS": ADMIN}, action=["kms:Put*", "kms:Delete*"])),
        policy(ADMIN_STMT),
    ),
    Case(
        "admin-iam-user",
        policy(
            stmt(
                principal={"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"},
                action="kms:DisableKey",
            )
        ),
        policy(ADMIN_STMT),
    ),
    Case(
        "wildcard-principal-unconditioned",
        policy(stmt(principal="*")),
        policy(
            stmt(
                principal="*",
                condition={"StringEquals": {"kms:CallerAccount": ACCOUNT}},
            )
        ),
    ),
    Case(
        "wildcard-principal-weak-conditions",
        policy(
            stmt(
                principal={"AWS": "*"},
                condition={"StringEquals": {"kms:ViaService": VIA}},
            )
        ),
        policy(
            stmt(
                principal={"AWS": "*"},
                condition={
                    "StringEquals": {
                        "kms:ViaService": VIA,
                        "aws:PrincipalOrgID": "o-a1b2c3d4e5",
                    }
                },
            )
        ),
    ),
    Case(
        "s3-service-principal",
        policy(stmt(principal={"Service": "s3.amazonaws.com"})),
        policy(stmt(principal={"Service": "logs.us-east-1.amazonaws.com"})),
    ),
    Case(
        "blanket-decrypt-deny",
        policy(ROOT_STMT, _BLANKET),
        policy(ROOT_STMT, {**_BLANKET, "Principal": {"AWS": HARBOR}}),
    ),
    # Context (the policy against the user's values).
    Case(
        "via-service-region-mismatch",
        policy(
            harbor({"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}})
        ),
        GENERATED,
        VALUES,
    ),
    Case(
        "encryption-context-wrong-bucket",
        policy(harbor({"StringLike": {EC: "arn:aws:s3:::other-bucket/*"}})),
        policy(harbor({"StringLike": {EC: "arn:aws:s3:::harbor-*"}})),
        VALUES,
    ),
    Case(
        "bucket-key-context-mismatch",
        policy(harbor(_LIKE_OBJECT)),
        GENERATED,
        VALUES,
    ),
    Case("harbor-role-not-allowed", policy(ADMIN_STMT), GENERATED, VALUES),
    Case(
        "harbor-extra-actions",
        generated_with(stmt("More", action="kms:GenerateDataKey*")),
        GENERATED,
        VALUES,
    ),
    Case(
        "no-admin-can-manage",
        policy(HARBOR_USE, ADMIN_STMT),
        policy(
            HARBOR_USE,
            stmt("Glass", principal={"AWS": BREAK_GLASS}, action="kms:PutKeyPolicy"),
        ),
        replace(VALUES, break_glass_principals=(BREAK_GLASS,)),
    ),
    Case(
        "caller-account-mismatch",
        policy(stmt(condition={"StringEquals": {"kms:CallerAccount": OTHER_ACCOUNT}})),
        policy(stmt(condition={"StringEquals": {"kms:CallerAccount": ACCOUNT}})),
        VALUES,
    ),
    Case(
        "no-direct-use-deny",
        generated_without("DenyHarborDirectUse"),
        GENERATED,
        VALUES,
    ),
]


def test_every_rule_has_a_case() -> None:
    assert sorted(c.rule for c in CASES) == sorted(RULES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.rule)
def test_rule_fires_on_the_bad_policy(case: Case) -> None:
    findings = [f for f in lint_policy(case.bad, case.values) if f.rule == case.rule]
    assert findings, f"{case.rule} did not fire"
    for finding in findings:
        assert finding.message.endswith(".") and finding.fix
        assert (
            finding.statement is None
            or finding.statement in finding.message
            or (finding.statement.startswith("#") or finding.rule == "duplicate-sid")
        )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.rule)
def test_rule_is_quiet_on_the_good_policy(case: Case) -> None:
    assert case.rule not in rules_of(case.good, case.values)


def _severity(document: Any, rule: str, values: Values | None = None) -> set[str]:
    return {f.severity for f in lint_policy(document, values) if f.rule == rule}


def test_severities_rise_where_the_harm_is_certain() -> None:
    bare_harbor = policy(stmt())
    assert _severity(bare_harbor, "crypto-without-via-service") == {"warning"}
    assert _severity(bare_harbor, "crypto-without-via-service", VALUES) == {"error"}
    star = policy(stmt(action="kms:*"))
    assert _severity(star, "kms-star-to-service-role") == {"warning"}
    assert _severity(star, "kms-star-to-service-role", VALUES) == {"error"}
    admin_star = policy(stmt(principal={"AWS": ADMIN}, action="kms:*"))
    assert _severity(admin_star, "kms-star-to-service-role", VALUES) == {"warning"}
    wrong = {"StringEquals": {"kms:CallerAccount": OTHER_ACCOUNT}}
    root = policy({**ROOT_STMT, "Condition": wrong})
    assert _severity(root, "root-caller-account-redundant") == {"error"}
    scoped = stmt(
        principal={"Service": "s3.amazonaws.com"},
        condition={
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": BUCKET_ARN},
        },
    )
    assert _severity(policy(scoped), "s3-service-principal") == {"info"}
    assert _severity(policy(ROOT_STMT, Version="2012-10-18"), "policy-version") == {
        "error"
    }
    foreign = policy(stmt(principal={"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}))
    assert _severity(foreign, "root-delegation", VALUES) == {"warning"}


def test_deny_lockout_is_a_warning_when_conditioned() -> None:
    conditioned = stmt(
        "DenyAll", "Deny", "*", "kms:*", {"Bool": {"aws:SecureTransport": "false"}}
    )
    assert _severity(policy(ROOT_STMT, conditioned), "deny-can-lock-out") == {"warning"}
    # NotPrincipal covers everyone it does not list: the root principal here.
    spare_admin = {**stmt("DenyAll", "Deny", action="kms:Put*"), "NotPrincipal": {}}
    spare_admin.pop("Principal")
    spare_admin["NotPrincipal"] = {"AWS": ADMIN}
    assert "deny-can-lock-out" in rules_of(policy(ROOT_STMT, spare_admin), VALUES)


def test_literal_wildcard_message_follows_effect_and_operator() -> None:
    deny = stmt(
        "DenyOther",
        "Deny",
        "*",
        condition={"StringNotEquals": {EC: f"{BUCKET_ARN}/*"}},
    )
    (finding,) = [
        f
        for f in lint_policy(policy(ROOT_STMT, deny))
        if f.rule == "encryption-context-literal-wildcard"
    ]
    assert "always matches" in finding.message
    assert "StringNotLike" in finding.fix
    escaped = harbor({"StringEquals": {EC: "arn:aws:s3:::odd${*}name"}})
    assert "encryption-context-literal-wildcard" not in rules_of(policy(escaped))


def test_network_deny_for_everyone_needs_the_exemption_too() -> None:
    deny_all = {**_NETWORK_DENY, "Principal": "*", "Action": "kms:Decrypt"}
    assert "network-deny-without-service-exemption" in rules_of(policy(deny_all))


def test_via_service_accepts_both_china_suffixes() -> None:
    for suffix in ("amazonaws.com", "amazonaws.com.cn"):
        value = f"s3.cn-north-1.{suffix}"
        document = policy(harbor({"StringEquals": {"kms:ViaService": value}}))
        assert "via-service-malformed" not in rules_of(document)


def test_generated_policy_is_clean_and_quiet() -> None:
    for values in (None, VALUES):
        findings = lint_policy(GENERATED, values)
        assert not has_errors(findings)
        assert [f.rule for f in findings if f.severity == "warning"] == []
    assert rules_of(GENERATED, VALUES) == {"root-delegation", "admin-can-change-policy"}


def test_generated_object_form_and_options_are_clean() -> None:
    document = copy.deepcopy(GENERATED)
    harbor_use = document["Statement"][3]
    del harbor_use["Condition"]["StringEquals"][EC]
    harbor_use["Condition"]["StringLike"] = {EC: f"{BUCKET_ARN}/*"}
    assert errors_of(document, VALUES_OBJECT) == []
    both = copy.deepcopy(document)
    both["Statement"][3]["Condition"]["StringLike"][EC] = [
        BUCKET_ARN,
        f"{BUCKET_ARN}/*",
    ]
    both_values = replace(VALUES, options=PolicyOptions(encryption_context="both"))
    assert errors_of(both, both_values) == []
    assert "bucket-key-context-mismatch" in rules_of(document, both_values)
    extras = generated_with(
        stmt(
            "DenyDecryptWithoutS3Context", "Deny", "*", condition={"Null": {EC: "true"}}
        ),
        stmt(
            "AllowS3ServicePrincipal",
            principal={"Service": "s3.amazonaws.com"},
            action=["kms:Decrypt", "kms:GenerateDataKey"],
            condition={
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnLike": {"aws:SourceArn": BUCKET_ARN},
            },
        ),
        stmt(
            "BreakGlassPolicyChange",
            principal={"AWS": BREAK_GLASS},
            action=["kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy"],
        ),
    )
    keys = extras["Statement"][3]["Condition"]
    keys["ForAllValues:StringEquals"] = {"kms:EncryptionContextKeys": ["aws:s3:arn"]}
    keys["Null"] = {"kms:EncryptionContextKeys": "false"}
    glass = replace(VALUES, break_glass_principals=(BREAK_GLASS,))
    for values in (None, glass):
        assert errors_of(extras, values) == []
    # A policy-changing role the values do not name is not an administrator.
    assert "kms-star-to-service-role" in _errors(extras, VALUES)


def test_aws_default_key_policy_is_clean_at_error_level() -> None:
    assert errors_of(AWS_DEFAULT) == []
    # With values it still has no errors: Harbor can be allowed by an IAM
    # policy through the root delegation, which the finding explains.
    assert errors_of(AWS_DEFAULT, VALUES) == []
    assert _severity(AWS_DEFAULT, "harbor-role-not-allowed", VALUES) == {"warning"}


def _errors(document: Any, values: Values | None = None) -> set[str]:
    return {f.rule for f in errors_of(document, values)}


def test_guide_template_fails_where_the_corrections_say() -> None:
    raw = guide_template()
    assert {
        "unfilled-placeholder",
        "encryption-context-literal-wildcard",
        "context-condition-on-non-crypto-action",
    } <= _errors(raw)
    filled = guide_template(**FILLED)
    predicted = {  # corrections 1 and 2
        "encryption-context-literal-wildcard",
        "context-condition-on-non-crypto-action",
    }
    assert _errors(filled) == predicted
    admins = (ADMIN, f"arn:aws:iam::{ACCOUNT}:user/security-admin")
    keys_off = replace(VALUES_OBJECT, admin_principals=admins)
    assert _errors(filled, keys_off) == predicted
    # With Bucket Keys on, S3 sends the bucket ARN: the object pattern fails.
    keys_on = replace(VALUES, admin_principals=admins)
    assert _errors(filled, keys_on) == predicted | {"bucket-key-context-mismatch"}
    # Values naming only the role make the IAM user a non-administrator.
    assert "kms-star-to-service-role" in _errors(filled, VALUES)
    assert {
        "root-caller-account-redundant",  # correction 6
        "s3-service-principal",  # correction 3
        "admin-can-grant-itself-use",  # correction 9
        "admin-can-change-policy",  # correction 9
        "admin-iam-user",
        "blanket-decrypt-deny",  # correction 8
        "root-delegation",
    } <= rules_of(filled)


def test_guide_advanced_statement_fails_where_the_corrections_say() -> None:
    advanced = stmt(
        "Allow Harbor Role with Advanced Conditions",
        action=["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
        condition={
            "StringEquals": {
                "kms:ViaService": VIA,
                EC: f"{BUCKET_ARN}/*",
                "kms:CallerAccount": ACCOUNT,
                "aws:PrincipalOrgID": "o-xxxxxxxxxx",
            },
            "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["aws:s3:arn"]},
            "IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]},
        },
    )
    found = rules_of(policy(ROOT_STMT, advanced))
    assert {
        "encryption-context-literal-wildcard",
        "context-condition-on-non-crypto-action",
        "network-condition-on-forwarded-call",
        "unfilled-placeholder",
    } <= found


_HARBOR_BARE = stmt("Allow Harbor Role", action=["kms:Decrypt", "kms:GenerateDataKey"])
_HARBOR_VIA = {**_HARBOR_BARE, "Condition": {"StringEquals": {"kms:ViaService": VIA}}}


@pytest.mark.parametrize(
    ("document", "rule", "severity"),
    [
        # 1: root without conditions is delegation, not "everyone" (correction 6).
        (policy(ROOT_STMT), "root-delegation", "info"),
        # 2-4 with the Harbor role known.
        (policy(_HARBOR_BARE), "crypto-without-via-service", "error"),
        (policy(_HARBOR_VIA), "missing-encryption-context", "error"),
        (policy(stmt(action="kms:*")), "kms-star-to-service-role", "error"),
        # 5.
        (policy(ROOT_STMT, _HARBOR_VIA), "no-explicit-deny", "warning"),
    ],
    ids=["1-root", "2-via-service", "3-context", "4-kms-star", "5-no-deny"],
)
def test_guide_common_misconfigurations_are_caught(
    document: Any, rule: str, severity: str
) -> None:
    assert severity in _severity(document, rule, VALUES)


def test_guide_misconfiguration_fixes_are_judged_correctly() -> None:
    # 1's fix adds kms:CallerAccount: redundant, not a fix (correction 6).
    root_fix = {
        **ROOT_STMT,
        "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT}},
    }
    assert _severity(policy(root_fix), "root-caller-account-redundant") == {"warning"}
    # 3's fix uses StringEquals with /*: never matches (correction 1).
    context_fix = harbor(
        {"StringEquals": {"kms:ViaService": VIA, EC: f"{BUCKET_ARN}/*"}}
    )
    assert "encryption-context-literal-wildcard" in _errors(policy(context_fix))
    # 4's fix drops the conditions: direct use is open again.
    star_fix = stmt(action=["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"])
    assert "crypto-without-via-service" in _errors(policy(star_fix), VALUES)


_FLAGS = (
    "root_delegation",
    "harbor_describe_key",
    "deny_direct_use",
    "deny_decrypt_without_s3_context",
    "s3_service_principal",
    "restrict_encryption_context_keys",
)


def test_built_policy_has_no_errors_for_any_option_combination() -> None:
    variants: list[dict[str, Any]] = [
        {},
        {"break_glass_principals": (BREAK_GLASS,)},
        {"admin_principals": (), "break_glass_principals": (BREAK_GLASS,)},
        {"source_vpce": (), "source_ip": (), "grants_for_aws_resources_only": False},
        {"region": "cn-north-1", "principal_org_id": None},
    ]
    combos = itertools.product([False, True], repeat=len(_FLAGS))
    for i, bits in enumerate(combos):
        for form in ("auto", "object", "bucket", "both"):
            options = PolicyOptions(
                **dict(zip(_FLAGS, bits, strict=True)), encryption_context=form
            )
            values = replace(
                VALUES,
                options=options,
                bucket_key_enabled=i % 2 == 0,
                **variants[i % len(variants)],
            )
            document = build_policy(values)
            assert errors_of(document, values) == [], (values, document)
            assert errors_of(document) == [], (values, document)


def test_parse_policy_text_explains_unusable_input() -> None:
    with pytest.raises(PolicyInputError, match=r"line 2, column 1"):
        parse_policy_text('{"Version": "2012-10-17",\n}')
    for text, words in (
        ("[]", "JSON object"),
        ("null", "not a null"),
        ('{"Version": "2012-10-17"}', "no Statement"),
        ('{"Statement": "kms:*"}', "Statement must be a list"),
        ("[" * 100_000, "JSON"),
    ):
        with pytest.raises(PolicyInputError, match=words):
            parse_policy_text(text)
    assert parse_policy_text(json.dumps(AWS_DEFAULT)) == AWS_DEFAULT


def test_lint_policy_rejects_only_what_it_cannot_read() -> None:
    unusable: Any
    for unusable in ([], "policy", None, {"Version": "2012-10-17"}, {"Statement": 3}):
        with pytest.raises(PolicyInputError):
            lint_policy(unusable)
    assert "empty-statement" in rules_of({"Statement": []})
    one = {"Statement": ROOT_STMT}
    assert "policy-version" in rules_of(one)


def test_findings_json_and_order() -> None:
    document = guide_template(**FILLED)
    findings = lint_policy(document, VALUES)
    ranks = ["error", "warning", "info"]
    assert [ranks.index(f.severity) for f in findings] == sorted(
        ranks.index(f.severity) for f in findings
    )
    as_json = findings_to_json(findings)
    assert all(
        list(item) == ["rule", "severity", "statement", "message", "fix"]
        for item in as_json
    )
    json.dumps(as_json)
    assert has_errors(findings)
    assert not has_errors([f for f in findings if f.severity != "error"])
    assert len(set(findings)) == len(findings)


def test_rule_catalogue_is_well_formed() -> None:
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id
        assert rule_id == rule_id.lower() and " " not in rule_id
        assert rule.severity in ("error", "warning", "info")
        assert rule.title and rule.rationale.endswith(".")
        assert rule.help_uri.startswith("https://docs.aws.amazon.com/")
