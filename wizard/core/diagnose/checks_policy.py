"""The key-policy steps of the guide's troubleshooting, run against the live policy.

Issues 1 and 2 ("Access Denied When Uploading/Downloading") list the causes
"Harbor role not in key policy", "Missing kms:GenerateDataKey/kms:Decrypt
permission", "Encryption context mismatch" and "ViaService condition too
restrictive"; Issue 3 ("Direct KMS API Calls Succeed") lists "Missing
kms:ViaService condition", "No explicit Deny statement" and "Overly permissive
IAM policy". Each is decided by replaying Harbor's request against the policy
(:class:`~wizard.core.diagnose.facts.Facts`), not by reading the JSON with jq as
the guide does, because ``contains("HarborS3Role")`` also matches statements
that never apply.
"""

from __future__ import annotations

from collections.abc import Callable

from wizard.core.arn import parse_arn
from wizard.core.diagnose.facts import Check, Facts, Replay, unknown_check
from wizard.core.diagnose.wording import APPLY_COMMAND, APPLY_POLICY
from wizard.core.snapshot import Grant, Unknown

CheckFn = Callable[[Facts], Check]

_CRYPTO = ("kms:Decrypt", "kms:GenerateDataKey")


def _labels(labels: list[str]) -> str:
    return ", ".join(f"'{label}'" for label in labels)


def role_named(action: str) -> CheckFn:
    """Guide: "Check if Harbor role is in key policy"."""
    title = "Harbor role not in key policy"

    def check(facts: Facts) -> Check:
        replay = facts.through_s3(action)
        if isinstance(replay, Unknown):
            return unknown_check("role_in_policy", title, replay)
        named = [s.label for s in replay.analysis.naming_caller()]
        role = facts.values.harbor_role_arn
        if named:
            return Check(
                "role_in_policy",
                title,
                "not_found",
                f"Allow statement {_labels(named)} names {role}.",
            )
        delegated = [
            s.label
            for s in replay.analysis.statements
            if s.effect == "Allow" and s.principal == "account"
        ]
        tail = (
            f"; only {_labels(delegated)} covers it, through the account (IAM "
            "delegation)"
            if delegated
            else ""
        )
        return Check(
            "role_in_policy",
            title,
            "found",
            f"No Allow statement names {role}{tail}.",
            "Add a statement for Harbor's role allowing kms:GenerateDataKey and "
            f"kms:Decrypt through S3 for the bucket: {APPLY_COMMAND}.",
            APPLY_POLICY,
            90,
        )

    return check


def action_allowed(action: str) -> CheckFn:
    """Guide: "Missing kms:GenerateDataKey (kms:Decrypt) permission"."""
    title = f"Missing {action} permission"

    def check(facts: Facts) -> Check:
        replay = facts.through_s3(action)
        if isinstance(replay, Unknown):
            return unknown_check("action_allowed", title, replay)
        naming = replay.analysis.naming_caller()
        allowing = [s.label for s in naming if s.action]
        if allowing:
            return Check(
                "action_allowed",
                title,
                "not_found",
                f"Statement {_labels(allowing)} allows {action} to Harbor's role.",
            )
        where = (
            f"Statement {_labels([s.label for s in naming])} names the role but "
            f"not {action}"
            if naming
            else f"No statement naming Harbor's role allows {action}"
        )
        return Check(
            "action_allowed",
            title,
            "found",
            where + ".",
            f"Allow {action} to Harbor's role through S3 (S3 needs "
            "kms:GenerateDataKey to write and kms:Decrypt to read, correction 2): "
            f"{APPLY_COMMAND}.",
            APPLY_POLICY,
            80,
        )

    return check


def _context_failed(replay: Replay) -> bool:
    condition = replay.explanation.condition or ""
    return replay.result.decision != "allow" and "kms:EncryptionContext" in condition


def context_form(action: str) -> CheckFn:
    """Guide: "Encryption context mismatch" (correction 1)."""
    title = "Encryption context mismatch"

    def check(facts: Facts) -> Check:
        replay = facts.through_s3(action)
        if isinstance(replay, Unknown):
            return unknown_check("encryption_context", title, replay)
        on, source = facts.bucket_keys()
        sent = replay.request.context["kms:EncryptionContext:aws:s3:arn"]
        said = f"S3 sends '{sent}' (Bucket Keys {'on' if on else 'off'}, from {source})"
        if _context_failed(replay):
            return Check(
                "encryption_context",
                title,
                "found",
                f"{said}. {replay.explanation.cause}",
                replay.explanation.fix,
                replay.explanation.apply_change,
                85,
            )
        if replay.result.decision == "allow" and action == "kms:Decrypt" and on:
            old = facts.through_s3(action, "object")
            if not isinstance(old, Unknown) and _context_failed(old):
                return Check(
                    "encryption_context",
                    title,
                    "found",
                    f"{said}, which is admitted; but objects written before Bucket "
                    f"Keys were enabled carry their object ARN, and "
                    f"{old.explanation.cause[0].lower()}{old.explanation.cause[1:]}",
                    old.explanation.fix,
                    old.explanation.apply_change,
                    50,
                )
        if replay.result.decision == "allow":
            return Check("encryption_context", title, "not_found", f"{said}; admitted.")
        return Check(
            "encryption_context",
            title,
            "not_found",
            f"{said}; the context is not what fails.",
        )

    return check


def via_service_region(action: str) -> CheckFn:
    """Guide: "ViaService condition too restrictive"."""
    title = "ViaService condition too restrictive"

    def check(facts: Facts) -> Check:
        replay = facts.through_s3(action)
        if isinstance(replay, Unknown):
            return unknown_check("via_service", title, replay)
        region = facts.bucket_region()
        key = parse_arn(facts.key_arn)
        key_region = key.region if key else ""
        if key_region and key_region != region:
            return Check(
                "via_service",
                title,
                "found",
                f"The key is in {key_region} and the bucket in {region}: S3 uses "
                "only keys of the bucket's region for SSE-KMS.",
                "Create the key in the bucket's region (or a multi-Region replica "
                "there) and point Harbor's s3.keyid and the bucket's default "
                "encryption at it.",
                None,
                85,
            )
        condition = replay.explanation.condition or ""
        if replay.result.decision != "allow" and "kms:ViaService" in condition:
            return Check(
                "via_service",
                title,
                "found",
                replay.explanation.cause,
                replay.explanation.fix,
                replay.explanation.apply_change,
                75,
            )
        wanted = sorted(
            {
                value
                for s in replay.analysis.naming_caller()
                for c in s.conditions
                if c.key.lower() == "kms:viaservice"
                for value in c.values
            }
        )
        shown = ", ".join(wanted) or "no kms:ViaService condition"
        return Check(
            "via_service",
            title,
            "not_found",
            f"The bucket is in {region}; statements naming Harbor's role test {shown}.",
        )

    return check


def explicit_deny(action: str) -> CheckFn:
    """A Deny that stops S3's call for Harbor (the guide lists none; correction 8)."""
    title = f"A Deny blocks S3's {action} for Harbor"

    def check(facts: Facts) -> Check:
        replay = facts.through_s3(action)
        if isinstance(replay, Unknown):
            return unknown_check("explicit_deny", title, replay)
        if replay.result.decision == "explicit_deny":
            return Check(
                "explicit_deny",
                title,
                "found",
                replay.explanation.cause,
                replay.explanation.fix,
                replay.explanation.apply_change,
                88,
            )
        return Check(
            "explicit_deny",
            title,
            "not_found",
            f"No Deny applies; the key policy's decision is "
            f"{replay.result.decision.replace('_', ' ')}.",
        )

    return check


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
