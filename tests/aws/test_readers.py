"""The AWS readers against the sandbox over HTTP: seeded accounts read back as
seeded, each API once per resource, the probe, and the audit policy's coverage.

Nothing is patched: the readers build real boto3 clients pointed at the
sandbox with ``endpoint_url``, and credentials come from the environment.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from wizard.aws.errors import iam_action
from wizard.aws.permissions import NO_PERMISSION_NEEDED, audit_policy, policy_actions
from wizard.aws.readers import AccountReader, missing_permissions
from wizard.aws.sandbox import Sandbox, SeedResult
from wizard.aws.sandbox.seed import (
    CONFIG_RULE,
    DASHBOARD,
    KEY_TAGS,
    LOG_GROUP,
    OIDC_ID,
    TRAIL_NAME,
    alarm_filters,
    dashboard_body,
    guide_key_policy,
)
from wizard.aws.session import AwsTarget, Clients
from wizard.core.policy.build import build_policy
from wizard.core.snapshot import (
    AccountSnapshot,
    Bucket,
    BucketEncryption,
    KeyInfo,
    ProbeResult,
    Role,
    Rotation,
    SnsTopic,
    Trail,
    Unknown,
    UserCredentials,
)

Seeder = Callable[..., SeedResult]
ClientFactory = Callable[..., Any]
REGION = "us-east-1"
ALIAS = "alias/harbor-registry"
AUDITOR = "harbor-kms-auditor"
RULE = "harbor-kms-key-changes"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox's credentials through the standard chain."""
    use_sandbox_credentials(monkeypatch)


def use_sandbox_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials for the sandbox in the environment, nothing from ~/.aws."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/harbor-kms/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/harbor-kms/creds")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def make_reader(sandbox: Sandbox, **target: Any) -> AccountReader:
    """A reader on the sandbox; retries and timeouts short unless given."""
    settings: dict[str, Any] = {
        "region": REGION,
        "endpoint_url": sandbox.endpoint_url,
        "max_attempts": 2,
        "connect_timeout": 2,
        "read_timeout": 5,
    }
    return AccountReader(AwsTarget(**(settings | target)))


@dataclass(frozen=True)
class Extras:
    """What :func:`enrich` added to a seeded account."""

    user_arn: str
    grant_id: str
    rule_arn: str
    topic_arn: str


def enrich(boto_client: ClientFactory, seeded: SeedResult) -> Extras:
    """Give the account one of everything the scenarios lack.

    An alias, a grant, an EventBridge rule with a target, and an IAM user with
    an access key named in the key policy, so every reader has data to read.
    """
    kms, iam = boto_client("kms"), boto_client("iam")
    kms.create_alias(AliasName=ALIAS, TargetKeyId=seeded.key_id)
    grant = kms.create_grant(
        KeyId=seeded.key_id,
        GranteePrincipal=seeded.harbor_role_arn,
        Operations=["Decrypt", "GenerateDataKey"],
        Name="harbor-probe-grant",
    )
    user_arn = iam.create_user(UserName=AUDITOR)["User"]["Arn"]
    iam.create_access_key(UserName=AUDITOR)
    policy = json.loads(
        kms.get_key_policy(KeyId=seeded.key_id, PolicyName="default")["Policy"]
    )
    policy["Statement"].append(
        {
            "Sid": "AuditorDescribe",
            "Effect": "Allow",
            "Principal": {"AWS": user_arn},
            "Action": "kms:DescribeKey",
            "Resource": "*",
        }
    )
    kms.put_key_policy(
        KeyId=seeded.key_id, PolicyName="default", Policy=json.dumps(policy)
    )
    topic = boto_client("sns").create_topic(Name="harbor-kms-rule-target")["TopicArn"]
    events = boto_client("events")
    pattern = {"source": ["aws.kms"], "detail": {"eventName": ["ScheduleKeyDeletion"]}}
    rule_arn = events.put_rule(Name=RULE, EventPattern=json.dumps(pattern))["RuleArn"]
    events.put_targets(Rule=RULE, Targets=[{"Id": "alerts", "Arn": topic}])
    return Extras(user_arn, grant["GrantId"], rule_arn, topic)


def known(value: Any) -> Any:
    """``value``, failing the test with its reason if it is Unknown."""
    assert not isinstance(value, Unknown), value
    return value


