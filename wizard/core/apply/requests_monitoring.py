"""The exact AWS requests of the monitoring changes, with how each is undone.

Trail (with its bucket, log group and delivery role), SNS topic, metric filters
and alarms, EventBridge rules, the Config rule and the dashboard. References:
the API reference page of each operation, cited beside it.
"""

from __future__ import annotations

import json
from typing import Any

from wizard.core.apply.documents import (
    METRIC_NAMESPACE,
    ROTATION_RULE,
    Names,
    Watch,
    dashboard_body,
    event_patterns,
    policy_text,
    rule_states,
    topic_policy,
    trail_bucket_policy,
    trail_role_policy,
    trail_role_trust,
)
from wizard.core.apply.model import Step, output_ref


def trail_steps(names: Names) -> tuple[Step, ...]:
    """Bucket (public access blocked, CloudTrail's policy), log group, delivery
    role, then the multi-region trail with validation, then StartLogging.

    https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_CreateTrail.html
    """
    bucket = names.trail_bucket
    where: dict[str, Any] = {}
    if names.region != "us-east-1":
        # S3 rejects a LocationConstraint of us-east-1 (API_CreateBucket.html).
        where = {"CreateBucketConfiguration": {"LocationConstraint": names.region}}
    blocks = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy")
    public_block = {n: True for n in (*blocks, "RestrictPublicBuckets")}
    group, role = names.log_group, names.trail_role
    return (
        Step(
            "s3",
            "CreateBucket",
            {"Bucket": bucket, **where},
            f"create bucket {bucket} for the trail's log files",
            undo=(
                Step(
                    "s3",
                    "DeleteBucket",
                    {"Bucket": bucket},
                    f"delete bucket {bucket} (kept if it holds log files)",
                ),
            ),
        ),
        Step(
            "s3",
            "PutPublicAccessBlock",
            {"Bucket": bucket, "PublicAccessBlockConfiguration": public_block},
            f"block all public access to {bucket}",
            kind="modify",
        ),
        Step(
            "s3",
            "PutBucketPolicy",
            {"Bucket": bucket, "Policy": policy_text(trail_bucket_policy(names))},
            f"let CloudTrail (this trail only) write to {bucket}",
            kind="modify",
        ),
        Step(
            "logs",
            "CreateLogGroup",
            {"logGroupName": group},
            f"create log group {group}",
            undo=(
                Step(
                    "logs",
                    "DeleteLogGroup",
                    {"logGroupName": group},
                    f"delete log group {group} (the bucket keeps the log files)",
                ),
            ),
        ),
        Step(
            "logs",
            "PutRetentionPolicy",
            {"logGroupName": group, "retentionInDays": 365},
            f"keep events in {group} for 365 days",
            kind="modify",
        ),
        Step(
            "iam",
            "CreateRole",
            {
                "RoleName": role,
                "AssumeRolePolicyDocument": policy_text(trail_role_trust()),
                "Description": "Lets CloudTrail deliver events to CloudWatch Logs "
                "(created by harbor-kms apply).",
            },
            f"create role {role} for CloudTrail",
            undo=(
                Step("iam", "DeleteRole", {"RoleName": role}, f"delete role {role}"),
            ),
        ),
        Step(
            "iam",
            "PutRolePolicy",
            {
                "RoleName": role,
                "PolicyName": "deliver-to-log-group",
                "PolicyDocument": policy_text(trail_role_policy(names)),
            },
            f"let {role} write to {group} only",
            undo=(
                Step(
                    "iam",
                    "DeleteRolePolicy",
                    {"RoleName": role, "PolicyName": "deliver-to-log-group"},
                    f"delete the inline policy of {role}",
                ),
            ),
        ),
        Step(
            "cloudtrail",
            "CreateTrail",
            {
                "Name": names.trail,
                "S3BucketName": bucket,
                "IsMultiRegionTrail": True,
                "IncludeGlobalServiceEvents": True,
                "EnableLogFileValidation": True,
                "CloudWatchLogsLogGroupArn": names.log_group_arn(),
                "CloudWatchLogsRoleArn": names.trail_role_arn,
            },
            f"create multi-region trail {names.trail} with log file validation",
            undo=(
                Step(
                    "cloudtrail",
                    "DeleteTrail",
                    {"Name": names.trail},
                    f"delete trail {names.trail}",
                ),
            ),
        ),
        Step(
            "cloudtrail",
            "PutEventSelectors",
            {
                "TrailName": names.trail,
                # AWS's default for a new trail, written out: every read and write
                # management event, KMS included (API_PutEventSelectors.html:
                # "trails created without specific event selectors ... log all
                # read and write management events"). Stated, not assumed.
                "EventSelectors": [
                    {"ReadWriteType": "All", "IncludeManagementEvents": True}
                ],
            },
            f"record all management events (KMS included) on {names.trail}",
            kind="modify",
        ),
        Step(
            "cloudtrail",
            "StartLogging",
            {"Name": names.trail},
            f"start logging on {names.trail}",
            kind="modify",
            undo=(
                Step(
                    "cloudtrail",
                    "StopLogging",
                    {"Name": names.trail},
                    f"stop logging on {names.trail}",
                ),
            ),
        ),
    )


