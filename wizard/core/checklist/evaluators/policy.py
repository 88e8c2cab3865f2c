"""Key Policy Configuration: the guide's ten policy items, from one analysis.

Every verdict here reads the lint findings and scenario outcomes of the key
policy as it is in AWS now (:class:`PolicyAnalysis`), so an item fails exactly
when the linter reports the matching rule or a request comes out other than the
hardened design expects. The rule ids named below are the linter's.
"""

from __future__ import annotations

from collections.abc import Sequence

from wizard.core.checklist.context import (
    KMS_ALL,
    EvalContext,
    analysis_or_verdict,
    explain,
    policy_evidence,
)
from wizard.core.checklist.evaluators import evaluator
from wizard.core.checklist.model import Verdict
from wizard.core.policy.lint import Finding
from wizard.core.policy.scenarios import Outcome, harbor_session_arn
from wizard.core.policy.simulate import Request

LEAST_PRIVILEGE_RULES = (
    "kms-star-to-service-role",
    "harbor-extra-actions",
    "wildcard-principal-unconditioned",
    "wildcard-principal-weak-conditions",
    "admin-can-grant-itself-use",
)
CONTEXT_RULES = (
    "encryption-context-literal-wildcard",
    "bucket-key-context-mismatch",
    "encryption-context-wrong-bucket",
    "missing-encryption-context",
)
VIA_SERVICE_RULES = (
    "crypto-without-via-service",
    "via-service-region-mismatch",
    "via-service-malformed",
)
# ReEncryptFrom decrypts under this key and re-encrypts under another, which
# could be the attacker's: it must be denied like Decrypt.
# https://docs.aws.amazon.com/kms/latest/APIReference/API_ReEncrypt.html
DIRECT_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom")


def _judge(
    ctx: EvalContext,
    findings: Sequence[Finding],
    outcomes: Sequence[Outcome],
    good: str,
) -> Verdict:
    evidence = policy_evidence(ctx, findings, outcomes)
    if findings or outcomes:
        return ctx.failed(explain(findings, outcomes), evidence)
    return ctx.passed(good, evidence)


@evaluator("policy_least_privilege")
def policy_least_privilege(ctx: EvalContext) -> Verdict:
    """Guide: "Key policy uses least-privilege principle".

    Fails on the linter's least-privilege rules and on any scenario that must be
    denied but is allowed (a stranger, direct use, an administrator's own use).
    """
    analysis = analysis_or_verdict(ctx)
    if isinstance(analysis, Verdict):
        return analysis
    findings = analysis.findings_of(LEAST_PRIVILEGE_RULES)
    loose = [o for o in analysis.outcomes if not o.ok and o.scenario.expect == "deny"]
    return _judge(
        ctx,
        findings,
        loose,
        "No principal is allowed more than its role needs, and every request "
        "that must be denied is denied.",
    )


@evaluator("policy_admin_user_separation")
def policy_admin_user_separation(ctx: EvalContext) -> Verdict:
    """Guide: "Separate statements for administrators and users" (correction 9).

    Administrators must not use the key or grant themselves use; workloads must
    not administer it.
    """
    analysis = analysis_or_verdict(ctx)
    if isinstance(analysis, Verdict):
        return analysis
    findings = analysis.findings_of(
        ("kms-star-to-service-role", "admin-can-grant-itself-use")
    )
    crossed = [
        o
        for o in analysis.outcomes
        if o.scenario.group == "administrators"
        and o.scenario.id.endswith(("-decrypt", "-grant-self"))
        and not o.ok
    ]
    if not findings and not crossed:
        missing = ctx.not_configured("admin_principals=admins.principals")
        if missing is not None and not ctx.values.break_glass_principals:
            return missing
    return _judge(
        ctx,
        findings,
        crossed,
        "Administrators can manage the key but neither use it nor grant "
        "themselves use, and no workload can administer it.",
    )


