"""The documents apply writes besides the key policy, built as data.

Names, the CloudTrail bucket policy and role, the SNS topic policy, the metric
filter patterns (CORRECTIONS.md points 12-13), the EventBridge patterns and the
dashboard body. Each document cites the AWS page it follows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from wizard.core.checklist.alerting import SampleEvent
from wizard.core.values import Values

PREFIX = "harbor-kms"
METRIC_NAMESPACE = "HarborKMS"
ROTATION_RULE = "CMK_BACKING_KEY_ROTATION_ENABLED"

# CIS AWS Foundations 4.7 / Security Hub CloudWatch.7, verbatim, so Security Hub
# recognises it (CORRECTIONS.md point 13):
# https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-7
CIS_KEY_DISABLED_OR_DELETED = (
    "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || "
    "($.eventName=ScheduleKeyDeletion))}"
)


@dataclass(frozen=True)
class Names:
    """The names apply gives what it creates, derived from the values."""

    account: str
    region: str
    partition: str
    key_arn: str
    key_short: str

    @classmethod
    def of(cls, values: Values) -> Names:
        """Names for ``values``' key, account and region."""
        return cls(
            values.account_id,
            values.region,
            values.partition,
            values.key_arn,
            values.bare_key_id[:8],
        )

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        """An ARN of ``service`` in this account (and region, when regional)."""
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account}:{resource}"

    @property
    def trail(self) -> str:
        return f"{PREFIX}-trail"

    @property
    def trail_arn(self) -> str:
        return self.arn("cloudtrail", f"trail/{self.trail}")

    @property
    def trail_bucket(self) -> str:
        # Bucket names are global: account and region make it this account's.
        return f"{PREFIX}-trail-{self.account}-{self.region}"

    @property
    def log_group(self) -> str:
        return f"/{PREFIX}/cloudtrail"

    def log_group_arn(self, group: str | None = None) -> str:
        """The ARN CloudTrail takes (with the ``:*`` suffix it documents)."""
        name = group or self.log_group
        return self.arn("logs", f"log-group:{name}:*")

    @property
    def trail_role(self) -> str:
        return f"{PREFIX}-cloudtrail-to-logs"

    @property
    def trail_role_arn(self) -> str:
        return self.arn("iam", f"role/{self.trail_role}", regional=False)

    @property
    def topic(self) -> str:
        return f"{PREFIX}-alerts"

    @property
    def topic_arn(self) -> str:
        return self.arn("sns", self.topic)

    def per_key(self, what: str) -> str:
        """A name for something about this key (filters, alarms, rules)."""
        return f"{PREFIX}-{self.key_short}-{what}"

    def alarm_arn(self, name: str) -> str:
        return self.arn("cloudwatch", f"alarm:{name}")

    @property
    def config_rule(self) -> str:
        return f"{PREFIX}-cmk-rotation-enabled"

    @property
    def dashboard(self) -> str:
        return self.per_key("dashboard")


def policy_text(document: dict[str, Any]) -> str:
    """A policy as the JSON text sent to AWS."""
    return json.dumps(document, indent=2)


