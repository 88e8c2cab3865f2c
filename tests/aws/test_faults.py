"""Failures become Unknowns: denied reads name their IAM action, throttling is
retried or reported, an unreachable or hanging endpoint never raises, and the
probe cleans up whatever step fails.

Faults are injected by the sandbox over HTTP; nothing in boto3 is patched.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from tests.aws.test_readers import (
    ALIAS,
    REGION,
    Extras,
    enrich,
    make_reader,
    use_sandbox_credentials,
)
from wizard.aws.errors import AwsError, iam_action, to_unknown
from wizard.aws.readers import AccountReader, missing_permissions
from wizard.aws.sandbox import Sandbox, SeedResult, seed
from wizard.aws.session import AwsTarget
from wizard.core.snapshot import AccountSnapshot, ProbeResult, Rotation, Unknown

ClientFactory = Callable[..., Any]
Account = tuple[SeedResult, Extras]

_ACCOUNTS: dict[str, Account] = {}


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox's credentials through the standard chain."""
    use_sandbox_credentials(monkeypatch)


@pytest.fixture
def account(sandbox: Sandbox, boto_client: ClientFactory) -> Iterator[Account]:
    """A hardened, enriched account, seeded once and reused while it lasts.

    Other modules reset the sandbox (and pytest-xdist may interleave them), so
    the account is checked before each test and seeded again if it is gone.
    """
    cached = _ACCOUNTS.get(sandbox.endpoint_url)
    if cached is None or not _still_there(boto_client, cached[0]):
        sandbox.reset()
        result = seed(sandbox.endpoint_url, "hardened", REGION)
        cached = _ACCOUNTS[sandbox.endpoint_url] = (result, enrich(boto_client, result))
    yield cached
    sandbox.clear_faults()


def _still_there(boto_client: ClientFactory, result: SeedResult) -> bool:
    try:
        aliases = boto_client("kms").list_aliases(KeyId=result.key_arn)["Aliases"]
    except ClientError:
        return False
    return [a["AliasName"] for a in aliases] == [ALIAS]


def pick(snap: AccountSnapshot, path: str) -> Any:
    """``snap`` followed down a dotted path: 'trails.0.logging'."""
    value: Any = snap
    for part in path.split("."):
        value = value[int(part)] if part.isdigit() else getattr(value, part)
    return value


