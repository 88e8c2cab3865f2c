"""Creating the seeded resources through boto3, one kind of resource at a time.

boto3 clients for the sandbox's endpoint, the IAM roles and user, buckets as
AWS makes them today, the trail into CloudWatch Logs, metric filters and
alarms, the Config recorder and rule, and the dashboard. Which scenario gets
what is decided in :mod:`.seed`; names and documents come from
:mod:`.seed_data`.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any

import boto3
from botocore.config import Config

from wizard.aws.sandbox.seed_data import (
    ADMIN_ROLE,
    ADMIN_USER,
    BREAK_GLASS_ROLE,
    CONFIG_RULE,
    DASHBOARD,
    HARBOR_ROLE,
    LOG_GROUP,
    METRIC_NAMESPACE,
    OIDC_ID,
    SERVICE_ACCOUNT,
    TRAIL_NAME,
    _trail_bucket,
    alarm_filters,
    dashboard_body,
    trail_bucket_policy,
)
from wizard.core.regions import partition_of

logger = logging.getLogger(__name__)


class _Aws:
    """boto3 clients for one endpoint and region, with the sandbox's credentials."""

    def __init__(self, endpoint_url: str, region: str) -> None:
        self._session = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=region,
        )
        self.endpoint_url = endpoint_url
        self._clients: dict[str, Any] = {}
        self.region = region
        self.partition = partition_of(region)

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(
                service,  # type: ignore[call-overload]
                endpoint_url=self.endpoint_url,
                config=Config(retries={"mode": "standard", "max_attempts": 3}),
            )
        return self._clients[service]


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


def _confirm_subscription(aws: _Aws, topic_arn: str, endpoint: str) -> None:
    """Confirm ``endpoint``'s pending subscription, as its recipient would.

    The sandbox has no mail to click a link in: it takes the confirmation on
    its control endpoint (:mod:`.sns_layer`). A plain moto server has none and
    needs none, as it confirms every subscription by itself.

    Raises:
        RuntimeError: the sandbox had no such pending subscription.
    """
    body = json.dumps({"topic_arn": topic_arn, "endpoint": endpoint}).encode()
    request = urllib.request.Request(
        f"{aws.endpoint_url}/_sandbox/sns/confirm",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            confirmed = json.load(response)["confirmed"]
    except urllib.error.HTTPError as error:
        if error.code != 404:
            raise
        logger.debug("no sandbox SNS control endpoint at %s", aws.endpoint_url)
        return
    if confirmed != 1:
        raise RuntimeError(
            f"The sandbox confirmed {confirmed} subscriptions of {endpoint} "
            f"to {topic_arn}, not 1."
        )


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


def _dashboard(aws: _Aws) -> None:
    aws("cloudwatch").put_dashboard(
        DashboardName=DASHBOARD, DashboardBody=json.dumps(dashboard_body(aws.region))
    )