def test_guide_as_written_reads_back_as_seeded(
    seeded: Seeder, sandbox: Sandbox
) -> None:
    result = seeded("guide-as-written")

    snap = make_reader(sandbox).snapshot(result.values())

    key = known(snap.key)
    assert isinstance(key, KeyInfo)
    assert (key.arn, key.manager, key.state) == (result.key_arn, "CUSTOMER", "Enabled")
    assert snap.key_policy == guide_key_policy(result.account_id, REGION, result.bucket)
    assert snap.rotation == Rotation(enabled=False)
    assert (snap.tags, snap.aliases, snap.grants) == ({}, (), ())
    bucket = known(snap.bucket)
    assert isinstance(bucket, Bucket)
    assert bucket.region == REGION
    assert bucket.encryption == BucketEncryption("aws:kms", result.key_arn, True)
    assert bucket.public_access_block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy"), True
    ) | {"RestrictPublicBuckets": True}
    assert bucket.policy is None  # NoSuchBucketPolicy: not set, not unknown
    assert snap.trails == snap.metric_filters == snap.alarms == ()
    assert snap.config_rules == snap.dashboards == snap.event_rules == ()
    user = f"arn:aws:iam::{result.account_id}:user/security-admin"
    assert snap.policy_users == (UserCredentials(user, 0),)
    assert snap.probe is None and snap.harbor_values_key is None


def test_hardened_reads_back_as_seeded(seeded: Seeder, sandbox: Sandbox) -> None:
    result = seeded("hardened")
    values = result.values()

    reader = make_reader(sandbox)
    snap = reader.snapshot(values)

    assert snap.key_policy == build_policy(values)
    rotation = known(snap.rotation)
    assert isinstance(rotation, Rotation)
    assert (rotation.enabled, rotation.period_days) == (True, 365)
    assert rotation.next_rotation is not None
    expected_next = datetime.now(UTC) + timedelta(days=365)
    assert abs(rotation.next_rotation - expected_next) < timedelta(minutes=5)
    assert snap.tags == KEY_TAGS
    bucket = known(snap.bucket)
    assert bucket.encryption == BucketEncryption("aws:kms", result.key_arn, True)
    _assert_trail(known(snap.trails), result)
    _assert_monitoring(snap, result)
    _assert_identities(snap, result)
    assert snap.policy_users == ()
    assert missing_permissions(reader) == []
    assert {call.outcome for call in snap.calls} <= {
        "ok",
        "NoSuchBucketPolicy",
        "ServerSideEncryptionConfigurationNotFoundError",  # the trail's bucket
    }


def _assert_trail(trails: tuple[Trail, ...], result: SeedResult) -> None:
    (trail,) = trails
    account = result.account_id
    assert trail.name == TRAIL_NAME
    assert (trail.multi_region, trail.log_file_validation) == (True, True)
    assert trail.logging is True
    assert trail.home_region == REGION
    assert trail.log_group_arn == (
        f"arn:aws:logs:{REGION}:{account}:log-group:{LOG_GROUP}:*"
    )
    assert trail.s3_bucket == f"harbor-kms-cloudtrail-{account}-{REGION}"
    trail_bucket = known(trail.bucket)
    assert isinstance(trail_bucket, Bucket)
    statements = known(trail_bucket.policy)["Statement"]
    assert "AWSCloudTrailWrite" in {s["Sid"] for s in statements}
    assert trail.management_events is True
    assert trail.kms_events_excluded is False


def _assert_monitoring(snap: AccountSnapshot, result: SeedResult) -> None:
    patterns = alarm_filters(result.key_arn)
    filters = {f.name: f for f in known(snap.metric_filters)}
    assert {name: f.pattern for name, f in filters.items()} == patterns
    assert {f.log_group for f in filters.values()} == {LOG_GROUP}
    alarms = {a.name: a for a in known(snap.alarms)}
    assert set(alarms) == set(patterns)
    for name, alarm in alarms.items():
        assert (alarm.namespace, alarm.metric_name) == ("HarborKMS", name)
        assert alarm.actions == (result.topic_arn,)
    (rule,) = known(snap.config_rules)
    assert (rule.name, rule.source_identifier) == (
        CONFIG_RULE,
        "CMK_BACKING_KEY_ROTATION_ENABLED",
    )
    assert rule.compliance == "COMPLIANT"
    (board,) = known(snap.dashboards)
    assert (board.name, board.body) == (DASHBOARD, dashboard_body(REGION))


def _assert_identities(snap: AccountSnapshot, result: SeedResult) -> None:
    provider = (
        f"arn:aws:iam::{result.account_id}:oidc-provider/"
        f"oidc.eks.{REGION}.amazonaws.com/id/{OIDC_ID}"
    )
    assert snap.oidc_providers == (provider,)
    role = known(snap.harbor_role)
    assert isinstance(role, Role)
    assert role.arn == result.harbor_role_arn
    (statement,) = role.trust_policy["Statement"]
    assert statement["Principal"] == {"Federated": provider}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    caller = known(snap.caller)
    assert caller.account == result.account_id