# (signing name, operation, error code, snapshot path, IAM action)
DENIALS = [
    ("sts", "GetCallerIdentity", "AccessDenied", "caller", "sts:GetCallerIdentity"),
    ("kms", "DescribeKey", "AccessDeniedException", "key", "kms:DescribeKey"),
    ("kms", "GetKeyPolicy", "AccessDeniedException", "key_policy", "kms:GetKeyPolicy"),
    (
        "kms",
        "GetKeyRotationStatus",
        "AccessDeniedException",
        "rotation",
        "kms:GetKeyRotationStatus",
    ),
    (
        "kms",
        "ListResourceTags",
        "AccessDeniedException",
        "tags",
        "kms:ListResourceTags",
    ),
    ("kms", "ListAliases", "AccessDeniedException", "aliases", "kms:ListAliases"),
    ("kms", "ListGrants", "AccessDeniedException", "grants", "kms:ListGrants"),
    (
        "s3",
        "GetBucketLocation",
        "AccessDenied",
        "bucket.region",
        "s3:GetBucketLocation",
    ),
    (
        "s3",
        "GetBucketEncryption",
        "AccessDenied",
        "bucket.encryption",
        "s3:GetEncryptionConfiguration",
    ),
    (
        "s3",
        "GetPublicAccessBlock",
        "AccessDenied",
        "bucket.public_access_block",
        "s3:GetBucketPublicAccessBlock",
    ),
    ("s3", "GetBucketPolicy", "AccessDenied", "bucket.policy", "s3:GetBucketPolicy"),
    (
        "cloudtrail",
        "DescribeTrails",
        "AccessDeniedException",
        "trails",
        "cloudtrail:DescribeTrails",
    ),
    (
        "cloudtrail",
        "GetTrailStatus",
        "AccessDeniedException",
        "trails.0.logging",
        "cloudtrail:GetTrailStatus",
    ),
    (
        "cloudtrail",
        "GetEventSelectors",
        "AccessDeniedException",
        "trails.0.management_events",
        "cloudtrail:GetEventSelectors",
    ),
    (
        "cloudtrail",
        "LookupEvents",
        "AccessDeniedException",
        "key_events",
        "cloudtrail:LookupEvents",
    ),
    (
        "logs",
        "DescribeMetricFilters",
        "AccessDeniedException",
        "metric_filters",
        "logs:DescribeMetricFilters",
    ),
    (
        "monitoring",
        "DescribeAlarms",
        "AccessDenied",
        "alarms",
        "cloudwatch:DescribeAlarms",
    ),
    (
        "monitoring",
        "ListDashboards",
        "AccessDenied",
        "dashboards",
        "cloudwatch:ListDashboards",
    ),
    (
        "monitoring",
        "GetDashboard",
        "AccessDenied",
        "dashboards",
        "cloudwatch:GetDashboard",
    ),
    ("events", "ListRules", "AccessDeniedException", "event_rules", "events:ListRules"),
    (
        "events",
        "ListTargetsByRule",
        "AccessDeniedException",
        "event_rules",
        "events:ListTargetsByRule",
    ),
    (
        "config",
        "DescribeConfigRules",
        "AccessDeniedException",
        "config_rules",
        "config:DescribeConfigRules",
    ),
    (
        "config",
        "DescribeComplianceByConfigRule",
        "AccessDeniedException",
        "config_rules.0.compliance",
        "config:DescribeComplianceByConfigRule",
    ),
    ("iam", "GetRole", "AccessDenied", "harbor_role", "iam:GetRole"),
    (
        "iam",
        "ListOpenIDConnectProviders",
        "AccessDenied",
        "oidc_providers",
        "iam:ListOpenIDConnectProviders",
    ),
    ("iam", "ListAccessKeys", "AccessDenied", "policy_users", "iam:ListAccessKeys"),
]


@pytest.mark.parametrize(
    ("service", "operation", "code", "path", "action"),
    DENIALS,
    ids=[f"{d[0]}:{d[1]}" for d in DENIALS],
)
def test_a_denied_read_is_unknown_with_its_action_and_the_rest_still_reads(
    account: Account,
    sandbox: Sandbox,
    service: str,
    operation: str,
    code: str,
    path: str,
    action: str,
) -> None:
    result, _ = account
    sandbox.add_fault(service, operation, code, status=403)
    reader = make_reader(sandbox)

    snap = reader.snapshot(result.values())

    value = pick(snap, path)
    assert isinstance(value, Unknown), value
    assert (value.kind, value.permission) == ("access_denied", action)
    assert action in value.reason
    assert missing_permissions(reader) == [action]
    top = path.split(".")[0]
    for other in ("rotation", "tags", "oidc_providers", "alarms"):
        if other != top:
            assert not isinstance(getattr(snap, other), Unknown), other


def test_throttling_that_stops_within_the_retries_is_read_through(
    account: Account, sandbox: Sandbox
) -> None:
    result, _ = account
    sandbox.add_fault("kms", "GetKeyRotationStatus", "ThrottlingException", count=2)
    reader = make_reader(sandbox, max_attempts=3)

    snap = reader.snapshot(result.values())

    assert isinstance(snap.rotation, Rotation) and snap.rotation.enabled
    rotation_calls = [c for c in reader.calls if c.api == "kms:GetKeyRotationStatus"]
    assert [c.outcome for c in rotation_calls] == ["ok"]


