"""Every checklist item on hand-built snapshots: a pass, a fail and an unknown each.

The base snapshot is a hardened account (the tool's policy, rotation, a logging
multi-Region trail into CloudWatch Logs, CIS-style metric filters with alarms,
the Config rule, an AWS/Usage dashboard, IRSA). Each case changes one thing.
Attested items get an attested and a not-attested case instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.factories import ACCOUNT, ADMIN_ROLE, BUCKET, HARBOR_ROLE, guide_values
from wizard.core import store
from wizard.core.checklist import engine, report
from wizard.core.checklist.evaluators import _REGISTRY
from wizard.core.checklist.model import Attestation, Item, Verdict
from wizard.core.checklist.patterns import (
    PatternError,
    cloudtrail_record,
    event_matches,
    eventbridge_event,
    filter_matches,
)
from wizard.core.policy.build import build_policy
from wizard.core.policy.lint import lint_policy
from wizard.core.snapshot import (
    AccountSnapshot,
    Alarm,
    Bucket,
    BucketEncryption,
    CallerIdentity,
    ConfigRule,
    Dashboard,
    EventRule,
    Grant,
    KeyInfo,
    MetricFilter,
    ProbeResult,
    Role,
    Rotation,
    SnsTopic,
    Trail,
    Unknown,
    UserCredentials,
)
from wizard.core.values import Values

EXAMPLES = Path(__file__).parents[2] / "examples"
VALUES = guide_values()
KEY_ARN = VALUES.key_arn
T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:harbor-kms-alerts"
OTHER_ACCOUNT = "210987654321"
LOG_GROUP = "/aws/cloudtrail/harbor-kms-audit-trail"
TRAIL_BUCKET = f"harbor-kms-cloudtrail-{ACCOUNT}"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
KMS = "($.eventSource=kms.amazonaws.com)"
PATTERNS = {
    "deletion": f"{{{KMS} && (($.eventName=DisableKey) || "
    "($.eventName=ScheduleKeyDeletion))}",
    "policy": f"{{{KMS} && ($.eventName=PutKeyPolicy)}}",
    "rotation": f"{{{KMS} && ($.eventName=DisableKeyRotation)}}",
    "denied": f'{{{KMS} && ($.errorCode="AccessDenied*") && '
    f'($.resources[0].ARN="{KEY_ARN}")}}',
}
ATTESTED_IDS = (
    "rotation_documented",
    "cloudtrail_review_scheduled",
    "doc_key_policy_runbook",
    "doc_rotation_schedule",
    "doc_incident_response",
    "doc_compliance_verified",
    "test_rotation_verified",
    "test_disaster_recovery",
)


def denied(action: str) -> Unknown:
    return Unknown("access_denied", f"{action} was denied.", action, action)


def filters(*names: str) -> tuple[MetricFilter, ...]:
    chosen = names or tuple(PATTERNS)
    return tuple(
        MetricFilter(LOG_GROUP, f"kms-{n}", PATTERNS[n], "HarborKMS", f"kms-{n}")
        for n in chosen
    )


def alarms(actions: tuple[str, ...] = (TOPIC,)) -> tuple[Alarm, ...]:
    return tuple(
        Alarm(f"kms-{n}", "HarborKMS", f"kms-{n}", actions, "OK") for n in PATTERNS
    )


def secure_bucket(name: str, **changes: Any) -> Bucket:
    base = Bucket(
        name=name,
        region="us-east-1",
        encryption=BucketEncryption("aws:kms", KEY_ARN, True),
        public_access_block={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
        policy=None,
    )
    return replace(base, **changes)


def irsa_trust(condition: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition
                or {
                    "StringEquals": {
                        f"{ISSUER}:sub": "system:serviceaccount:harbor:harbor-registry",
                        f"{ISSUER}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }


def dashboard(namespace: str = "AWS/Usage", metric: str = "CallCount") -> Dashboard:
    rows = [
        [namespace, metric, "Service", "KMS", "Type", "API", "Resource", "Decrypt"],
        [".", ".", ".", ".", ".", ".", ".", "GenerateDataKey", {"stat": "Sum"}],
    ]
    widget = {"type": "metric", "properties": {"metrics": rows, "region": "us-east-1"}}
    return Dashboard("HarborKMS", {"widgets": [widget]})


def base_snapshot(values: Values = VALUES) -> AccountSnapshot:
    """A hardened account for ``values``."""
    trail = Trail(
        name="harbor-kms-audit-trail",
        arn=f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/harbor-kms-audit-trail",
        home_region="us-east-1",
        multi_region=True,
        log_file_validation=True,
        s3_bucket=TRAIL_BUCKET,
        log_group_arn=f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{LOG_GROUP}:*",
        logging=True,
        management_events=True,
        kms_events_excluded=False,
        bucket=secure_bucket(TRAIL_BUCKET, encryption=None),
    )
    return AccountSnapshot(
        read_at=T0,
        region="us-east-1",
        caller=CallerIdentity(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/auditor", "A"),
        key=KeyInfo(
            arn=values.key_arn,
            key_id=values.bare_key_id,
            description="Harbor S3 encryption key",
            state="Enabled",
            manager="CUSTOMER",
            origin="AWS_KMS",
            spec="SYMMETRIC_DEFAULT",
            usage="ENCRYPT_DECRYPT",
            created=T0,
            multi_region=False,
        ),
        key_policy=build_policy(values),
        rotation=Rotation(True, 365, datetime(2027, 12, 3, tzinfo=UTC)),
        tags={"Application": "harbor", "Owner": "platform"},
        aliases=("alias/harbor-s3",),
        grants=(),
        bucket=secure_bucket(BUCKET),
        trails=(trail,),
        metric_filters=filters(),
        alarms=alarms(),
        event_rules=(),
        config_rules=(
            ConfigRule(
                "cmk-backing-key-rotation-enabled",
                "CMK_BACKING_KEY_ROTATION_ENABLED",
                "COMPLIANT",
            ),
        ),
        dashboards=(dashboard(),),
        harbor_role=Role(HARBOR_ROLE, irsa_trust()),
        oidc_providers=(PROVIDER,),
        policy_users=(),
        key_events=({"eventSource": "kms.amazonaws.com", "eventName": "Decrypt"},),
        probe=ProbeResult(
            True, "Wrote, read back and deleted a test object.", "p", True
        ),
        harbor_values_key=KEY_ARN,
        harbor_values_encrypt=True,
        sns_topics=(SnsTopic(TOPIC, confirmed=1, pending=0),),
    )


State = tuple[AccountSnapshot, Values]
Case = Callable[[AccountSnapshot, Values], State]


def same(snapshot: AccountSnapshot, values: Values) -> State:
    return snapshot, values


def snap(**changes: Any) -> Case:
    return lambda s, v: (replace(s, **changes), v)


def policy(change: Callable[[dict[str, Any]], None]) -> Case:
    def apply(s: AccountSnapshot, v: Values) -> State:
        document = build_policy(v)
        change(document)
        return replace(s, key_policy=document), v

    return apply


def configured(**changes: Any) -> Case:
    """Values changed, and the key policy rendered from them."""

    def apply(s: AccountSnapshot, v: Values) -> State:
        new = replace(v, **changes)
        return replace(s, key_policy=build_policy(new)), new

    return apply


def values_only(**changes: Any) -> Case:
    return lambda s, v: (s, replace(v, **changes))


def both(*cases: Case) -> Case:
    def apply(s: AccountSnapshot, v: Values) -> State:
        for case in cases:
            s, v = case(s, v)
        return s, v

    return apply


def trail(**changes: Any) -> Case:
    def apply(s: AccountSnapshot, v: Values) -> State:
        assert not isinstance(s.trails, Unknown)
        return replace(s, trails=(replace(s.trails[0], **changes),)), v

    return apply


def key(**changes: Any) -> Case:
    def apply(s: AccountSnapshot, v: Values) -> State:
        assert isinstance(s.key, KeyInfo)
        return replace(s, key=replace(s.key, **changes)), v

    return apply


def bucket(**changes: Any) -> Case:
    def apply(s: AccountSnapshot, v: Values) -> State:
        assert isinstance(s.bucket, Bucket)
        return replace(s, bucket=replace(s.bucket, **changes)), v

    return apply


def statement(document: dict[str, Any], sid: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in document["Statement"] if s["Sid"] == sid)
    return found


def drop(sid: str) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document["Statement"] = [s for s in document["Statement"] if s["Sid"] != sid]

    return change


def add(stmt: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    return lambda document: document["Statement"].append({"Resource": "*", **stmt})


def edit(sid: str, change: Callable[[dict[str, Any]], None]) -> Callable[..., None]:
    return lambda document: change(statement(document, sid))


HARBOR_STAR = add(
    {
        "Sid": "HarborAll",
        "Effect": "Allow",
        "Principal": {"AWS": HARBOR_ROLE},
        "Action": "kms:*",
    }
)
EVERYONE_DECRYPT = add(
    {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt"}
)
POLICY_DENIED = snap(key_policy=denied("kms:GetKeyPolicy"))
NO_DIRECT_DENY = policy(drop("DenyHarborDirectUse"))
VPCE = ("vpce-0a1b2c3d4e5f67890",)


def _condition(**blocks: Any) -> Callable[[dict[str, Any]], None]:
    def change(stmt: dict[str, Any]) -> None:
        stmt["Condition"] = blocks

    return change


def _open_harbor_use(document: dict[str, Any]) -> None:
    """No Deny, and Harbor's Allow without conditions: direct use is allowed."""
    drop("DenyHarborDirectUse")(document)
    statement(document, "HarborUseThroughS3").pop("Condition")


