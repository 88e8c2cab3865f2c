"""The coming steps' permissions, over HTTP against the sandbox: IAM's
simulator (everything allowed, as moto enforces nothing) combined with the
key policy the tool evaluates itself."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.aws.test_readers import REGION, make_reader, use_sandbox_credentials
from wizard.aws.read_permissions import coming_steps, session_permissions
from wizard.aws.sandbox import Sandbox, SeedResult
from wizard.core.permissions_check import StepPermissions, permission_lines
from wizard.core.snapshot import CallerIdentity

Seeder = Callable[..., SeedResult]
ClientFactory = Callable[..., Any]


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    use_sandbox_credentials(monkeypatch)


def _check(sandbox: Sandbox, result: SeedResult) -> tuple[StepPermissions, ...]:
    reader = make_reader(sandbox)
    snapshot = reader.snapshot(result.values())
    assert isinstance(snapshot.caller, CallerIdentity)
    return session_permissions(
        reader.api, REGION, snapshot.caller, result.values(), snapshot.key_policy
    )


def _verdict(steps: tuple[StepPermissions, ...], action: str) -> Any:
    return next(v for s in steps for v in s.verdicts if v.action == action)


def test_demo_allows_every_coming_call(sandbox: Sandbox, seeded: Seeder) -> None:
    result = seeded("hardened")
    steps = _check(sandbox, result)
    assert [s.step for s in steps] == [t for t, _ in coming_steps(result.values())]
    assert all(not s.problems for s in steps), permission_lines(steps)
    assert all(line.endswith("allowed.") for line in permission_lines(steps))


def test_denied_simulator_leaves_everything_unknown(
    sandbox: Sandbox, seeded: Seeder
) -> None:
    result = seeded("hardened")
    sandbox.add_fault("iam", "SimulatePrincipalPolicy", "AccessDenied", status=403)
    try:
        steps = _check(sandbox, result)
    finally:
        sandbox.clear_faults()
    cloudtrail = _verdict(steps, "cloudtrail:CreateTrail")
    assert cloudtrail.verdict == "unknown"
    assert "iam:SimulatePrincipalPolicy" in cloudtrail.reason
    others = [v for s in steps for v in s.verdicts if not v.action.startswith("kms:")]
    assert others and all(v.verdict == "unknown" for v in others)


def test_key_policy_deny_wins_over_iam(
    sandbox: Sandbox, seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    kms = boto_client("kms")
    caller = boto_client("sts").get_caller_identity()["Arn"]
    policy = json.loads(
        kms.get_key_policy(KeyId=result.key_arn, PolicyName="default")["Policy"]
    )
    policy["Statement"].append(
        {
            "Sid": "NoPolicyChangesByTheCaller",
            "Effect": "Deny",
            "Principal": {"AWS": caller},
            "Action": "kms:PutKeyPolicy",
            "Resource": "*",
        }
    )
    kms.put_key_policy(
        KeyId=result.key_arn, PolicyName="default", Policy=json.dumps(policy)
    )

    steps = _check(sandbox, result)

    put = _verdict(steps, "kms:PutKeyPolicy")
    assert put.verdict == "denied" and "key policy denies" in put.reason
    assert _verdict(steps, "cloudtrail:CreateTrail").verdict == "allowed"
    apply = next(s for s in steps if s.step == "Apply")
    assert [v.action for v in apply.problems] == ["kms:PutKeyPolicy"]
