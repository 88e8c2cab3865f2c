"""The seeded accounts' names and documents, built without calling AWS.

The names of roles, user, trail, topic, rule and dashboard, and the documents
the seed writes: the guide's key policy as written, the trail bucket's policy,
the alarms' metric filter patterns and the dashboard body. Tests compare what
the audit reads back with these.
"""

from __future__ import annotations

from typing import Any

from wizard.core.regions import partition_of

HARBOR_ROLE = "HarborS3Role"
ADMIN_ROLE = "KMSAdminRole"
BREAK_GLASS_ROLE = "BreakGlassRole"
ADMIN_USER = "security-admin"
KEY_DESCRIPTION = "Harbor S3 encryption key"
KEY_TAGS = {
    "Application": "harbor",
    "DataClassification": "confidential",
    "Owner": "platform",
}
OIDC_ID = "EXAMPLED539D4633E53DE1B71EXAMPLE"
SERVICE_ACCOUNT = "system:serviceaccount:harbor:harbor-registry"
TRAIL_NAME = "harbor-kms-audit-trail"
LOG_GROUP = f"/aws/cloudtrail/{TRAIL_NAME}"
TOPIC_NAME = "harbor-kms-alerts"
ALERT_EMAIL = "security-team@example.com"
"""Who the hardened account's alarm topic mails."""
CONFIG_RULE = "cmk-backing-key-rotation-enabled"
DASHBOARD = "HarborKMS"
METRIC_NAMESPACE = "HarborKMS"

# CIS AWS Foundations 4.7 / Security Hub CloudWatch.7 (CORRECTIONS.md point 13).
CIS_KEY_DISABLED_OR_DELETED = (
    "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || "
    "($.eventName=ScheduleKeyDeletion))}"
)


def guide_key_policy(account_id: str, region: str, bucket: str) -> dict[str, Any]:
    """The guide's "Hardened Key Policy Template", placeholders filled, as written.

    Kept wrong on purpose so audits have the guide's mistakes to find
    (CORRECTIONS.md points 1-4, 6, 8 and 9).
    """
    root = f"arn:aws:iam::{account_id}:root"
    harbor = f"arn:aws:iam::{account_id}:role/{HARBOR_ROLE}"
    via = f"s3.{region}.amazonaws.com"
    objects = f"arn:aws:s3:::{bucket}/*"
    admin_actions = [
        *(f"kms:{verb}*" for verb in ("Create", "Describe", "Enable", "List", "Put")),
        *(f"kms:{verb}*" for verb in ("Update", "Revoke", "Disable", "Get", "Delete")),
        "kms:TagResource",
        "kms:UntagResource",
        "kms:ScheduleKeyDeletion",
        "kms:CancelKeyDeletion",
    ]
    use = ["kms:Decrypt", "kms:GenerateDataKey"]
    return {
        "Version": "2012-10-17",
        "Id": "harbor-s3-kms-hardened-policy",
        "Statement": [
            {
                "Sid": "Enable IAM Policies",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": "kms:*",
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:CallerAccount": account_id}},
            },
            {
                "Sid": "Allow Key Administrators",
                "Effect": "Allow",
                "Principal": {
                    "AWS": [
                        f"arn:aws:iam::{account_id}:role/{ADMIN_ROLE}",
                        f"arn:aws:iam::{account_id}:user/{ADMIN_USER}",
                    ]
                },
                "Action": admin_actions,
                "Resource": "*",
            },
            {
                "Sid": "Allow Harbor Role Encryption Operations",
                "Effect": "Allow",
                "Principal": {"AWS": harbor},
                "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": via,
                        "kms:EncryptionContext:aws:s3:arn": objects,
                    }
                },
            },
            {
                "Sid": "Allow S3 Service to Use Key",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": use,
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:ViaService": via},
                    "ArnLike": {"kms:EncryptionContext:aws:s3:arn": objects},
                },
            },
            {
                "Sid": "Deny Key Usage Outside S3",
                "Effect": "Deny",
                "Principal": {"AWS": harbor},
                "Action": use,
                "Resource": "*",
                "Condition": {"StringNotEquals": {"kms:ViaService": via}},
            },
            {
                "Sid": "Deny Unencrypted S3 Operations",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"Null": {"kms:EncryptionContext:aws:s3:arn": "true"}},
            },
        ],
    }


