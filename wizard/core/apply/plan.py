"""``make_plan``: from an account snapshot and the values to a list of changes.

Each change says what it reads now, what it will write (a summary and the exact
requests), why (the guide section and the checklist items it serves), how to
undo it, and which values it still lacks. A change whose target state already
holds is not planned (so a second apply on a hardened account plans nothing);
one whose current state could not be read is held back with the reason, because
a write must never rest on a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from wizard.core.apply import plan_monitoring as monitoring
from wizard.core.apply import targets
from wizard.core.apply.documents import Names
from wizard.core.apply.lockout import check_lockout
from wizard.core.apply.model import CHANGE_IDS, Change, Held, Plan, select
from wizard.core.apply.plan_context import (
    DEFAULT_TAGS,
    OWNER_NOTE,
    Outcome,
    PlanContext,
    PlanOptions,
    checklist_ids,
    held,
)
from wizard.core.apply.requests import (
    description_steps,
    key_policy_steps,
    rotation_steps,
    tag_steps,
)
from wizard.core.policy.build import build_policy
from wizard.core.policy.diff import unified_diff
from wizard.core.policy.simulate import Evaluator, PolicyError, Request
from wizard.core.snapshot import AccountSnapshot, Unknown
from wizard.core.values import Values

__all__ = [
    "Change",
    "Plan",
    "PlanOptions",
    "checklist_ids",
    "make_plan",
    "select",
]


def make_plan(
    snapshot: AccountSnapshot, values: Values, options: PlanOptions | None = None
) -> Plan:
    """Plan every change whose target does not already hold.

    Args:
        snapshot: what the readers read from the account.
        values: the checked values (key, bucket, roles, rotation, e-mail).
        options: event rules, tags, description, policy override, checklist ids.

    Returns:
        The plan: changes in the order they apply, what is already in place,
        what cannot be planned and why, and the lockout proof of the policy.
    """
    ctx = PlanContext(snapshot, values, options or PlanOptions(), Names.of(values))
    changes: list[Change] = []
    satisfied: list[Held] = []
    blocked: list[Held] = []
    for change_id in CHANGE_IDS:
        if change_id == "create-event-rules" and not ctx.options.event_rules:
            continue
        result = _PLANNERS[change_id](ctx)
        if isinstance(result, Change):
            changes.append(result)
        elif result[0] == "satisfied":
            satisfied.append(Held(change_id, result[1]))
        else:
            blocked.append(Held(change_id, result[1]))
    return Plan(
        key_arn=values.key_arn,
        region=values.region,
        account_id=values.account_id,
        read_at=snapshot.read_at.isoformat(timespec="seconds"),
        changes=tuple(changes),
        satisfied=tuple(satisfied),
        blocked=tuple(blocked),
        lockout=ctx.lockout,
        policy=ctx.policy,
        current_policy=ctx.current_policy,
    )


def _plan_policy(ctx: PlanContext) -> Outcome:
    policy = dict(ctx.options.policy or build_policy(ctx.values))
    found = targets.key_policy(ctx.snapshot, policy)
    if found.status != "needed":
        return held(found)
    report = check_lockout(policy, ctx.values)
    ctx.lockout, ctx.policy = report.to_json(), policy
    current = ctx.snapshot.key_policy
    assert not isinstance(current, Unknown)  # needed implies it was read
    ctx.current_policy = current
    statements = policy.get("Statement", [])
    count = len(statements) if isinstance(statements, list) else 1
    notes = [] if report.ok else ["Lockout check FAILED: " + p for p in report.problems]
    notes += _caller_note(ctx, policy)
    source = (
        "the policy given with --policy"
        if ctx.options.policy
        else ("the hardened policy generated from the values")
    )
    return Change(
        id="put-key-policy",
        title="Put the hardened key policy",
        reads_now=found.reads_now,
        will_write=f"kms:PutKeyPolicy on the key: {source}, {count} statements. "
        "BypassPolicyLockoutSafetyCheck is never set.",
        why=ctx.why(
            "put-key-policy",
            "Least privilege for administrators and Harbor, with the guide's "
            "mistakes corrected (CORRECTIONS.md points 1-11).",
        ),
        undo="Put the backed-up policy back (kms:PutKeyPolicy) and check that the "
        "key's policy equals the backup as normalised JSON.",
        steps=key_policy_steps(ctx.values.key_arn, policy),
        diff=unified_diff(current, policy, "current (in AWS)", "proposed"),
        notes=tuple(notes),
    )


def _caller_note(ctx: PlanContext, policy: Mapping[str, Any]) -> list[str]:
    """Warn when AWS's own check will depend on the caller's IAM policies."""
    caller = ctx.snapshot.caller
    if isinstance(caller, Unknown):
        return []
    try:
        request = Request(caller.arn, "kms:PutKeyPolicy", ctx.values.key_arn)
        decision = Evaluator(policy).evaluate(request).decision
    except PolicyError:
        return []
    if decision == "allow":
        return []
    return [
        f"You call AWS as {caller.arn}, which the new policy does not name. AWS's "
        "lockout safety check accepts the change only if your IAM policies allow "
        "kms:PutKeyPolicy on this key; otherwise AWS refuses it and nothing changes."
    ]


def _plan_rotation(ctx: PlanContext) -> Outcome:
    period = ctx.values.rotation_period_days
    found = targets.rotation(ctx.snapshot, period)
    if found.status != "needed":
        return held(found)
    return Change(
        id="enable-rotation",
        title=f"Rotate the key material every {period} days",
        reads_now=found.reads_now,
        will_write=f"kms:EnableKeyRotation with RotationPeriodInDays={period}.",
        why=ctx.why(
            "enable-rotation",
            "Automatic rotation limits how much data one key material protects; "
            "the first rotation is one period after enabling (CORRECTIONS.md 15).",
        ),
        undo="Back to the backed-up state: DisableKeyRotation if rotation was off, "
        "or EnableKeyRotation with the old period.",
        steps=rotation_steps(ctx.values.key_arn, period),
    )


def _plan_tags(ctx: PlanContext) -> Outcome:
    wanted = {**DEFAULT_TAGS, **ctx.options.tags}
    found = targets.tags(ctx.snapshot, wanted)
    if found.status != "needed":
        return held(found)
    absent: dict[str, str] = dict(found.extra["absent"])
    current = ctx.snapshot.tags
    has_owner = "Owner" in wanted or (
        not isinstance(current, Unknown) and "Owner" in current
    )
    notes = () if has_owner else (OWNER_NOTE,)
    return Change(
        id="tag-key",
        title="Tag the key with what it is for",
        reads_now=found.reads_now,
        will_write="kms:TagResource adding "
        + ", ".join(f"{k}={v}" for k, v in sorted(absent.items()))
        + "; tags already on the key are not changed.",
        why=ctx.why(
            "tag-key",
            "Tags say what the key protects and who answers for it, for cost "
            "allocation, compliance and incident response.",
        ),
        undo="Remove the tags that were added (UntagResource), as the backup shows.",
        steps=tag_steps(ctx.values.key_arn, absent),
        notes=notes,
    )


def _plan_description(ctx: PlanContext) -> Outcome:
    found = targets.description(ctx.snapshot)
    if found.status != "needed":
        return held(found)
    text = ctx.options.description or (
        f"Encrypts Harbor registry storage in s3://{ctx.values.bucket} (SSE-KMS)."
    )
    return Change(
        id="describe-key",
        title="Describe what the key protects",
        reads_now=found.reads_now,
        will_write=f"kms:UpdateKeyDescription to {text!r}.",
        why=ctx.why(
            "describe-key",
            "A key whose purpose is written on it is not deleted or reused by mistake.",
        ),
        undo="Put the backed-up description back (UpdateKeyDescription).",
        steps=description_steps(ctx.values.key_arn, text),
    )


_PLANNERS: dict[str, Callable[[PlanContext], Outcome]] = {
    "put-key-policy": _plan_policy,
    "enable-rotation": _plan_rotation,
    "tag-key": _plan_tags,
    "describe-key": _plan_description,
    "create-trail": monitoring.plan_trail,
    "create-alarms": monitoring.plan_alarms,
    "create-event-rules": monitoring.plan_event_rules,
    "create-config-rule": monitoring.plan_config_rule,
    "create-dashboard": monitoring.plan_dashboard,
}
