"""Seeded Harbor accounts for the sandbox, created through boto3 over HTTP.

Scenarios:

- ``empty``: nothing at all.
- ``guide-as-written``: what following the hardening guide literally leaves
  behind: its "Hardened Key Policy Template" (mistakes included: StringEquals on
  a ``/*`` ARN, kms:CallerAccount on root, the s3.amazonaws.com principal, an IAM
  user as administrator), rotation off, no trail, alarms, Config rule or
  dashboard.
- ``hardened``: the same account with the tool's policy
  (:func:`wizard.core.policy.build.build_policy`), rotation every 365 days, tags,
  a multi-Region trail into CloudWatch Logs, metric filters and alarms
  (CORRECTIONS.md points 12-14), the Config rule and an ``AWS/Usage`` dashboard.
- ``no-bucket-key``: ``guide-as-written`` with S3 Bucket Keys off, so S3 would
  use the object ARN as encryption context (correction 1).
- ``many-keys:N``: ``guide-as-written`` plus N more customer managed keys, every
  other one with rotation on, for fleet audits (N from 1 to 500).

Seed into an empty sandbox (``Sandbox.reset()`` first): names would collide.
What moto does with these calls is in :mod:`wizard.aws.sandbox.server`; in
particular it never evaluates any of the policies written here.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from typing import Any

import boto3
from botocore.config import Config

from wizard.core.policy.build import build_policy
from wizard.core.regions import partition_of
from wizard.core.values import Values

logger = logging.getLogger(__name__)

SCENARIOS = ("empty", "guide-as-written", "hardened", "no-bucket-key", "many-keys:N")
"""Scenario names; ``many-keys:N`` takes a count, such as ``many-keys:20``."""

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
CONFIG_RULE = "cmk-backing-key-rotation-enabled"
DASHBOARD = "HarborKMS"
METRIC_NAMESPACE = "HarborKMS"
ROTATION_DAYS = 365
MAX_FLEET = 500

# CIS AWS Foundations 4.7 / Security Hub CloudWatch.7 (CORRECTIONS.md point 13).
CIS_KEY_DISABLED_OR_DELETED = (
    "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || "
    "($.eventName=ScheduleKeyDeletion))}"
)


@dataclass(frozen=True)
class SeedResult:
    """What a scenario created: enough to fill the wizard's values."""

    account_id: str
    region: str
    key_id: str = ""
    key_arn: str = ""
    bucket: str = ""
    harbor_role_arn: str = ""
    admin_principals: tuple[str, ...] = ()
    trail_name: str | None = None
    topic_arn: str | None = None
    scenario: str = "empty"
    bucket_key_enabled: bool = True
    break_glass_principals: tuple[str, ...] = ()
    """Roles that exist for break-glass use (in the key policy only if hardened)."""
    extra_key_ids: tuple[str, ...] = ()
    """The additional keys of ``many-keys:N``."""

    def values(self) -> Values:
        """The wizard's values for this account (validate() may warn, not fail)."""
        return Values(
            account_id=self.account_id,
            region=self.region,
            key_id=self.key_id,
            harbor_role_arn=self.harbor_role_arn,
            bucket=self.bucket,
            bucket_key_enabled=self.bucket_key_enabled,
            admin_principals=self.admin_principals,
            break_glass_principals=self.break_glass_principals,
            rotation_period_days=ROTATION_DAYS,
        )

    def as_config_dict(self) -> dict[str, Any]:
        """The values file's layout (``version``, ``aws``, ``harbor``, ``admins``)."""
        return {
            "version": 1,
            "aws": {
                "account_id": self.account_id,
                "region": self.region,
                "key_id": self.key_id,
            },
            "harbor": {
                "role_arn": self.harbor_role_arn,
                "bucket": self.bucket,
                "bucket_key_enabled": self.bucket_key_enabled,
            },
            "admins": {"principals": list(self.admin_principals)},
        }


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


