"""Monitoring and Auditing: the trail, its bucket, the dashboard, alarms, Config.

The guide's metrics (KeyRotationEnabled, UserErrorCount, NumberOf...Calls) do not
exist (CORRECTIONS.md point 12); its alarms are judged by what really fires
(point 13, :mod:`wizard.core.checklist.alerting`), its dashboard by whether it
charts AWS/Usage CallCount for KMS.
https://docs.aws.amazon.com/kms/latest/developerguide/monitoring-cloudwatch.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Usage-Metrics.html
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from wizard.core.checklist.alerting import (
    REAL_KMS_METRICS,
    SampleEvent,
    alert_check,
    kms_trails,
)
from wizard.core.checklist.context import EvalContext
from wizard.core.checklist.evaluators import evaluator
from wizard.core.checklist.evaluators.rotation import (
    DISABLE_ROTATION,
    ROTATION_RULE,
    account,
    key_arn,
)
from wizard.core.checklist.model import Verdict
from wizard.core.snapshot import Bucket, Trail, Unknown

PUBLIC_BLOCKS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)


def _trails_or_verdict(ctx: EvalContext) -> tuple[Trail, ...] | Verdict:
    """The KMS-recording trails, or the verdict when there are none."""
    coverage = kms_trails(ctx.snapshot, ctx.snapshot.region)
    if isinstance(coverage, Unknown):
        return ctx.unknown(coverage)
    if coverage.trails:
        return coverage.trails
    if coverage.unknown is not None:
        return ctx.unknown(coverage.unknown)
    why = "; ".join(coverage.notes) or "the account has no trail"
    return ctx.failed(
        f"No logging trail records KMS management events in {ctx.snapshot.region} "
        f"({why}).",
        ctx.evidence("cloudtrail:DescribeTrails", notes=list(coverage.notes)),
    )


@evaluator("cloudtrail_enabled")
def cloudtrail_enabled(ctx: EvalContext) -> Verdict:
    """Guide: "CloudTrail enabled for KMS events".

    A logging trail, multi-Region or in the key's region, recording management
    events without excluding kms.amazonaws.com.
    """
    trails = _trails_or_verdict(ctx)
    if isinstance(trails, Verdict):
        return trails
    names = [t.name for t in trails]
    return ctx.passed(
        f"Trail {', '.join(names)} logs this region's KMS management events.",
        ctx.evidence("cloudtrail:GetTrailStatus", trails=names),
    )


@evaluator("cloudtrail_log_validation")
def cloudtrail_log_validation(ctx: EvalContext) -> Verdict:
    """Guide: the trail of "CloudTrail Logging" uses --enable-log-file-validation."""
    trails = _trails_or_verdict(ctx)
    if isinstance(trails, Verdict):
        return trails
    valid = [t.name for t in trails if t.log_file_validation]
    evidence = ctx.evidence(
        "cloudtrail:DescribeTrails",
        LogFileValidationEnabled={t.name: t.log_file_validation for t in trails},
    )
    if valid:
        return ctx.passed(
            f"Log file validation is on for {', '.join(valid)}: tampering with "
            "delivered logs can be detected.",
            evidence,
        )
    return ctx.failed(
        "Log file validation is off for every trail recording KMS events, so "
        "altered or deleted log files go unnoticed.",
        evidence,
    )


def _public_allows(policy: Mapping[str, Any] | None) -> list[str]:
    """Sids of bucket policy statements allowing everyone without conditions."""
    if not policy:
        return []
    body = policy.get("Statement", [])
    found = []
    for index, stmt in enumerate(body if isinstance(body, list) else [body]):
        if not isinstance(stmt, Mapping) or stmt.get("Effect") != "Allow":
            continue
        principal = stmt.get("Principal")
        anyone = principal == "*" or (
            isinstance(principal, Mapping) and "*" in _listed(principal.get("AWS"))
        )
        if anyone and not stmt.get("Condition"):
            found.append(str(stmt.get("Sid") or f"#{index}"))
    return found


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@evaluator("cloudtrail_bucket_secure")
def cloudtrail_bucket_secure(ctx: EvalContext) -> Verdict:
    """Guide: "CloudTrail logs stored in secure S3 bucket".

    All four public access blocks on, and no bucket policy statement open to
    everyone without conditions (Config rule cloudtrail-s3-bucket-public-access-
    prohibited checks the same).
    """
    trails = _trails_or_verdict(ctx)
    if isinstance(trails, Verdict):
        return trails
    problems: list[str] = []
    for trail in trails:
        if trail.bucket is None:
            return ctx.unknown(
                f"The bucket of trail {trail.name} ({trail.s3_bucket}) was not read."
            )
        if isinstance(trail.bucket, Unknown):
            return ctx.unknown(trail.bucket)
        problem = _bucket_problem(trail.bucket)
        if isinstance(problem, Unknown):
            return ctx.unknown(problem)
        if problem:
            problems.append(problem)
    evidence = ctx.evidence(
        "s3:GetBucketPublicAccessBlock", buckets=[t.s3_bucket for t in trails]
    )
    if problems:
        return ctx.failed(" ".join(problems), evidence)
    return ctx.passed(
        "The trail bucket blocks all public access and its policy opens it to no one.",
        evidence,
    )


def _bucket_problem(bucket: Bucket) -> str | Unknown:
    block, policy = bucket.public_access_block, bucket.policy
    if isinstance(block, Unknown):
        return block
    if isinstance(policy, Unknown):
        return policy
    off = [name for name in PUBLIC_BLOCKS if not (block or {}).get(name)]
    words = []
    if off:
        words.append(f"public access blocks off: {', '.join(off)}")
    public = _public_allows(policy)
    if public:
        words.append(f"policy statements open to everyone: {', '.join(public)}")
    return f"Bucket {bucket.name}: {'; '.join(words)}." if words else ""


def dashboard_metrics(
    body: Mapping[str, Any],
) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(namespace, metric, dimensions) of every metric a dashboard charts.

    Dashboard rows may write "." for "same as the row above"; that is expanded.
    """
    widgets = body.get("widgets", [])
    for widget in widgets if isinstance(widgets, list) else []:
        properties = widget.get("properties", {}) if isinstance(widget, Mapping) else {}
        rows = properties.get("metrics", []) if isinstance(properties, Mapping) else []
        previous: list[Any] = []
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, list):
                continue
            parts = [p for p in row if not isinstance(p, Mapping)]
            parts = [
                previous[i] if p == "." and i < len(previous) else p
                for i, p in enumerate(parts)
            ]
            previous = parts
            if len(parts) >= 2 and all(isinstance(p, str) for p in parts):
                dims = dict(zip(parts[2::2], parts[3::2], strict=False))
                yield parts[0], parts[1], dims


