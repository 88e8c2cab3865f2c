"""A fixed account for the app's tests and snapshots: no AWS, no clock.

The account is the guide's example (``examples/harbor-kms.toml``) as following
the guide literally leaves it: the guide's key policy, rotation off, no trail,
alarms, Config rule or dashboard. Every time in it is fixed, so what the app
draws from it is the same on every run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wizard.aws.read_permissions import coming_steps
from wizard.core.permissions_check import IamAnswer, check_permissions
from wizard.core.snapshot import (
    AccountSnapshot,
    ApiCall,
    Bucket,
    BucketEncryption,
    CallerIdentity,
    KeyInfo,
    Role,
    Rotation,
)
from wizard.core.values import Values
from wizard.tui.tasks import AccountRead, Backend, ChecklistRun, DemoAccount

TOP = Path(__file__).resolve().parents[2]
READ_AT = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
CREATED = datetime(2025, 6, 2, 14, 0, tzinfo=UTC)
CALLER = "arn:aws:sts::111122223333:assumed-role/KMSAdminRole/alice"
APIS = (
    "sts:GetCallerIdentity",
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListResourceTags",
    "kms:ListAliases",
    "kms:ListGrants",
    "s3:GetEncryptionConfiguration",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketPolicy",
    "cloudtrail:DescribeTrails",
    "logs:DescribeMetricFilters",
    "cloudwatch:DescribeAlarms",
    "events:ListRules",
    "config:DescribeConfigRules",
    "cloudwatch:ListDashboards",
    "iam:GetRole",
    "iam:ListOpenIDConnectProviders",
    "cloudtrail:LookupEvents",
)


def guide_policy() -> dict[str, Any]:
    """The guide's "Hardened Key Policy Template", as the example ships it."""
    policy: dict[str, Any] = json.loads(
        (TOP / "examples" / "guide-policy.json").read_text()
    )
    return policy


def snapshot(
    values: Values, policy: Mapping[str, Any] | None = None
) -> AccountSnapshot:
    """The account of ``values`` as the guide leaves it, read at a fixed time."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider"},
                "Action": "sts:AssumeRoleWithWebIdentity",
            }
        ],
    }
    return AccountSnapshot(
        read_at=READ_AT,
        region=values.region,
        caller=CallerIdentity("111122223333", CALLER, "AROAEXAMPLEID:alice"),
        key=KeyInfo(
            arn=values.key_arn,
            key_id=values.bare_key_id,
            description="Harbor S3 encryption key",
            state="Enabled",
            manager="CUSTOMER",
            origin="AWS_KMS",
            spec="SYMMETRIC_DEFAULT",
            usage="ENCRYPT_DECRYPT",
            created=CREATED,
            multi_region=False,
        ),
        key_policy=dict(policy or guide_policy()),
        rotation=Rotation(enabled=False),
        tags={},
        aliases=("alias/harbor-s3",),
        grants=(),
        bucket=Bucket(
            name=values.bucket,
            region=values.region,
            encryption=BucketEncryption("aws:kms", values.key_arn, True),
            public_access_block={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
            policy=None,
        ),
        trails=(),
        metric_filters=(),
        alarms=(),
        event_rules=(),
        config_rules=(),
        dashboards=(),
        harbor_role=Role(values.harbor_role_arn, trust),
        oidc_providers=(),
        policy_users=(),
        key_events=(),
        calls=tuple(ApiCall(api, values.key_arn, READ_AT) for api in APIS),
    )


class CannedBackend(Backend):
    """Answers every read from :func:`snapshot`; writes nothing anywhere.

    Args:
        denied: IAM actions to report as missing permissions.
    """

    def __init__(self, denied: tuple[str, ...] = ()) -> None:
        self.denied = denied
        self.reads = 0

    def start_demo(self) -> DemoAccount:
        """There is no sandbox here: the canned account is the demo."""
        raise AssertionError("the canned backend has no sandbox")

    def read_account(self, values: Values, endpoint_url: str | None) -> AccountRead:
        """The canned account, for whatever values are set."""
        self.reads += 1
        taken = snapshot(values)
        allowed = tuple(sorted(set(APIS) - set(self.denied)))
        needs = coming_steps(values)
        iam = {
            action: IamAnswer("implicit_deny" if action in self.denied else "allowed")
            for _, actions in needs
            for action in actions
        }
        steps = check_permissions(
            getattr(taken.caller, "arn", ""), values, taken.key_policy, iam, needs
        )
        return AccountRead(taken, taken.caller, self.denied, allowed, steps)

    def list_choices(
        self, field_name: str, values: Values, endpoint_url: str | None
    ) -> Any:
        """One choice per field: the example's own."""
        return (getattr(values, field_name),)

    def run_checklist(
        self,
        values: Values,
        endpoint_url: str | None,
        attestations: Mapping[str, Any],
        source: str,
        report: Callable[[int, int, str], None],
    ) -> ChecklistRun:
        """The real checklist engine over the canned account, at a fixed time."""
        from wizard.core.checklist.engine import (
            evaluate,
            load_items,
            parse_attestations,
        )

        items = load_items()
        attested = parse_attestations(attestations or None, items, source)
        read = self.read_account(values, endpoint_url)
        verdicts = evaluate(items, read.snapshot, values, attested, now=READ_AT)
        report(len(items), len(items), "done")
        return ChecklistRun(read, tuple(items), tuple(verdicts))