CASES: dict[str, dict[str, Case]] = {
    "policy_least_privilege": {"fail": policy(HARBOR_STAR), "unknown": POLICY_DENIED},
    "policy_admin_user_separation": {
        "fail": policy(
            edit("KeyAdministration", lambda s: s["Action"].append("kms:Decrypt"))
        ),
        "unknown": POLICY_DENIED,
    },
    "policy_harbor_actions_minimal": {
        "fail": policy(
            edit("HarborUseThroughS3", lambda s: s["Action"].append("kms:Encrypt"))
        ),
        "unknown": POLICY_DENIED,
    },
    "policy_no_kms_star_for_service_roles": {
        "fail": policy(HARBOR_STAR),
        "unknown": POLICY_DENIED,
    },
    "policy_root_delegation_scoped": {
        "fail": policy(
            edit(
                "EnableIAMPolicies",
                _condition(StringEquals={"kms:CallerAccount": "999988887777"}),
            )
        ),
        "unknown": POLICY_DENIED,
    },
    "policy_via_service_s3": {
        "fail": policy(
            edit(
                "HarborUseThroughS3",
                lambda s: s["Condition"]["StringEquals"].pop("kms:ViaService"),
            )
        ),
        "unknown": POLICY_DENIED,
    },
    "policy_encryption_context_bucket": {
        "fail": policy(
            edit(
                "HarborUseThroughS3",
                lambda s: s["Condition"]["StringEquals"].update(
                    {"kms:EncryptionContext:aws:s3:arn": f"{VALUES.bucket_arn}/*"}
                ),
            )
        ),
        "unknown": POLICY_DENIED,
    },
    "policy_explicit_deny_direct_use": {
        "fail": NO_DIRECT_DENY,
        "unknown": POLICY_DENIED,
    },
    "policy_no_unconditioned_wildcard_principal": {
        "fail": policy(EVERYONE_DECRYPT),
        "unknown": POLICY_DENIED,
    },
    "policy_simulated": {"fail": NO_DIRECT_DENY, "unknown": POLICY_DENIED},
    "rotation_enabled": {
        "fail": snap(rotation=Rotation(False)),
        "unknown": snap(rotation=denied("kms:GetKeyRotationStatus")),
    },
    "rotation_monitored": {
        "fail": snap(config_rules=(), metric_filters=filters("deletion", "policy")),
        "unknown": snap(
            config_rules=denied("config:DescribeConfigRules"),
            metric_filters=denied("logs:DescribeMetricFilters"),
        ),
    },
    "rotation_alarm": {
        "fail": snap(alarms=alarms(actions=())),
        "unknown": snap(alarms=denied("cloudwatch:DescribeAlarms")),
    },
    "rotation_old_material_retained": {
        "fail": key(state="PendingDeletion", deletion_date=T0),
        "unknown": snap(key=denied("kms:DescribeKey")),
    },
    "cloudtrail_enabled": {
        "fail": trail(logging=False),
        "unknown": snap(trails=denied("cloudtrail:DescribeTrails")),
    },
    "cloudtrail_log_validation": {
        "fail": trail(log_file_validation=False),
        "unknown": trail(logging=denied("cloudtrail:GetTrailStatus")),
    },
    "cloudtrail_bucket_secure": {
        "fail": trail(
            bucket=secure_bucket(
                TRAIL_BUCKET, public_access_block={"BlockPublicAcls": True}
            )
        ),
        "unknown": trail(
            bucket=secure_bucket(
                TRAIL_BUCKET,
                public_access_block=denied("s3:GetBucketPublicAccessBlock"),
            )
        ),
    },
    "cloudwatch_dashboard": {
        "fail": snap(dashboards=(dashboard("AWS/KMS", "NumberOfDecryptCalls"),)),
        "unknown": snap(dashboards=denied("cloudwatch:ListDashboards")),
    },
    "alarm_decrypt_failures": {
        "fail": snap(metric_filters=filters("deletion", "policy", "rotation")),
        "unknown": snap(metric_filters=denied("logs:DescribeMetricFilters")),
    },
    "alarm_rotation_disabled": {
        "fail": snap(alarms=alarms(actions=())),
        "unknown": snap(alarms=denied("cloudwatch:DescribeAlarms")),
    },
    "alarm_policy_changes": {
        "fail": snap(metric_filters=filters("deletion", "rotation", "denied")),
        "unknown": snap(alarms=denied("cloudwatch:DescribeAlarms")),
    },
    "alarm_key_deletion": {
        "fail": snap(
            metric_filters=(
                MetricFilter(
                    LOG_GROUP,
                    "kms-deletion",
                    f"{{{KMS} && ($.eventName=DisableKey)}}",
                    "HarborKMS",
                    "kms-deletion",
                ),
            )
        ),
        "unknown": snap(trails=denied("cloudtrail:DescribeTrails")),
    },
    "config_rule_rotation": {
        "fail": snap(config_rules=()),
        "unknown": snap(config_rules=denied("config:DescribeConfigRules")),
    },
    "access_required_principals_only": {
        "fail": policy(
            add(
                {
                    "Sid": "Other",
                    "Effect": "Allow",
                    "Action": "kms:DescribeKey",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/Other"},
                }
            )
        ),
        "unknown": POLICY_DENIED,
    },
    "access_irsa": {
        "fail": snap(
            harbor_role=Role(
                HARBOR_ROLE,
                irsa_trust(
                    {"StringLike": {f"{ISSUER}:sub": "system:serviceaccount:*"}}
                ),
            )
        ),
        "unknown": snap(harbor_role=denied("iam:GetRole")),
    },
    "access_no_long_lived_credentials": {
        "fail": snap(
            policy_users=(UserCredentials(f"arn:aws:iam::{ACCOUNT}:user/ops", 2),)
        ),
        "unknown": snap(policy_users=denied("iam:ListAccessKeys")),
    },
    "access_cross_account_denied": {
        "fail": snap(
            grants=(Grant("g1", "arn:aws:iam::999988887777:role/Other", ("Decrypt",)),)
        ),
        "unknown": snap(grants=denied("kms:ListGrants")),
    },
    "access_vpce_condition": {
        "pass": configured(source_vpce=VPCE),
        "fail": values_only(source_vpce=VPCE),
        "unknown": both(values_only(source_vpce=VPCE), POLICY_DENIED),
    },
    "access_source_ip_condition": {
        "pass": configured(source_ip=("10.0.0.0/8",)),
        "fail": values_only(source_ip=("10.0.0.0/8",)),
        "unknown": both(values_only(source_ip=("10.0.0.0/8",)), POLICY_DENIED),
    },
    "grants_limited": {
        "pass": snap(
            grants=(
                Grant("g1", "ec2.us-east-1.amazonaws.com", ("Decrypt",)),
                Grant(
                    "g2",
                    f"arn:aws:iam::{ACCOUNT}:role/Worker",
                    ("Decrypt",),
                    {"EncryptionContextSubset": {"aws:s3:arn": VALUES.bucket_arn}},
                ),
            )
        ),
        "fail": snap(
            grants=(Grant("g1", f"arn:aws:iam::{ACCOUNT}:role/Other", ("Decrypt",)),)
        ),
        "unknown": snap(grants=denied("kms:ListGrants")),
    },
    "key_description": {
        "fail": key(description="  "),
        "unknown": snap(key=denied("kms:DescribeKey")),
    },
    "key_tagged": {
        "fail": snap(tags={}),
        "unknown": snap(tags=denied("kms:ListResourceTags")),
    },
    "test_s3_roundtrip": {
        "fail": snap(probe=ProbeResult(False, "PutObject was denied.", "p", True)),
        "unknown": snap(probe=None),
    },
    "test_direct_kms_denied": {
        "fail": policy(_open_harbor_use),
        "unknown": POLICY_DENIED,
    },
    "test_unauthorized_denied": {
        "fail": policy(EVERYONE_DECRYPT),
        "unknown": POLICY_DENIED,
    },
    "test_cloudtrail_events": {
        "fail": snap(key_events=()),
        "unknown": snap(key_events=denied("cloudtrail:LookupEvents")),
    },
    "viaservice_region_matches_bucket": {
        "fail": bucket(region="eu-west-1"),
        "unknown": bucket(region=denied("s3:GetBucketLocation")),
    },
    "harbor_values_key": {
        "fail": snap(harbor_values_key=f"arn:aws:kms:us-east-1:{ACCOUNT}:key/other"),
        "unknown": snap(harbor_values_key=None),
    },
    "bucket_default_encryption_key": {
        "fail": bucket(encryption=BucketEncryption("AES256", None, False)),
        "unknown": bucket(encryption=denied("s3:GetEncryptionConfiguration")),
    },
    "bucket_key_context_consistent": {
        "fail": bucket(encryption=BucketEncryption("aws:kms", KEY_ARN, False)),
        "unknown": bucket(encryption=denied("s3:GetEncryptionConfiguration")),
    },
}
for _id in ATTESTED_IDS:
    CASES[_id] = {"attested": same, "not_attested": same}

