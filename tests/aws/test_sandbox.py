"""The sandbox over HTTP: seeded scenarios, the APIs the layer adds, faults, reset."""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from wizard.aws.sandbox import Sandbox, SeedResult, run_sandbox
from wizard.aws.sandbox.seed import (
    CIS_KEY_DISABLED_OR_DELETED,
    CONFIG_RULE,
    DASHBOARD,
    KEY_DESCRIPTION,
    KEY_TAGS,
    OIDC_ID,
    SERVICE_ACCOUNT,
    TRAIL_NAME,
    alarm_filters,
    guide_key_policy,
    parse_scenario,
)
from wizard.core import store
from wizard.core.values import validate

ACCOUNT = "123456789012"
Seeder = Callable[..., SeedResult]
ClientFactory = Callable[..., Any]


def _policy(kms: Any, key_id: str) -> Any:
    return json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])


def _error_code(method: Any, **arguments: Any) -> str:
    """The error code of ``method(**arguments)``, which must fail."""
    with pytest.raises(ClientError) as caught:
        method(**arguments)
    return str(caught.value.response["Error"]["Code"])


def _control(sandbox: Sandbox, method: str, path: str, data: Any = None) -> Any:
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(
        sandbox.endpoint_url + path, data=body, method=method
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_empty_scenario_creates_nothing(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("empty")

    assert (result.account_id, result.key_id, result.trail_name) == (ACCOUNT, "", None)
    assert boto_client("kms").list_keys()["Keys"] == []
    assert boto_client("s3").list_buckets()["Buckets"] == []
    assert boto_client("iam").list_roles()["Roles"] == []


def test_guide_as_written_is_the_guide_with_its_mistakes(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("guide-as-written")
    kms, s3, iam = boto_client("kms"), boto_client("s3"), boto_client("iam")

    meta = kms.describe_key(KeyId=result.key_id)["KeyMetadata"]
    assert (meta["Description"], meta["KeyManager"]) == (KEY_DESCRIPTION, "CUSTOMER")
    assert kms.list_resource_tags(KeyId=result.key_id)["Tags"] == []
    assert (
        kms.get_key_rotation_status(KeyId=result.key_id)["KeyRotationEnabled"] is False
    )
    policy = _policy(kms, result.key_id)
    assert policy == guide_key_policy(ACCOUNT, "us-east-1", result.bucket)
    harbor = policy["Statement"][2]["Condition"]["StringEquals"]
    assert harbor["kms:EncryptionContext:aws:s3:arn"].endswith("/*")
    assert policy["Statement"][3]["Principal"] == {"Service": "s3.amazonaws.com"}

    rule = s3.get_bucket_encryption(Bucket=result.bucket)[
        "ServerSideEncryptionConfiguration"
    ]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": result.key_arn,
    }
    assert rule["BucketKeyEnabled"] is True
    blocks = s3.get_public_access_block(Bucket=result.bucket)
    assert all(blocks["PublicAccessBlockConfiguration"].values())

    trust = iam.get_role(RoleName="HarborS3Role")["Role"]["AssumeRolePolicyDocument"]
    statement = trust["Statement"][0]
    issuer = f"oidc.eks.us-east-1.amazonaws.com/id/{OIDC_ID}"
    assert statement["Principal"]["Federated"].endswith(f"oidc-provider/{issuer}")
    assert statement["Condition"]["StringEquals"] == {
        f"{issuer}:sub": SERVICE_ACCOUNT,
        f"{issuer}:aud": "sts.amazonaws.com",
    }
    roles = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert {"HarborS3Role", "KMSAdminRole", "BreakGlassRole"} <= roles
    assert iam.get_user(UserName="security-admin")["User"]["UserName"]

    assert boto_client("cloudtrail").describe_trails()["trailList"] == []
    assert boto_client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert boto_client("config").describe_config_rules()["ConfigRules"] == []
    assert boto_client("cloudwatch").list_dashboards()["DashboardEntries"] == []


def test_hardened_scenario_has_policy_rotation_trail_alarms_rule_dashboard(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    from wizard.core.policy.build import build_policy

    result = seeded("hardened")
    kms, logs = boto_client("kms"), boto_client("logs")

    assert _policy(kms, result.key_id) == build_policy(result.values())
    rotation = kms.get_key_rotation_status(KeyId=result.key_id)
    assert (rotation["KeyRotationEnabled"], rotation["RotationPeriodInDays"]) == (
        True,
        365,
    )
    tags = kms.list_resource_tags(KeyId=result.key_id)["Tags"]
    assert {t["TagKey"]: t["TagValue"] for t in tags} == KEY_TAGS

    cloudtrail = boto_client("cloudtrail")
    trail = cloudtrail.get_trail(Name=TRAIL_NAME)["Trail"]
    assert trail["IsMultiRegionTrail"] and trail["LogFileValidationEnabled"]
    assert trail["CloudWatchLogsLogGroupArn"]
    assert cloudtrail.get_trail_status(Name=TRAIL_NAME)["IsLogging"] is True
    trail_bucket_policy = boto_client("s3").get_bucket_policy(
        Bucket=trail["S3BucketName"]
    )
    assert "cloudtrail.amazonaws.com" in trail_bucket_policy["Policy"]

    filters = logs.describe_metric_filters()["metricFilters"]
    patterns = {f["filterName"]: f["filterPattern"] for f in filters}
    assert patterns == alarm_filters(result.key_arn)
    assert CIS_KEY_DISABLED_OR_DELETED in patterns.values()
    alarms = boto_client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert {a["AlarmName"] for a in alarms} == set(patterns)
    assert all(a["AlarmActions"] == [result.topic_arn] for a in alarms)

    rules = boto_client("config").describe_config_rules()["ConfigRules"]
    assert [(r["ConfigRuleName"], r["Source"]["SourceIdentifier"]) for r in rules] == [
        (CONFIG_RULE, "CMK_BACKING_KEY_ROTATION_ENABLED")
    ]
    body = json.loads(
        boto_client("cloudwatch").get_dashboard(DashboardName=DASHBOARD)[
            "DashboardBody"
        ]
    )
    metrics = body["widgets"][0]["properties"]["metrics"]
    assert [m[:8] for m in metrics] == [
        ["AWS/Usage", "CallCount", "Service", "KMS", "Type", "API", "Resource", op]
        for op in ("Decrypt", "GenerateDataKey")
    ]


def test_extra_scenarios_and_unknown_names(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    no_bucket_key = seeded("no-bucket-key")
    rule = boto_client("s3").get_bucket_encryption(Bucket=no_bucket_key.bucket)
    assert (
        rule["ServerSideEncryptionConfiguration"]["Rules"][0]["BucketKeyEnabled"]
        is False
    )

    fleet = seeded("many-keys:3")
    assert len(fleet.extra_key_ids) == 3
    assert len(boto_client("kms").list_keys()["Keys"]) == 4

    for bad in ("nope", "many-keys", "many-keys:0", "many-keys:x", "empty:2"):
        with pytest.raises(ValueError, match="Unknown sandbox scenario"):
            parse_scenario(bad)


def test_seed_result_gives_values_and_config_layout(seeded: Seeder) -> None:
    result = seeded("guide-as-written")

    assert [p for p in validate(result.values()) if p.severity == "error"] == []
    config = result.as_config_dict()
    assert config["aws"] == {
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "key_id": result.key_id,
    }
    assert config["harbor"] == {
        "role_arn": f"arn:aws:iam::{ACCOUNT}:role/HarborS3Role",
        "bucket": f"harbor-registry-storage-{ACCOUNT}-us-east-1",
        "bucket_key_enabled": True,
    }
    assert config["admins"]["principals"] == [
        f"arn:aws:iam::{ACCOUNT}:role/KMSAdminRole",
        f"arn:aws:iam::{ACCOUNT}:user/security-admin",
    ]
    # The document is the store's own, so it loads back to the same values,
    # break-glass roles included.
    assert store.from_dict(config, Path("sandbox.toml")).values == result.values()


def test_lookup_events_returns_recorded_kms_events(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("guide-as-written")
    kms, cloudtrail = boto_client("kms"), boto_client("cloudtrail")
    context = {"aws:s3:arn": f"arn:aws:s3:::{result.bucket}"}
    blob = kms.generate_data_key(
        KeyId=result.key_id, KeySpec="AES_256", EncryptionContext=context
    )["CiphertextBlob"]
    kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)

    by_key = {"AttributeKey": "ResourceName", "AttributeValue": result.key_arn}
    events = cloudtrail.lookup_events(LookupAttributes=[by_key])["Events"]
    names = [e["EventName"] for e in events]
    assert names == ["Decrypt", "GenerateDataKey", "PutKeyPolicy", "CreateKey"]
    record = json.loads(events[0]["CloudTrailEvent"])
    assert record["eventSource"] == "kms.amazonaws.com"
    assert record["resources"][0]["ARN"] == result.key_arn
    assert record["userIdentity"]["accountId"] == ACCOUNT
    assert record["requestParameters"]["encryptionContext"] == context
    assert "ciphertextBlob" not in record["requestParameters"]

    only = {"AttributeKey": "EventName", "AttributeValue": "GenerateDataKey"}
    assert len(cloudtrail.lookup_events(LookupAttributes=[only])["Events"]) == 1
    future = datetime.now(UTC) + timedelta(hours=1)
    assert cloudtrail.lookup_events(StartTime=future)["Events"] == []
    two = [by_key, only]
    invalid = _error_code(cloudtrail.lookup_events, LookupAttributes=two)
    assert invalid == "InvalidLookupAttributesException"
    page = cloudtrail.lookup_events(LookupAttributes=[by_key], MaxResults=3)
    rest = cloudtrail.lookup_events(
        LookupAttributes=[by_key], MaxResults=3, NextToken=page["NextToken"]
    )
    assert [e["EventName"] for e in page["Events"] + rest["Events"]] == names


def test_failed_kms_calls_are_recorded_with_their_error(
    sandbox: Sandbox, seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("guide-as-written")
    sandbox.add_fault("kms", "Decrypt", "AccessDeniedException", count=1)

    kms = boto_client("kms")
    code = _error_code(kms.decrypt, CiphertextBlob=b"x", KeyId=result.key_id)

    assert code == "AccessDeniedException"
    by_name = {"AttributeKey": "EventName", "AttributeValue": "Decrypt"}
    events = boto_client("cloudtrail").lookup_events(LookupAttributes=[by_name])
    record = json.loads(events["Events"][0]["CloudTrailEvent"])
    assert record["errorCode"] == "AccessDeniedException"
    assert record["resources"][0]["ARN"] == result.key_arn


def test_compliance_flips_when_rotation_is_enabled(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("guide-as-written")
    config = boto_client("config")
    config.put_configuration_recorder(
        ConfigurationRecorder={"name": "default", "roleARN": result.harbor_role_arn}
    )
    config.put_delivery_channel(
        DeliveryChannel={"name": "default", "s3BucketName": result.bucket}
    )
    source = {"Owner": "AWS", "SourceIdentifier": "CMK_BACKING_KEY_ROTATION_ENABLED"}
    config.put_config_rule(ConfigRule={"ConfigRuleName": "rotation", "Source": source})
    other = {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED"}
    config.put_config_rule(ConfigRule={"ConfigRuleName": "other", "Source": other})

    def compliance() -> dict[str, Any]:
        rules = config.describe_compliance_by_config_rule()["ComplianceByConfigRules"]
        return {r["ConfigRuleName"]: r["Compliance"] for r in rules}

    assert compliance()["rotation"] == {"ComplianceType": "INSUFFICIENT_DATA"}
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    assert compliance() == {
        "rotation": {
            "ComplianceType": "NON_COMPLIANT",
            "ComplianceContributorCount": {"CappedCount": 1, "CapExceeded": False},
        },
        "other": {"ComplianceType": "INSUFFICIENT_DATA"},
    }
    boto_client("kms").enable_key_rotation(KeyId=result.key_id)
    assert compliance()["rotation"] == {"ComplianceType": "COMPLIANT"}
    describe = config.describe_compliance_by_config_rule
    assert _error_code(describe, ConfigRuleNames=["x"]) == "NoSuchConfigRuleException"


def test_rotation_period_round_trips(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("guide-as-written")
    kms = boto_client("kms")

    before = datetime.now(UTC)
    kms.enable_key_rotation(KeyId=result.key_arn, RotationPeriodInDays=180)
    status = kms.get_key_rotation_status(KeyId=result.key_id)

    assert status["RotationPeriodInDays"] == 180
    expected = before + timedelta(days=180)
    assert abs(status["NextRotationDate"] - expected) < timedelta(seconds=30)
    kms.disable_key_rotation(KeyId=result.key_id)
    status = kms.get_key_rotation_status(KeyId=result.key_id)
    assert (
        status["KeyRotationEnabled"] is False and "RotationPeriodInDays" not in status
    )
    unchecked = boto_client("kms", parameter_validation=False)
    code = _error_code(
        unchecked.enable_key_rotation, KeyId=result.key_id, RotationPeriodInDays=30
    )
    assert code == "ValidationException"


def test_simulate_principal_policy_allows_everything_as_moto_does(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("guide-as-written")
    iam = boto_client("iam")

    answer = iam.simulate_principal_policy(
        PolicySourceArn=result.harbor_role_arn,
        ActionNames=["kms:Decrypt", "kms:GenerateDataKey"],
        ResourceArns=[result.key_arn],
    )

    decisions = [
        (r["EvalActionName"], r["EvalDecision"]) for r in answer["EvaluationResults"]
    ]
    assert decisions == [
        ("kms:Decrypt", "allowed"),
        ("kms:GenerateDataKey", "allowed"),
    ]
    missing = f"arn:aws:iam::{ACCOUNT}:role/Missing"
    code = _error_code(
        iam.simulate_principal_policy, PolicySourceArn=missing, ActionNames=["x:Y"]
    )
    assert code == "NoSuchEntity"


@pytest.mark.parametrize(
    ("service", "client", "operation", "call", "code"),
    [
        ("kms", "kms", "GetKeyPolicy", "get_key_policy", "AccessDeniedException"),
        ("s3", "s3", "GetBucketEncryption", "get_bucket_encryption", "AccessDenied"),
        ("iam", "iam", "GetRole", "get_role", "AccessDenied"),
        ("monitoring", "cloudwatch", "DescribeAlarms", "describe_alarms", "Throttling"),
    ],
)
def test_faults_come_back_in_each_protocols_error_shape(
    sandbox: Sandbox,
    seeded: Seeder,
    boto_client: ClientFactory,
    service: str,
    client: str,
    operation: str,
    call: str,
    code: str,
) -> None:
    result = seeded("guide-as-written")
    arguments = {
        "get_key_policy": {"KeyId": result.key_id, "PolicyName": "default"},
        "get_bucket_encryption": {"Bucket": result.bucket},
        "get_role": {"RoleName": "HarborS3Role"},
        "describe_alarms": {},
    }[call]
    method = getattr(boto_client(client), call)
    sandbox.add_fault(service, operation, code, status=403, count=1)

    assert _error_code(method, **arguments) == code
    method(**arguments)  # the fault was used up


def test_throttling_with_a_count_stops_after_that_many_calls(
    sandbox: Sandbox, seeded: Seeder, boto_client: ClientFactory
) -> None:
    seeded("empty")
    kms = boto_client("kms")
    sandbox.add_fault("kms", "ListKeys", "ThrottlingException", count=2)

    codes = [_error_code(kms.list_keys) for _ in range(2)]

    assert codes == ["ThrottlingException", "ThrottlingException"]
    assert kms.list_keys()["Keys"] == []


def test_a_delay_makes_a_short_read_timeout_fail(
    sandbox: Sandbox, seeded: Seeder, boto_client: ClientFactory
) -> None:
    seeded("empty")
    sandbox.add_fault("kms", "ListKeys", "", delay=2.0, count=1)
    kms = boto_client("kms", read_timeout=0.3, connect_timeout=1)

    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        kms.list_keys()

    assert time.monotonic() - started < 1.5
    assert kms.list_keys()["Keys"] == []


def test_faults_can_be_set_over_http(
    sandbox: Sandbox, seeded: Seeder, boto_client: ClientFactory
) -> None:
    seeded("empty")
    fault = {"service": "kms", "operation": "*", "error_code": "KMSInternalException"}
    created = _control(sandbox, "POST", "/_sandbox/faults", fault | {"status": 500})

    assert created["fault"]["count"] is None
    assert _control(sandbox, "GET", "/_sandbox/faults")["faults"] == [created["fault"]]
    assert _error_code(boto_client("kms").list_keys) == "KMSInternalException"
    _control(sandbox, "DELETE", "/_sandbox/faults")
    assert boto_client("kms").list_keys()["Keys"] == []
    with pytest.raises(urllib.error.HTTPError) as refused:
        _control(sandbox, "POST", "/_sandbox/faults", {"service": "kms"})
    assert refused.value.code == 400


def test_reset_clears_resources_events_and_faults(
    sandbox: Sandbox, seeded: Seeder, boto_client: ClientFactory
) -> None:
    seeded("guide-as-written")
    sandbox.add_fault("s3", "ListBuckets", "AccessDenied")

    _control(sandbox, "POST", "/_sandbox/reset")

    assert boto_client("kms").list_keys()["Keys"] == []
    assert boto_client("s3").list_buckets()["Buckets"] == []
    assert boto_client("cloudtrail").lookup_events()["Events"] == []


def test_run_sandbox_prints_how_to_use_it_and_stops() -> None:
    out = io.StringIO()

    def interrupt() -> None:
        raise KeyboardInterrupt

    assert run_sandbox(0, "empty", out, wait=interrupt) == 0
    text = out.getvalue()
    assert "export AWS_ENDPOINT_URL=http://127.0.0.1:" in text
    assert "export AWS_ACCESS_KEY_ID=testing" in text
    assert "nothing was written to disk" in text
    with pytest.raises(ValueError):
        run_sandbox(0, "nope", out)


def test_endpoint_needs_a_running_sandbox() -> None:
    idle = Sandbox()
    with pytest.raises(RuntimeError):
        _ = idle.endpoint_url
    idle.stop()  # stopping an idle sandbox is harmless
