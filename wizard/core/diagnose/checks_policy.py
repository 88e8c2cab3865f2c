"""The key-policy steps of the guide's troubleshooting, run against the live policy.

Issues 1 and 2 ("Access Denied When Uploading/Downloading") list the causes
"Harbor role not in key policy", "Missing kms:GenerateDataKey/kms:Decrypt
permission", "Encryption context mismatch" and "ViaService condition too
restrictive"; Issue 3 ("Direct KMS API Calls Succeed") lists "Missing
kms:ViaService condition", "No explicit Deny statement" and "Overly permissive
IAM policy" (those are in :mod:`~wizard.core.diagnose.checks_direct`). Each
is decided by replaying Harbor's request against the policy
(:class:`~wizard.core.diagnose.facts.Facts`), not by reading the JSON with jq as
the guide does, because ``contains("HarborS3Role")`` also matches statements
that never apply.
"""

from __future__ import annotations

from collections.abc import Callable

from wizard.core.arn import parse_arn
from wizard.core.diagnose.facts import (
    Check,
    Facts,
    ObjectEncryption,
    Replay,
    unknown_check,
)
from wizard.core.diagnose.wording import APPLY_COMMAND, APPLY_POLICY
from wizard.core.snapshot import Unknown

CheckFn = Callable[[Facts], Check]


def labels_text(labels: list[str]) -> str:
    """Statement labels quoted and joined."""
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
                f"Allow statement {labels_text(named)} names {role}.",
            )
        delegated = [
            s.label
            for s in replay.analysis.statements
            if s.effect == "Allow" and s.principal == "account"
        ]
        tail = (
            f"; only {labels_text(delegated)} covers it, through the account (IAM "
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
                f"Statement {labels_text(allowing)} allows {action} to Harbor's role.",
            )
        where = (
            f"Statement {labels_text([s.label for s in naming])} names the role but "
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
                return _older_objects(facts, title, said, old)
        if replay.result.decision == "allow":
            return Check("encryption_context", title, "not_found", f"{said}; admitted.")
        return Check(
            "encryption_context",
            title,
            "not_found",
            f"{said}; the context is not what fails.",
        )

    return check


def _older_objects(facts: Facts, title: str, said: str, old: Replay) -> Check:
    """Bucket Keys are on and admitted, but objects from before carry object ARNs.

    HeadObject says which kind the failing object is (its BucketKeyEnabled);
    without ``--object`` that stays open.
    """
    cause = old.explanation.cause
    why = f"{cause[0].lower()}{cause[1:]}"
    found = facts.object_encryption
    if isinstance(found, ObjectEncryption) and found.algorithm:
        where = f"s3://{found.bucket}/{found.key}"
        if found.bucket_key_enabled:
            return Check(
                "encryption_context",
                title,
                "not_found",
                f"{said}; {where} was written with a Bucket Key too.",
            )
        return Check(
            "encryption_context",
            title,
            "found",
            f"{said}, which is admitted; but {where} was written without a Bucket "
            f"Key, so S3 sends its object ARN, and {why}",
            old.explanation.fix,
            old.explanation.apply_change,
            80,
        )
    return Check(
        "encryption_context",
        title,
        "unknown",
        f"{said}, which is admitted; objects written before Bucket Keys were "
        f"enabled carry their object ARN, and {why} Give --object to check "
        "whether the failing object is one of them.",
        old.explanation.fix,
        old.explanation.apply_change,
    )


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