@evaluator("cloudwatch_dashboard")
def cloudwatch_dashboard(ctx: EvalContext) -> Verdict:
    """Guide: "CloudWatch dashboard created for KMS metrics" (correction 12).

    Passes on a dashboard charting AWS/Usage CallCount with Service=KMS; one that
    charts the guide's AWS/KMS NumberOf...Calls shows nothing.
    """
    dashboards = ctx.snapshot.dashboards
    if isinstance(dashboards, Unknown):
        return ctx.unknown(dashboards)
    good, bogus = [], []
    for board in dashboards:
        for namespace, metric, dims in dashboard_metrics(board.body):
            if (namespace, metric) == ("AWS/Usage", "CallCount") and dims.get(
                "Service"
            ) == "KMS":
                good.append(board.name)
            elif namespace == "AWS/KMS" and metric not in REAL_KMS_METRICS:
                bogus.append(f"{board.name} charts AWS/KMS {metric}")
    evidence = ctx.evidence(
        "cloudwatch:GetDashboard", dashboards=[d.name for d in dashboards]
    )
    if good:
        return ctx.passed(
            f"Dashboard {', '.join(dict.fromkeys(good))} charts KMS call counts "
            "(AWS/Usage CallCount, per account and region).",
            evidence,
        )
    extra = (
        f" {'; '.join(bogus)}, a metric AWS does not publish (correction 12)."
        if bogus
        else ""
    )
    return ctx.failed(
        "No dashboard charts AWS/Usage CallCount for KMS." + extra, evidence
    )