TABLE = [
    (item_id, status, case)
    for item_id, cases in CASES.items()
    for status, case in {"pass": same, **cases}.items()
    if not (item_id in ATTESTED_IDS and status == "pass")
]


@pytest.fixture(scope="module")
def items() -> dict[str, Item]:
    return {item.id: item for item in engine.load_items()}


def verdict_of(
    item: Item,
    snapshot: AccountSnapshot,
    values: Values,
    attestations: Mapping[str, Attestation] | None = None,
) -> Verdict:
    (verdict,) = engine.evaluate([item], snapshot, values, attestations, now=T0)
    return verdict


def test_the_table_covers_every_item(items: dict[str, Item]) -> None:
    assert set(CASES) == set(items)
    for item_id, cases in CASES.items():
        wanted = (
            {"attested", "not_attested"}
            if items[item_id].attested
            else {
                "fail",
                "unknown",
            }
        )
        assert wanted <= set(cases), item_id


@pytest.mark.parametrize(("item_id", "status", "case"), TABLE)
def test_item_case(
    items: dict[str, Item], item_id: str, status: str, case: Case
) -> None:
    snapshot, values = case(base_snapshot(), VALUES)
    attestations = {}
    if status == "attested":
        attestations = {item_id: Attestation(item_id, "alice", T0, "runbook v3")}
    verdict = verdict_of(items[item_id], snapshot, values, attestations)
    assert verdict.status == status, verdict.reason
    assert verdict.item_id == item_id
    assert verdict.reason
    assert verdict.checked_at == T0
    assert (verdict.remediation is not None) == (status in ("fail", "not_attested"))
    if status == "pass":
        assert verdict.evidence, item_id


