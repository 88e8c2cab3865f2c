"""What was read from an AWS account, as plain immutable data.

The AWS adapter (``wizard.aws``) fills an :class:`AccountSnapshot`; the checklist
evaluators, the apply planner and the runbook read it. Every field is either the
value read or an :class:`Unknown` that says exactly why it is missing, so a check
can never pass on data that was not there. Each read also records the API call
and the time, which become the evidence of a verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeAlias, TypeVar, Union

UnknownKind = Literal[
    "access_denied",  # the permission named in ``permission`` was denied
    "throttled",  # throttling outlasted the retries
    "endpoint",  # the endpoint refused, timed out or could not be resolved
    "not_found",  # the resource does not exist (key, bucket, role)
    "not_configured",  # the values do not name what this read needs
    "unsupported",  # the API is not available (region, emulator)
    "error",  # any other AWS error, with its code
]


@dataclass(frozen=True)
class Unknown:
    """Why a value could not be read."""

    kind: UnknownKind
    reason: str
    """One sentence for the user, e.g. 'kms:GetKeyRotationStatus was denied.'"""
    permission: str | None = None
    """The IAM action that was denied or is needed, when known."""
    api: str | None = None
    """The API call that failed, e.g. 'kms:GetKeyRotationStatus'."""
    code: str | None = None
    """AWS's error code when AWS answered with one, e.g. 'KMS.DisabledException'."""


T = TypeVar("T")
# A generic alias needs Union on Python 3.11 (no `type` statement yet).
Read: TypeAlias = Union[T, Unknown]  # noqa: UP007
"""A value read from AWS, or why it could not be read."""


@dataclass(frozen=True)
class ApiCall:
    """One API call the adapter made: evidence of what was read, and when."""

    api: str
    """Service and operation, e.g. 'kms:GetKeyPolicy'."""
    resource: str
    at: datetime
    outcome: str = "ok"
    """'ok', or the error code."""


@dataclass(frozen=True)
class CallerIdentity:
    account: str
    arn: str
    user_id: str


@dataclass(frozen=True)
class KeyInfo:
    arn: str
    key_id: str
    description: str
    state: str
    """KeyState: Enabled, Disabled, PendingDeletion, ..."""
    manager: str
    """KeyManager: CUSTOMER or AWS."""
    origin: str
    spec: str
    usage: str
    created: datetime | None
    multi_region: bool
    deletion_date: datetime | None = None


@dataclass(frozen=True)
class Rotation:
    enabled: bool
    period_days: int | None = None
    next_rotation: datetime | None = None


@dataclass(frozen=True)
class Grant:
    grant_id: str
    grantee: str
    operations: tuple[str, ...]
    constraints: Mapping[str, Any] = field(default_factory=dict)
    retiring_principal: str | None = None
    issuing_account: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class BucketEncryption:
    algorithm: str
    """SSEAlgorithm: aws:kms, aws:kms:dsse or AES256."""
    kms_key_id: str | None
    bucket_key_enabled: bool


@dataclass(frozen=True)
class Bucket:
    name: str
    region: Read[str]
    encryption: Read[BucketEncryption | None]
    """None: no default encryption rule (older buckets, or moto)."""
    public_access_block: Read[Mapping[str, bool] | None]
    policy: Read[Mapping[str, Any] | None]


@dataclass(frozen=True)
class Trail:
    name: str
    arn: str
    home_region: str
    multi_region: bool
    log_file_validation: bool
    s3_bucket: str | None
    log_group_arn: str | None
    logging: Read[bool]
    """GetTrailStatus.IsLogging."""
    management_events: Read[bool]
    """Whether the event selectors record management events (KMS calls)."""
    kms_events_excluded: Read[bool]
    """ExcludeManagementEventSources contains kms.amazonaws.com."""
    bucket: Read[Bucket] | None = None
    """The trail's S3 bucket, when it was read."""


@dataclass(frozen=True)
class MetricFilter:
    log_group: str
    name: str
    pattern: str
    metric_namespace: str
    metric_name: str


@dataclass(frozen=True)
class Alarm:
    name: str
    namespace: str | None
    metric_name: str | None
    actions: tuple[str, ...]
    state: str
    dimensions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EventRule:
    name: str
    pattern: Mapping[str, Any] | None
    state: str
    targets: tuple[str, ...]


@dataclass(frozen=True)
class SnsTopic:
    """An SNS topic that an alarm or a rule notifies, and who would hear it."""

    arn: str
    confirmed: int
    """Subscriptions that receive what is published."""
    pending: int
    """Subscriptions still waiting for the recipient to confirm them."""
    exists: bool = True
    unread: Unknown | None = None
    """Why the subscriptions could not be read (another account's topic, a
    denied call); the counts mean nothing then."""


@dataclass(frozen=True)
class ConfigRule:
    name: str
    source_identifier: str
    compliance: Read[str]
    """COMPLIANT, NON_COMPLIANT, INSUFFICIENT_DATA, NOT_APPLICABLE."""


@dataclass(frozen=True)
class Dashboard:
    name: str
    body: Mapping[str, Any]


@dataclass(frozen=True)
class Role:
    arn: str
    trust_policy: Mapping[str, Any]


@dataclass(frozen=True)
class UserCredentials:
    """An IAM user named in the key policy, and its long-lived access keys."""

    arn: str
    active_access_keys: int


@dataclass(frozen=True)
class ProbeResult:
    """The S3 round trip through SSE-KMS that ``--probe`` runs."""

    ok: bool
    detail: str
    object_key: str
    cleaned_up: bool


@dataclass(frozen=True)
class AccountSnapshot:
    """Everything one audit of one key read, with the calls that read it."""

    read_at: datetime
    region: str
    caller: Read[CallerIdentity]
    key: Read[KeyInfo]
    key_policy: Read[Mapping[str, Any]]
    rotation: Read[Rotation]
    tags: Read[Mapping[str, str]]
    aliases: Read[tuple[str, ...]]
    grants: Read[tuple[Grant, ...]]
    bucket: Read[Bucket]
    trails: Read[tuple[Trail, ...]]
    metric_filters: Read[tuple[MetricFilter, ...]]
    alarms: Read[tuple[Alarm, ...]]
    event_rules: Read[tuple[EventRule, ...]]
    config_rules: Read[tuple[ConfigRule, ...]]
    dashboards: Read[tuple[Dashboard, ...]]
    harbor_role: Read[Role]
    oidc_providers: Read[tuple[str, ...]]
    policy_users: Read[tuple[UserCredentials, ...]]
    key_events: Read[tuple[Mapping[str, Any], ...]]
    """CloudTrail LookupEvents for the key over the last days (parsed events)."""
    probe: Read[ProbeResult] | None = None
    """None unless the user asked for --probe."""
    harbor_values_key: Read[str] | None = None
    """The key ARN a Harbor values.yaml's s3.keyid names ("" when it names
    none), when a values.yaml was given."""
    harbor_values_encrypt: bool | None = None
    """The values.yaml's s3.encrypt, when a values.yaml was given."""
    sns_topics: Read[tuple[SnsTopic, ...]] | None = None
    """The SNS topics alarm actions and rule targets name, with their
    subscriptions; None when this snapshot did not read them."""
    calls: tuple[ApiCall, ...] = ()


def is_unknown(value: object) -> bool:
    """True when ``value`` is an :class:`Unknown`."""
    return isinstance(value, Unknown)