def topic_steps(names: Names, email: str) -> tuple[Step, ...]:
    """The SNS topic (with its policy) and the user's e-mail subscription.

    SNS sends a confirmation mail; until it is confirmed, nothing is delivered
    (API_Subscribe.html). CreateTopic with the same name and attributes returns
    the existing topic, so two changes can both ensure it.
    """
    topic = names.topic_arn
    return (
        Step(
            "sns",
            "CreateTopic",
            {
                "Name": names.topic,
                "Attributes": {"Policy": policy_text(topic_policy(names))},
            },
            f"create SNS topic {names.topic}",
            undo=(
                Step(
                    "sns",
                    "DeleteTopic",
                    {"TopicArn": topic},
                    f"delete SNS topic {names.topic} (and its subscriptions)",
                ),
            ),
            keep=("TopicArn",),
        ),
        Step(
            "sns",
            "Subscribe",
            {
                "TopicArn": topic,
                "Protocol": "email",
                "Endpoint": email,
                "ReturnSubscriptionArn": True,
            },
            f"subscribe {email} (SNS mails a confirmation link)",
            undo=(
                Step(
                    "sns",
                    "Unsubscribe",
                    {"SubscriptionArn": output_ref("SubscriptionArn")},
                    f"unsubscribe {email}",
                ),
            ),
            keep=("SubscriptionArn",),
        ),
    )


def alarm_steps(
    names: Names, group: str, watches: tuple[Watch, ...]
) -> tuple[Step, ...]:
    """One metric filter on the trail's log group and one alarm per watch.

    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    """
    steps: list[Step] = []
    for watch in watches:
        name = names.per_key(watch.slug)
        transform = {
            "metricName": name,
            "metricNamespace": METRIC_NAMESPACE,
            "metricValue": "1",
        }
        steps.append(
            Step(
                "logs",
                "PutMetricFilter",
                {
                    "logGroupName": group,
                    "filterName": name,
                    "filterPattern": watch.pattern,
                    "metricTransformations": [transform],
                },
                f"count CloudTrail events where {watch.title}",
                undo=(
                    Step(
                        "logs",
                        "DeleteMetricFilter",
                        {"logGroupName": group, "filterName": name},
                        f"delete metric filter {name}",
                    ),
                ),
            )
        )
        steps.append(
            Step(
                "cloudwatch",
                "PutMetricAlarm",
                {
                    "AlarmName": name,
                    "AlarmDescription": f"harbor-kms: {watch.title}.",
                    "Namespace": METRIC_NAMESPACE,
                    "MetricName": name,
                    "Statistic": "Sum",
                    "Period": 300,
                    "EvaluationPeriods": 1,
                    "Threshold": 1.0,
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    # No events in a period is the normal state, not missing data.
                    "TreatMissingData": "notBreaching",
                    "ActionsEnabled": True,
                    "AlarmActions": [names.topic_arn],
                },
                f"alarm to {names.topic} when {watch.title}",
                undo=(
                    Step(
                        "cloudwatch",
                        "DeleteAlarms",
                        {"AlarmNames": [name]},
                        f"delete alarm {name}",
                    ),
                ),
            )
        )
    return tuple(steps)


def event_rule_steps(names: Names, rules: tuple[str, ...]) -> tuple[Step, ...]:
    """EventBridge rules on the default bus, each targeting the topic.

    https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html
    """
    patterns, states = event_patterns(names), rule_states(names)
    steps: list[Step] = []
    for rule in rules:
        steps.append(
            Step(
                "events",
                "PutRule",
                {
                    "Name": rule,
                    "EventPattern": json.dumps(patterns[rule], sort_keys=True),
                    "State": states[rule],
                    "Description": "harbor-kms: KMS events to alert on.",
                },
                f"create EventBridge rule {rule}",
                undo=(
                    Step("events", "DeleteRule", {"Name": rule}, f"delete rule {rule}"),
                ),
            )
        )
        steps.append(
            Step(
                "events",
                "PutTargets",
                {
                    "Rule": rule,
                    "Targets": [{"Id": names.topic, "Arn": names.topic_arn}],
                },
                f"send {rule} matches to {names.topic}",
                undo=(
                    Step(
                        "events",
                        "RemoveTargets",
                        {"Rule": rule, "Ids": [names.topic]},
                        f"remove the target of {rule}",
                    ),
                ),
            )
        )
    return tuple(steps)


def config_rule_steps(names: Names) -> tuple[Step, ...]:
    """The managed rule CMK_BACKING_KEY_ROTATION_ENABLED (CORRECTIONS.md point 14).

    https://docs.aws.amazon.com/config/latest/developerguide/cmk-backing-key-rotation-enabled.html
    """
    rule = {
        "ConfigRuleName": names.config_rule,
        "Description": "Checks that automatic rotation is on for customer managed "
        "KMS keys (created by harbor-kms apply).",
        "Scope": {"ComplianceResourceTypes": ["AWS::KMS::Key"]},
        "Source": {"Owner": "AWS", "SourceIdentifier": ROTATION_RULE},
    }
    return (
        Step(
            "config",
            "PutConfigRule",
            {"ConfigRule": rule},
            f"add AWS Config rule {names.config_rule} ({ROTATION_RULE})",
            undo=(
                Step(
                    "config",
                    "DeleteConfigRule",
                    {"ConfigRuleName": names.config_rule},
                    f"delete Config rule {names.config_rule}",
                ),
            ),
        ),
    )


def dashboard_steps(names: Names, alarm_names: tuple[str, ...]) -> tuple[Step, ...]:
    """PutDashboard with KMS call counts and the alarms' states.

    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html
    """
    body = json.dumps(dashboard_body(names, alarm_names), sort_keys=True)
    return (
        Step(
            "cloudwatch",
            "PutDashboard",
            {"DashboardName": names.dashboard, "DashboardBody": body},
            f"create dashboard {names.dashboard}",
            undo=(
                Step(
                    "cloudwatch",
                    "DeleteDashboards",
                    {"DashboardNames": [names.dashboard]},
                    f"delete dashboard {names.dashboard}",
                ),
            ),
        ),
    )