UNKNOWN_TABLE = [(i, c["unknown"]) for i, c in CASES.items() if "unknown" in c]


@pytest.mark.parametrize(("item_id", "case"), UNKNOWN_TABLE)
def test_unknown_names_the_denied_permission_or_the_missing_option(
    items: dict[str, Item], item_id: str, case: Case
) -> None:
    snapshot, values = case(base_snapshot(), VALUES)
    reason = verdict_of(items[item_id], snapshot, values).reason
    named = [
        field
        for field in vars(snapshot).values()
        if isinstance(field, Unknown) and field.permission
    ]
    nested = " ".join(str(x) for x in (snapshot.trails, snapshot.bucket))
    if named:
        assert any(str(u.permission) in reason for u in named), reason
    elif "was denied" in nested:
        assert "was denied" in reason
    else:
        assert "--probe" in reason or "not configured" in reason.lower(), reason


def test_rotation_unknown_names_get_key_rotation_status(items: dict[str, Item]) -> None:
    snapshot = replace(base_snapshot(), rotation=denied("kms:GetKeyRotationStatus"))
    verdict = verdict_of(items["rotation_enabled"], snapshot, VALUES)
    assert verdict.status == "unknown"
    assert "kms:GetKeyRotationStatus" in verdict.reason


def test_missing_values_make_items_unknown_not_passing(items: dict[str, Item]) -> None:
    values = replace(VALUES, harbor_role_arn="")
    verdict = verdict_of(
        items["policy_harbor_actions_minimal"], base_snapshot(), values
    )
    assert verdict.status == "unknown"
    assert "Not configured: harbor.role_arn" in verdict.reason


