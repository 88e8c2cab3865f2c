"""Access Control: who the key policy names, how Harbor gets credentials, grants.

Cross-account use needs the key policy (or a grant) to name the other account
(CORRECTIONS.md point 7). The section's network conditions (VPC endpoints,
source addresses) are in :mod:`.network`.
https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html
https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from wizard.core.arn import parse_arn
from wizard.core.checklist.context import (
    EvalContext,
    analysis_or_verdict,
    explain,
    policy_evidence,
)
from wizard.core.checklist.evaluators import evaluator
from wizard.core.checklist.model import Verdict
from wizard.core.policy.lint_rules_base import account_of
from wizard.core.snapshot import Grant, Unknown

_CONTEXT_CONSTRAINTS = ("EncryptionContextEquals", "EncryptionContextSubset")
# One Kubernetes service account: system:serviceaccount:NAMESPACE:NAME, no
# wildcards (StringEquals would take them literally anyway).
_SERVICE_ACCOUNT = re.compile(r"system:serviceaccount:[a-z0-9.-]+:[a-z0-9.-]+")


def _expected_principals(ctx: EvalContext) -> set[str]:
    values = ctx.values
    expected = {values.root_arn, values.account_id, values.harbor_role_arn}
    expected |= set(values.admin_principals) | set(values.break_glass_principals)
    if values.options.s3_service_principal:
        expected.add("s3.amazonaws.com")
    return expected


@evaluator("access_required_principals_only")
def access_required_principals_only(ctx: EvalContext) -> Verdict:
    """Guide: "Only required principals have access".

    Every principal an Allow statement names must be the account root, a named
    administrator or break-glass role, or Harbor's role (and s3.amazonaws.com only
    when the values ask for it, correction 3).
    """
    analysis = analysis_or_verdict(
        ctx, "account_id=aws.account_id", "harbor_role_arn=harbor.role_arn"
    )
    if isinstance(analysis, Verdict):
        return analysis
    expected = _expected_principals(ctx)
    extra: dict[str, None] = {}
    for stmt in analysis.view.allows():
        named = [*stmt.aws, *stmt.services] + (["*"] if stmt.principal_any else [])
        if stmt.not_principal:
            named = [f"everyone except {', '.join(named) or 'nobody'}"]
        extra.update((p, None) for p in named if p not in expected)
    evidence = ctx.evidence("kms:GetKeyPolicy", unexpected_principals=list(extra))
    if extra:
        return ctx.failed(
            f"The key policy also allows {', '.join(extra)}, which the values do "
            "not name as administrator, break-glass role or Harbor's role.",
            evidence,
        )
    return ctx.passed(
        "The key policy names only the account root, the configured "
        "administrators and break-glass roles, and Harbor's role.",
        evidence,
    )


def _federated(principal: Any) -> list[str]:
    if not isinstance(principal, Mapping):
        return []
    value = principal.get("Federated")
    return [
        v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)
    ]


def _subjects(condition: Any, issuer: str) -> tuple[list[str], bool]:
    """(exact StringEquals :sub values, whether a wildcard/other form is used)."""
    exact: list[str] = []
    loose = False
    for operator, block in (condition or {}).items():
        if not isinstance(block, Mapping):
            continue
        for key, value in block.items():
            if key.lower() != f"{issuer}:sub".lower():
                continue
            values = value if isinstance(value, list) else [value]
            if operator == "StringEquals" and all(
                isinstance(v, str) and _SERVICE_ACCOUNT.fullmatch(v) for v in values
            ):
                exact += values
            else:
                loose = True
    return exact, loose


@evaluator("access_irsa")
def access_irsa(ctx: EvalContext) -> Verdict:
    """Guide: "Service accounts use IRSA (not IAM users)".

    Harbor's role must trust an existing EKS OIDC provider for
    sts:AssumeRoleWithWebIdentity with StringEquals on ``<issuer>:sub`` naming
    one service account, and trust no IAM user or everyone.
    """
    role, providers = ctx.snapshot.harbor_role, ctx.snapshot.oidc_providers
    if isinstance(role, Unknown):
        return ctx.unknown(role)
    body = role.trust_policy.get("Statement", [])
    statements = [
        s
        for s in (body if isinstance(body, list) else [body])
        if isinstance(s, Mapping)
    ]
    subjects: list[str] = []
    problems: list[str] = []
    for stmt in statements:
        if stmt.get("Effect") != "Allow":
            continue
        principal = stmt.get("Principal")
        aws = principal.get("AWS") if isinstance(principal, Mapping) else principal
        for trusted in aws if isinstance(aws, list) else [aws]:
            if trusted == "*" or (isinstance(trusted, str) and ":user/" in trusted):
                problems.append(f"the role also trusts {trusted}")
        for provider in _federated(principal):
            issuer = provider.split(":oidc-provider/", 1)[-1]
            if not issuer.startswith("oidc.eks."):
                continue
            if not isinstance(providers, Unknown) and provider not in providers:
                problems.append(f"OIDC provider {provider} does not exist")
                continue
            exact, loose = _subjects(stmt.get("Condition"), issuer)
            if loose or len(exact) != 1:
                problems.append(
                    f"the trust of {issuer} does not pin one service account with "
                    "StringEquals on :sub"
                )
            subjects += exact
    evidence = ctx.evidence("iam:GetRole", role=role.arn, subjects=subjects)
    if subjects and not problems:
        if isinstance(providers, Unknown):
            return ctx.unknown(providers, evidence)
        return ctx.passed(
            f"Harbor's role is assumed through IRSA by {subjects[0]} only.", evidence
        )
    if not subjects and not problems:
        problems.append("it trusts no EKS OIDC provider (no IRSA)")
    return ctx.failed(f"Harbor's role {role.arn}: {'; '.join(problems)}.", evidence)


@evaluator("access_no_long_lived_credentials")
def access_no_long_lived_credentials(ctx: EvalContext) -> Verdict:
    """Guide: "No long-lived credentials with key access".

    IAM users the key policy names must have no active access keys.
    """
    users = ctx.snapshot.policy_users
    if isinstance(users, Unknown):
        return ctx.unknown(users)
    active = [u for u in users if u.active_access_keys > 0]
    evidence = ctx.evidence(
        "iam:ListAccessKeys",
        users={u.arn: u.active_access_keys for u in users},
    )
    if active:
        shown = ", ".join(f"{u.arn} ({u.active_access_keys})" for u in active)
        return ctx.failed(
            f"IAM users with active access keys are named in the key policy: {shown}.",
            evidence,
        )
    if users:
        return ctx.passed(
            "IAM users are named in the key policy, but none has an active access "
            "key; prefer roles all the same.",
            evidence,
        )
    return ctx.passed("The key policy names no IAM user.", evidence)


def _foreign_grantees(grants: Sequence[Grant], own: str) -> list[str]:
    found = []
    for grant in grants:
        account = account_of(grant.grantee)
        if account and account != own:
            found.append(f"grant {grant.grant_id} to {grant.grantee}")
    return found


@evaluator("access_cross_account_denied")
def access_cross_account_denied(ctx: EvalContext) -> Verdict:
    """Guide: "Cross-account access explicitly denied (if not needed)" (correction 7).

    No Deny is needed: it passes when no Allow statement and no grant names
    another account, and the stranger scenarios are denied.
    """
    analysis = analysis_or_verdict(ctx, "account_id=aws.account_id")
    if isinstance(analysis, Verdict):
        return analysis
    own = ctx.values.account_id
    foreign = [
        p
        for stmt in analysis.view.allows()
        for p in stmt.aws
        if (account_of(p) or own) != own
    ]
    outcomes = [
        o
        for i in ("other-account-role", "other-account-via-s3")
        if (o := analysis.outcome(i)) is not None and not o.ok
    ]
    grants = ctx.snapshot.grants
    if not isinstance(grants, Unknown):
        foreign += _foreign_grantees(grants, own)
    evidence = policy_evidence(ctx, [], outcomes)
    if foreign or outcomes:
        named = f"Other accounts are named: {', '.join(foreign)}. " if foreign else ""
        return ctx.failed((named + explain([], outcomes)).strip(), evidence)
    if isinstance(grants, Unknown):
        return ctx.unknown(grants, evidence)
    return ctx.passed(
        f"Neither the key policy nor a grant names an account other than {own}, "
        "so no other account can use the key.",
        evidence,
    )


def _limited(grant: Grant) -> bool:
    if any(grant.constraints.get(name) for name in _CONTEXT_CONSTRAINTS):
        return True
    arn = parse_arn(grant.grantee)
    if arn is None:
        return grant.grantee.endswith(".amazonaws.com")
    return arn.resource.startswith("role/aws-service-role/")


@evaluator("grants_limited")
def grants_limited(ctx: EvalContext) -> Verdict:
    """Beyond the guide's checklist (its kms:GrantIsForAWSResource section).

    Every grant must be for an AWS service (a service principal or
    service-linked role) or carry an encryption context constraint.
    """
    grants = ctx.snapshot.grants
    if isinstance(grants, Unknown):
        return ctx.unknown(grants)
    loose = [g for g in grants if not _limited(g)]
    evidence = ctx.evidence(
        "kms:ListGrants",
        grants=[
            {"id": g.grant_id, "grantee": g.grantee, "operations": list(g.operations)}
            for g in grants
        ],
    )
    if loose:
        shown = "; ".join(
            f"{g.grant_id} to {g.grantee} ({', '.join(g.operations)})" for g in loose
        )
        return ctx.failed(
            f"Grants neither for an AWS service nor constrained by encryption "
            f"context: {shown}.",
            evidence,
        )
    if not grants:
        return ctx.passed("The key has no grants.", evidence)
    return ctx.passed(
        f"All {len(grants)} grants are for AWS services or constrained by "
        "encryption context.",
        evidence,
    )
