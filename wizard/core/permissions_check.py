"""Whether this session may make the calls the coming steps need: checked, not assumed.

IAM's policy simulator answers for the caller's identity policies but ignores
KMS key policies (CORRECTIONS.md point 11), so for actions on the key its
answer is combined with the local key-policy simulator the way KMS authorizes
(point 7):

* an explicit Deny in the key policy, or an explicit deny from IAM: denied;
* a key-policy Allow naming the caller (or the root user of the key's
  account, who needs no IAM policy): allowed;
* an Allow only through the account principal (root delegation): IAM decides;
* no key-policy Allow at all: denied, whatever IAM says.

Actions on anything else are IAM's answer. Missing data never counts as
allowed: an action is unknown, with the reason.

TODO: grants, SCPs/RCPs, permissions boundaries, session policies and VPC
endpoint policies are evaluated only as far as IAM's simulator does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from wizard.core.policy.simulate import Evaluator, PolicyError, Request
from wizard.core.snapshot import Unknown
from wizard.core.values import Values

__all__ = [
    "APPLY_ACTIONS",
    "ROLLBACK_ACTIONS",
    "ActionVerdict",
    "IamAnswer",
    "StepPermissions",
    "check_permissions",
    "is_key_action",
    "permission_lines",
]

IamDecision = Literal["allowed", "implicit_deny", "explicit_deny", "unknown"]
Verdict = Literal["allowed", "denied", "unknown"]

# What wizard/aws/apply_exec.py calls for the plan's steps (requests.py and
# requests_monitoring.py): the backup reads, the existence checks, the writes.
APPLY_ACTIONS = (
    # backup of what a replace step overwrites (BotoAdapter.read_state)
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListResourceTags",
    # the key's own changes
    "kms:EnableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:TagResource",
    "kms:UpdateKeyDescription",
    # the trail, its bucket, log group and role (CreateTrail passes the role)
    "s3:CreateBucket",
    "s3:ListBucket",  # HeadBucket, the existence check
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "logs:CreateLogGroup",
    "logs:DescribeLogGroups",
    "logs:PutRetentionPolicy",
    "iam:CreateRole",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:PassRole",
    "iam:PutRolePolicy",
    "cloudtrail:CreateTrail",
    "cloudtrail:DescribeTrails",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:StartLogging",
    # alarms, notifications, rules, dashboard
    "sns:CreateTopic",
    "sns:ListSubscriptionsByTopic",
    "sns:ListTopics",
    "sns:Subscribe",
    "logs:DescribeMetricFilters",
    "logs:PutMetricFilter",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:GetDashboard",
    "cloudwatch:PutDashboard",
    "cloudwatch:PutMetricAlarm",
    "events:DescribeRule",
    "events:ListTargetsByRule",
    "events:PutRule",
    "events:PutTargets",
    "config:DescribeConfigRules",
    "config:PutConfigRule",
)

# The undo calls of the same steps (rollback, or apply undoing a failed run).
ROLLBACK_ACTIONS = (
    "kms:DisableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
    "s3:DeleteBucket",
    "logs:DeleteLogGroup",
    "logs:DeleteMetricFilter",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "cloudtrail:DeleteTrail",
    "cloudtrail:StopLogging",
    "sns:DeleteTopic",
    "sns:Unsubscribe",
    "cloudwatch:DeleteAlarms",
    "cloudwatch:DeleteDashboards",
    "events:DeleteRule",
    "events:RemoveTargets",
    "config:DeleteConfigRule",
)

# KMS actions that take no key resource: IAM alone decides them.
_KMS_ACCOUNT_ACTIONS = frozenset({"kms:ListAliases", "kms:ListKeys"})


@dataclass(frozen=True)
class IamAnswer:
    """IAM's simulator on one action for the caller, or why it is not known."""

    decision: IamDecision
    reason: str = ""


@dataclass(frozen=True)
class ActionVerdict:
    """Whether the caller may make one call, and why."""

    action: str
    verdict: Verdict
    reason: str


@dataclass(frozen=True)
class StepPermissions:
    """One coming step's actions and their verdicts."""

    step: str
    verdicts: tuple[ActionVerdict, ...]

    @property
    def problems(self) -> tuple[ActionVerdict, ...]:
        """The actions not known to be allowed."""
        return tuple(v for v in self.verdicts if v.verdict != "allowed")


