"""Every automated checklist item passes, fails and is unknown over HTTP.

Each row of :data:`ROWS` names an item, the state it must reach and the setup
that reaches it: a seeded sandbox scenario, changed (where the scenario alone
does not give the state) only by boto3 calls to the sandbox or its control
endpoints (faults injected on the API the item reads, recorded events aged).
Nothing is patched: the audit runs through ``wizard.cli.main`` as
``harbor-kms audit --format json`` against the sandbox.

The sandbox is seeded once per setup and one audit checks every row of it.
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from wizard.aws.sandbox import Sandbox, SeedResult
from wizard.cli import main
from wizard.core import store
from wizard.core.checklist.engine import load_items
from wizard.core.policy.build import build_policy
from wizard.core.values import Values

Seeder = Callable[..., SeedResult]
ClientFactory = Callable[..., Any]
Mutation = Callable[[SeedResult, ClientFactory], None]

STATES = ("pass", "fail", "unknown")
AUTOMATED = {item.id for item in load_items() if not item.attested}
SOURCE_VPCE = ("vpce-0123456789abcdef0",)
SOURCE_IP = ("10.0.0.0/8",)
OTHER_ACCOUNT = "210987654321"


# ------------------------------------------------------------------ mutations


def _policy(result: SeedResult, client: ClientFactory) -> dict[str, Any]:
    kms = client("kms")
    text = kms.get_key_policy(KeyId=result.key_id, PolicyName="default")["Policy"]
    document: dict[str, Any] = json.loads(text)
    return document


def _put_policy(result: SeedResult, client: ClientFactory, doc: dict[str, Any]) -> None:
    client("kms").put_key_policy(
        KeyId=result.key_id,
        PolicyName="default",
        Policy=json.dumps(doc),
        BypassPolicyLockoutSafetyCheck=True,
    )


def _add_statement(statement: dict[str, Any]) -> Mutation:
    def mutate(result: SeedResult, client: ClientFactory) -> None:
        doc = _policy(result, client)
        body = json.loads(
            json.dumps(statement).replace("HARBOR", result.harbor_role_arn)
        )
        doc["Statement"].append(body)
        _put_policy(result, client, doc)

    return mutate


def _harbor_kms_star(result: SeedResult, client: ClientFactory) -> None:
    _add_statement(
        {
            "Sid": "HarborEverything",
            "Effect": "Allow",
            "Principal": {"AWS": "HARBOR"},
            "Action": "kms:*",
            "Resource": "*",
        }
    )(result, client)


def _wildcard_principal(result: SeedResult, client: ClientFactory) -> None:
    _add_statement(
        {
            "Sid": "Everyone",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )(result, client)


def _drop_root(result: SeedResult, client: ClientFactory) -> None:
    doc = _policy(result, client)
    root = f"arn:aws:iam::{result.account_id}:root"
    doc["Statement"] = [s for s in doc["Statement"] if root not in json.dumps(s)]
    _put_policy(result, client, doc)


def _harbor_without_via_service(result: SeedResult, client: ClientFactory) -> None:
    """Drop kms:ViaService from every Allow naming Harbor, and every Deny of it."""
    doc = _policy(result, client)
    kept = []
    for statement in doc["Statement"]:
        names_harbor = result.harbor_role_arn in json.dumps(statement["Principal"])
        if names_harbor and statement["Effect"] == "Deny":
            continue
        if names_harbor:
            for values in statement.get("Condition", {}).values():
                values.pop("kms:ViaService", None)
        kept.append(statement)
    doc["Statement"] = kept
    _put_policy(result, client, doc)


def _harbor_direct_allow(result: SeedResult, client: ClientFactory) -> None:
    _add_statement(
        {
            "Sid": "HarborDirect",
            "Effect": "Allow",
            "Principal": {"AWS": "HARBOR"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",
        }
    )(result, client)


def _via_service_other_region(result: SeedResult, client: ClientFactory) -> None:
    doc = _policy(result, client)
    text = json.dumps(doc).replace(
        f"s3.{result.region}.amazonaws.com", "s3.eu-west-1.amazonaws.com"
    )
    _put_policy(result, client, json.loads(text))


def _network_policy(result: SeedResult, client: ClientFactory) -> None:
    values = dataclasses.replace(
        result.values(), source_vpce=SOURCE_VPCE, source_ip=SOURCE_IP
    )
    _put_policy(result, client, build_policy(values))


def _schedule_deletion(result: SeedResult, client: ClientFactory) -> None:
    client("kms").schedule_key_deletion(KeyId=result.key_id, PendingWindowInDays=7)


def _disable_key(result: SeedResult, client: ClientFactory) -> None:
    client("kms").disable_key(KeyId=result.key_id)


def _trust_ec2(result: SeedResult, client: ClientFactory) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    client("iam").update_assume_role_policy(
        RoleName=result.harbor_role_arn.rsplit("/", 1)[-1],
        PolicyDocument=json.dumps(trust),
    )


def _access_key_for_named_user(result: SeedResult, client: ClientFactory) -> None:
    users = [p for p in result.admin_principals if ":user/" in p]
    assert users, result.admin_principals
    client("iam").create_access_key(UserName=users[0].rsplit("/", 1)[-1])


def _grant_to_other_account(result: SeedResult, client: ClientFactory) -> None:
    client("kms").create_grant(
        KeyId=result.key_id,
        GranteePrincipal=f"arn:aws:iam::{OTHER_ACCOUNT}:root",
        Operations=["Decrypt"],
    )


def _no_description(result: SeedResult, client: ClientFactory) -> None:
    client("kms").update_key_description(KeyId=result.key_id, Description="")


def _bucket_aes256(result: SeedResult, client: ClientFactory) -> None:
    client("s3").put_bucket_encryption(
        Bucket=result.bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
            ]
        },
    )


# --------------------------------------------------------------------- setups


@dataclasses.dataclass(frozen=True)
class Setup:
    """One seeded state, audited once."""

    scenario: str
    mutations: tuple[Mutation, ...] = ()
    faults: tuple[tuple[str, str], ...] = ()
    """(signing name, operation) answered with AccessDenied."""
    probe: bool = False
    harbor_values: str | None = "own"
    """"own" names the seeded key, "other" a second key created in the account,
    None passes no ``--harbor-values`` file."""
    network: bool = False
    """Configure conditions.source_vpce and conditions.source_ip."""
    events_age_days: float = 0
    """Move the recorded CloudTrail events this many days into the past."""


SETUPS: dict[str, Setup] = {
    "hardened": Setup("hardened", probe=True),
    "hardened-network": Setup("hardened", (_network_policy,), network=True),
    "hardened-network-missing": Setup("hardened", network=True),
    "guide": Setup("guide-as-written", harbor_values="other"),
    "kms-star": Setup("hardened", (_harbor_kms_star,)),
    "no-root": Setup("hardened", (_drop_root,)),
    "no-via-service": Setup("hardened", (_harbor_without_via_service,)),
    "harbor-direct": Setup(
        "hardened", (_harbor_without_via_service, _harbor_direct_allow)
    ),
    "other-region": Setup("hardened", (_via_service_other_region,)),
    "wildcard": Setup("hardened", (_wildcard_principal,)),
    "pending-deletion": Setup("hardened", (_schedule_deletion,)),
    "key-disabled": Setup("hardened", (_disable_key,), probe=True),
    # Event history keeps 90 days: a key last used long ago shows nothing.
    "old-history": Setup("hardened", events_age_days=120),
    "trust-ec2": Setup("hardened", (_trust_ec2,)),
    "access-key": Setup("guide-as-written", (_access_key_for_named_user,)),
    "foreign-grant": Setup("hardened", (_grant_to_other_account,)),
    "no-description": Setup("hardened", (_no_description,)),
    "bucket-aes256": Setup("hardened", (_bucket_aes256,)),
    "denied-policy": Setup(
        "hardened", faults=(("kms", "GetKeyPolicy"),), harbor_values=None, network=True
    ),
    "denied-reads": Setup(
        "hardened",
        faults=(
            ("kms", "GetKeyRotationStatus"),
            ("kms", "ListResourceTags"),
            ("kms", "ListGrants"),
            ("cloudtrail", "DescribeTrails"),
            ("cloudtrail", "LookupEvents"),
            ("config", "DescribeConfigRules"),
            ("monitoring", "ListDashboards"),
            ("iam", "GetRole"),
            ("s3", "GetBucketEncryption"),
            ("s3", "PutObject"),
        ),
        probe=True,
    ),
    "denied-describe": Setup("hardened", faults=(("kms", "DescribeKey"),)),
}


class Row(NamedTuple):
    item: str
    state: str
    setup: str
    permission: str = ""
    """For unknown: the IAM action the reason must name (for an item decided
    from config, the missing option)."""


def _rows() -> list[Row]:
    rows: list[Row] = []
    network = {"access_vpce_condition", "access_source_ip_condition"}
    for item in sorted(AUTOMATED - network):
        rows.append(Row(item, "pass", "hardened"))
    for item in sorted(network):
        rows.append(Row(item, "pass", "hardened-network"))
        rows.append(Row(item, "fail", "hardened-network-missing"))
        rows.append(Row(item, "unknown", "denied-policy", "kms:GetKeyPolicy"))
    for item in (
        "policy_least_privilege",
        "policy_admin_user_separation",
        "policy_harbor_actions_minimal",
        "policy_encryption_context_bucket",
        "policy_explicit_deny_direct_use",
        "policy_simulated",
        "rotation_enabled",
        "rotation_monitored",
        "rotation_alarm",
        "cloudtrail_enabled",
        "cloudtrail_log_validation",
        "cloudtrail_bucket_secure",
        "cloudwatch_dashboard",
        "alarm_decrypt_failures",
        "alarm_rotation_disabled",
        "alarm_policy_changes",
        "alarm_key_deletion",
        "config_rule_rotation",
        "access_required_principals_only",
        "key_tagged",
        "harbor_values_key",
        "bucket_key_context_consistent",
    ):
        rows.append(Row(item, "fail", "guide"))
    rows += [
        Row("policy_no_kms_star_for_service_roles", "fail", "kms-star"),
        Row("policy_root_delegation_scoped", "fail", "no-root"),
        Row("policy_via_service_s3", "fail", "no-via-service"),
        Row("test_direct_kms_denied", "fail", "harbor-direct"),
        Row("viaservice_region_matches_bucket", "fail", "other-region"),
        Row("policy_no_unconditioned_wildcard_principal", "fail", "wildcard"),
        Row("test_unauthorized_denied", "fail", "wildcard"),
        Row("rotation_old_material_retained", "fail", "pending-deletion"),
        Row("access_irsa", "fail", "trust-ec2"),
        Row("access_no_long_lived_credentials", "fail", "access-key"),
        Row("access_cross_account_denied", "fail", "foreign-grant"),
        Row("grants_limited", "fail", "foreign-grant"),
        Row("key_description", "fail", "no-description"),
        Row("bucket_default_encryption_key", "fail", "bucket-aes256"),
        Row("test_s3_roundtrip", "fail", "key-disabled"),
        Row("test_cloudtrail_events", "fail", "old-history"),
    ]
    for item in (
        "policy_least_privilege",
        "policy_admin_user_separation",
        "policy_harbor_actions_minimal",
        "policy_no_kms_star_for_service_roles",
        "policy_root_delegation_scoped",
        "policy_via_service_s3",
        "policy_encryption_context_bucket",
        "policy_explicit_deny_direct_use",
        "policy_no_unconditioned_wildcard_principal",
        "policy_simulated",
        "access_required_principals_only",
        "access_no_long_lived_credentials",
        "access_cross_account_denied",
        "test_direct_kms_denied",
        "test_unauthorized_denied",
        "viaservice_region_matches_bucket",
        "bucket_key_context_consistent",
    ):
        rows.append(Row(item, "unknown", "denied-policy", "kms:GetKeyPolicy"))
    rows += [
        Row("harbor_values_key", "unknown", "denied-policy", "--harbor-values"),
        Row("rotation_enabled", "unknown", "denied-reads", "kms:GetKeyRotationStatus"),
        Row("key_tagged", "unknown", "denied-reads", "kms:ListResourceTags"),
        Row("grants_limited", "unknown", "denied-reads", "kms:ListGrants"),
        Row(
            "rotation_monitored", "unknown", "denied-reads", "cloudtrail:DescribeTrails"
        ),
        Row("rotation_alarm", "unknown", "denied-reads", "cloudtrail:DescribeTrails"),
        Row(
            "cloudtrail_enabled", "unknown", "denied-reads", "cloudtrail:DescribeTrails"
        ),
        Row(
            "cloudtrail_log_validation",
            "unknown",
            "denied-reads",
            "cloudtrail:DescribeTrails",
        ),
        Row(
            "cloudtrail_bucket_secure",
            "unknown",
            "denied-reads",
            "cloudtrail:DescribeTrails",
        ),
        Row(
            "alarm_decrypt_failures",
            "unknown",
            "denied-reads",
            "cloudtrail:DescribeTrails",
        ),
        Row(
            "alarm_rotation_disabled",
            "unknown",
            "denied-reads",
            "cloudtrail:DescribeTrails",
        ),
        Row(
            "alarm_policy_changes",
            "unknown",
            "denied-reads",
            "cloudtrail:DescribeTrails",
        ),
        Row(
            "alarm_key_deletion", "unknown", "denied-reads", "cloudtrail:DescribeTrails"
        ),
        Row(
            "config_rule_rotation",
            "unknown",
            "denied-reads",
            "config:DescribeConfigRules",
        ),
        Row(
            "cloudwatch_dashboard",
            "unknown",
            "denied-reads",
            "cloudwatch:ListDashboards",
        ),
        Row(
            "test_cloudtrail_events",
            "unknown",
            "denied-reads",
            "cloudtrail:LookupEvents",
        ),
        Row("access_irsa", "unknown", "denied-reads", "iam:GetRole"),
        Row(
            "bucket_default_encryption_key",
            "unknown",
            "denied-reads",
            "s3:GetEncryptionConfiguration",
        ),
        Row("test_s3_roundtrip", "unknown", "denied-reads", "s3:PutObject"),
        Row("key_description", "unknown", "denied-describe", "kms:DescribeKey"),
        Row(
            "rotation_old_material_retained",
            "unknown",
            "denied-describe",
            "kms:DescribeKey",
        ),
    ]
    return rows


ROWS = _rows()

# -------------------------------------------------------------------- running


@pytest.fixture(autouse=True)
def sandbox_credentials(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Point boto3 at the sandbox; never at a real account or profile."""
    for name, value in sandbox.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield


