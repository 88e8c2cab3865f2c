"""Prove, before PutKeyPolicy, that a new key policy locks nobody out.

AWS's own lockout safety check only confirms that the *caller* of PutKeyPolicy
can call it again (CORRECTIONS.md point 10; API_PutKeyPolicy.html, parameter
BypassPolicyLockoutSafetyCheck, which this tool never sets). It says nothing of
the named administrators, the break-glass role, or Harbor. So the proof here is
the local simulator's (correction 11: AWS's IAM simulator ignores key policies):

- the break-glass roles, or the administrators when none is named, can still
  call kms:PutKeyPolicy and kms:DescribeKey;
- every administrator can still call kms:DescribeKey;
- every Harbor S3 scenario of the policy core still gets the decision the
  hardened design expects.

Each request is decided by the key policy alone (no IAM policy is assumed), so
an "allow" here does not rest on identity policies the tool cannot see.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wizard.core.arn import parse_arn
from wizard.core.policy.scenarios import run_scenarios
from wizard.core.policy.simulate import Evaluator, PolicyError, Request, Result
from wizard.core.values import Values

MANAGE = ("kms:PutKeyPolicy", "kms:DescribeKey")


@dataclass(frozen=True)
class LockoutReport:
    """The proof, or the plain sentences saying what the policy would break."""

    ok: bool
    proven: tuple[str, ...]
    """What was shown to still work, one sentence each."""
    problems: tuple[str, ...]
    """What would break, one sentence each, naming who and which statement."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready copy (kept in the plan and the journal)."""
        return {
            "ok": self.ok,
            "proven": list(self.proven),
            "problems": list(self.problems),
        }


def check_lockout(policy: Mapping[str, Any], values: Values) -> LockoutReport:
    """Check that ``policy`` keeps the administrators and Harbor working.

    Args:
        policy: the key policy about to be put.
        values: names the administrators, break-glass roles, Harbor's role and
            bucket.

    Returns:
        ``ok`` only when every requirement is shown to hold.
    """
    try:
        evaluator = Evaluator(policy)
    except PolicyError as error:
        return LockoutReport(False, (), (f"The policy cannot be evaluated: {error}",))
    proven: list[str] = []
    problems: list[str] = []
    glass = values.break_glass_principals
    managers = glass or values.admin_principals
    if not managers:
        problems.append(
            "No administrator or break-glass role is named, so nothing shows that "
            "anyone could change this key policy again; name one in [admins]."
        )
    role = "break-glass role" if glass else "administrator"
    for principal in managers:
        _require(evaluator, values, principal, role, MANAGE, proven, problems)
    for principal in values.admin_principals if glass else ():
        _require(
            evaluator, values, principal, "administrator", MANAGE[1:], proven, problems
        )
    _harbor(policy, values, proven, problems)
    return LockoutReport(not problems, tuple(proven), tuple(problems))


def _request(values: Values, principal: str, action: str) -> Request:
    arn = parse_arn(principal)
    context: dict[str, Any] = {"kms:CallerAccount": arn.account if arn else ""}
    if values.principal_org_id:
        context["aws:PrincipalOrgID"] = values.principal_org_id
    return Request(principal, action, values.key_arn, context, (), True)


def _require(
    evaluator: Evaluator,
    values: Values,
    principal: str,
    role: str,
    actions: tuple[str, ...],
    proven: list[str],
    problems: list[str],
) -> None:
    name = principal.rsplit("/", 1)[-1]
    failed = False
    for action in actions:
        result = evaluator.evaluate(_request(values, principal, action))
        if result.decision != "allow":
            failed = True
            problems.append(
                f"The {role} {name} ({principal}) could no longer call {action}: "
                f"{_decision_words(result)}"
            )
    if not failed:
        proven.append(f"The {role} {name} can still call {' and '.join(actions)}.")


def _decision_words(result: Result) -> str:
    labels = ", ".join(ref.label() for ref in result.statements)
    if result.decision == "explicit_deny":
        head = f"an explicit Deny matches it (statement {labels})."
    else:
        head = "no statement of the key policy allows it."
    reason = result.reasons[0] if result.reasons else ""
    return f"{head} {reason}".strip()


def _harbor(
    policy: Mapping[str, Any], values: Values, proven: list[str], problems: list[str]
) -> None:
    outcomes = [
        o for o in run_scenarios(policy, values) if o.scenario.group == "harbor-s3"
    ]
    broken = [o for o in outcomes if not o.ok]
    for outcome in broken:
        request = outcome.scenario.request
        expected = "allowed" if outcome.scenario.expect == "allow" else "denied"
        problems.append(
            f"Harbor would break: {outcome.scenario.title} needs {request.action} "
            f"to be {expected} for {request.principal}, but the policy gives "
            f"{outcome.result.decision.replace('_', ' ')}. {outcome.scenario.why}"
        )
    if outcomes and not broken:
        proven.append(
            f"All {len(outcomes)} Harbor S3 scenarios (push, pull, multipart, copy) "
            "still get the expected decision."
        )