def test_network_items_are_not_applicable_without_configured_networks(
    items: dict[str, Item],
) -> None:
    for item_id in ("access_vpce_condition", "access_source_ip_condition"):
        verdict = verdict_of(items[item_id], base_snapshot(), VALUES)
        assert verdict.status == "pass"
        assert verdict.reason.startswith("Not applicable")


def test_an_attestation_is_reported_with_who_and_when(items: dict[str, Item]) -> None:
    attestation = Attestation("test_disaster_recovery", "bob", T0, "game day 4")
    verdict = verdict_of(
        items["test_disaster_recovery"],
        base_snapshot(),
        VALUES,
        {"test_disaster_recovery": attestation},
    )
    assert verdict.reason == "Attested by bob on 2026-12-03: game day 4."
    assert verdict.evidence[0].api == "attestation"
    assert verdict.evidence[0].at == T0


def test_fail_verdicts_carry_the_rendered_remediation(items: dict[str, Item]) -> None:
    snapshot = replace(base_snapshot(), rotation=Rotation(False))
    verdict = verdict_of(items["rotation_enabled"], snapshot, VALUES)
    assert verdict.remediation is not None
    assert verdict.remediation.apply == "enable-rotation"
    assert f"--key-id {VALUES.bare_key_id}" in verdict.remediation.cli


# ------------------------------------------- the guide's policy, verdict = lint


def guide_state() -> State:
    values = store.load(EXAMPLES / "harbor-kms.toml").values
    document = json.loads((EXAMPLES / "guide-policy.json").read_text())
    return replace(base_snapshot(values), key_policy=document), values


def test_the_guides_policy_fails_where_the_guide_is_wrong(
    items: dict[str, Item],
) -> None:
    snapshot, values = guide_state()
    verdicts = {
        v.item_id: v
        for v in engine.evaluate(list(items.values()), snapshot, values, now=T0)
    }
    for item_id in (
        "policy_least_privilege",
        "policy_admin_user_separation",
        "policy_harbor_actions_minimal",
        "policy_encryption_context_bucket",
        "policy_explicit_deny_direct_use",
        "policy_simulated",
        "access_required_principals_only",
        "bucket_key_context_consistent",
    ):
        assert verdicts[item_id].status == "fail", item_id
    assert "encryption-context-literal-wildcard" in (
        verdicts["policy_encryption_context_bucket"].reason
    )
    assert "kms:ReEncryptFrom" in verdicts["policy_explicit_deny_direct_use"].reason
    root = verdicts["policy_root_delegation_scoped"]
    assert root.status == "pass"
    assert "root-caller-account-redundant" in root.reason


CONTEXT_RULES = {
    "encryption-context-literal-wildcard",
    "bucket-key-context-mismatch",
    "encryption-context-wrong-bucket",
    "missing-encryption-context",
}


def _variants() -> list[tuple[dict[str, Any], Values]]:
    hardened = build_policy(VALUES)
    objects = build_policy(replace(VALUES, bucket_key_enabled=False))
    snapshot, guide_values_ = guide_state()
    assert isinstance(snapshot.key_policy, dict)
    no_context = build_policy(VALUES)
    statement(no_context, "HarborUseThroughS3")["Condition"] = {
        "StringEquals": {"kms:ViaService": VALUES.via_service}
    }
    other_bucket = build_policy(replace(VALUES, bucket="some-other-bucket"))
    return [
        (hardened, VALUES),
        (objects, VALUES),
        (dict(snapshot.key_policy), guide_values_),
        (no_context, VALUES),
        (other_bucket, VALUES),
        (build_policy(VALUES), replace(VALUES, bucket_key_enabled=False)),
    ]


@pytest.mark.parametrize(("document", "values"), _variants())
def test_encryption_context_verdict_agrees_with_the_linter(
    items: dict[str, Item], document: dict[str, Any], values: Values
) -> None:
    findings = {
        f.rule for f in lint_policy(document, values) if f.rule in CONTEXT_RULES
    }
    snapshot = replace(base_snapshot(values), key_policy=document)
    verdict = verdict_of(items["policy_encryption_context_bucket"], snapshot, values)
    assert (verdict.status == "fail") == bool(findings), (findings, verdict.reason)
    for rule in findings:
        assert rule in verdict.reason


