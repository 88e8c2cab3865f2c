"""What an evaluator sees, and how it turns findings into a verdict.

:class:`EvalContext` bundles the snapshot, the values, the item, the attestations
and one :class:`PolicyAnalysis` of the key policy as it is now: lint findings,
scenario outcomes and a compiled evaluator, computed once per audit. Policy items
read their verdicts from that analysis, so a verdict and a lint finding about the
same thing can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wizard.core.checklist.model import (
    Attestation,
    Evidence,
    Item,
    Status,
    Verdict,
)
from wizard.core.policy.lint import Finding, PolicyInputError, lint_policy
from wizard.core.policy.lint_rules_base import PolicyView, Stmt, build_view
from wizard.core.policy.scenarios import Outcome, run_scenarios
from wizard.core.policy.simulate import Evaluator, PolicyError
from wizard.core.snapshot import AccountSnapshot, Unknown
from wizard.core.values import Values


@dataclass(frozen=True)
class PolicyAnalysis:
    """The current key policy, linted, replayed and compiled once."""

    document: Mapping[str, Any]
    findings: tuple[Finding, ...]
    outcomes: tuple[Outcome, ...]
    evaluator: Evaluator
    view: PolicyView

    def statement(self, label: str | None) -> Stmt | None:
        """The statement a finding names (its Sid or ``#index``)."""
        return next((s for s in self.view.statements if s.label == label), None)

    def findings_of(
        self, rules: Iterable[str], *, principal: str | None = None
    ) -> list[Finding]:
        """Findings of ``rules``; with ``principal``, only those about it.

        A finding about the whole policy (no statement) counts for any principal;
        one about a statement counts when the statement names the principal (or
        is for everyone). Account principals do not count: the root statement
        is about IAM delegation, not about Harbor.
        """
        wanted = set(rules)
        found = []
        for finding in self.findings:
            if finding.rule not in wanted:
                continue
            stmt = self.statement(finding.statement)
            named = stmt is None or stmt.principal_any or stmt.names(principal or "")
            if principal and not named:
                continue
            found.append(finding)
        return found

    def outcome(self, scenario_id: str) -> Outcome | None:
        """The outcome of one scenario, when the values produce it."""
        return next((o for o in self.outcomes if o.scenario.id == scenario_id), None)


def analyse_policy(
    policy: Mapping[str, Any] | Unknown, values: Values
) -> PolicyAnalysis | Unknown:
    """Lint, replay and compile the key policy read from AWS.

    Returns:
        The analysis, or an Unknown saying why there is none: the read failed,
        or the document cannot be evaluated at all.
    """
    if isinstance(policy, Unknown):
        return policy
    try:
        findings = lint_policy(policy, values)
        evaluator = Evaluator(policy)
        outcomes = run_scenarios(policy, values)
    except (PolicyInputError, PolicyError) as error:
        return Unknown(
            "error",
            f"The key policy read from AWS cannot be evaluated: {error}",
            api="kms:GetKeyPolicy",
        )
    return PolicyAnalysis(
        policy, tuple(findings), tuple(outcomes), evaluator, build_view(policy, values)
    )


def describe_unknown(unknown: Unknown) -> str:
    """The reason of an Unknown, naming the permission when it is not named yet."""
    reason = unknown.reason.strip()
    if unknown.permission and unknown.permission not in reason:
        reason = f"{reason} (needs {unknown.permission})"
    return reason


@dataclass(frozen=True)
class EvalContext:
    """Everything an evaluator may use; evaluators are pure functions of it."""

    snapshot: AccountSnapshot
    values: Values
    item: Item
    attestations: Mapping[str, Attestation]
    policy: PolicyAnalysis | Unknown
    now: datetime

    def evidence(self, api: str, **fields: Any) -> Evidence:
        """Evidence from the call ``api``, timed by the snapshot's record of it."""
        times = [c.at for c in self.snapshot.calls if c.api == api]
        return Evidence(api, fields, max(times) if times else self.snapshot.read_at)

    def verdict(
        self, status: Status, reason: str, evidence: Iterable[Evidence] = ()
    ) -> Verdict:
        """A verdict for this item; fail and not_attested carry the remediation."""
        fix = None
        if status in ("fail", "not_attested"):
            fix = self.item.remediation.render(self.values)
        return Verdict(self.item.id, status, reason, tuple(evidence), fix, self.now)

    def passed(self, reason: str, *evidence: Evidence) -> Verdict:
        """A pass, with the evidence it rests on."""
        return self.verdict("pass", reason, evidence)

    def failed(self, reason: str, *evidence: Evidence) -> Verdict:
        """A fail, with its evidence and the rendered remediation."""
        return self.verdict("fail", reason, evidence)

    def unknown(self, why: Unknown | str, *evidence: Evidence) -> Verdict:
        """An unknown, whose reason names exactly what was missing."""
        reason = describe_unknown(why) if isinstance(why, Unknown) else why
        return self.verdict("unknown", reason, evidence)

    def not_configured(self, *fields: str) -> Verdict | None:
        """Unknown when a value the item needs is empty; None when all are set.

        Args:
            fields: ``(attribute of Values, key in the values file)`` pairs
                written as ``"harbor_role_arn=harbor.role_arn"``.
        """
        missing = []
        for spec in fields:
            name, _, key = spec.partition("=")
            if not getattr(self.values, name):
                missing.append(key or name)
        if not missing:
            return None
        return self.unknown(
            f"Not configured: {', '.join(missing)} is not set in the values file."
        )


KMS_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
}
"""An IAM policy allowing everything in KMS: what a careless role might carry."""


def analysis_or_verdict(ctx: EvalContext, *needs: str) -> PolicyAnalysis | Verdict:
    """The policy analysis, or the unknown verdict saying why there is none.

    Args:
        ctx: the item's context.
        needs: values the item also needs, as for ``ctx.not_configured``
            (``"field=section.key"``); a missing one is the unknown verdict.
    """
    if not isinstance(ctx.policy, PolicyAnalysis):
        return ctx.unknown(ctx.policy)
    missing = ctx.not_configured(*needs) if needs else None
    return ctx.policy if missing is None else missing


def policy_evidence(
    ctx: EvalContext, findings: Sequence[Finding], outcomes: Sequence[Outcome] = ()
) -> Evidence:
    """GetKeyPolicy evidence: the findings and scenario outcomes that decided."""
    return ctx.evidence(
        "kms:GetKeyPolicy",
        findings=[
            {"rule": f.rule, "severity": f.severity, "statement": f.statement}
            for f in findings
        ],
        scenarios=[
            {
                "id": o.scenario.id,
                "expect": o.scenario.expect,
                "decision": o.result.decision,
            }
            for o in outcomes
        ],
    )


def explain(
    findings: Sequence[Finding],
    outcomes: Iterable[Outcome] = (),
    limit: int | None = None,
) -> str:
    """The findings' messages and the unexpected decisions, as sentences.

    With ``limit``, at most that many decisions are spelled out; the evidence
    keeps all of them.
    """
    parts = [f"{f.message} [{f.rule}]" for f in findings]
    decisions = [
        f"{o.scenario.title}: {o.result.decision.replace('_', ' ')}, "
        f"expected {o.scenario.expect}."
        for o in outcomes
    ]
    if limit is not None and len(decisions) > limit:
        rest = len(decisions) - limit
        decisions = [*decisions[:limit], f"({rest} more in the evidence.)"]
    return " ".join(parts + decisions)