def test_aliases_grants_rules_and_key_policy_users_read_back(
    seeded: Seeder, sandbox: Sandbox, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    extras = enrich(boto_client, result)

    snap = make_reader(sandbox).snapshot(result.values())

    assert snap.aliases == (ALIAS,)
    (grant,) = known(snap.grants)
    assert (grant.grant_id, grant.grantee, grant.name) == (
        extras.grant_id,
        result.harbor_role_arn,
        "harbor-probe-grant",
    )
    assert set(grant.operations) == {"Decrypt", "GenerateDataKey"}
    (rule,) = known(snap.event_rules)
    assert (rule.name, rule.targets, rule.state) == (
        RULE,
        (extras.topic_arn,),
        "ENABLED",
    )
    assert rule.pattern is not None and rule.pattern["source"] == ["aws.kms"]
    assert snap.policy_users == (UserCredentials(extras.user_arn, 1),)


def test_each_api_is_called_once_per_resource_for_snapshots_of_three_keys(
    seeded: Seeder, sandbox: Sandbox, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    kms = boto_client("kms")
    others = [kms.create_key(Description=f"other {i}")["KeyMetadata"] for i in (1, 2)]
    keys = [result.key_arn, *(str(meta["Arn"]) for meta in others)]
    reader = make_reader(sandbox)

    snapshots = [
        reader.snapshot(replace(result.values(), key_id=key))
        for _ in range(3)
        for key in keys
    ]

    counts = Counter((call.api, call.resource) for call in reader.calls)
    assert [pair for pair, n in counts.items() if n > 1] == []
    per_api = Counter(call.api for call in reader.calls)
    for api in ("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus"):
        assert per_api[api] == 3, api
    for api in ("cloudtrail:DescribeTrails", "cloudwatch:DescribeAlarms"):
        assert per_api[api] == 1, api
    # Every snapshot still carries the account-level calls it used as evidence.
    for snap in snapshots:
        assert "cloudtrail:DescribeTrails" in {call.api for call in snap.calls}
        assert isinstance(snap.key, KeyInfo)


def test_key_events_read_one_page_of_the_newest(
    seeded: Seeder, sandbox: Sandbox, boto_client: ClientFactory
) -> None:
    result = seeded("guide-as-written")
    kms = boto_client("kms")
    for i in range(55):  # more than LookupEvents' page of 50
        kms.tag_resource(
            KeyId=result.key_id, Tags=[{"TagKey": "n", "TagValue": str(i)}]
        )
    reader = make_reader(sandbox)

    events = known(reader.snapshot(result.values()).key_events)

    # The newest 50: all tagging, none of the older CreateKey or PutKeyPolicy.
    assert len(events) == 50
    assert {e["eventName"] for e in events} == {"TagResource"}
    lookups = [c for c in reader.calls if c.api == "cloudtrail:LookupEvents"]
    assert len(lookups) == 1 and lookups[0].outcome == "ok"


def test_list_customer_keys_leaves_out_keys_pending_deletion(
    seeded: Seeder, sandbox: Sandbox, boto_client: ClientFactory
) -> None:
    result = seeded("many-keys:3")
    kms = boto_client("kms")
    doomed = result.extra_key_ids[0]
    kms.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)

    found = make_reader(sandbox).list_customer_keys(REGION)

    assert not isinstance(found, Unknown)
    ids = {arn.rsplit("/", 1)[-1] for arn in found}
    assert ids == {result.key_id, *result.extra_key_ids[1:]}


@pytest.mark.parametrize("versioned", [False, True])
def test_probe_writes_reads_back_and_deletes(
    seeded: Seeder, sandbox: Sandbox, boto_client: ClientFactory, versioned: bool
) -> None:
    result = seeded("guide-as-written")
    s3 = boto_client("s3")
    if versioned:
        s3.put_bucket_versioning(
            Bucket=result.bucket, VersioningConfiguration={"Status": "Enabled"}
        )

    probe = make_reader(sandbox).snapshot(result.values(), probe=True).probe

    assert isinstance(probe, ProbeResult), probe
    assert probe.ok and probe.cleaned_up, probe.detail
    assert probe.object_key.startswith("harbor-kms-probe/")
    listing = s3.list_object_versions(Bucket=result.bucket)
    assert listing.get("Versions", []) == listing.get("DeleteMarkers", []) == []


def test_values_that_name_nothing_read_as_not_configured(
    seeded: Seeder, sandbox: Sandbox
) -> None:
    result = seeded("empty")
    values = replace(result.values(), key_id="", bucket="", harbor_role_arn="")

    snap = make_reader(sandbox).snapshot(values, probe=True)

    for field in ("key", "key_policy", "rotation", "bucket", "harbor_role", "probe"):
        value = getattr(snap, field)
        assert isinstance(value, Unknown) and value.kind == "not_configured", field
    assert snap.trails == ()


def test_missing_key_and_bucket_read_as_not_found(
    seeded: Seeder, sandbox: Sandbox
) -> None:
    result = seeded("guide-as-written")
    gone = "0000abcd-12ab-34cd-56ef-1234567890ab"
    values = replace(result.values(), key_id=gone, bucket="no-such-harbor-bucket")

    snap = make_reader(sandbox).snapshot(values)

    for field in ("key", "key_policy", "rotation", "bucket"):
        value = getattr(snap, field)
        assert isinstance(value, Unknown) and value.kind == "not_found", field


def test_harbor_values_key_resolves_an_alias_to_the_key_arn(
    seeded: Seeder, sandbox: Sandbox, boto_client: ClientFactory
) -> None:
    result = seeded("guide-as-written")
    boto_client("kms").create_alias(AliasName=ALIAS, TargetKeyId=result.key_id)
    reader = make_reader(sandbox)

    by_alias = reader.snapshot(result.values(), harbor_values_key=ALIAS)
    by_id = reader.snapshot(result.values(), harbor_values_key=result.key_id)
    unset = reader.snapshot(result.values(), harbor_values_key="")

    assert by_alias.harbor_values_key == by_id.harbor_values_key == result.key_arn
    # A values.yaml that names no key: "" (None means no values.yaml at all).
    assert unset.harbor_values_key == ""


def test_audit_policy_covers_exactly_the_apis_the_readers_call(
    seeded: Seeder, sandbox: Sandbox, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    enrich(boto_client, result)
    reader = make_reader(sandbox)
    reader.snapshot(result.values(), probe=True)
    reader.list_customer_keys(REGION)
    probe_apis = {"s3:PutObject", "s3:HeadObject", "s3:GetObject", "s3:DeleteObject"}

    called = {call.api for call in reader.calls} - NO_PERMISSION_NEEDED
    reads = {iam_action(api) for api in called - probe_apis}

    assert reads == policy_actions(audit_policy())
    probe_policy = policy_actions(audit_policy(probe=True))
    assert {iam_action(api) for api in called} <= probe_policy
    assert probe_policy - reads == {
        "s3:PutObject",
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "kms:GenerateDataKey",
        "kms:Decrypt",
    }
    assert missing_permissions(reader) == []


def test_audit_policy_scopes_resources_to_the_values(seeded: Seeder) -> None:
    values = seeded("empty").values()
    values = replace(
        values,
        key_id="1234abcd-12ab-34cd-56ef-1234567890ab",
        bucket="harbor-bucket",
        harbor_role_arn=f"arn:aws:iam::{values.account_id}:role/Harbor",
    )

    policy = audit_policy(probe=True, values=values, trail_buckets=["trail-logs"])

    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["ReadKmsKey"]["Resource"] == values.key_arn
    assert by_sid["ReadHarborBucket"]["Resource"] == "arn:aws:s3:::harbor-bucket"
    assert by_sid["ReadTrailBuckets"]["Resource"] == "arn:aws:s3:::trail-logs"
    assert by_sid["ReadHarborRole"]["Resource"] == values.harbor_role_arn
    assert by_sid["ProbeObjects"]["Resource"] == (
        "arn:aws:s3:::harbor-bucket/harbor-kms-probe/*"
    )
    assert by_sid["ProbeUseKeyThroughS3"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    }
    assert "s3:PutObject" not in policy_actions(audit_policy(values=values))


def test_target_prefers_arguments_then_environment() -> None:
    env = {
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "us-west-2",
        "AWS_RETRY_MODE": "adaptive",
        "AWS_MAX_ATTEMPTS": "7",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
    }

    from_env = AwsTarget.from_env_and_args(environ=env)
    from_args = AwsTarget.from_env_and_args(
        region="ca-central-1", max_attempts=2, retry_mode="standard", environ=env
    )

    assert (from_env.region, from_env.retry_mode, from_env.max_attempts) == (
        "eu-west-1",
        "adaptive",
        7,
    )
    # boto3 reads AWS_ENDPOINT_URL itself; copying it would override the
    # per-service AWS_ENDPOINT_URL_<SERVICE> variables.
    assert from_env.endpoint_url is None
    assert (from_args.region, from_args.max_attempts) == ("ca-central-1", 2)
    with pytest.raises(ValueError, match="legacy"):
        AwsTarget.from_env_and_args(retry_mode="legacy", environ={})
    with pytest.raises(ValueError, match="at least 1"):
        AwsTarget.from_env_and_args(max_attempts=0, environ={})


def test_clients_are_built_lazily_and_cached_per_service_and_region(
    sandbox: Sandbox,
) -> None:
    clients = Clients(AwsTarget(region=REGION, endpoint_url=sandbox.endpoint_url))
    assert clients._clients == {}

    kms = clients.get("kms")

    assert clients.get("kms", REGION) is kms
    assert clients.get("kms", "eu-west-1") is not kms
    assert kms.meta.endpoint_url == sandbox.endpoint_url
    assert "harbor-kms-wizard" in kms.meta.config.user_agent_extra
    assert kms.meta.config.retries["total_max_attempts"] == 5


def test_fleet_snapshots_share_one_listing_of_the_region_aliases(
    seeded: Seeder, sandbox: Sandbox, boto_client: ClientFactory
) -> None:
    result = seeded("many-keys:2")
    kms = boto_client("kms")
    first, second = result.extra_key_ids
    kms.create_alias(AliasName="alias/fleet-first", TargetKeyId=first)
    kms.create_alias(AliasName="alias/fleet-second-a", TargetKeyId=second)
    kms.create_alias(AliasName="alias/fleet-second-b", TargetKeyId=second)
    reader = make_reader(sandbox)

    snaps = {
        key: reader.snapshot(replace(result.values(), key_id=key), fleet=True)
        for key in (first, second)
    }

    assert snaps[first].aliases == ("alias/fleet-first",)
    assert snaps[second].aliases == ("alias/fleet-second-a", "alias/fleet-second-b")
    lookups = [c for c in reader.calls if c.api == "kms:ListAliases"]
    assert [c.resource for c in lookups] == [REGION]


def test_in_fleet_keeps_customer_keys_and_leaves_out_doomed_ones(
    seeded: Seeder, sandbox: Sandbox, boto_client: ClientFactory
) -> None:
    result = seeded("many-keys:2")
    doomed, kept = result.extra_key_ids
    boto_client("kms").schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)
    reader = make_reader(sandbox)

    arns = known(reader.list_keys(REGION))

    by_id = {arn.rsplit("/", 1)[-1]: arn for arn in arns}
    assert {result.key_id, doomed, kept} <= by_id.keys()
    assert reader.in_fleet(REGION, by_id[kept])
    assert reader.in_fleet(REGION, by_id[result.key_id])
    assert not reader.in_fleet(REGION, by_id[doomed])
    describes = [c for c in reader.calls if c.api == "kms:DescribeKey"]
    assert len(describes) == 3  # memoized: the snapshot that follows reuses it


def test_the_topics_alarms_notify_are_read_with_their_subscribers(
    seeded: Seeder, sandbox: Sandbox, boto_client: ClientFactory
) -> None:
    result = seeded("guide-as-written")
    sns, cloudwatch = boto_client("sns"), boto_client("cloudwatch")
    topic = str(sns.create_topic(Name="audit-topic")["TopicArn"])
    cloudwatch.put_metric_alarm(
        AlarmName="audit-alarm",
        Namespace="CloudTrailMetrics",
        MetricName="KmsKeyChanges",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[topic],
    )

    def read() -> tuple[SnsTopic, ...]:
        return tuple(known(make_reader(sandbox).snapshot(result.values()).sns_topics))

    assert read() == (SnsTopic(topic, confirmed=0, pending=0),)
    queue = f"arn:aws:sqs:{REGION}:{result.account_id}:alerts"
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)
    assert read() == (SnsTopic(topic, confirmed=1, pending=0),)
    sns.delete_topic(TopicArn=topic)
    assert read() == (SnsTopic(topic, confirmed=0, pending=0, exists=False),)


def test_denied_subscriptions_are_unknown_naming_the_permission(
    seeded: Seeder, sandbox: Sandbox
) -> None:
    result = seeded("hardened")
    sandbox.add_fault(
        "sns", "ListSubscriptionsByTopic", "AuthorizationError", status=403
    )

    topics = known(make_reader(sandbox).snapshot(result.values()).sns_topics)

    # Each topic says why it is unread; only what notifies it stays undecided.
    (topic,) = topics
    assert topic.arn == result.topic_arn
    unread = topic.unread
    assert unread is not None and unread.kind == "access_denied"
    assert unread.permission == "sns:ListSubscriptionsByTopic"