# ------------------------------------------------------------ alarm paths


def test_an_alarm_on_an_invented_kms_metric_fails_with_the_explanation(
    items: dict[str, Item],
) -> None:
    guide_alarm = Alarm(
        "KMS-Key-Rotation-Disabled", "AWS/KMS", "KeyRotationEnabled", (TOPIC,), "OK"
    )
    snapshot = replace(base_snapshot(), metric_filters=(), alarms=(guide_alarm,))
    verdict = verdict_of(items["alarm_rotation_disabled"], snapshot, VALUES)
    assert verdict.status == "fail"
    assert "AWS/KMS KeyRotationEnabled" in verdict.reason
    assert "correction 12" in verdict.reason


def test_a_filter_on_a_log_group_no_kms_trail_feeds_does_not_count(
    items: dict[str, Item],
) -> None:
    moved = tuple(replace(f, log_group="/other") for f in filters())
    snapshot = replace(base_snapshot(), metric_filters=moved)
    verdict = verdict_of(items["alarm_key_deletion"], snapshot, VALUES)
    assert verdict.status == "fail"
    assert "no trail recording KMS events delivers to" in verdict.reason


def _rule(state: str = "ENABLED", targets: tuple[str, ...] = (TOPIC,)) -> EventRule:
    pattern = {
        "source": ["aws.kms"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": ["kms.amazonaws.com"],
            "eventName": ["DisableKey", "ScheduleKeyDeletion", "Decrypt"],
        },
    }
    return EventRule("kms-changes", pattern, state, targets)


@pytest.mark.parametrize(
    ("rule", "status"),
    [(_rule(), "pass"), (_rule("DISABLED"), "fail"), (_rule(targets=()), "fail")],
)
def test_an_eventbridge_rule_with_a_target_is_an_alarm(
    items: dict[str, Item], rule: EventRule, status: str
) -> None:
    snapshot = replace(base_snapshot(), metric_filters=(), event_rules=(rule,))
    verdict = verdict_of(items["alarm_key_deletion"], snapshot, VALUES)
    assert verdict.status == status, verdict.reason


def test_read_only_events_need_a_rule_that_receives_them(
    items: dict[str, Item],
) -> None:
    base = replace(base_snapshot(), metric_filters=())
    plain = replace(base, event_rules=(_rule(),))
    errors = plain.event_rules
    assert not isinstance(errors, Unknown)
    rule = replace(errors[0], pattern={"detail": {"errorCode": [{"prefix": "Access"}]}})
    plain = replace(base, event_rules=(rule,))
    verdict = verdict_of(items["alarm_decrypt_failures"], plain, VALUES)
    assert verdict.status == "fail"
    assert "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" in verdict.reason
    all_events = replace(
        base,
        event_rules=(
            replace(rule, state="ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"),
        ),
    )
    assert verdict_of(items["alarm_decrypt_failures"], all_events, VALUES).status == (
        "pass"
    )


def test_a_trail_excluding_kms_events_covers_nothing(items: dict[str, Item]) -> None:
    snapshot, _ = trail(kms_events_excluded=True)(base_snapshot(), VALUES)
    verdict = verdict_of(items["cloudtrail_enabled"], snapshot, VALUES)
    assert verdict.status == "fail"
    assert "excludes kms.amazonaws.com" in verdict.reason
    single, _ = trail(multi_region=False, home_region="eu-west-1")(
        base_snapshot(), VALUES
    )
    verdict = verdict_of(items["cloudtrail_enabled"], single, VALUES)
    assert "records only eu-west-1" in verdict.reason


# ------------------------------------------------------------- patterns


def _record(name: str, error: str | None = None) -> dict[str, Any]:
    return cloudtrail_record(
        name, KEY_ARN, region="us-east-1", account=ACCOUNT, error_code=error
    )


