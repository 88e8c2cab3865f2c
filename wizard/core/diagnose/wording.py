"""What one failed or holding condition means for Harbor, and how to fix it.

Each function turns a :class:`~wizard.core.diagnose.analysis.ConditionCheck`
into a :class:`Cause`: a clause for the cause sentence, a fix, and the point of
``shared/guide/CORRECTIONS.md`` behind it. The wording knows the usual ways a
Harbor key policy goes wrong: the guide's literal ``/*`` match (correction 1),
an encryption context form that contradicts S3 Bucket Keys (correction 1), a
direct call, a region mismatch in ``kms:ViaService``, network keys on S3's call
(correction 5), and ``kms:CallerAccount`` on the root statement (correction 6).
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard.core.diagnose.analysis import ConditionCheck

APPLY_POLICY = "put-key-policy"
APPLY_COMMAND = "harbor-kms apply --only put-key-policy"
"""The change that writes the generated key policy (dry run first)."""


@dataclass(frozen=True)
class Cause:
    """Why a condition decided the request, and what to do about it."""

    clause: str
    fix: str
    correction: int | None = None
    apply_change: str | None = None


def quoted(values: tuple[str, ...]) -> str:
    """``'a'`` or ``'a' or 'b'``."""
    return " or ".join(f"'{v}'" for v in values)


def _single(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, tuple) and len(value) == 1:
        return str(value[0])
    return None


def _base(operator: str) -> str:
    """The operator without set prefix and IfExists: 'StringEquals'."""
    name = operator.split(":", 1)[-1]
    return name[: -len("IfExists")] if name.endswith("IfExists") else name


def _s3_parts(arn: str) -> tuple[str, str | None] | None:
    """``(bucket, object key or None)`` of an S3 ARN, else None."""
    if not arn.startswith("arn:") or ":s3:::" not in arn:
        return None
    bucket, slash, key = arn.split(":s3:::", 1)[1].partition("/")
    return bucket, (key if slash else None)


def condition_cause(check: ConditionCheck, via_service: bool) -> Cause:
    """A failed condition of an Allow, explained.

    Args:
        check: The condition that did not hold.
        via_service: Whether an AWS service (S3) made the call for the caller.
    """
    key = check.key.lower()
    if key.startswith("kms:encryptioncontext:"):
        return _context_cause(check)
    if key == "kms:viaservice":
        return via_cause(check)
    if key == "kms:calleraccount":
        return Cause(
            f"kms:CallerAccount is '{check.request_value}', and the statement "
            f"expects {quoted(check.values)}",
            "Correct the account id; on the account root statement drop the "
            "condition altogether, it only adds a way to break IAM delegation "
            "(correction 6).",
            6,
            APPLY_POLICY,
        )
    if key in ("aws:sourceip", "aws:sourcevpce") and check.request_value is None:
        return _network_cause(check, via_service)
    return Cause(
        check.clause,
        f"Make the request satisfy {check.operator} on {check.key}, or correct "
        "the condition if it is what is wrong.",
    )


def _context_cause(check: ConditionCheck) -> Cause:
    value = _single(check.request_value)
    if value is None:
        return Cause(
            f"the request carries no {check.key} (the key is absent): it was not "
            "made by S3 for an object",
            "Read and write Harbor's objects through S3, which always sends "
            "aws:s3:arn; a direct KMS call cannot satisfy this condition.",
        )
    literal = _base(check.operator) in ("StringEquals", "StringNotEquals")
    wild = [v for v in check.values if "*" in v or "?" in v]
    request = _s3_parts(value)
    wanted = [p for p in map(_s3_parts, check.values) if p is not None]
    if request is not None and wanted:
        buckets = {bucket for bucket, _ in wanted}
        if request[0] not in buckets and not any("*" in b for b in buckets):
            return Cause(
                f"the request is for bucket '{request[0]}', and the statement "
                f"admits only {quoted(check.values)}",
                f"If Harbor stores its data in '{request[0]}', set harbor.bucket "
                f"to it and apply the policy again ({APPLY_COMMAND}); otherwise "
                "the denial is intended: the key is bound to Harbor's bucket.",
                None,
                APPLY_POLICY,
            )
        objects_only = all(key is not None for _, key in wanted)
        if request[1] is None and objects_only:
            return _bucket_keys_on(check, value, literal and bool(wild))
        if request[1] is not None and all(key is None for _, key in wanted):
            return _bucket_keys_off(check, value)
    if literal and wild:
        return Cause(
            f"{_base(check.operator)} compares {check.key} literally, and "
            f"'{wild[0]}' is not '{value}'; use StringLike (correction 1)",
            f"Change {_base(check.operator)} to StringLike (or ArnLike) for "
            f"'{wild[0]}' so every object of the bucket matches; with S3 Bucket "
            "Keys on, match the bucket ARN exactly instead. The generated policy "
            f"does both right: {APPLY_COMMAND}.",
            1,
            APPLY_POLICY,
        )
    return Cause(
        check.clause,
        f"Make {check.key} in the policy match what S3 sends ('{value}'); "
        f"the generated policy does: {APPLY_COMMAND}.",
        1,
        APPLY_POLICY,
    )


def _bucket_keys_on(check: ConditionCheck, value: str, literal: bool) -> Cause:
    how = " and compares them literally" if literal else ""
    return Cause(
        f"S3 Bucket Keys are on, so S3 sent the bucket ARN '{value}' as "
        f"{check.key}, and the statement admits only object ARNs "
        f"({quoted(check.values)}){how} (correction 1)",
        f"Admit the exact bucket ARN '{value}' with StringEquals; keep an object "
        "pattern with StringLike only while objects written before Bucket Keys "
        f'were enabled remain (encryption_context = "both"). {APPLY_COMMAND} '
        "writes the generated policy.",
        1,
        APPLY_POLICY,
    )


def _bucket_keys_off(check: ConditionCheck, value: str) -> Cause:
    return Cause(
        f"S3 sent the object ARN '{value}' as {check.key}: Bucket Keys are off "
        "for this bucket, or the object was written before they were enabled; "
        f"the statement admits only the bucket ARN {quoted(check.values)} "
        "(correction 1)",
        "Admit object ARNs as well (StringLike 'arn:aws:s3:::BUCKET/*'): set "
        'options.encryption_context = "both" while such objects exist, or '
        f'"auto" to follow the bucket\'s setting, then {APPLY_COMMAND}.',
        1,
        APPLY_POLICY,
    )


def _region(via: str) -> tuple[str, str] | None:
    """``(service, region)`` of ``SERVICE.REGION.amazonaws.com``."""
    parts = via.split(".")
    return (parts[0], parts[1]) if len(parts) >= 4 else None


def via_cause(check: ConditionCheck, deny: bool = False) -> Cause:
    """A ``kms:ViaService`` condition that failed (Allow) or held (Deny)."""
    value = _single(check.request_value)
    spares = "the Deny spares only" if deny else "the statement allows only"
    if value is None:
        return Cause(
            "kms:ViaService is absent: the call went straight to KMS, not through S3",
            "This is what the condition is for: Harbor's role may use the key "
            "only through S3. Upload and download through S3 with SSE-KMS; do "
            "not call KMS directly with Harbor's credentials.",
        )
    got = _region(value)
    wanted = [r for r in map(_region, check.values) if r is not None]
    if got and wanted and all(w[0] == got[0] and w[1] != got[1] for w in wanted):
        return Cause(
            f"the call came through {got[0].upper()} in {got[1]} ('{value}'), and "
            f"{spares} {quoted(check.values)}",
            f"The bucket and the key must be in one region, and kms:ViaService "
            f"must name S3 there: if the bucket is in {got[1]}, set region to "
            f"{got[1]} and {APPLY_COMMAND}.",
            None,
            APPLY_POLICY,
        )
    return Cause(
        f"the call came through '{value}', and {spares} {quoted(check.values)}",
        "Use the key only through S3 in the bucket's region, or correct the "
        f"kms:ViaService value ({APPLY_COMMAND}).",
        None,
        APPLY_POLICY,
    )


def _network_cause(check: ConditionCheck, via_service: bool) -> Cause:
    if not via_service:
        return Cause(
            f"{check.key} is absent from the request, so {check.operator} fails",
            f"Call from the network the statement names ({quoted(check.values)}).",
        )
    return Cause(
        f"{check.key} is absent on the call S3 made for the caller; whether S3 "
        "passes network keys on to KMS is not reliably documented (correction 5)",
        "Do not require network keys in an Allow for S3's calls: limit the "
        "network with a Deny that exempts AWS services (aws:ViaAWSService, "
        "BoolIfExists) or in the bucket policy. The generated policy does: "
        f"{APPLY_COMMAND}.",
        5,
        APPLY_POLICY,
    )


def deny_cause(
    checks: tuple[ConditionCheck, ...], action: str, via_service: bool
) -> Cause:
    """Why a Deny whose conditions all held applied, and what to do."""
    by_key = {c.key.lower(): c for c in checks}
    via = by_key.get("kms:viaservice")
    if via is not None and via.request_value is None:
        return Cause(
            "kms:ViaService is absent, so the call went straight to KMS, not "
            "through S3",
            "The Deny works as intended: Harbor's role may use the key only "
            "through S3. Let S3 call KMS (upload and download through S3 with "
            "SSE-KMS); never call KMS directly with Harbor's credentials.",
        )
    if via is not None:
        return via_cause(via, deny=True)
    context = next(
        (c for k, c in by_key.items() if k.startswith("kms:encryptioncontext:")),
        None,
    )
    if context is not None and context.operator.lower() == "null":
        return Cause(
            f"{context.key} is absent, so Null is true: this {action} was not made "
            "by S3 for an object, and the Deny binds everyone, root, "
            "administrators and grants included (correction 8)",
            "Decrypt S3 objects through S3. If a person or service must call "
            "Decrypt directly, drop the blanket Deny "
            f"(options.deny_decrypt_without_s3_context = false, {APPLY_COMMAND}).",
            8,
            APPLY_POLICY,
        )
    network = [c for k, c in by_key.items() if k in ("aws:sourceip", "aws:sourcevpce")]
    if network and via_service:
        return Cause(
            f"the Deny tests {network[0].key} on a call S3 made for the caller, "
            "and nothing exempts AWS services (correction 5)",
            "Exempt S3's calls from the network Deny with aws:ViaAWSService "
            f"(BoolIfExists false), as the generated policy does: {APPLY_COMMAND}.",
            5,
            APPLY_POLICY,
        )
    if not checks:
        return Cause(
            "it has no conditions",
            "If this caller should be allowed, take it or the action out of the "
            f"Deny ({APPLY_COMMAND}); a Deny wins over every Allow.",
            None,
            APPLY_POLICY,
        )
    return Cause(
        "; ".join(c.clause for c in checks),
        "If this use is intended, narrow the Deny's conditions; a Deny wins over "
        f"every Allow ({APPLY_COMMAND}).",
        None,
        APPLY_POLICY,
    )