def test_throttling_that_outlasts_the_retries_is_unknown(
    account: Account, sandbox: Sandbox
) -> None:
    result, _ = account
    sandbox.add_fault("kms", "GetKeyRotationStatus", "ThrottlingException")
    reader = make_reader(sandbox, max_attempts=2)

    snap = reader.snapshot(result.values())

    assert isinstance(snap.rotation, Unknown)
    assert snap.rotation.kind == "throttled"
    assert "after 2 attempts" in snap.rotation.reason
    assert not isinstance(snap.key_policy, Unknown)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_endpoint_that_refuses_connections_makes_every_field_unknown_fast(
    account: Account,
) -> None:
    result, _ = account
    url = f"http://127.0.0.1:{_closed_port()}"
    reader = AccountReader(
        AwsTarget(
            region=REGION,
            endpoint_url=url,
            max_attempts=1,
            connect_timeout=0.5,
            read_timeout=0.5,
        )
    )
    started = time.monotonic()

    snap = reader.snapshot(
        result.values(),
        probe=True,
        harbor_values_key=ALIAS,
        harbor_values_encrypt=True,
    )

    assert time.monotonic() - started < 10
    # harbor_values_encrypt comes from the values.yaml, not from AWS.
    skip = {"read_at", "region", "calls", "harbor_values_encrypt"}
    for field in fields(AccountSnapshot):
        if field.name in skip:
            continue
        value = getattr(snap, field.name)
        assert isinstance(value, Unknown), field.name
        assert value.kind == "endpoint", (field.name, value)
    assert url in snap.caller.reason if isinstance(snap.caller, Unknown) else False
    with pytest.raises(AwsError) as caught:
        reader.connect()
    assert caught.value.exit_code == 2


def test_a_hanging_endpoint_is_an_endpoint_unknown(
    account: Account, sandbox: Sandbox
) -> None:
    result, _ = account
    sandbox.add_fault("kms", "GetKeyRotationStatus", "", delay=3)
    reader = make_reader(sandbox, max_attempts=1, read_timeout=0.5)

    snap = reader.snapshot(result.values())

    assert isinstance(snap.rotation, Unknown)
    assert snap.rotation.kind == "endpoint"
    assert "did not answer in time" in snap.rotation.reason
    assert not isinstance(snap.tags, Unknown)


def _probe_objects(boto_client: ClientFactory, bucket: str) -> list[str]:
    listing = boto_client("s3").list_objects_v2(Bucket=bucket, Prefix="harbor-kms")
    return [o["Key"] for o in listing.get("Contents", [])]


@pytest.mark.parametrize(
    ("operation", "message", "action"),
    [
        ("PutObject", "", "s3:PutObject"),
        (
            "PutObject",
            "User: arn:aws:sts::123456789012:assumed-role/Auditor/a is not "
            "authorized to perform: kms:GenerateDataKey on resource: a key",
            "kms:GenerateDataKey",
        ),
        ("HeadObject", "", "s3:GetObject"),
        ("GetObject", "", "s3:GetObject"),
    ],
)
def test_a_probe_step_that_is_denied_leaves_nothing_behind(
    account: Account,
    sandbox: Sandbox,
    boto_client: ClientFactory,
    operation: str,
    message: str,
    action: str,
) -> None:
    result, _ = account
    sandbox.add_fault("s3", operation, "AccessDenied", status=403, message=message)

    probe = make_reader(sandbox).snapshot(result.values(), probe=True).probe

    assert isinstance(probe, Unknown), probe
    assert (probe.kind, probe.permission) == ("access_denied", action)
    assert _probe_objects(boto_client, result.bucket) == []


def test_a_probe_object_that_cannot_be_deleted_is_reported(
    account: Account, sandbox: Sandbox, boto_client: ClientFactory
) -> None:
    result, _ = account
    sandbox.add_fault("s3", "DeleteObject", "AccessDenied", status=403, count=1)

    probe = make_reader(sandbox).snapshot(result.values(), probe=True).probe

    assert isinstance(probe, ProbeResult)
    assert probe.ok and not probe.cleaned_up
    assert "delete it by hand" in probe.detail
    left = _probe_objects(boto_client, result.bucket)
    assert left == [probe.object_key]
    boto_client("s3").delete_object(Bucket=result.bucket, Key=probe.object_key)


def test_no_credentials_is_unknown_in_the_snapshot_and_fatal_on_connect(
    account: Account, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, _ = account
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    reader = make_reader(sandbox)

    snap = reader.snapshot(result.values())

    assert isinstance(snap.key_policy, Unknown)
    assert snap.key_policy.kind == "error"
    assert "AWS_PROFILE" in snap.key_policy.reason
    with pytest.raises(AwsError, match="credentials"):
        reader.connect()


def _client_error(code: str, message: str = "", retries: int = 0) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": 400, "RetryAttempts": retries},
    }
    return ClientError(response, "Operation")