@pytest.mark.parametrize(
    ("pattern", "event", "error", "expected"),
    [
        (PATTERNS["deletion"], "DisableKey", None, True),
        (PATTERNS["deletion"], "ScheduleKeyDeletion", None, True),
        (PATTERNS["deletion"], "PutKeyPolicy", None, False),
        (PATTERNS["denied"], "Decrypt", "AccessDenied", True),
        (PATTERNS["denied"], "Decrypt", None, False),
        (
            '{ $.errorCode = "*UnauthorizedOperation" || '
            '$.errorCode = "AccessDenied*" }',
            "Decrypt",
            "AccessDenied",
            True,
        ),
        ("{ $.errorCode NOT EXISTS }", "Decrypt", None, True),
        ("{ $.errorCode EXISTS && $.eventName != Decrypt }", "Decrypt", "X", False),
        ("{ $.readOnly IS FALSE }", "PutKeyPolicy", None, True),
        ("{ $.resources[1].ARN = * }", "PutKeyPolicy", None, False),
        ("PutKeyPolicy kms.amazonaws.com", "PutKeyPolicy", None, True),
        ("?DisableKey ?ScheduleKeyDeletion", "ScheduleKeyDeletion", None, True),
        ("kms.amazonaws.com -PutKeyPolicy", "PutKeyPolicy", None, False),
        ("", "PutKeyPolicy", None, True),
    ],
)
def test_filter_patterns_match_like_cloudwatch_logs(
    pattern: str, event: str, error: str | None, expected: bool
) -> None:
    assert filter_matches(pattern, _record(event, error)) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        "[ip, user, ...]",
        "{ $.eventName = ",
        "{ ($.eventName = X }",
        "{ eventName = X }",
    ],
)
def test_patterns_outside_the_syntax_raise(pattern: str) -> None:
    with pytest.raises(PatternError):
        filter_matches(pattern, _record("DisableKey"))


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"source": ["aws.kms"]}, True),
        ({"source": ["aws.s3"]}, False),
        ({"detail": {"eventName": [{"prefix": "Schedule"}]}}, True),
        ({"detail": {"eventName": [{"anything-but": ["ScheduleKeyDeletion"]}]}}, False),
        ({"detail": {"errorCode": [{"exists": False}]}}, True),
        (
            {"detail": {"eventName": [{"equals-ignore-case": "schedulekeydeletion"}]}},
            True,
        ),
        ({"detail": {"eventName": [{"wildcard": "*Deletion"}]}}, True),
        ({"detail": {"resources": {"ARN": [KEY_ARN]}}}, True),
    ],
)
def test_event_patterns_match_like_eventbridge(
    pattern: dict[str, Any], expected: bool
) -> None:
    event = eventbridge_event(_record("ScheduleKeyDeletion"))
    assert event_matches(pattern, event) is expected


def test_unknown_content_filters_raise() -> None:
    with pytest.raises(PatternError):
        event_matches({"source": [{"numeric": [">", 1]}]}, {"source": "aws.kms"})


# ------------------------------------------------------- engine and report


def test_an_evaluator_that_raises_gives_unknown(
    items: dict[str, Item], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(ctx: Any) -> Verdict:
        raise RuntimeError("boom")

    monkeypatch.setitem(_REGISTRY, "rotation_enabled", broken)
    verdict = verdict_of(items["rotation_enabled"], base_snapshot(), VALUES)
    assert verdict.status == "unknown"
    assert "RuntimeError: boom" in verdict.reason


def _audit(items: dict[str, Item]) -> report.KeyAudit:
    snapshot, values = guide_state()
    chosen = list(items.values())
    verdicts = engine.evaluate(chosen, snapshot, values, now=T0)
    return report.KeyAudit(report.key_json(snapshot, values), chosen, verdicts)


def test_summary_counts_every_status(items: dict[str, Item]) -> None:
    audit = _audit(items)
    counts = engine.summary(audit.verdicts)
    assert set(counts) == {"pass", "fail", "unknown", "attested", "not_attested"}
    assert sum(counts.values()) == len(items)
    assert counts["not_attested"] == len(ATTESTED_IDS)
    assert engine.failed(audit.verdicts)


def test_json_report_has_key_items_and_summary(items: dict[str, Item]) -> None:
    document = report.audit_json(_audit(items))
    assert document["key"]["arn"] == KEY_ARN
    assert document["key"]["state"] == "Enabled"
    first = document["items"][0]
    assert set(first) == {
        "id",
        "section",
        "title",
        "status",
        "evidence",
        "reason",
        "remediation",
    }
    failing = [i for i in document["items"] if i["status"] == "fail"]
    assert all(i["remediation"]["console"] for i in failing)
    json.dumps(document)
    fleet = report.fleet_json([_audit(items), _audit(items)])
    assert len(fleet["keys"]) == 2
    assert sum(fleet["summary"].values()) == 2 * len(items)


def test_text_and_markdown_reports(items: dict[str, Item]) -> None:
    audit = _audit(items)
    text = report.to_text([audit])
    assert "Key Policy Configuration" in text
    assert "FAIL" in text and "Summary:" in text
    markdown = report.to_markdown([audit])
    assert markdown.count("| Status | Item | Reason |") == 7
    assert "### Cross-resource" in markdown


def test_sarif_has_one_result_per_fail_or_unknown(items: dict[str, Item]) -> None:
    audit = _audit(items)
    log = report.to_sarif([audit])
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-schema-2.1.0.json")
    (run,) = log["runs"]
    assert run["tool"]["driver"]["name"] == "harbor-kms"
    results = run["results"]
    bad = [v for v in audit.verdicts if v.status in ("fail", "unknown")]
    assert len(results) == len(bad)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning")
        assert result["message"]["text"]
        location = result["locations"][0]["logicalLocations"][0]
        assert location["fullyQualifiedName"] == audit.arn


def test_key_json_names_the_reason_when_the_key_was_not_read() -> None:
    snapshot = replace(base_snapshot(), key=denied("kms:DescribeKey"))
    found = report.key_json(snapshot, VALUES)
    assert found["arn"] == KEY_ARN
    assert "kms:DescribeKey" in found["error"]
    assert ADMIN_ROLE not in json.dumps(found)


@pytest.mark.parametrize(
    ("trust", "words"),
    [
        (
            irsa_trust({"StringEquals": {f"{ISSUER}:sub": "system:serviceaccount:*"}}),
            "does not pin one service account",
        ),
        (irsa_trust({"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"}}), "pin"),
        (
            {
                "Statement": [
                    *irsa_trust()["Statement"],
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/ci"},
                        "Action": "sts:AssumeRole",
                    },
                ]
            },
            "also trusts arn:aws:iam::111122223333:user/ci",
        ),
        ({"Statement": []}, "no EKS OIDC provider"),
    ],
)
def test_irsa_needs_one_service_account_and_no_user(
    items: dict[str, Item], trust: dict[str, Any], words: str
) -> None:
    snapshot = replace(base_snapshot(), harbor_role=Role(HARBOR_ROLE, trust))
    verdict = verdict_of(items["access_irsa"], snapshot, VALUES)
    assert verdict.status == "fail"
    assert words in verdict.reason


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"harbor_values_encrypt": False}, "sends no encryption header"),
        ({"harbor_values_key": ""}, "asks for SSE-S3 (AES256)"),
    ],
    ids=["encrypt-off", "encrypt-without-keyid"],
)
def test_harbor_values_key_fails_with_what_the_driver_asks_s3_for(
    items: dict[str, Item], changes: dict[str, Any], expected: str
) -> None:
    snapshot, values = snap(**changes)(base_snapshot(), VALUES)
    verdict = verdict_of(items["harbor_values_key"], snapshot, values, {})
    assert verdict.status == "fail"
    assert expected in verdict.reason
    assert KEY_ARN in verdict.reason


