"""Key Rotation: rotation on, rotation watched, key material kept.

Rotation facts (CORRECTIONS.md points 14-16): the period is 90 to 2560 days; the
first rotation comes one period after rotation is *enabled*; old material lives
as long as the key, and deleting the key deletes it all.
https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKeyRotation.html
https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html
"""

from __future__ import annotations

from wizard.core.checklist.alerting import SampleEvent, alert_check
from wizard.core.checklist.context import EvalContext
from wizard.core.checklist.evaluators import evaluator
from wizard.core.checklist.model import Verdict
from wizard.core.snapshot import KeyInfo, Unknown

# TODO: read ListKeyRotations into the snapshot so the first rotation (one
# period after enabling) can be seen; until then test_rotation_verified is attested.
ROTATION_RULE = "CMK_BACKING_KEY_ROTATION_ENABLED"
DISABLE_ROTATION = SampleEvent("DisableKeyRotation", "DisableKeyRotation")


def key_arn(ctx: EvalContext) -> str:
    """The key's ARN as read, else as the values build it."""
    key = ctx.snapshot.key
    return key.arn if isinstance(key, KeyInfo) else ctx.values.key_arn


def account(ctx: EvalContext) -> str:
    """The audited account: the caller's, else the values'."""
    caller = ctx.snapshot.caller
    return ctx.values.account_id if isinstance(caller, Unknown) else caller.account


@evaluator("rotation_enabled")
def rotation_enabled(ctx: EvalContext) -> Verdict:
    """Guide: "Automatic key rotation enabled"."""
    rotation = ctx.snapshot.rotation
    if isinstance(rotation, Unknown):
        return ctx.unknown(rotation)
    evidence = ctx.evidence(
        "kms:GetKeyRotationStatus",
        KeyRotationEnabled=rotation.enabled,
        RotationPeriodInDays=rotation.period_days,
        NextRotationDate=rotation.next_rotation.isoformat()
        if rotation.next_rotation
        else None,
    )
    if not rotation.enabled:
        return ctx.failed("Automatic rotation of the key material is off.", evidence)
    reason = "Automatic rotation is on"
    if rotation.period_days:
        reason += f", every {rotation.period_days} days"
        wanted = ctx.values.rotation_period_days
        if wanted and rotation.period_days != wanted:
            reason += f" (the values file asks for {wanted})"
    if rotation.next_rotation:
        reason += f"; next rotation {rotation.next_rotation.date().isoformat()}"
    return ctx.passed(reason + ".", evidence)


@evaluator("rotation_monitored")
def rotation_monitored(ctx: EvalContext) -> Verdict:
    """Guide: "Rotation status monitored via CloudWatch" (corrections 12-14).

    There is no KeyRotationEnabled metric. Passes when the Config rule
    CMK_BACKING_KEY_ROTATION_ENABLED exists or DisableKeyRotation is alerted on.
    """
    rules = ctx.snapshot.config_rules
    if not isinstance(rules, Unknown):
        found = [r for r in rules if r.source_identifier == ROTATION_RULE]
        if found:
            compliance = found[0].compliance
            shown = "not read" if isinstance(compliance, Unknown) else compliance
            return ctx.passed(
                f"AWS Config rule {found[0].name} ({ROTATION_RULE}) evaluates "
                f"rotation; compliance {shown}.",
                ctx.evidence(
                    "config:DescribeConfigRules", rule=found[0].name, compliance=shown
                ),
            )
    check = alert_check(
        ctx.snapshot, (DISABLE_ROTATION,), key_arn=key_arn(ctx), account=account(ctx)
    )
    watches = check.watched[DISABLE_ROTATION.label]
    if watches:
        return ctx.passed(
            f"DisableKeyRotation is alerted on: {'; '.join(watches)}.",
            ctx.evidence("cloudwatch:DescribeAlarms", watches=watches),
        )
    unknowns = [*check.unknowns, *([rules] if isinstance(rules, Unknown) else [])]
    if unknowns:
        return ctx.unknown(unknowns[0])
    problems = "; ".join(check.problems)
    return ctx.failed(
        f"Nothing watches rotation: no {ROTATION_RULE} Config rule and no alert on "
        "DisableKeyRotation."
        + (f" {problems[:1].upper()}{problems[1:]}." if problems else ""),
        ctx.evidence(
            "config:DescribeConfigRules",
            rules=[] if isinstance(rules, Unknown) else [r.name for r in rules],
        ),
    )


@evaluator("key_not_pending_deletion")
def key_not_pending_deletion(ctx: EvalContext) -> Verdict:
    """Guide: "Old key material retained (never deleted)" (correction 16).

    Old material cannot be deleted on its own; deleting the key deletes all of
    it. Fails when the key is scheduled for deletion or disabled.
    """
    key = ctx.snapshot.key
    if isinstance(key, Unknown):
        return ctx.unknown(key)
    evidence = ctx.evidence(
        "kms:DescribeKey",
        KeyState=key.state,
        DeletionDate=key.deletion_date.isoformat() if key.deletion_date else None,
    )
    if key.state.startswith("Pending") and "Deletion" in key.state:
        when = (
            f" on {key.deletion_date.date().isoformat()}" if key.deletion_date else ""
        )
        return ctx.failed(
            f"The key is scheduled for deletion{when}; with it, every version of "
            "its key material and everything encrypted under it is lost.",
            evidence,
        )
    if key.state != "Enabled":
        return ctx.failed(
            f"The key is {key.state}: Harbor cannot read or write its objects.",
            evidence,
        )
    return ctx.passed(
        "The key is enabled and not scheduled for deletion, so all its key "
        "material (every rotation) is kept.",
        evidence,
    )