class _Aws:
    """boto3 clients for one endpoint and region, with the sandbox's credentials."""

    def __init__(self, endpoint_url: str, region: str) -> None:
        self._session = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=region,
        )
        self._endpoint = endpoint_url
        self._clients: dict[str, Any] = {}
        self.region = region
        self.partition = partition_of(region)

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(
                service,  # type: ignore[call-overload]
                endpoint_url=self._endpoint,
                config=Config(retries={"mode": "standard", "max_attempts": 3}),
            )
        return self._clients[service]


def parse_scenario(scenario: str) -> tuple[str, int]:
    """Split ``many-keys:N``; check every other name.

    Raises:
        ValueError: the name is unknown or N is not 1 to 500.
    """
    name, _, count = scenario.partition(":")
    if name == "many-keys" and count.isdigit() and 1 <= int(count) <= MAX_FLEET:
        return name, int(count)
    if count or name not in SCENARIOS or name == "many-keys":
        raise ValueError(
            f"Unknown sandbox scenario {scenario!r}: use one of "
            f"{', '.join(SCENARIOS)} (N from 1 to {MAX_FLEET})."
        )
    return name, 0


def seed(endpoint_url: str, scenario: str, region: str = "us-east-1") -> SeedResult:
    """Create a Harbor account in ``scenario``'s state at ``endpoint_url``.

    Args:
        endpoint_url: the sandbox (or any moto server) to seed.
        scenario: one of :data:`SCENARIOS`.
        region: the region of the key, buckets, trail and alarms.

    Returns:
        What was created.

    Raises:
        ValueError: the scenario is unknown.
        botocore.exceptions.ClientError: the endpoint refused a call (a name
            already taken, for instance).
    """
    name, count = parse_scenario(scenario)
    aws = _Aws(endpoint_url, region)
    account = str(aws("sts").get_caller_identity()["Account"])
    logger.info("seeding %s into %s (%s)", scenario, endpoint_url, region)
    if name == "empty":
        return SeedResult(account_id=account, region=region)
    if name == "hardened":
        return _hardened(aws, account)
    result = _guide(aws, account, scenario, bucket_key=name != "no-bucket-key")
    if name == "many-keys":
        extra = tuple(_fleet_key(aws, i) for i in range(count))
        result = replace(result, extra_key_ids=extra)
    return result


def _guide(aws: _Aws, account: str, scenario: str, *, bucket_key: bool) -> SeedResult:
    """The guide followed literally."""
    base = _base(aws, account, scenario, bucket_key=bucket_key, tags={})
    policy = guide_key_policy(account, aws.region, base.bucket)
    aws("kms").put_key_policy(
        KeyId=base.key_id, PolicyName="default", Policy=json.dumps(policy)
    )
    user = f"arn:{aws.partition}:iam::{account}:user/{ADMIN_USER}"
    return replace(base, admin_principals=(*base.admin_principals, user))


def _hardened(aws: _Aws, account: str) -> SeedResult:
    """The tool's policy and the monitoring the corrections call for."""
    base = _base(aws, account, "hardened", bucket_key=True, tags=KEY_TAGS)
    kms = aws("kms")
    policy = build_policy(base.values())
    kms.put_key_policy(
        KeyId=base.key_id, PolicyName="default", Policy=json.dumps(policy)
    )
    kms.enable_key_rotation(KeyId=base.key_id, RotationPeriodInDays=ROTATION_DAYS)
    _trail(aws, account)
    topic_arn = str(aws("sns").create_topic(Name=TOPIC_NAME)["TopicArn"])
    _alarms(aws, base.key_arn, topic_arn)
    _config_rule(aws, _trail_bucket(account, aws.region))
    _dashboard(aws)
    return replace(base, trail_name=TRAIL_NAME, topic_arn=topic_arn)


def _base(
    aws: _Aws, account: str, scenario: str, *, bucket_key: bool, tags: dict[str, str]
) -> SeedResult:
    """Roles, user, OIDC provider, key and Harbor's bucket: common to both."""
    bucket = f"harbor-registry-storage-{account}-{aws.region}"
    roles = _identities(aws, account, bucket)
    meta = aws("kms").create_key(
        Description=KEY_DESCRIPTION,
        Tags=[{"TagKey": k, "TagValue": v} for k, v in tags.items()],
    )["KeyMetadata"]
    _bucket(aws, bucket, kms_key=str(meta["Arn"]), bucket_key=bucket_key)
    return SeedResult(
        account_id=account,
        region=aws.region,
        key_id=str(meta["KeyId"]),
        key_arn=str(meta["Arn"]),
        bucket=bucket,
        harbor_role_arn=roles[HARBOR_ROLE],
        admin_principals=(roles[ADMIN_ROLE],),
        scenario=scenario,
        bucket_key_enabled=bucket_key,
        break_glass_principals=(roles[BREAK_GLASS_ROLE],),
    )


