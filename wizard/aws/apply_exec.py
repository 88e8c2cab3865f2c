"""The boto3 side of apply and rollback: make each step's call, map each error.

:class:`BotoAdapter` implements :class:`wizard.core.apply.adapter.Adapter`. It
reads what a write will replace (for the backup), checks whether what a step
creates exists already (so undo never deletes what apply did not make), makes
the calls exactly as the plan lists them, and turns every botocore error into
:class:`StepFailed` with one plain sentence: never a traceback. KMS's
PutKeyPolicy is called as the plan lists it, and the plan never sets
BypassPolicyLockoutSafetyCheck; a guard below refuses it outright all the same.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError

from wizard.aws import read_s3
from wizard.aws.errors import ENDPOINT_ERRORS, error_code, to_unknown
from wizard.aws.readers import Api
from wizard.aws.session import Clients
from wizard.core.apply.adapter import StepFailed
from wizard.core.apply.model import BackupWhat, Step
from wizard.core.snapshot import Unknown
from wizard.core.values import Values

logger = logging.getLogger(__name__)

# Codes meaning "it is not there": a probe answers False, an undo says "gone".
GONE = frozenset(
    {
        "NoSuchEntity",
        "NoSuchBucket",
        "NotFound",
        "404",
        "NotFoundException",
        "ResourceNotFoundException",
        "ResourceNotFound",
        "TrailNotFoundException",
        "NoSuchConfigRuleException",
        "NoSuchBucketPolicy",
    }
)
# A new IAM role takes a moment to become usable by CloudTrail (IAM is
# eventually consistent): CreateTrail is retried on these, briefly.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency
_PROPAGATION = frozenset(
    {
        "InvalidCloudWatchLogsRoleArnException",
        "InvalidCloudWatchLogsLogGroupArnException",
    }
)
_PROPAGATION_WAITS = (2.0, 4.0, 8.0, 16.0)

# Plain words for errors whose AWS message alone would not tell the user what to do.
_ADVICE = {
    "MalformedPolicyDocumentException": (
        "AWS refused the key policy as malformed. When its message says the policy "
        "would not let you change it again, that is AWS's lockout safety check: "
        "the identity you call with would lose kms:PutKeyPolicy. The tool never "
        "bypasses that check."
    ),
    "NoAvailableConfigurationRecorderException": (
        "AWS Config has no configuration recorder in this region, so it refuses "
        "rules; turn recording on (AWS Config console > Settings) and run apply "
        "again."
    ),
    "InsufficientS3BucketPolicyException": (
        "CloudTrail cannot write to the trail's bucket: its bucket policy does not "
        "let cloudtrail.amazonaws.com write for this trail."
    ),
    "BucketAlreadyExists": (
        "The bucket name is taken by another AWS account; bucket names are global."
    ),
    "LimitExceededException": "An AWS quota for this resource is reached.",
}


def _params(step: Step) -> dict[str, Any]:
    params = dict(step.params)
    if params.get("BypassPolicyLockoutSafetyCheck"):
        raise StepFailed(
            "Refused: a request asked to bypass KMS's policy lockout safety check, "
            "which this tool never does."
        )
    return params


class BotoAdapter:
    """Apply and rollback calls for one key, through the :class:`Clients` factory."""

    def __init__(
        self,
        clients: Clients,
        values: Values,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Remember where to call; nothing is called yet.

        Args:
            clients: the client factory (region, profile, endpoint, retries).
            values: the key, bucket and region of this apply.
            sleep: waits between CreateTrail retries (tests pass a no-op).
        """
        self._clients = clients
        self._values = values
        self._sleep = sleep

    def _client(self, service: str) -> Any:
        return self._clients.get(service, self._values.region or None)

    def _send(self, step: Step, params: dict[str, Any]) -> dict[str, Any]:
        method = getattr(self._client(step.service), xform_name(step.operation))
        response: dict[str, Any] = method(**params)
        return response

    # -- reads ------------------------------------------------------------

    def read_state(self, what: BackupWhat, key_arn: str) -> dict[str, Any]:
        """What a replace step would overwrite, as the backup keeps it."""
        kms = self._client("kms")
        api = {
            "key-policy": "kms:GetKeyPolicy",
            "rotation": "kms:GetKeyRotationStatus",
            "tags": "kms:ListResourceTags",
            "description": "kms:DescribeKey",
        }[what]
        try:
            if what == "key-policy":
                text = kms.get_key_policy(KeyId=key_arn, PolicyName="default")
                return {"policy": str(text["Policy"])}
            if what == "rotation":
                status = kms.get_key_rotation_status(KeyId=key_arn)
                period = status.get("RotationPeriodInDays")
                return {
                    "enabled": bool(status.get("KeyRotationEnabled")),
                    "period_days": int(period) if period else None,
                }
            if what == "tags":
                pages = kms.get_paginator("list_resource_tags").paginate(KeyId=key_arn)
                found = {t["TagKey"]: t["TagValue"] for p in pages for t in p["Tags"]}
                return {"tags": found}
            meta = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
            return {"description": str(meta.get("Description", ""))}
        except (ClientError, BotoCoreError) as error:
            raise self._failed(
                error, api, key_arn, "read the state to back up"
            ) from None

    def policy_text(self, key_arn: str) -> str:
        """The key policy as KMS returns it now."""
        return str(self.read_state("key-policy", key_arn)["policy"])

    def exists(self, step: Step) -> bool:
        """Whether what ``step`` creates is there already."""
        check = _EXISTS.get(step.operation)
        if check is None:
            return False
        try:
            return check(self._client(step.service), step.params)
        except ClientError as error:
            if error_code(error) in GONE:
                return False
            raise self._failed(error, step.api, "", "check what exists") from None
        except BotoCoreError as error:
            raise self._failed(error, step.api, "", "check what exists") from None

    # -- writes -----------------------------------------------------------

    def call(self, step: Step) -> dict[str, Any]:
        """Make the step's call; return the fields it keeps for undo."""
        params = _params(step)
        waits = list(_PROPAGATION_WAITS) if step.operation == "CreateTrail" else []
        while True:
            try:
                response = self._send(step, params)
                break
            except ClientError as error:
                if error_code(error) in _PROPAGATION and waits:
                    logger.info("CreateTrail: role not usable yet, retrying")
                    self._sleep(waits.pop(0))
                    continue
                raise self._failed(error, step.api, "", step.summary) from None
            except BotoCoreError as error:
                raise self._failed(error, step.api, "", step.summary) from None
        return {k: response[k] for k in step.keep if k in response}

    def undo(self, step: Step) -> str:
        """Make an undo call; "done", "already gone", or why it was kept."""
        try:
            self._send(step, _params(step))
        except ClientError as error:
            code = error_code(error)
            if code in GONE:
                return "already gone"
            if code == "BucketNotEmpty":
                return (
                    "kept: the bucket holds log files; delete it yourself once "
                    "they are no longer needed"
                )
            raise self._failed(error, step.api, "", step.summary) from None
        except BotoCoreError as error:
            raise self._failed(error, step.api, "", step.summary) from None
        return "done"

    def probe(self) -> tuple[bool, str]:
        """The S3 round trip of the checklist, through SSE-KMS with the key."""
        values = self._values
        found = read_s3.probe(
            Api(self._clients), values.region, values.bucket, values.key_arn
        )
        if isinstance(found, Unknown):
            return False, found.reason
        return found.ok, found.detail

    def _failed(
        self, error: BaseException, api: str, resource: str, doing: str
    ) -> StepFailed:
        """One sentence for the user: what failed, why, and what to do."""
        code = error_code(error)
        unknown = to_unknown(error, api, resource)
        sentence = unknown.reason
        if unknown.kind == "access_denied":
            sentence += f" Grant {unknown.permission} to the identity apply runs as."
        elif unknown.kind == "throttled":
            sentence += " AWS is throttling; run apply again in a minute."
        elif isinstance(error, ENDPOINT_ERRORS):
            sentence += (
                " The connection failed during the call, so AWS may or may not "
                "have made it; the journal marks it as started, and rollback "
                "handles either case."
            )
        if code in _ADVICE:
            sentence = f"{_ADVICE[code]} ({api}: {unknown.reason})"
        logger.info("%s failed while trying to %s: %s", api, doing, code)
        return StepFailed(sentence, code)