def _trail_bucket(account: str, region: str) -> str:
    return f"harbor-kms-cloudtrail-{account}-{region}"


def trail_bucket_policy(account: str, region: str) -> dict[str, Any]:
    """The trail bucket's policy: CloudTrail and Config may write, nobody else.

    As documented for CloudTrail and for Config delivery channels:
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
    https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html
    """
    part = partition_of(region)
    bucket = f"arn:{part}:s3:::{_trail_bucket(account, region)}"
    trail_arn = f"arn:{part}:cloudtrail:{region}:{account}:trail/{TRAIL_NAME}"
    trail = {"Service": "cloudtrail.amazonaws.com"}
    config = {"Service": "config.amazonaws.com"}
    from_trail = {"aws:SourceArn": trail_arn}
    from_account = {"aws:SourceAccount": account}
    owner = {"s3:x-amz-acl": "bucket-owner-full-control"}
    logs = f"{bucket}/AWSLogs/{account}/*"
    config_logs = f"{bucket}/config/AWSLogs/{account}/Config/*"
    acl, put, listing = "s3:GetBucketAcl", "s3:PutObject", "s3:ListBucket"
    statements = [
        ("AWSCloudTrailAclCheck", trail, acl, bucket, from_trail),
        ("AWSCloudTrailWrite", trail, put, logs, owner | from_trail),
        ("AWSConfigBucketPermissionsCheck", config, acl, bucket, from_account),
        ("AWSConfigBucketExistenceCheck", config, listing, bucket, from_account),
        ("AWSConfigBucketDelivery", config, put, config_logs, owner | from_account),
    ]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": principal,
                "Action": action,
                "Resource": resource,
                "Condition": {"StringEquals": condition},
            }
            for sid, principal, action, resource, condition in statements
        ],
    }


def alarm_filters(key_arn: str) -> dict[str, str]:
    """Metric filter patterns on the trail's log group, by alarm name.

    Values with ``:`` or ``/`` are quoted, as CloudWatch Logs filter syntax needs.
    """
    kms = "($.eventSource=kms.amazonaws.com)"
    this_key = f'($.resources[0].ARN="{key_arn}")'
    return {
        "harbor-kms-key-disabled-or-deleted": CIS_KEY_DISABLED_OR_DELETED,
        "harbor-kms-key-policy-changed": (
            f"{{{kms} && ($.eventName=PutKeyPolicy) && {this_key}}}"
        ),
        "harbor-kms-key-rotation-disabled": (
            f"{{{kms} && ($.eventName=DisableKeyRotation) && {this_key}}}"
        ),
        "harbor-kms-key-access-denied": (
            f'{{{kms} && ($.errorCode="AccessDenied*") && {this_key}}}'
        ),
    }


def dashboard_body(region: str) -> dict[str, Any]:
    """KMS call counts from ``AWS/Usage`` (per account and Region, not per key).

    ``AWS/KMS`` has no call-count metrics (CORRECTIONS.md point 12).
    """
    metrics = [
        ["AWS/Usage", "CallCount", "Service", "KMS", "Type", "API"]
        + ["Resource", operation, "Class", "None"]
        for operation in ("Decrypt", "GenerateDataKey")
    ]
    widget = {
        "type": "metric",
        "x": 0,
        "y": 0,
        "width": 12,
        "height": 6,
        "properties": {
            "title": "KMS API calls in this account and Region",
            "metrics": metrics,
            "region": region,
            "stat": "Sum",
            "period": 300,
            "view": "timeSeries",
        },
    }
    return {"widgets": [widget]}