def _alarm(ctx: EvalContext, events: Sequence[SampleEvent], what: str) -> Verdict:
    check = alert_check(
        ctx.snapshot, events, key_arn=key_arn(ctx), account=account(ctx)
    )
    missing = check.missing(events)
    evidence = ctx.evidence(
        "cloudwatch:DescribeAlarms", watched=check.watched, problems=check.problems
    )
    if not missing:
        found = "; ".join(w for e in events for w in check.watched[e.label])
        return ctx.passed(f"{what} is alerted on: {found}.", evidence)
    if check.unknowns:
        return ctx.unknown(check.unknowns[0], evidence)
    problems = "; ".join(check.problems)
    return ctx.failed(
        f"Nothing alerts on {' or '.join(missing)}."
        + (f" {problems[:1].upper()}{problems[1:]}." if problems else ""),
        evidence,
    )


@evaluator("alarm_decrypt_failures")
def alarm_decrypt_failures(ctx: EvalContext) -> Verdict:
    """Guide: "CloudWatch alarms configured for: High decrypt failures".

    The guide's UserErrorCount does not exist (correction 12); an access-denied
    Decrypt must reach an alarm through CloudTrail (correction 13).
    """
    event = SampleEvent("access-denied Decrypt", "Decrypt", "AccessDenied", True)
    return _alarm(ctx, (event,), "An access-denied KMS call")


@evaluator("alarm_rotation_disabled")
def alarm_rotation_disabled(ctx: EvalContext) -> Verdict:
    """Guide: "CloudWatch alarm configured for rotation status" and "CloudWatch
    alarms configured for: Rotation disabled" (corrections 12-13)."""
    return _alarm(ctx, (DISABLE_ROTATION,), "Disabling rotation")


@evaluator("alarm_policy_changes")
def alarm_policy_changes(ctx: EvalContext) -> Verdict:
    """Guide: "CloudWatch alarms configured for: Policy changes" (correction 13)."""
    return _alarm(
        ctx, (SampleEvent("PutKeyPolicy", "PutKeyPolicy"),), "A policy change"
    )


@evaluator("alarm_key_deletion")
def alarm_key_deletion(ctx: EvalContext) -> Verdict:
    """Guide: "CloudWatch alarms configured for: Key deletion scheduled".

    CIS 4.7 / Security Hub CloudWatch.7 (correction 13): both DisableKey and
    ScheduleKeyDeletion must be caught.
    """
    events = (
        SampleEvent("DisableKey", "DisableKey"),
        SampleEvent("ScheduleKeyDeletion", "ScheduleKeyDeletion"),
    )
    return _alarm(ctx, events, "Disabling or scheduling deletion of the key")


@evaluator("config_rule_rotation")
def config_rule_rotation(ctx: EvalContext) -> Verdict:
    """Guide: "AWS Config rule enabled for key rotation" (correction 14: right)."""
    rules = ctx.snapshot.config_rules
    if isinstance(rules, Unknown):
        return ctx.unknown(rules)
    found = [r for r in rules if r.source_identifier == ROTATION_RULE]
    evidence = ctx.evidence(
        "config:DescribeConfigRules", rules=[r.source_identifier for r in rules]
    )
    if not found:
        return ctx.failed(f"No AWS Config rule uses {ROTATION_RULE}.", evidence)
    compliance = found[0].compliance
    shown = (
        f"its compliance could not be read ({compliance.reason})"
        if isinstance(compliance, Unknown)
        else f"compliance {compliance}"
    )
    return ctx.passed(
        f"Config rule {found[0].name} ({ROTATION_RULE}) is in place; {shown}.",
        evidence,
    )