# -- existence checks, one per create operation ------------------------------

Check = Callable[[Any, Any], bool]


def _bucket(s3: Any, p: Any) -> bool:
    s3.head_bucket(Bucket=p["Bucket"])
    return True


def _log_group(logs: Any, p: Any) -> bool:
    found = logs.describe_log_groups(logGroupNamePrefix=p["logGroupName"])
    return any(g["logGroupName"] == p["logGroupName"] for g in found["logGroups"])


def _role(iam: Any, p: Any) -> bool:
    iam.get_role(RoleName=p["RoleName"])
    return True


def _role_policy(iam: Any, p: Any) -> bool:
    iam.get_role_policy(RoleName=p["RoleName"], PolicyName=p["PolicyName"])
    return True


def _trail(cloudtrail: Any, p: Any) -> bool:
    found = cloudtrail.describe_trails(trailNameList=[p["Name"]])["trailList"]
    return any(t["Name"] == p["Name"] for t in found)


def _topic(sns: Any, p: Any) -> bool:
    topics = sns.get_paginator("list_topics").paginate()
    return any(
        t["TopicArn"].rsplit(":", 1)[-1] == p["Name"]
        for page in topics
        for t in page["Topics"]
    )


def _subscription(sns: Any, p: Any) -> bool:
    pages = sns.get_paginator("list_subscriptions_by_topic").paginate(
        TopicArn=p["TopicArn"]
    )
    return any(
        s["Protocol"] == p["Protocol"] and s["Endpoint"] == p["Endpoint"]
        for page in pages
        for s in page["Subscriptions"]
    )