@pytest.mark.parametrize(
    ("error", "api", "kind", "permission"),
    [
        (
            _client_error("AccessDenied"),
            "s3:GetBucketEncryption",
            "access_denied",
            "s3:GetEncryptionConfiguration",
        ),
        (_client_error("403"), "s3:HeadObject", "access_denied", "s3:GetObject"),
        (
            _client_error("UnauthorizedOperation"),
            "kms:ListKeys",
            "access_denied",
            "kms:ListKeys",
        ),
        (
            _client_error("AuthorizationError"),
            "iam:GetRole",
            "access_denied",
            "iam:GetRole",
        ),
        (_client_error("SlowDown"), "s3:GetBucketPolicy", "throttled", None),
        (_client_error("RequestLimitExceeded"), "kms:GetKeyPolicy", "throttled", None),
        (
            _client_error("TooManyRequestsException"),
            "kms:GetKeyPolicy",
            "throttled",
            None,
        ),
        (_client_error("NoSuchEntity"), "iam:GetRole", "not_found", None),
        (
            _client_error("TrailNotFoundException"),
            "cloudtrail:GetTrailStatus",
            "not_found",
            None,
        ),
        (_client_error("404"), "s3:HeadObject", "not_found", None),
        (
            _client_error("UnsupportedOperationException"),
            "kms:GetKeyRotationStatus",
            "unsupported",
            None,
        ),
        (
            _client_error("KMSInvalidStateException", "Key is pending deletion."),
            "kms:GetKeyRotationStatus",
            "error",
            None,
        ),
        (
            EndpointConnectionError(endpoint_url="https://kms.example"),
            "kms:ListKeys",
            "endpoint",
            None,
        ),
        (
            ReadTimeoutError(endpoint_url="https://kms.example"),
            "kms:ListKeys",
            "endpoint",
            None,
        ),
        (NoCredentialsError(), "kms:ListKeys", "error", None),
    ],
)
def test_to_unknown_maps_each_failure_to_its_kind(
    error: BaseException, api: str, kind: str, permission: str | None
) -> None:
    unknown = to_unknown(error, api, "arn:aws:kms:us-east-1:123456789012:key/k")

    assert (unknown.kind, unknown.permission, unknown.api) == (kind, permission, api)
    assert unknown.reason.endswith(".") and "\n" not in unknown.reason
    assert "Traceback" not in unknown.reason


def test_unknown_sentences_carry_the_facts_the_user_needs() -> None:
    throttled = to_unknown(_client_error("ThrottlingException", retries=4), "kms:X")
    other = to_unknown(
        _client_error("Weird", "first line\nsecond line " + "x" * 400), "kms:X"
    )
    endpoint = to_unknown(
        EndpointConnectionError(endpoint_url="https://kms.eu-west-1.amazonaws.com"),
        "kms:GetKeyPolicy",
    )

    assert "after 5 attempts" in throttled.reason
    assert other.reason.startswith("kms:X failed with Weird: first line second line")
    assert len(other.reason) < 300
    assert "https://kms.eu-west-1.amazonaws.com did not answer" in endpoint.reason
    assert iam_action("kms:GetKeyPolicy") == "kms:GetKeyPolicy"


def test_a_denial_message_names_the_action_that_was_denied() -> None:
    message = (
        "User: arn:aws:sts::123456789012:assumed-role/Auditor/s is not authorized "
        "to perform: kms:GenerateDataKey on resource: arn:aws:kms:...:key/k"
    )

    unknown = to_unknown(_client_error("AccessDenied", message), "s3:PutObject")

    assert unknown.permission == "kms:GenerateDataKey"


def test_read_results_are_not_shared_between_readers(
    account: Account, sandbox: Sandbox
) -> None:
    result, _ = account
    denied = make_reader(sandbox)
    sandbox.add_fault("kms", "GetKeyPolicy", "AccessDeniedException", status=403)
    first = denied.snapshot(result.values())
    sandbox.clear_faults()

    again = denied.snapshot(replace(result.values()))
    fresh = make_reader(sandbox).snapshot(result.values())

    # One run reads each resource once, failures included; a new run reads again.
    assert isinstance(first.key_policy, Unknown)
    assert again.key_policy == first.key_policy
    assert isinstance(fresh.key_policy, dict)
