"""Ask IAM whether the caller may make the calls the coming steps need.

IAM ``SimulatePrincipalPolicy`` for the caller's principal, with the key's
ARN as the resource of KMS actions and ``*`` for the rest. Its answers are
combined with the key policy by :func:`wizard.core.permissions_check
.check_permissions` (the simulator ignores KMS key policies: correction 11).
https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from wizard.aws.api import Api
from wizard.aws.permissions import NO_PERMISSION_NEEDED, audit_policy, policy_actions
from wizard.core.arn import parse_arn
from wizard.core.permissions_check import (
    APPLY_ACTIONS,
    ROLLBACK_ACTIONS,
    IamAnswer,
    StepPermissions,
    check_permissions,
    is_key_action,
)
from wizard.core.snapshot import CallerIdentity, Unknown
from wizard.core.values import Values

__all__ = ["coming_steps", "iam_answers", "session_permissions"]

_DECISIONS = {
    "allowed": "allowed",
    "explicitDeny": "explicit_deny",
    "implicitDeny": "implicit_deny",
}


def coming_steps(values: Values) -> list[tuple[str, Sequence[str]]]:
    """The steps after Prerequisites that call AWS, and the actions each needs."""
    reads = policy_actions(audit_policy(values=values)) - NO_PERMISSION_NEEDED
    return [
        ("Checklist (reads)", sorted(reads)),
        ("Apply", APPLY_ACTIONS),
        ("Rollback", ROLLBACK_ACTIONS),
    ]


def session_permissions(
    api: Api,
    region: str,
    caller: CallerIdentity,
    values: Values,
    key_policy: Mapping[str, Any] | Unknown,
) -> tuple[StepPermissions, ...]:
    """Each coming step's actions: allowed, denied or unknown, with the reason."""
    needs = coming_steps(values)
    actions = sorted({a for _, step in needs for a in step})
    answers = iam_answers(api, region, caller.arn, values, actions)
    return check_permissions(caller.arn, values, key_policy, answers, needs)


def iam_answers(
    api: Api, region: str, caller_arn: str, values: Values, actions: Sequence[str]
) -> dict[str, IamAnswer]:
    """IAM's simulator's decision on each action for the caller."""
    source = _principal(api, region, caller_arn)
    if isinstance(source, Unknown):
        return {a: IamAnswer("unknown", source.reason) for a in actions}
    if source is None:  # the account's root user: IAM policies do not apply
        return {
            a: IamAnswer("allowed", "the root user needs no IAM policy")
            for a in actions
        }
    key = [a for a in actions if is_key_action(a)]
    other = [a for a in actions if not is_key_action(a)]
    found: dict[str, IamAnswer] = {}
    for names, resources in ((key, [values.key_arn]), (other, ["*"])):
        if not names:
            continue
        pages = api.pages(
            "iam",
            "SimulatePrincipalPolicy",
            f"{source} {resources[0]} {len(names)}",
            region=region,
            PolicySourceArn=source,
            ActionNames=list(names),
            ResourceArns=resources,
        )
        if isinstance(pages, Unknown):
            reason = pages.reason
            if pages.kind == "access_denied":
                reason = (
                    "iam:SimulatePrincipalPolicy was denied, so IAM could not be "
                    "asked whether this session may make the call."
                )
            found.update({a: IamAnswer("unknown", reason) for a in names})
            continue
        for page in pages:
            for result in page.get("EvaluationResults", ()):
                decision = _DECISIONS.get(str(result.get("EvalDecision")), "unknown")
                name = str(result.get("EvalActionName", ""))
                previous = found.get(name)
                # Several resources for one action: the least permissive wins.
                if previous is None or previous.decision == "allowed":
                    found[name] = IamAnswer(
                        decision,  # type: ignore[arg-type]
                        "" if decision != "unknown" else "IAM gave no decision.",
                    )
    return found


def _principal(api: Api, region: str, caller_arn: str) -> str | None | Unknown:
    """The IAM ARN to simulate (a user, a session's role); None for root."""
    arn = parse_arn(caller_arn)
    if arn is None:
        return Unknown("error", f"{caller_arn!r} is not an ARN IAM can simulate.")
    if arn.service == "iam" and arn.resource_type == "root":
        return None
    if arn.service == "iam" and arn.resource_type in ("user", "role"):
        return caller_arn
    if arn.service == "sts" and arn.resource_type == "assumed-role":
        name = caller_arn.split(":assumed-role/", 1)[1].split("/", 1)[0]
        # The session ARN drops the role's path; GetRole gives the real ARN.
        # Without it, the path-less ARN is tried (IAM says NoSuchEntity if the
        # role has a path, and every action is then unknown with that reason).
        role = api.call("iam", "GetRole", name, region=region, RoleName=name)
        if isinstance(role, Unknown) or not role.get("Role", {}).get("Arn"):
            return f"arn:{arn.partition}:iam::{arn.account}:role/{name}"
        return str(role["Role"]["Arn"])
    # Anything else (a federated user, an emulator's own shape): IAM decides
    # whether it can simulate it, and its error becomes the reason.
    return caller_arn
