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

The names and documents the scenarios use are in :mod:`.seed_data`, the
boto3 calls that create each resource in :mod:`.seed_resources`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from typing import Any

from wizard.aws.sandbox.seed_data import (
    ADMIN_ROLE,
    ADMIN_USER,
    ALERT_EMAIL,
    BREAK_GLASS_ROLE,
    CIS_KEY_DISABLED_OR_DELETED,
    CONFIG_RULE,
    DASHBOARD,
    HARBOR_ROLE,
    KEY_DESCRIPTION,
    KEY_TAGS,
    LOG_GROUP,
    METRIC_NAMESPACE,
    OIDC_ID,
    SERVICE_ACCOUNT,
    TOPIC_NAME,
    TRAIL_NAME,
    _trail_bucket,
    alarm_filters,
    dashboard_body,
    guide_key_policy,
    trail_bucket_policy,
)
from wizard.aws.sandbox.seed_resources import (
    _alarms,
    _Aws,
    _bucket,
    _config_rule,
    _confirm_subscription,
    _dashboard,
    _identities,
    _trail,
)
from wizard.core.policy.build import build_policy
from wizard.core.values import Values

__all__ = [
    "ADMIN_ROLE",
    "ADMIN_USER",
    "BREAK_GLASS_ROLE",
    "CIS_KEY_DISABLED_OR_DELETED",
    "CONFIG_RULE",
    "DASHBOARD",
    "HARBOR_ROLE",
    "KEY_DESCRIPTION",
    "KEY_TAGS",
    "LOG_GROUP",
    "MAX_FLEET",
    "METRIC_NAMESPACE",
    "OIDC_ID",
    "ROTATION_DAYS",
    "SCENARIOS",
    "SERVICE_ACCOUNT",
    "TOPIC_NAME",
    "TRAIL_NAME",
    "SeedResult",
    "alarm_filters",
    "dashboard_body",
    "guide_key_policy",
    "parse_scenario",
    "seed",
    "trail_bucket_policy",
]

logger = logging.getLogger(__name__)

SCENARIOS = ("empty", "guide-as-written", "hardened", "no-bucket-key", "many-keys:N")
"""Scenario names; ``many-keys:N`` takes a count, such as ``many-keys:20``."""

ROTATION_DAYS = 365
MAX_FLEET = 500


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
        """The values file's document for this account, as ``store`` writes it."""
        from wizard.core.store import to_dict

        return to_dict(self.values())


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
    sns = aws("sns")
    topic_arn = str(sns.create_topic(Name=TOPIC_NAME)["TopicArn"])
    # Someone must receive the alarms: an alarm on a topic nobody hears tells
    # no one, and the audit says so.
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=ALERT_EMAIL)
    _confirm_subscription(aws, topic_arn, ALERT_EMAIL)  # pending until then
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