def is_key_action(action: str) -> bool:
    """Whether ``action`` is authorized against the key (and its key policy)."""
    return action.startswith("kms:") and action not in _KMS_ACCOUNT_ACTIONS


def check_permissions(
    caller_arn: str,
    values: Values,
    key_policy: Mapping[str, Any] | Unknown,
    iam: Mapping[str, IamAnswer],
    needs: Sequence[tuple[str, Sequence[str]]],
) -> tuple[StepPermissions, ...]:
    """Decide every action each coming step needs.

    Args:
        caller_arn: the session's ARN (an assumed-role session ARN is fine).
        values: the environment; gives the key's ARN.
        key_policy: the key's current policy, or why it was not read.
        iam: IAM's answer per action; an action missing here is unknown.
        needs: (step title, actions) pairs, in the order they are shown.

    Returns:
        One :class:`StepPermissions` per step, actions sorted.
    """
    evaluator: Evaluator | Unknown
    if isinstance(key_policy, Unknown):
        evaluator = key_policy
    else:
        try:
            evaluator = Evaluator(key_policy)
        except PolicyError as error:
            evaluator = Unknown("error", f"it cannot be evaluated: {error}")
    memo: dict[str, ActionVerdict] = {}
    steps = []
    for step, actions in needs:
        verdicts = []
        for action in sorted(set(actions)):
            if action not in memo:
                answer = iam.get(action) or IamAnswer(
                    "unknown", f"IAM was not asked about {action}."
                )
                memo[action] = (
                    _key_verdict(action, caller_arn, values, evaluator, answer)
                    if is_key_action(action)
                    else _iam_verdict(action, answer)
                )
            verdicts.append(memo[action])
        steps.append(StepPermissions(step, tuple(verdicts)))
    return tuple(steps)


def _iam_verdict(action: str, answer: IamAnswer) -> ActionVerdict:
    if answer.decision == "allowed":
        return ActionVerdict(action, "allowed", "IAM's simulator allows it.")
    if answer.decision == "unknown":
        return ActionVerdict(action, "unknown", answer.reason)
    how = (
        "explicitly denies" if answer.decision == "explicit_deny" else "does not allow"
    )
    return ActionVerdict(
        action, "denied", answer.reason or f"IAM's simulator {how} it."
    )


def _key_verdict(
    action: str,
    caller_arn: str,
    values: Values,
    evaluator: Evaluator | Unknown,
    answer: IamAnswer,
) -> ActionVerdict:
    """KMS's rule: both the key policy and IAM, any explicit deny wins."""
    if answer.decision == "explicit_deny":
        return _iam_verdict(action, answer)
    if isinstance(evaluator, Unknown):
        return ActionVerdict(
            action,
            "unknown",
            f"The key policy is not known ({evaluator.reason.rstrip('.')}), and IAM's "
            "simulator does not evaluate key policies.",
        )
    resource = values.key_arn if values.key_id else "*"
    result = evaluator.evaluate(
        Request(caller_arn, action, resource, identity_policies_known=False)
    )
    first = result.reasons[0] if result.reasons else ""
    if result.decision == "explicit_deny":
        return ActionVerdict(action, "denied", f"The key policy denies it. {first}")
    if result.decision == "allow":
        return ActionVerdict(action, "allowed", "The key policy allows the caller.")
    if not result.statements:
        return ActionVerdict(
            action,
            "denied",
            f"No key policy statement allows it, so no IAM policy can. {first}",
        )
    # Allowed only through the account principal: IAM's answer decides.
    verdict = _iam_verdict(action, answer)
    return ActionVerdict(
        action,
        verdict.verdict,
        f"The key policy leaves it to IAM policies; {verdict.reason}",
    )


def permission_lines(steps: Sequence[StepPermissions]) -> list[str]:
    """Per step: 'all N actions allowed', or the actions denied or unknown and why."""
    lines: list[str] = []
    for step in steps:
        problems, total = step.problems, len(step.verdicts)
        if not problems:
            plural = "s" if total != 1 else ""
            lines.append(f"{step.step}: all {total} action{plural} allowed.")
            continue
        lines.append(f"{step.step}: {len(problems)} of {total} actions not allowed:")
        lines += [f"  {v.action} ({v.verdict}): {v.reason}" for v in problems]
    return lines
