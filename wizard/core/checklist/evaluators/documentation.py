"""Compliance and Documentation: attestations, the key's description and tags.

Documentation, incident response and compliance sign-off cannot be read from
any API; a person records them in the values file's ``[attestations]`` table
(:mod:`wizard.core.checklist.attestations`), and the ``attested`` evaluator
reports what was recorded. Other sections' attested items use it too.
"""

from __future__ import annotations

from wizard.core.checklist.context import EvalContext
from wizard.core.checklist.evaluators import evaluator
from wizard.core.checklist.model import ATTESTED, Evidence, Verdict
from wizard.core.snapshot import Unknown


@evaluator(ATTESTED)
def attested(ctx: EvalContext) -> Verdict:
    """Items only a person can answer: "Rotation documented in runbooks",
    "Incident response procedures documented", "Disaster recovery procedures
    tested" and the other attested items of the checklist."""
    attestation = ctx.attestations.get(ctx.item.id)
    if attestation is None:
        return ctx.verdict(
            "not_attested",
            "No one has attested this yet; record who did it and when under "
            f"[attestations.{ctx.item.id}] in the values file.",
        )
    note = f": {attestation.note}" if attestation.note else ""
    evidence = Evidence(
        "attestation",
        {
            "by": attestation.by,
            "at": attestation.at.isoformat(),
            "note": attestation.note,
        },
        attestation.at,
    )
    return ctx.verdict(
        "attested",
        f"Attested by {attestation.by} on {attestation.at.date().isoformat()}{note}.",
        (evidence,),
    )


@evaluator("key_description")
def key_description(ctx: EvalContext) -> Verdict:
    """Guide: "Key purpose and usage documented" (on the key itself)."""
    key = ctx.snapshot.key
    if isinstance(key, Unknown):
        return ctx.unknown(key)
    evidence = ctx.evidence("kms:DescribeKey", Description=key.description)
    if not key.description.strip():
        return ctx.failed(
            "The key has no description, so nobody looking at it in the console "
            "can tell what it protects.",
            evidence,
        )
    return ctx.passed(f"The key's description: {key.description.strip()!r}.", evidence)


@evaluator("key_tagged")
def key_tagged(ctx: EvalContext) -> Verdict:
    """Guide: "Key tagged with appropriate metadata"."""
    tags = ctx.snapshot.tags
    if isinstance(tags, Unknown):
        return ctx.unknown(tags)
    evidence = ctx.evidence("kms:ListResourceTags", tags=dict(tags))
    if not tags:
        return ctx.failed(
            "The key has no tags: add at least its application and owner.", evidence
        )
    shown = ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))
    return ctx.passed(f"The key is tagged {shown}.", evidence)
