"""Access Control, network conditions: VPC endpoints and source addresses.

Whether S3's call to KMS on Harbor's behalf carries ``aws:SourceVpce`` or
``aws:SourceIp`` is not reliably documented (CORRECTIONS.md point 5), so the
conditions must be a Deny of Harbor's *own* calls that exempts calls made by an
AWS service (``aws:ViaAWSService``). Each item simulates Harbor's role calling
KMS itself from outside the configured networks (it must be denied) and checks
that S3's calls for Harbor still work.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-viaawsservice
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

from wizard.core.checklist.context import (
    KMS_ALL,
    EvalContext,
    analysis_or_verdict,
    explain,
    policy_evidence,
)
from wizard.core.checklist.evaluators import evaluator
from wizard.core.checklist.model import Verdict
from wizard.core.policy.scenarios import harbor_session_arn
from wizard.core.policy.simulate import Request

# Documentation addresses (RFC 5737, RFC 3849) and endpoint ids no one owns.
_OUTSIDE_ADDRESSES = ("192.0.2.10", "198.51.100.10", "203.0.113.10", "2001:db8::10")
_OUTSIDE_VPCES = ("vpce-0000000000000000a", "vpce-1111111111111111b")


def _network_verdict(
    ctx: EvalContext, outside: Mapping[str, str], what: str, rules: Sequence[str]
) -> Verdict:
    analysis = analysis_or_verdict(ctx, "harbor_role_arn=harbor.role_arn")
    if isinstance(analysis, Verdict):
        return analysis
    context = {**outside, "aws:ViaAWSService": "false"}
    request = Request(
        harbor_session_arn(ctx.values),
        "kms:DescribeKey",
        ctx.values.key_arn,
        context,
        (KMS_ALL,),
        True,
    )
    decision = analysis.evaluator.evaluate(request).decision
    findings = analysis.findings_of(rules, principal=ctx.values.harbor_role_arn)
    broken = [
        o
        for i in ("harbor-upload", "harbor-download", "harbor-upload-network-keys")
        if (o := analysis.outcome(i)) is not None and not o.ok
    ]
    evidence = policy_evidence(ctx, findings, broken)
    if decision != "explicit_deny":
        findings_words = explain(findings, broken)
        return ctx.failed(
            f"Harbor's role calling KMS itself from {what} is not denied "
            f"({decision.replace('_', ' ')}). {findings_words}".strip(),
            evidence,
        )
    if findings or broken:
        return ctx.failed(explain(findings, broken), evidence)
    return ctx.passed(
        f"Harbor's own calls from {what} are denied; S3's calls on its behalf "
        "are exempt (aws:ViaAWSService).",
        evidence,
    )


_NETWORK_RULES = (
    "network-deny-without-service-exemption",
    "network-condition-on-forwarded-call",
)


@evaluator("access_vpce_condition")
def access_vpce_condition(ctx: EvalContext) -> Verdict:
    """Guide: "VPC endpoint conditions added (if applicable)" (correction 5)."""
    configured = ctx.values.source_vpce
    if not configured:
        return ctx.passed(
            "Not applicable: the values name no VPC endpoint (conditions."
            "source_vpce is empty), so no endpoint condition is expected.",
            ctx.evidence("config", source_vpce=[]),
        )
    outside = next(v for v in _OUTSIDE_VPCES if v not in configured)
    return _network_verdict(
        ctx,
        {"aws:SourceVpce": outside},
        f"another VPC endpoint ({outside})",
        _NETWORK_RULES,
    )


@evaluator("access_source_ip_condition")
def access_source_ip_condition(ctx: EvalContext) -> Verdict:
    """Guide: "IP address restrictions added (if applicable)" (correction 5)."""
    configured = ctx.values.source_ip
    if not configured:
        return ctx.passed(
            "Not applicable: the values name no source network (conditions."
            "source_ip is empty), so no address condition is expected.",
            ctx.evidence("config", source_ip=[]),
        )
    networks = [ipaddress.ip_network(c, strict=False) for c in configured]
    outside = next(
        (
            a
            for a in _OUTSIDE_ADDRESSES
            if not any(ipaddress.ip_address(a) in n for n in networks)
        ),
        None,
    )
    if outside is None:
        return ctx.passed(
            "The configured networks cover every address tried; nothing is outside.",
            ctx.evidence("config", source_ip=list(configured)),
        )
    return _network_verdict(
        ctx,
        {"aws:SourceIp": outside},
        f"outside the configured networks ({outside})",
        _NETWORK_RULES,
    )