def _identities(aws: _Aws, account: str, bucket: str) -> dict[str, str]:
    """IRSA role for Harbor (EKS OIDC trust), admin roles and the guide's user."""
    iam = aws("iam")
    issuer = f"oidc.eks.{aws.region}.amazonaws.com/id/{OIDC_ID}"
    provider = iam.create_open_id_connect_provider(
        Url=f"https://{issuer}",
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
    )["OpenIDConnectProviderArn"]
    irsa = _trust(
        {"Federated": provider},
        "sts:AssumeRoleWithWebIdentity",
        {
            "StringEquals": {
                f"{issuer}:sub": SERVICE_ACCOUNT,
                f"{issuer}:aud": "sts.amazonaws.com",
            }
        },
    )
    root = {"AWS": f"arn:{aws.partition}:iam::{account}:root"}
    mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    trusts = {
        HARBOR_ROLE: irsa,
        ADMIN_ROLE: _trust(root, "sts:AssumeRole", mfa),
        BREAK_GLASS_ROLE: _trust(root, "sts:AssumeRole", mfa),
    }
    arns = {
        name: str(
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(doc))[
                "Role"
            ]["Arn"]
        )
        for name, doc in trusts.items()
    }
    bucket_arn = f"arn:{aws.partition}:s3:::{bucket}"
    harbor_s3 = _policy(
        {
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": bucket_arn,
        },
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
            + ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            "Resource": f"{bucket_arn}/*",
        },
    )
    iam.put_role_policy(
        RoleName=HARBOR_ROLE, PolicyName="HarborS3Access", PolicyDocument=harbor_s3
    )
    iam.create_user(UserName=ADMIN_USER)
    return arns


def _trust(principal: dict[str, str], action: str, condition: dict[str, Any]) -> Any:
    statement = {"Effect": "Allow", "Principal": principal, "Action": action}
    return {
        "Version": "2012-10-17",
        "Statement": [statement | {"Condition": condition}],
    }


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _bucket(aws: _Aws, bucket: str, *, kms_key: str | None, bucket_key: bool) -> None:
    """A bucket as AWS makes it today, plus SSE-KMS when ``kms_key`` is given.

    moto reports no public access block or ownership controls on a new bucket
    where AWS applies them by default, so they are set explicitly.
    """
    s3 = aws("s3")
    where = {}
    if aws.region != "us-east-1":
        where = {"CreateBucketConfiguration": {"LocationConstraint": aws.region}}
    s3.create_bucket(Bucket=bucket, **where)
    blocks = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy")
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            name: True for name in (*blocks, "RestrictPublicBuckets")
        },
    )
    s3.put_bucket_ownership_controls(
        Bucket=bucket,
        OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    )
    if kms_key is None:
        return
    default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key}
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": default,
                    "BucketKeyEnabled": bucket_key,
                }
            ]
        },
    )


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


