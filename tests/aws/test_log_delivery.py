"""CloudTrail records reach the trail's CloudWatch Logs group in the sandbox, its
metric filters count them and the seeded alarms fire, all seen over HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from wizard.aws.sandbox import Sandbox, SeedResult
from wizard.aws.sandbox.seed import LOG_GROUP, TRAIL_NAME

Seeder = Callable[..., SeedResult]
ClientFactory = Callable[..., Any]

DISABLED = "harbor-kms-key-disabled-or-deleted"
POLICY = "harbor-kms-key-policy-changed"
ROTATION = "harbor-kms-key-rotation-disabled"
DENIED = "harbor-kms-key-access-denied"


def _states(boto_client: ClientFactory) -> dict[str, str]:
    alarms = boto_client("cloudwatch").describe_alarms()["MetricAlarms"]
    return {a["AlarmName"]: a["StateValue"] for a in alarms}


def _records(boto_client: ClientFactory) -> list[dict[str, Any]]:
    """The CloudTrail records in the trail's log group, oldest first."""
    found = boto_client("logs").filter_log_events(logGroupName=LOG_GROUP)
    return [json.loads(e["message"]) for e in found["events"]]


@pytest.mark.parametrize(
    "call",
    [
        lambda kms, key: kms.disable_key(KeyId=key),
        lambda kms, key: kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7),
    ],
    ids=["DisableKey", "ScheduleKeyDeletion"],
)
def test_disabling_or_deleting_the_key_sets_off_the_cis_alarm_only(
    seeded: Seeder, boto_client: ClientFactory, call: Callable[[Any, str], Any]
) -> None:
    result = seeded("hardened")
    assert set(_states(boto_client).values()) == {"OK"}

    call(boto_client("kms"), result.key_id)

    states = _states(boto_client)
    assert states.pop(DISABLED) == "ALARM"
    assert set(states.values()) == {"OK"}
    alarm = boto_client("cloudwatch").describe_alarms(AlarmNames=[DISABLED])
    reason = alarm["MetricAlarms"][0]["StateReason"]
    assert "[1.0 " in reason and "threshold (1.0)" in reason


def test_the_log_group_holds_the_record_lookup_events_returns(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    boto_client("kms").disable_key(KeyId=result.key_id)

    stream = f"{result.account_id}_CloudTrail_{result.region}"
    logs = boto_client("logs")
    events = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream)
    messages = [e["message"] for e in events["events"]]
    by_key = {"AttributeKey": "EventName", "AttributeValue": "DisableKey"}
    found = boto_client("cloudtrail").lookup_events(LookupAttributes=[by_key])

    assert messages == [found["Events"][0]["CloudTrailEvent"]]
    record = json.loads(messages[0])
    assert record["eventName"] == "DisableKey"
    assert record["resources"][0]["ARN"] == result.key_arn


@pytest.mark.parametrize(
    ("call", "alarm"),
    [
        (lambda kms, key: kms.disable_key_rotation(KeyId=key), ROTATION),
        (
            lambda kms, key: kms.put_key_policy(
                KeyId=key, PolicyName="default", Policy='{"Statement": []}'
            ),
            POLICY,
        ),
    ],
    ids=["DisableKeyRotation", "PutKeyPolicy"],
)
def test_each_seeded_alarm_fires_on_its_own_event(
    seeded: Seeder,
    boto_client: ClientFactory,
    call: Callable[[Any, str], Any],
    alarm: str,
) -> None:
    result = seeded("hardened")

    call(boto_client("kms"), result.key_id)

    assert {n for n, s in _states(boto_client).items() if s == "ALARM"} == {alarm}