def trail_bucket_policy(names: Names) -> dict[str, Any]:
    """What CloudTrail needs on its bucket, limited to this trail (aws:SourceArn).

    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
    """
    bucket_arn = f"arn:{names.partition}:s3:::{names.trail_bucket}"
    service = {"Service": "cloudtrail.amazonaws.com"}
    from_trail = {"aws:SourceArn": names.trail_arn}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSCloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": service,
                "Action": "s3:GetBucketAcl",
                "Resource": bucket_arn,
                "Condition": {"StringEquals": from_trail},
            },
            {
                "Sid": "AWSCloudTrailWrite",
                "Effect": "Allow",
                "Principal": service,
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/AWSLogs/{names.account}/*",
                "Condition": {
                    "StringEquals": {
                        "s3:x-amz-acl": "bucket-owner-full-control",
                        **from_trail,
                    }
                },
            },
        ],
    }


def trail_role_trust() -> dict[str, Any]:
    """Who may assume the delivery role: CloudTrail only.

    No condition keys: a condition CloudTrail's call does not carry would stop
    delivery silently, and the role can write only to its one log group.
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def trail_role_policy(names: Names) -> dict[str, Any]:
    """Create streams in, and put events to, the one log group.

    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-required-policy-for-cloudwatch-logs.html
    """
    streams = names.log_group_arn().removesuffix(":*") + ":log-stream:*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DeliverTrailEvents",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": streams,
            }
        ],
    }


def topic_policy(names: Names) -> dict[str, Any]:
    """The account manages the topic; CloudWatch and EventBridge of this account
    may publish to it (aws:SourceAccount against the confused deputy).

    https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions
    """
    same_account = {"StringEquals": {"aws:SourceAccount": names.account}}

    def publish(sid: str, service: str) -> dict[str, Any]:
        return {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sns:Publish",
            "Resource": names.topic_arn,
            "Condition": same_account,
        }

    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountManagesTopic",
                "Effect": "Allow",
                "Principal": {"AWS": names.arn("iam", "root", regional=False)},
                "Action": [
                    "sns:GetTopicAttributes",
                    "sns:SetTopicAttributes",
                    "sns:Subscribe",
                    "sns:ListSubscriptionsByTopic",
                    "sns:Publish",
                    "sns:DeleteTopic",
                ],
                "Resource": names.topic_arn,
            },
            publish("CloudWatchAlarmsPublish", "cloudwatch.amazonaws.com"),
            publish("EventBridgeRulesPublish", "events.amazonaws.com"),
        ],
    }


@dataclass(frozen=True)
class Watch:
    """One thing to be alerted about: its filter pattern and its alarm."""

    slug: str
    title: str
    pattern: str
    samples: tuple[SampleEvent, ...]
    """CloudTrail records it must catch, as the checklist's alarm items test them."""


def watches(names: Names) -> tuple[Watch, ...]:
    """The four alerts of the issue, as CloudWatch Logs metric filter patterns.

    Values with ``:`` or ``/`` are quoted, as the filter syntax requires:
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
    KMS's CloudTrail records name the key in ``resources[0].ARN``, also for
    failed calls, and a denial is an errorCode starting with AccessDenied
    (AccessDenied or AccessDeniedException; the prefix catches both):
    https://docs.aws.amazon.com/kms/latest/developerguide/ct-decrypt.html
    """
    kms = "($.eventSource=kms.amazonaws.com)"
    this_key = f'($.resources[0].ARN="{names.key_arn}")'

    def about_key(event: str) -> str:
        return f"{{{kms} && ($.eventName={event}) && {this_key}}}"

    return (
        Watch(
            "key-disabled-or-deleted",
            "a KMS key is disabled or scheduled for deletion (CIS 4.7)",
            CIS_KEY_DISABLED_OR_DELETED,
            (
                SampleEvent("DisableKey", "DisableKey"),
                SampleEvent("ScheduleKeyDeletion", "ScheduleKeyDeletion"),
            ),
        ),
        Watch(
            "key-policy-changed",
            "the key policy of this key is changed",
            about_key("PutKeyPolicy"),
            (SampleEvent("PutKeyPolicy", "PutKeyPolicy"),),
        ),
        Watch(
            "rotation-disabled",
            "automatic rotation of this key is turned off",
            about_key("DisableKeyRotation"),
            (SampleEvent("DisableKeyRotation", "DisableKeyRotation"),),
        ),
        Watch(
            "access-denied",
            "a call on this key is denied",
            f'{{{kms} && ($.errorCode="AccessDenied*") && {this_key}}}',
            (SampleEvent("access-denied Decrypt", "Decrypt", "AccessDenied", True),),
        ),
    )


def event_patterns(names: Names) -> dict[str, dict[str, Any]]:
    """EventBridge patterns for the same events, by rule name.

    CloudTrail delivers these as "AWS API Call via CloudTrail" when a trail is
    logging. Denied Decrypt and DescribeKey calls are read-only management
    events; AWS's pages disagree on whether an ENABLED rule sees those that do
    not start with Describe, Get or List, so the access-denied rule is put in
    state ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS (:data:`RULE_STATES`):
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail-management.html
    """
    base = {"source": ["aws.kms"], "detail-type": ["AWS API Call via CloudTrail"]}
    changes = [
        "DisableKey",
        "ScheduleKeyDeletion",
        "PutKeyPolicy",
        "DisableKeyRotation",
    ]
    return {
        names.per_key("kms-changes"): {
            **base,
            "detail": {"eventSource": ["kms.amazonaws.com"], "eventName": changes},
        },
        names.per_key("kms-access-denied"): {
            **base,
            "detail": {
                "eventSource": ["kms.amazonaws.com"],
                "errorCode": [{"prefix": "AccessDenied"}],
            },
        },
    }


def rule_states(names: Names) -> dict[str, str]:
    """The State each rule is put in (read-only events need the second one)."""
    return {
        names.per_key("kms-changes"): "ENABLED",
        names.per_key(
            "kms-access-denied"
        ): "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
    }


# KMS operations whose AWS/Usage CallCount the dashboard shows (point 12).
DASHBOARD_OPERATIONS = ("GenerateDataKey", "Decrypt", "Encrypt", "DescribeKey")


def dashboard_body(names: Names, alarm_names: tuple[str, ...]) -> dict[str, Any]:
    """KMS call counts (AWS/Usage, account and region wide) and alarm states.

    AWS/KMS has no call-count metrics; AWS/Usage CallCount has them with the
    dimensions Service=KMS, Type=API, Resource=<operation>, Class=None:
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Usage-Metrics.html
    """
    metrics = [
        ["AWS/Usage", "CallCount", "Service", "KMS", "Type", "API"]
        + ["Resource", operation, "Class", "None"]
        for operation in DASHBOARD_OPERATIONS
    ]
    widgets: list[dict[str, Any]] = [
        {
            "type": "metric",
            "x": 0,
            "y": 0,
            "width": 12,
            "height": 6,
            "properties": {
                "title": "KMS API calls, whole account and region (AWS/Usage)",
                "metrics": metrics,
                "region": names.region,
                "stat": "Sum",
                "period": 300,
                "view": "timeSeries",
            },
        }
    ]
    if alarm_names:
        widgets.append(
            {
                "type": "alarm",
                "x": 12,
                "y": 0,
                "width": 12,
                "height": 6,
                "properties": {
                    "title": f"Alarms for key {names.key_short}",
                    "alarms": [names.alarm_arn(n) for n in alarm_names],
                },
            }
        )
    return {"widgets": widgets}