def _harbor_values(tmp_path: Path, result: SeedResult, key: str) -> Path:
    path = tmp_path / "values.yaml"
    s3 = {
        "region": result.region,
        "bucket": result.bucket,
        "encrypt": True,
        "keyid": key,
    }
    document = {"persistence": {"imageChartStorage": {"type": "s3", "s3": s3}}}
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _audit(
    sandbox: Sandbox,
    seeded: Seeder,
    boto_client: ClientFactory,
    tmp_path: Path,
    setup: Setup,
) -> dict[str, dict[str, Any]]:
    result = seeded(setup.scenario)
    for mutate in setup.mutations:
        mutate(result, boto_client)
    if setup.events_age_days:
        sandbox.age_events(setup.events_age_days)
    values: Values = result.values()
    if setup.network:
        values = dataclasses.replace(
            values, source_vpce=SOURCE_VPCE, source_ip=SOURCE_IP
        )
    config = tmp_path / "harbor-kms.toml"
    store.save(values, config)
    argv = ["audit", "--endpoint-url", sandbox.endpoint_url, "--config", str(config)]
    argv += ["--format", "json"]
    if setup.probe:
        argv.append("--probe")
    if setup.harbor_values is not None:
        key = result.key_arn
        if setup.harbor_values == "other":
            other = boto_client("kms").create_key(Description="another key")
            key = other["KeyMetadata"]["Arn"]
        argv += ["--harbor-values", str(_harbor_values(tmp_path, result, key))]
    for service, operation in setup.faults:
        sandbox.add_fault(service, operation, "AccessDeniedException")
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out, err)
    assert code in (0, 1), err.getvalue()
    return {item["id"]: item for item in json.loads(out.getvalue())["items"]}


@pytest.mark.parametrize("setup_name", sorted({row.setup for row in ROWS}))
def test_every_row_of_the_setup(
    setup_name: str,
    sandbox: Sandbox,
    seeded: Seeder,
    boto_client: ClientFactory,
    tmp_path: Path,
) -> None:
    items = _audit(sandbox, seeded, boto_client, tmp_path, SETUPS[setup_name])
    wrong = []
    for row in (r for r in ROWS if r.setup == setup_name):
        item = items[row.item]
        if item["status"] != row.state:
            wrong.append((row.item, row.state, item["status"], item["reason"]))
        elif row.state == "unknown" and row.permission not in item["reason"]:
            wrong.append((row.item, row.permission, "not named", item["reason"]))
    assert wrong == []


def test_the_table_covers_every_automated_item_in_each_state() -> None:
    covered = {(row.item, row.state) for row in ROWS}
    assert len(covered) == len(ROWS), "a row is listed twice"
    assert covered == {(item, state) for item in AUTOMATED for state in STATES}
    for row in ROWS:
        assert row.setup in SETUPS, row
        assert bool(row.permission) == (row.state == "unknown"), row