ALERT_ITEMS = (
    "alarm_decrypt_failures",
    "alarm_rotation_disabled",
    "alarm_policy_changes",
    "alarm_key_deletion",
    "rotation_alarm",
)


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        (SnsTopic(TOPIC, confirmed=0, pending=1), "nobody has confirmed yet"),
        (SnsTopic(TOPIC, confirmed=0, pending=0), "which has no subscription"),
        (SnsTopic(TOPIC, 0, 0, exists=False), "which does not exist"),
    ],
    ids=["pending", "no-subscription", "no-topic"],
)
def test_an_alarm_nobody_hears_alerts_no_one(
    items: dict[str, Item], topic: SnsTopic, expected: str
) -> None:
    snapshot = replace(base_snapshot(), sns_topics=(topic,))
    for item_id in ALERT_ITEMS:
        verdict = verdict_of(items[item_id], snapshot, VALUES, {})
        assert verdict.status == "fail", (item_id, verdict.reason)
        assert expected in verdict.reason and "nobody is told" in verdict.reason


def test_unread_subscriptions_make_the_alarm_items_unknown(
    items: dict[str, Item],
) -> None:
    snapshot = replace(
        base_snapshot(), sns_topics=denied("sns:ListSubscriptionsByTopic")
    )
    for item_id in ALERT_ITEMS:
        verdict = verdict_of(items[item_id], snapshot, VALUES, {})
        assert verdict.status == "unknown", (item_id, verdict.reason)
        assert "sns:ListSubscriptionsByTopic" in verdict.reason


def test_an_action_that_is_not_a_topic_acts_by_itself(
    items: dict[str, Item],
) -> None:
    runbook = f"arn:aws:ssm:us-east-1:{ACCOUNT}:automation-definition/Page:1"
    deaf = (SnsTopic(TOPIC, confirmed=0, pending=1),)
    snapshot = replace(
        base_snapshot(), sns_topics=deaf, alarms=alarms(actions=(TOPIC, runbook))
    )
    for item_id in ALERT_ITEMS:
        verdict = verdict_of(items[item_id], snapshot, VALUES, {})
        assert verdict.status == "pass", (item_id, verdict.reason)


def test_an_event_rule_to_a_deaf_topic_watches_nothing(
    items: dict[str, Item],
) -> None:
    deaf = (SnsTopic(TOPIC, confirmed=0, pending=0),)
    snapshot = replace(
        base_snapshot(),
        sns_topics=deaf,
        metric_filters=(),
        alarms=(),
        event_rules=(_rule(),),
    )
    verdict = verdict_of(items["alarm_key_deletion"], snapshot, VALUES, {})
    assert verdict.status == "fail"
    assert "EventBridge rule" in verdict.reason and "nobody is told" in verdict.reason


def test_an_unreadable_topic_leaves_only_its_alarms_undecided(
    items: dict[str, Item],
) -> None:
    other = f"arn:aws:sns:us-east-1:{OTHER_ACCOUNT}:central-alerts"
    unread = SnsTopic(other, 0, 0, unread=denied("sns:ListSubscriptionsByTopic"))
    heard = SnsTopic(TOPIC, confirmed=1, pending=0)
    only_other = replace(
        base_snapshot(), sns_topics=(unread,), alarms=alarms(actions=(other,))
    )
    both = replace(
        base_snapshot(), sns_topics=(unread, heard), alarms=alarms((other, TOPIC))
    )
    for item_id in ALERT_ITEMS:
        verdict = verdict_of(items[item_id], only_other, VALUES, {})
        assert verdict.status == "unknown", (item_id, verdict.reason)
        assert "sns:ListSubscriptionsByTopic" in verdict.reason
        assert verdict_of(items[item_id], both, VALUES, {}).status == "pass"