def _trail(aws: _Aws, account: str) -> str:
    """A multi-Region trail with log file validation, delivering to CloudWatch Logs.

    Returns:
        The ARN of the trail's log group.
    """
    bucket = _trail_bucket(account, aws.region)
    _bucket(aws, bucket, kms_key=None, bucket_key=False)
    policy = trail_bucket_policy(account, aws.region)
    aws("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    logs = aws("logs")
    logs.create_log_group(logGroupName=LOG_GROUP)
    logs.put_retention_policy(logGroupName=LOG_GROUP, retentionInDays=365)
    group_arn = (
        f"arn:{aws.partition}:logs:{aws.region}:{account}:log-group:{LOG_GROUP}:*"
    )
    cloudtrail = aws("cloudtrail")
    cloudtrail.create_trail(
        Name=TRAIL_NAME,
        S3BucketName=bucket,
        IsMultiRegionTrail=True,
        IncludeGlobalServiceEvents=True,
        EnableLogFileValidation=True,
        CloudWatchLogsLogGroupArn=group_arn,
        CloudWatchLogsRoleArn=_cloudtrail_logs_role(aws, account, group_arn),
    )
    # AWS gives a new trail a default selector recording all management events;
    # moto returns none, so the seed states it as AWS would have it.
    # https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-management-events-with-cloudtrail.html
    cloudtrail.put_event_selectors(
        TrailName=TRAIL_NAME,
        EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}],
    )
    cloudtrail.start_logging(Name=TRAIL_NAME)
    return group_arn


def _cloudtrail_logs_role(aws: _Aws, account: str, group_arn: str) -> str:
    """The role CloudTrail assumes to write to the log group."""
    iam = aws("iam")
    name = "CloudTrailToCloudWatchLogs"
    trust = _trust(
        {"Service": "cloudtrail.amazonaws.com"},
        "sts:AssumeRole",
        {"StringEquals": {"aws:SourceAccount": account}},
    )
    arn = str(
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))[
            "Role"
        ]["Arn"]
    )
    streams = group_arn.removesuffix(":*") + ":log-stream:*"
    write = {
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": streams,
    }
    iam.put_role_policy(
        RoleName=name, PolicyName="WriteTrailLogs", PolicyDocument=_policy(write)
    )
    return arn


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


def _alarms(aws: _Aws, key_arn: str, topic_arn: str) -> None:
    """One metric filter and one alarm per pattern, notifying ``topic_arn``."""
    logs, cloudwatch = aws("logs"), aws("cloudwatch")
    for name, pattern in alarm_filters(key_arn).items():
        logs.put_metric_filter(
            logGroupName=LOG_GROUP,
            filterName=name,
            filterPattern=pattern,
            metricTransformations=[
                {
                    "metricName": name,
                    "metricNamespace": METRIC_NAMESPACE,
                    "metricValue": "1",
                    "defaultValue": 0.0,
                }
            ],
        )
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            AlarmDescription=f"CloudTrail events matching {pattern}",
            Namespace=METRIC_NAMESPACE,
            MetricName=name,
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
            AlarmActions=[topic_arn],
        )


def _config_rule(aws: _Aws, bucket: str) -> None:
    """A recording configuration recorder and CMK_BACKING_KEY_ROTATION_ENABLED.

    AWS refuses a Config rule without a recorder (moto does not), so one is made.
    """
    config = aws("config")
    role = aws("iam").create_service_linked_role(AWSServiceName="config.amazonaws.com")
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": role["Role"]["Arn"],
            "recordingGroup": {
                "allSupported": True,
                "includeGlobalResourceTypes": True,
            },
        }
    )
    config.put_delivery_channel(
        DeliveryChannel={
            "name": "default",
            "s3BucketName": bucket,
            "s3KeyPrefix": "config",
        }
    )
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    config.put_config_rule(
        ConfigRule={
            "ConfigRuleName": CONFIG_RULE,
            "Description": "Checks that automatic rotation is enabled for each key.",
            "Scope": {"ComplianceResourceTypes": ["AWS::KMS::Key"]},
            "Source": {
                "Owner": "AWS",
                "SourceIdentifier": "CMK_BACKING_KEY_ROTATION_ENABLED",
            },
        }
    )


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


def _dashboard(aws: _Aws) -> None:
    aws("cloudwatch").put_dashboard(
        DashboardName=DASHBOARD, DashboardBody=json.dumps(dashboard_body(aws.region))
    )


def _fleet_key(aws: _Aws, index: int) -> str:
    """One more customer managed key; every other one rotates."""
    kms = aws("kms")
    key_id = str(
        kms.create_key(
            Description=f"Fleet key {index:03d}",
            Tags=[{"TagKey": "Application", "TagValue": "fleet"}],
        )["KeyMetadata"]["KeyId"]
    )
    if index % 2 == 0:
        kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=ROTATION_DAYS)
    return key_id