def _metric_filter(logs: Any, p: Any) -> bool:
    found = logs.describe_metric_filters(
        logGroupName=p["logGroupName"], filterNamePrefix=p["filterName"]
    )["metricFilters"]
    return any(f["filterName"] == p["filterName"] for f in found)


def _alarm(cloudwatch: Any, p: Any) -> bool:
    found = cloudwatch.describe_alarms(AlarmNames=[p["AlarmName"]])
    return bool(found["MetricAlarms"])


def _rule(events: Any, p: Any) -> bool:
    events.describe_rule(Name=p["Name"])
    return True


def _targets(events: Any, p: Any) -> bool:
    found = events.list_targets_by_rule(Rule=p["Rule"])["Targets"]
    wanted = {t["Id"] for t in p["Targets"]}
    return wanted <= {t["Id"] for t in found}


def _config_rule(config: Any, p: Any) -> bool:
    name = p["ConfigRule"]["ConfigRuleName"]
    return bool(config.describe_config_rules(ConfigRuleNames=[name])["ConfigRules"])


def _dashboard(cloudwatch: Any, p: Any) -> bool:
    cloudwatch.get_dashboard(DashboardName=p["DashboardName"])
    return True


_EXISTS: dict[str, Check] = {
    "CreateBucket": _bucket,
    "CreateLogGroup": _log_group,
    "CreateRole": _role,
    "PutRolePolicy": _role_policy,
    "CreateTrail": _trail,
    "CreateTopic": _topic,
    "Subscribe": _subscription,
    "PutMetricFilter": _metric_filter,
    "PutMetricAlarm": _alarm,
    "PutRule": _rule,
    "PutTargets": _targets,
    "PutConfigRule": _config_rule,
    "PutDashboard": _dashboard,
}
