"""The least-privilege IAM policy an audit needs, generated from what it reads.

The actions are exactly those the readers call (a test runs the readers against
the sandbox and checks both directions). Resources are scoped where IAM lets
them be and the names are known before the audit starts: the key ARNs, the
Harbor bucket, the Harbor role, the account's users. Everything found only by
listing (trails, log groups, alarms, rules, dashboards, a trail's bucket unless
named) needs ``*``, and some list actions accept nothing else.

References:
https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html
https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from wizard.core.regions import partition_of, s3_via_service
from wizard.core.values import Values

__all__ = [
    "NO_PERMISSION_NEEDED",
    "PROBE_OBJECT_ACTIONS",
    "audit_policy",
    "policy_actions",
]

NO_PERMISSION_NEEDED = frozenset({"sts:GetCallerIdentity"})
"""Called by the readers but never authorized: AWS allows it to every caller."""

KEY_ACTIONS = (
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListResourceTags",
)
# ListAliases and ListKeys take no key resource: they list the account's region.
KMS_LIST_ACTIONS = ("kms:ListAliases", "kms:ListKeys")
BUCKET_ACTIONS = (
    "s3:GetBucketLocation",
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetEncryptionConfiguration",
)
MONITORING_ACTIONS = (
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetEventSelectors",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:LookupEvents",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:GetDashboard",
    "cloudwatch:ListDashboards",
    "config:DescribeComplianceByConfigRule",
    "config:DescribeConfigRules",
    "events:ListRules",
    "events:ListTargetsByRule",
    "iam:ListOpenIDConnectProviders",
    "logs:DescribeMetricFilters",
    "sns:ListSubscriptionsByTopic",
)
PROBE_OBJECT_ACTIONS = (
    "s3:DeleteObject",
    # A versioned bucket keeps the probe's version after a plain delete; the
    # probe deletes that version by id.
    "s3:DeleteObjectVersion",
    "s3:GetObject",
    "s3:PutObject",
)
# S3 calls KMS with the caller's identity for SSE-KMS: GenerateDataKey on
# write, Decrypt on read (CORRECTIONS.md point 3).
PROBE_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


def audit_policy(
    probe: bool = False,
    *,
    values: Values | None = None,
    key_arns: Sequence[str] | None = None,
    trail_buckets: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The identity policy for the role or user that runs ``harbor-kms audit``.

    Args:
        probe: add what ``--probe`` needs: object writes under
            ``harbor-kms-probe/`` and use of the key through S3 only.
        values: the environment; scopes the key, bucket, role and users.
            Without it, resources are patterns any account matches.
        key_arns: the keys to audit (a fleet); defaults to the values' key.
        trail_buckets: the trails' S3 buckets, if known; otherwise the trail
            bucket reads need every bucket (``arn:PARTITION:s3:::*``).

    Returns:
        A policy document (Version and Statement), ready for ``json.dumps``.
    """
    partition = partition_of(values.region) if values and values.region else "aws"
    account = values.account_id if values and values.account_id else "*"
    keys = list(key_arns or [])
    if not keys and values is not None and values.key_id:
        keys = [values.key_arn]
    keys = keys or [f"arn:{partition}:kms:*:{account}:key/*"]
    bucket = values.bucket if values and values.bucket else "*"
    role = values.harbor_role_arn if values and values.harbor_role_arn else None
    trail_arns = [f"arn:{partition}:s3:::{b}" for b in sorted(set(trail_buckets or []))]
    statements = [
        _statement("ReadKmsKey", KEY_ACTIONS, keys),
        _statement("ListKmsKeysAndAliases", KMS_LIST_ACTIONS, ["*"]),
        _statement(
            "ReadHarborBucket", BUCKET_ACTIONS, [f"arn:{partition}:s3:::{bucket}"]
        ),
        _statement(
            "ReadTrailBuckets",
            BUCKET_ACTIONS,
            trail_arns or [f"arn:{partition}:s3:::*"],
        ),
        _statement(
            "ReadHarborRole",
            ("iam:GetRole",),
            [role or f"arn:{partition}:iam::{account}:role/*"],
        ),
        # The users a key policy names are only known after reading it.
        _statement(
            "ReadKeyPolicyUsersAccessKeys",
            ("iam:ListAccessKeys",),
            [f"arn:{partition}:iam::{account}:user/*"],
        ),
        _statement("ReadMonitoring", MONITORING_ACTIONS, ["*"]),
    ]
    if probe:
        statements += _probe_statements(partition, bucket, keys, values)
    return {"Version": "2012-10-17", "Statement": statements}


def _probe_statements(
    partition: str, bucket: str, keys: Sequence[str], values: Values | None
) -> list[dict[str, Any]]:
    objects = f"arn:{partition}:s3:::{bucket}/harbor-kms-probe/*"
    use_key = _statement("ProbeUseKeyThroughS3", PROBE_KEY_ACTIONS, keys)
    if values is not None and values.region:
        # Only S3 may use the key on the auditor's behalf, never a direct call.
        use_key["Condition"] = {
            "StringEquals": {"kms:ViaService": s3_via_service(values.region)}
        }
    else:
        use_key["Condition"] = {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}
    return [_statement("ProbeObjects", PROBE_OBJECT_ACTIONS, [objects]), use_key]


def _statement(
    sid: str, actions: Iterable[str], resources: Sequence[str]
) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": resources[0] if len(resources) == 1 else list(resources),
    }


def policy_actions(policy: Mapping[str, Any]) -> set[str]:
    """Every action the policy's statements allow (no wildcards are used here)."""
    found: set[str] = set()
    for statement in policy.get("Statement", []):
        actions = statement.get("Action", [])
        found.update([actions] if isinstance(actions, str) else actions)
    return found
