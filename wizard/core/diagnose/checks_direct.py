"""Troubleshooting Issue 3, "Direct KMS API Calls Succeed (Should Fail)", run for real.

The guide's diagnosis is to call ``generate-data-key`` with Harbor's credentials
and see whether it succeeds. The tool does not call KMS as Harbor: it replays
the direct call against the key policy read from AWS, with the broadest IAM
policy the role could have (``kms:*``), because a Deny must hold whatever IAM
says. The guide's causes are "Missing kms:ViaService condition", "No explicit
Deny statement" and "Overly permissive IAM policy"; grants, which the key
policy's conditions do not limit, are added.
"""

from __future__ import annotations

from wizard.core.diagnose.checks_policy import labels_text as _labels
from wizard.core.diagnose.facts import Check, Facts, unknown_check
from wizard.core.diagnose.wording import APPLY_COMMAND, APPLY_POLICY
from wizard.core.snapshot import Grant, Unknown

_CRYPTO = ("kms:Decrypt", "kms:GenerateDataKey")


def direct_use_allowed(facts: Facts) -> Check:
    """Guide Issue 3, diagnosis: "Test direct KMS access" (replayed, not called)."""
    title = "Key policy lets Harbor's role call KMS directly"
    outcomes = []
    for action in _CRYPTO:
        replay = facts.direct(action, broad_iam=True)
        if isinstance(replay, Unknown):
            return unknown_check("direct_use", title, replay)
        outcomes.append((action, replay))
    allowed = [(a, r) for a, r in outcomes if r.result.decision == "allow"]
    if allowed:
        action, replay = allowed[0]
        labels = _labels([ref.label() for ref in replay.result.statements])
        return Check(
            "direct_use",
            title,
            "found",
            f"With an IAM policy allowing kms:*, a direct {action} by Harbor's role "
            f"is allowed by {labels}.",
            "Limit Harbor's statement to S3 (kms:ViaService) and deny direct use "
            f"explicitly: {APPLY_COMMAND}.",
            APPLY_POLICY,
            95,
        )
    shown = "; ".join(
        f"{a}: {r.result.decision.replace('_', ' ')}" for a, r in outcomes
    )
    return Check(
        "direct_use",
        title,
        "not_found",
        f"Even with an IAM policy allowing kms:*, direct calls are denied ({shown}).",
    )


def via_service_missing(facts: Facts) -> Check:
    """Guide: "Missing kms:ViaService condition" (Common Misconfigurations 2)."""
    title = "Missing kms:ViaService condition"
    replay = facts.direct("kms:Decrypt", broad_iam=False)
    if isinstance(replay, Unknown):
        return unknown_check("via_service_missing", title, replay)
    loose = [
        s.label
        for s in replay.analysis.naming_caller()
        if s.action and not any(c.key.lower() == "kms:viaservice" for c in s.conditions)
    ]
    if loose:
        return Check(
            "via_service_missing",
            title,
            "found",
            f"Statement {_labels(loose)} allows Harbor's role kms:Decrypt without "
            "a kms:ViaService condition.",
            "Require kms:ViaService = s3.REGION.amazonaws.com on Harbor's use: "
            f"{APPLY_COMMAND}.",
            APPLY_POLICY,
            90,
        )
    return Check(
        "via_service_missing",
        title,
        "not_found",
        "Every Allow naming Harbor's role for kms:Decrypt tests kms:ViaService.",
    )


def no_direct_deny(facts: Facts) -> Check:
    """Guide: "No explicit Deny statement"."""
    title = "No explicit Deny statement"
    replay = facts.direct("kms:Decrypt", broad_iam=True)
    if isinstance(replay, Unknown):
        return unknown_check("no_direct_deny", title, replay)
    if replay.result.decision == "explicit_deny":
        labels = _labels([ref.label() for ref in replay.result.statements])
        return Check(
            "no_direct_deny", title, "not_found", f"Statement {labels} denies it."
        )
    return Check(
        "no_direct_deny",
        title,
        "found",
        "No Deny applies to a direct kms:Decrypt by Harbor's role.",
        "Add a Deny of kms:Decrypt and kms:GenerateDataKey* for Harbor's role "
        f"unless kms:ViaService is S3 in the bucket's region: {APPLY_COMMAND}.",
        APPLY_POLICY,
        80,
    )


# TODO: read the role's inline and attached IAM policies (iam:ListRolePolicies,
# iam:GetRolePolicy, iam:ListAttachedRolePolicies) so this check can be decided
# instead of staying unknown when only IAM delegation stands in the way.
def iam_delegation(facts: Facts) -> Check:
    """Guide: "Overly permissive IAM policy" (the role's IAM is not read here)."""
    title = "Overly permissive IAM policy"
    replay = facts.direct("kms:Decrypt", broad_iam=True)
    if isinstance(replay, Unknown):
        return unknown_check("iam_delegation", title, replay)
    if replay.result.decision == "explicit_deny":
        return Check(
            "iam_delegation", title, "not_found", "A Deny wins over any IAM policy."
        )
    delegated = [
        s.label for s in replay.analysis.statements if s.principal == "account"
    ]
    if not delegated:
        return Check(
            "iam_delegation",
            title,
            "not_found",
            "No account statement lets IAM policies grant use of the key.",
        )
    return unknown_check(
        "iam_delegation",
        title,
        f"Statement {_labels(delegated)} lets IAM policies in the account grant "
        "use (correction 6) and no Deny stops Harbor's direct use; whether the "
        "role's IAM policies allow kms:Decrypt was not read. Review them, or add "
        f"the Deny ({APPLY_COMMAND}).",
    )


def grants_to_role(facts: Facts) -> Check:
    """Grants bypass the key policy's conditions: any to Harbor's role?"""
    title = "Unconstrained grant to Harbor's role"
    grants = facts.snapshot.grants
    if isinstance(grants, Unknown):
        return unknown_check("grants", title, grants)
    role = facts.values.harbor_role_arn
    loose = [g for g in grants if _loose_grant(g, role)]
    if not loose:
        return Check(
            "grants", title, "not_found", f"{len(grants)} grant(s); none is loose."
        )
    ids = ", ".join(g.grant_id for g in loose)
    return Check(
        "grants",
        title,
        "found",
        f"Grant {ids} lets {role} use the key with no encryption context "
        "constraint; grants are not limited by the key policy's conditions.",
        f"Retire or revoke it: aws kms revoke-grant --key-id {facts.key_arn} "
        "--grant-id GRANT_ID.",
        None,
        70,
    )


def _loose_grant(grant: Grant, role: str) -> bool:
    crypto = {"Decrypt", "GenerateDataKey", "Encrypt", "ReEncryptFrom"}
    name = role.rsplit("/", 1)[-1]
    names_role = bool(role) and (
        grant.grantee == role or f":assumed-role/{name}/" in grant.grantee
    )
    return names_role and bool(crypto & set(grant.operations)) and not grant.constraints