def test_an_event_no_filter_matches_is_logged_but_counted_nowhere(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    kms = boto_client("kms")

    kms.tag_resource(KeyId=result.key_id, Tags=[{"TagKey": "a", "TagValue": "b"}])

    assert [r["eventName"] for r in _records(boto_client)] == ["TagResource"]
    assert set(_states(boto_client).values()) == {"OK"}
    listed = boto_client("cloudwatch").list_metrics(Namespace="HarborKMS")
    assert listed["Metrics"] == []


def test_a_stopped_trail_delivers_nothing(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    boto_client("cloudtrail").stop_logging(Name=TRAIL_NAME)

    boto_client("kms").disable_key(KeyId=result.key_id)

    assert _records(boto_client) == []
    assert set(_states(boto_client).values()) == {"OK"}


def test_a_single_region_trail_takes_only_its_own_region(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    trail = boto_client("cloudtrail")
    trail.update_trail(Name=TRAIL_NAME, IsMultiRegionTrail=False)
    west = boto_client("kms", region="us-west-2")
    west_key = west.create_key()["KeyMetadata"]["KeyId"]

    west.disable_key(KeyId=west_key)
    assert _records(boto_client) == []
    boto_client("kms").disable_key(KeyId=result.key_id)

    assert [r["awsRegion"] for r in _records(boto_client)] == ["us-east-1"]


def test_a_multi_region_trail_takes_other_regions_into_their_own_stream(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    west = boto_client("kms", region="us-west-2")

    west.disable_key(KeyId=west.create_key()["KeyMetadata"]["KeyId"])

    streams = boto_client("logs").describe_log_streams(logGroupName=LOG_GROUP)
    names = [s["logStreamName"] for s in streams["logStreams"]]
    assert names == [f"{result.account_id}_CloudTrail_us-west-2"]
    # The CIS pattern is account-wide: any key disabled in any region counts.
    assert _states(boto_client)[DISABLED] == "ALARM"


@pytest.mark.parametrize(
    ("selector", "delivered"),
    [
        (
            {"IncludeManagementEvents": True, "ReadWriteType": "All"}
            | {"ExcludeManagementEventSources": ["kms.amazonaws.com"]},
            [],
        ),
        ({"IncludeManagementEvents": True, "ReadWriteType": "WriteOnly"}, ["Disable"]),
        ({"IncludeManagementEvents": True, "ReadWriteType": "ReadOnly"}, ["Encrypt"]),
        ({"IncludeManagementEvents": False, "ReadWriteType": "All"}, []),
    ],
    ids=["kms-excluded", "write-only", "read-only", "no-management"],
)
def test_the_trails_event_selectors_decide_what_is_delivered(
    seeded: Seeder,
    boto_client: ClientFactory,
    selector: dict[str, Any],
    delivered: list[str],
) -> None:
    result = seeded("hardened")
    boto_client("cloudtrail").put_event_selectors(
        TrailName=TRAIL_NAME, EventSelectors=[selector]
    )
    kms = boto_client("kms")

    kms.encrypt(KeyId=result.key_id, Plaintext=b"x")
    kms.disable_key(KeyId=result.key_id)

    names = [r["eventName"] for r in _records(boto_client)]
    assert [n.removesuffix("Key") for n in names] == delivered


def test_advanced_selectors_leaving_kms_out_deliver_nothing(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    fields = [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]},
    ]
    boto_client("cloudtrail").put_event_selectors(
        TrailName=TRAIL_NAME,
        AdvancedEventSelectors=[{"Name": "no-kms", "FieldSelectors": fields}],
    )

    boto_client("kms").disable_key(KeyId=result.key_id)

    assert _records(boto_client) == []


def test_a_denied_call_on_the_key_sets_off_the_access_denied_alarm(
    seeded: Seeder, sandbox: Sandbox, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    kms = boto_client("kms")
    blob = kms.encrypt(KeyId=result.key_id, Plaintext=b"x")["CiphertextBlob"]
    sandbox.add_fault("kms", "Decrypt", "AccessDeniedException", count=1)

    with pytest.raises(kms.exceptions.ClientError):
        kms.decrypt(CiphertextBlob=blob, KeyId=result.key_arn)

    record = _records(boto_client)[-1]
    assert (record["eventName"], record["errorCode"]) == (
        "Decrypt",
        "AccessDeniedException",
    )
    assert {n for n, s in _states(boto_client).items() if s == "ALARM"} == {DENIED}


def test_s3_failing_to_decrypt_under_a_disabled_key_is_no_denial(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    s3, kms = boto_client("s3"), boto_client("kms")
    s3.put_object(Bucket=result.bucket, Key="blob", Body=b"layer")
    kms.disable_key(KeyId=result.key_id)

    with pytest.raises(s3.exceptions.ClientError):
        s3.get_object(Bucket=result.bucket, Key="blob")

    record = _records(boto_client)[-1]
    assert record["eventName"] == "Decrypt"
    assert record["errorCode"] == "DisabledException"
    assert record["userIdentity"]["invokedBy"] == "s3.amazonaws.com"
    assert _states(boto_client)[DENIED] == "OK"


def _custom_alarm(boto_client: ClientFactory, name: str, **settings: Any) -> None:
    boto_client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        Namespace="Test",
        MetricName="KmsCalls",
        Period=300,
        EvaluationPeriods=settings.pop("EvaluationPeriods", 1),
        **settings,
    )


def test_filter_values_dimensions_and_statistics(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    boto_client("logs").put_metric_filter(
        logGroupName=LOG_GROUP,
        filterName="kms-calls",
        filterPattern="{ $.eventSource = kms.amazonaws.com }",
        metricTransformations=[
            {
                "metricName": "KmsCalls",
                "metricNamespace": "Test",
                "metricValue": "5",
                "dimensions": {"EventName": "$.eventName"},
            }
        ],
    )
    on = [{"Name": "EventName", "Value": "TagResource"}]
    other = [{"Name": "EventName", "Value": "DisableKey"}]
    compare = "ComparisonOperator"
    alarms: dict[str, dict[str, Any]] = {
        "sum-10": {"Statistic": "Sum", "Threshold": 10.0},
        "count-over-1": {"Statistic": "SampleCount", "Threshold": 1.0}
        | {compare: "GreaterThanThreshold"},
        "average-5": {"Statistic": "Average", "Threshold": 5.0},
        "maximum-under-6": {"Statistic": "Maximum", "Threshold": 6.0}
        | {compare: "LessThanThreshold"},
        "minimum-at-most-4": {"Statistic": "Minimum", "Threshold": 4.0}
        | {compare: "LessThanOrEqualToThreshold"},
        "sum-11": {"Statistic": "Sum", "Threshold": 11.0},
        "other-dimension": {"Statistic": "Sum", "Threshold": 1.0, "Dimensions": other},
        "two-periods": {"Statistic": "Sum", "Threshold": 1.0, "EvaluationPeriods": 2},
    }
    defaults = {compare: "GreaterThanOrEqualToThreshold", "Dimensions": on}
    for name, settings in alarms.items():
        _custom_alarm(boto_client, name, **(defaults | settings))
    kms = boto_client("kms")

    for value in ("a", "b"):
        kms.tag_resource(KeyId=result.key_id, Tags=[{"TagKey": value, "TagValue": "v"}])

    states = {n: s for n, s in _states(boto_client).items() if n in alarms}
    fired = {n for n, s in states.items() if s == "ALARM"}
    assert fired == {"sum-10", "count-over-1", "average-5", "maximum-under-6"}


def test_a_pattern_the_sandbox_cannot_read_is_skipped_and_the_call_succeeds(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    boto_client("logs").put_metric_filter(
        logGroupName=LOG_GROUP,
        filterName="a-term-pattern",
        filterPattern="ERROR",
        metricTransformations=[
            {"metricName": "Errors", "metricNamespace": "Test", "metricValue": "1"}
        ],
    )

    boto_client("kms").disable_key(KeyId=result.key_id)

    assert _states(boto_client)[DISABLED] == "ALARM"


def test_a_missing_log_group_leaves_the_call_and_its_history_intact(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    boto_client("logs").delete_log_group(logGroupName=LOG_GROUP)
    kms = boto_client("kms")

    answer = kms.disable_key(KeyId=result.key_id)

    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    state = kms.describe_key(KeyId=result.key_id)["KeyMetadata"]["KeyState"]
    assert state == "Disabled"
    by_key = {"AttributeKey": "EventName", "AttributeValue": "DisableKey"}
    found = boto_client("cloudtrail").lookup_events(LookupAttributes=[by_key])
    assert len(found["Events"]) == 1
    assert _states(boto_client)[DISABLED] == "OK"
