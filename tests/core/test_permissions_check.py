"""How IAM's answer and the key policy combine, the way KMS authorizes."""

from __future__ import annotations

from typing import Any

from wizard.core.permissions_check import (
    IamAnswer,
    check_permissions,
    permission_lines,
)
from wizard.core.snapshot import Unknown
from wizard.core.values import Values

ACCOUNT = "123456789012"
CALLER = f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/session"
VALUES = Values(
    region="us-east-1",
    account_id=ACCOUNT,
    key_id="1234abcd-12ab-34cd-56ef-1234567890ab",
)
ACTION = "kms:PutKeyPolicy"


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(principal: str) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": "kms:*",
        "Resource": "*",
    }


ROOT = _allow(f"arn:aws:iam::{ACCOUNT}:root")
DENY_CALLER = {
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": ACTION,
    "Resource": "*",
    "Condition": {
        "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/Deployer"}
    },
}


def _one(policy: Any, answer: IamAnswer, action: str = ACTION) -> tuple[str, str]:
    steps = check_permissions(
        CALLER, VALUES, policy, {action: answer}, [("Apply", [action])]
    )
    verdict = steps[0].verdicts[0]
    return verdict.verdict, verdict.reason


def test_explicit_deny_in_the_key_policy_wins_over_iam() -> None:
    verdict, reason = _one(_policy(ROOT, DENY_CALLER), IamAnswer("allowed"))
    assert verdict == "denied" and "key policy denies" in reason


def test_key_policy_allow_naming_the_caller_needs_no_iam() -> None:
    named = _allow(f"arn:aws:iam::{ACCOUNT}:role/Deployer")
    assert _one(_policy(named), IamAnswer("implicit_deny"))[0] == "allowed"
    # ...but an explicit deny from IAM still wins.
    assert _one(_policy(named), IamAnswer("explicit_deny"))[0] == "denied"


def test_root_delegation_leaves_it_to_iam() -> None:
    assert _one(_policy(ROOT), IamAnswer("allowed"))[0] == "allowed"
    assert _one(_policy(ROOT), IamAnswer("implicit_deny"))[0] == "denied"
    verdict, reason = _one(_policy(ROOT), IamAnswer("unknown", "IAM was down."))
    assert verdict == "unknown" and "IAM was down." in reason


def test_no_key_policy_allow_means_iam_cannot_help() -> None:
    other = _allow(f"arn:aws:iam::{ACCOUNT}:role/Other")
    verdict, reason = _one(_policy(other), IamAnswer("allowed"))
    assert verdict == "denied" and "no IAM policy can" in reason


def test_missing_data_is_unknown_never_allowed() -> None:
    denied = Unknown("access_denied", "kms:GetKeyPolicy was denied.")
    verdict, reason = _one(denied, IamAnswer("allowed"))
    assert verdict == "unknown" and "kms:GetKeyPolicy was denied" in reason
    steps = check_permissions(CALLER, VALUES, _policy(ROOT), {}, [("Apply", [ACTION])])
    assert steps[0].verdicts[0].verdict == "unknown"


def test_other_services_are_iams_answer() -> None:
    action = "cloudtrail:CreateTrail"
    assert _one(_policy(), IamAnswer("allowed"), action)[0] == "allowed"
    assert _one(_policy(), IamAnswer("implicit_deny"), action)[0] == "denied"
    # kms:ListKeys takes no key, so the key policy has no say.
    assert _one(_policy(), IamAnswer("allowed"), "kms:ListKeys")[0] == "allowed"


def test_lines_per_step() -> None:
    iam = {ACTION: IamAnswer("allowed"), "sns:CreateTopic": IamAnswer("allowed")}
    needs = [("Apply", [ACTION, "sns:CreateTopic"]), ("Rollback", [ACTION])]
    steps = check_permissions(CALLER, VALUES, _policy(ROOT), iam, needs)
    assert permission_lines(steps) == [
        "Apply: all 2 actions allowed.",
        "Rollback: all 1 action allowed.",
    ]
    steps = check_permissions(CALLER, VALUES, _policy(ROOT, DENY_CALLER), iam, needs)
    lines = permission_lines(steps)
    assert lines[0] == "Apply: 1 of 2 actions not allowed:"
    assert lines[1].startswith(f"  {ACTION} (denied): The key policy denies it.")