@evaluator("policy_harbor_actions_minimal")
def policy_harbor_actions_minimal(ctx: EvalContext) -> Verdict:
    """Guide: "Harbor role has only required actions" (correction 2).

    S3 needs kms:GenerateDataKey and kms:Decrypt; kms:DescribeKey is optional and
    must not sit in a statement that requires an encryption context.
    """
    analysis = analysis_or_verdict(ctx, "harbor_role_arn=harbor.role_arn")
    if isinstance(analysis, Verdict):
        return analysis
    rules = (
        "harbor-extra-actions",
        "harbor-role-not-allowed",
        "context-condition-on-non-crypto-action",
        "kms-star-to-service-role",
    )
    findings = analysis.findings_of(rules, principal=ctx.values.harbor_role_arn)
    return _judge(
        ctx,
        findings,
        [],
        "Harbor's role is allowed kms:GenerateDataKey and kms:Decrypt (and at "
        "most kms:DescribeKey on its own), nothing more.",
    )


@evaluator("policy_no_kms_star_for_service_roles")
def policy_no_kms_star_for_service_roles(ctx: EvalContext) -> Verdict:
    """Guide: "No kms:* granted to service roles" (misconfiguration 4)."""
    analysis = analysis_or_verdict(ctx)
    if isinstance(analysis, Verdict):
        return analysis
    findings = analysis.findings_of(("kms-star-to-service-role",))
    return _judge(
        ctx,
        findings,
        [],
        "Only the account root statement has kms:*; no role or user gets kms:* "
        "or administrative actions it should not have.",
    )


@evaluator("policy_root_delegation_scoped")
def policy_root_delegation_scoped(ctx: EvalContext) -> Verdict:
    """Guide: "Root principal includes kms:CallerAccount condition" (correction 6).

    Checked instead: IAM delegation works exactly as ``policy.root_delegation``
    says. A kms:CallerAccount with this account's id is redundant (noted); one
    with another id disables delegation (fails, through the scenarios).
    """
    analysis = analysis_or_verdict(ctx, "account_id=aws.account_id")
    if isinstance(analysis, Verdict):
        return analysis
    ids = ("account-root-put-policy", "other-role-iam-allows", "other-account-role")
    wrong = [o for i in ids if (o := analysis.outcome(i)) is not None and not o.ok]
    findings = analysis.findings_of(("caller-account-mismatch",))
    if findings or wrong:
        return _judge(ctx, findings, wrong, "")
    notes = analysis.findings_of(("root-caller-account-redundant",))
    delegated = ctx.values.options.root_delegation
    reason = (
        f"IAM policies in account {ctx.values.account_id} can grant use of the "
        "key and the account can repair its policy, as policy.root_delegation "
        "says; other accounts cannot."
        if delegated
        else "IAM policies grant nothing on this key, as policy.root_delegation "
        "= false says."
    )
    if notes:
        reason += " " + explain(notes)
    return ctx.passed(reason, policy_evidence(ctx, notes))


@evaluator("policy_via_service_s3")
def policy_via_service_s3(ctx: EvalContext) -> Verdict:
    """Guide: "kms:ViaService condition restricts to S3"."""
    analysis = analysis_or_verdict(ctx, "harbor_role_arn=harbor.role_arn")
    if isinstance(analysis, Verdict):
        return analysis
    findings = analysis.findings_of(
        VIA_SERVICE_RULES, principal=ctx.values.harbor_role_arn
    )
    outcome = analysis.outcome("harbor-other-region")
    wrong = [outcome] if outcome is not None and not outcome.ok else []
    return _judge(
        ctx,
        findings,
        wrong,
        f"Harbor's role can use the key only through {ctx.values.via_service}.",
    )


