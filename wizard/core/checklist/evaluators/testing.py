"""Testing and Validation: the S3 round trip, denials by simulation, CloudTrail.

The round trip is the only check that writes to AWS, so it runs only with
``--probe``; the denials replay requests against the current key policy
locally (the IAM simulator ignores key policies, CORRECTIONS.md point 11).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wizard.core.checklist.context import (
    EvalContext,
    analysis_or_verdict,
    explain,
    policy_evidence,
)
from wizard.core.checklist.evaluators import evaluator
from wizard.core.checklist.model import Verdict
from wizard.core.snapshot import Unknown

DIRECT_SCENARIOS = ("harbor-direct-decrypt", "harbor-direct-generate")


@evaluator("test_s3_roundtrip")
def test_s3_roundtrip(ctx: EvalContext) -> Verdict:
    """Guide: "Encryption/decryption tested through S3" (only with --probe)."""
    probe = ctx.snapshot.probe
    if probe is None:
        return ctx.unknown(
            "Not run: run with --probe to write a test object with SSE-KMS under "
            "this key, read it back and delete it."
        )
    if isinstance(probe, Unknown):
        return ctx.unknown(probe)
    evidence = ctx.evidence(
        "s3:PutObject",
        object_key=probe.object_key,
        detail=probe.detail,
        cleaned_up=probe.cleaned_up,
    )
    left = "" if probe.cleaned_up else f" The test object {probe.object_key} is left."
    if probe.ok:
        return ctx.passed(f"{probe.detail}{left}", evidence)
    return ctx.failed(f"{probe.detail}{left}", evidence)


@evaluator("test_direct_kms_denied")
def test_direct_kms_denied(ctx: EvalContext) -> Verdict:
    """Guide: "Direct KMS API access denied (verified)".

    Verified by simulating Harbor's role calling kms:Decrypt and
    kms:GenerateDataKey directly against the current key policy.
    """
    analysis = analysis_or_verdict(ctx, "harbor_role_arn=harbor.role_arn")
    if isinstance(analysis, Verdict):
        return analysis
    outcomes = [o for i in DIRECT_SCENARIOS if (o := analysis.outcome(i)) is not None]
    wrong = [o for o in outcomes if not o.ok]
    evidence = policy_evidence(ctx, [], outcomes)
    if wrong:
        return ctx.failed(explain([], wrong), evidence)
    return ctx.passed(
        "Harbor's role calling kms:Decrypt or kms:GenerateDataKey directly is "
        "denied by the current key policy.",
        evidence,
    )


@evaluator("test_unauthorized_denied")
def test_unauthorized_denied(ctx: EvalContext) -> Verdict:
    """Guide: "Access from unauthorized principals denied (verified)".

    Every "strangers" scenario that must be denied (another role without IAM
    permissions, another account, another service) is denied.
    """
    analysis = analysis_or_verdict(ctx)
    if isinstance(analysis, Verdict):
        return analysis
    outcomes = [
        o
        for o in analysis.outcomes
        if o.scenario.group == "strangers" and o.scenario.expect == "deny"
    ]
    wrong = [o for o in outcomes if not o.ok]
    evidence = policy_evidence(ctx, [], outcomes)
    if wrong:
        return ctx.failed(explain([], wrong), evidence)
    return ctx.passed(
        f"All {len(outcomes)} requests from principals without a reason to use "
        "the key are denied by the current key policy.",
        evidence,
    )


def _field(event: Mapping[str, Any], *names: str) -> str:
    for name in names:
        value = event.get(name)
        if isinstance(value, str):
            return value
    return ""


@evaluator("test_cloudtrail_events")
def test_cloudtrail_events(ctx: EvalContext) -> Verdict:
    """Guide: "CloudTrail events verified": LookupEvents shows the key's KMS events."""
    events = ctx.snapshot.key_events
    if isinstance(events, Unknown):
        return ctx.unknown(events)
    kms = [
        e
        for e in events
        if _field(e, "eventSource", "EventSource") == "kms.amazonaws.com"
    ]
    names = sorted({_field(e, "eventName", "EventName") for e in kms} - {""})
    evidence = ctx.evidence("cloudtrail:LookupEvents", events=len(kms), names=names)
    if kms:
        # The reader fetches one page (the newest events), so this counts the
        # events read, not all the key has.
        return ctx.passed(
            f"CloudTrail's latest {len(kms)} KMS event(s) for the key: "
            f"{', '.join(names)}.",
            evidence,
        )
    return ctx.failed(
        "CloudTrail's event history shows no KMS event for this key in the "
        "period read; use the key (push an image) and look again.",
        evidence,
    )