@evaluator("policy_encryption_context_bucket")
def policy_encryption_context_bucket(ctx: EvalContext) -> Verdict:
    """Guide: "kms:EncryptionContext condition restricts to specific bucket".

    Correction 1: StringEquals on ``BUCKET/*`` never matches, and with Bucket
    Keys on S3 sends the bucket ARN. Fails exactly when the linter reports one
    of :data:`CONTEXT_RULES` for Harbor's role, or another bucket's context is
    admitted.
    """
    analysis = analysis_or_verdict(
        ctx, "harbor_role_arn=harbor.role_arn", "bucket=harbor.bucket"
    )
    if isinstance(analysis, Verdict):
        return analysis
    findings = analysis.findings_of(CONTEXT_RULES, principal=ctx.values.harbor_role_arn)
    outcome = analysis.outcome("harbor-other-bucket")
    wrong = [outcome] if outcome is not None and not outcome.ok else []
    return _judge(
        ctx,
        findings,
        wrong,
        f"Harbor's use is bound to {ctx.values.bucket_arn} in the form S3 sends "
        f"({ctx.values.context_form} ARN).",
    )


@evaluator("policy_explicit_deny_direct_use")
def policy_explicit_deny_direct_use(ctx: EvalContext) -> Verdict:
    """Guide: "Explicit Deny statement prevents direct KMS API usage".

    Harbor's role, carrying an IAM policy that allows kms:*, calls Decrypt,
    GenerateDataKey and ReEncryptFrom directly: each must end in an explicit
    Deny (the guide's Deny misses ReEncryptFrom).
    """
    analysis = analysis_or_verdict(
        ctx, "harbor_role_arn=harbor.role_arn", "account_id=aws.account_id"
    )
    if isinstance(analysis, Verdict):
        return analysis
    session = harbor_session_arn(ctx.values)
    decisions = {
        action: analysis.evaluator.evaluate(
            Request(session, action, ctx.values.key_arn, {}, (KMS_ALL,), True)
        ).decision
        for action in DIRECT_ACTIONS
    }
    open_ = [a for a, d in decisions.items() if d != "explicit_deny"]
    findings = analysis.findings_of(("no-direct-use-deny",))
    evidence = ctx.evidence("kms:GetKeyPolicy", direct_use_with_kms_star=decisions)
    if findings or open_:
        words = (
            f"With an IAM policy allowing kms:*, Harbor's role may still call "
            f"{', '.join(open_)} directly: no Deny covers it."
            if open_
            else ""
        )
        # Lint and this simulation look at the same actions; the lint finding
        # says it in the words the policy lint uses, so it goes first alone.
        return ctx.failed(explain(findings) if findings else words, evidence)
    return ctx.passed(
        "An explicit Deny stops Harbor's role calling "
        f"{', '.join(DIRECT_ACTIONS)} outside S3, whatever IAM allows.",
        evidence,
    )


@evaluator("policy_no_unconditioned_wildcard_principal")
def policy_no_unconditioned_wildcard_principal(ctx: EvalContext) -> Verdict:
    """Guide: "No wildcard principals without conditions"."""
    analysis = analysis_or_verdict(ctx)
    if isinstance(analysis, Verdict):
        return analysis
    findings = analysis.findings_of(
        ("wildcard-principal-unconditioned", "wildcard-principal-weak-conditions")
    )
    return _judge(
        ctx,
        findings,
        [],
        "No Allow statement is open to every principal beyond this account or "
        "organization.",
    )


@evaluator("policy_simulated")
def policy_simulated(ctx: EvalContext) -> Verdict:
    """Guide: "Policy validated with IAM Policy Simulator" (correction 11).

    The IAM simulator ignores key policies; instead every scenario is replayed
    against the current policy, and the policy must lint without errors.
    """
    analysis = analysis_or_verdict(ctx)
    if isinstance(analysis, Verdict):
        return analysis
    wrong = [o for o in analysis.outcomes if not o.ok]
    errors = [f for f in analysis.findings if f.severity == "error"]
    if errors or wrong:
        head = (
            f"{len(wrong)} of {len(analysis.outcomes)} scenarios differ from the "
            f"hardened design and the linter reports {len(errors)} error(s)."
        )
        return ctx.failed(
            f"{head} {explain(errors, wrong, limit=4)}",
            policy_evidence(ctx, errors, wrong),
        )
    return ctx.passed(
        f"All {len(analysis.outcomes)} scenarios decide as the hardened design "
        "expects, and the policy lints without errors.",
        policy_evidence(ctx, []),
    )
