"""Planning the monitoring changes: trail, alarms, EventBridge, Config, dashboard.

Whether each already holds is decided with the checklist's own tests
(:mod:`wizard.core.apply.targets`), so what apply fixes is what the audit checks.
"""

from __future__ import annotations

from typing import Any

from wizard.core.apply import targets
from wizard.core.apply.documents import watches
from wizard.core.apply.model import Change, Step
from wizard.core.apply.plan_context import Outcome, PlanContext, held
from wizard.core.apply.requests_monitoring import (
    alarm_steps,
    config_rule_steps,
    dashboard_steps,
    event_rule_steps,
    topic_steps,
    trail_steps,
)


def plan_trail(ctx: PlanContext) -> Outcome:
    """The trail recording KMS events into CloudWatch Logs, if none does."""
    found = targets.trail(ctx.snapshot, ctx.names)
    if found.status == "satisfied":
        ctx.log_group, ctx.trail_logging = found.extra["log_group"], True
        return held(found)
    if found.status == "blocked":
        ctx.trail_reason = found.reason
        return held(found)
    ctx.trail_planned, ctx.trail_logging = True, True
    ctx.log_group = (ctx.values.region, ctx.names.log_group)
    names = ctx.names
    return Change(
        id="create-trail",
        title="Record KMS events with a multi-region CloudTrail trail",
        reads_now=found.reads_now,
        will_write=f"Trail {names.trail} (all regions, log file validation) into "
        f"bucket {names.trail_bucket} (public access blocked) and log group "
        f"{names.log_group}, with role {names.trail_role} for the delivery.",
        why=ctx.why(
            "create-trail",
            "Without a trail recording KMS events there is "
            "no audit record and nothing for the alarms to watch.",
        ),
        undo="Stop and delete the trail, delete the role and the log group; the "
        "bucket is deleted only if still empty (log files are kept).",
        steps=trail_steps(names),
        notes=(
            *found.extra.get("notes", ()),
            "A new IAM role can take seconds to reach CloudTrail; apply retries "
            "CreateTrail briefly while AWS says the role is not usable yet.",
        ),
    )


def _missing_email(ctx: PlanContext) -> tuple[str, ...]:
    if ctx.values.alarm_email:
        return ()
    return ("alarm_email: who is told (--alarm-email or [monitoring] alarm_email)",)


def plan_alarms(ctx: PlanContext) -> Outcome:
    """Metric filters and alarms on the trail's log group, notifying the topic.

    An alarm counts as in place whether or not anyone has confirmed its
    topic's e-mail subscription: confirming is the recipient's step. The audit's
    alarm items fail until someone has (wizard.core.checklist.alerting).
    """
    if ctx.log_group is None:
        return "blocked", (
            "The alarms need a trail that delivers KMS events to CloudWatch Logs. "
            + (ctx.trail_reason or "")
        ).strip()
    region, group = ctx.log_group
    if region != ctx.values.region:
        return "blocked", (
            f"The trail delivers to log group {group} in {region}; metric filters "
            f"must live there. Run apply with --region {region}."
        )
    all_watches = watches(ctx.names)
    found = targets.alarms(ctx.snapshot, ctx.names, group, all_watches)
    ctx.alarm_names = tuple(found.extra.get("alarms", ()))
    if found.status != "needed":
        return held(found)
    needed: tuple[Any, ...] = found.extra["watches"]
    email = ctx.values.alarm_email or "<alarm_email>"
    steps: tuple[Step, ...] = topic_steps(ctx.names, email)
    steps += alarm_steps(ctx.names, group, needed)
    ctx.alarms_planned = True
    ctx.alarm_names += tuple(ctx.names.per_key(w.slug) for w in needed)
    notes = (
        [f"Left alone (exist with other settings): {', '.join(found.extra['in_way'])}."]
        if found.extra["in_way"]
        else []
    )
    return Change(
        id="create-alarms",
        title="Alarm on KMS events that matter (CORRECTIONS.md 12-13)",
        reads_now=found.reads_now,
        will_write=f"SNS topic {ctx.names.topic} with an e-mail subscription to "
        f"{email}; on log group {group}, a metric filter and an alarm for: "
        + "; ".join(w.title for w in needed)
        + ".",
        why=ctx.why(
            "create-alarms",
            "The guide's alarms watch AWS/KMS metrics "
            "that do not exist; CloudTrail metric filters do fire.",
        ),
        undo="Delete the alarms and metric filters; delete the topic (and with it "
        "the subscription) if this apply created it.",
        steps=steps,
        missing=_missing_email(ctx),
        notes=(
            *notes,
            "SNS mails a confirmation link; alerts reach "
            f"{email} only after it is confirmed.",
        ),
        depends_on=("create-trail",) if ctx.trail_planned else (),
    )


def plan_event_rules(ctx: PlanContext) -> Outcome:
    """EventBridge rules for the same events (only when asked for)."""
    if not ctx.trail_logging:
        return "blocked", (
            "EventBridge sees KMS calls only through a logging CloudTrail trail. "
            + ctx.trail_reason
        ).strip()
    found = targets.event_rules(ctx.snapshot, ctx.names, watches(ctx.names))
    if found.status != "needed":
        return held(found)
    email = ctx.values.alarm_email or "<alarm_email>"
    rules: tuple[str, ...] = found.extra["rules"]
    return Change(
        id="create-event-rules",
        title="EventBridge rules for the same KMS events",
        reads_now=found.reads_now,
        will_write=f"Rules {', '.join(rules)} on the default event bus, each "
        f"sending matches to SNS topic {ctx.names.topic} ({email}).",
        why=ctx.why(
            "create-event-rules",
            "Alerts within seconds of the call, alongside the metric filter alarms.",
        ),
        undo="Remove the targets, delete the rules; delete the topic if this apply "
        "created it.",
        steps=topic_steps(ctx.names, email) + event_rule_steps(ctx.names, rules),
        missing=_missing_email(ctx),
        notes=(
            "The access-denied rule is put in state "
            "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS, because denied Decrypt "
            "and DescribeKey calls are read-only events.",
        ),
        depends_on=("create-trail",) if ctx.trail_planned else (),
    )


def plan_config_rule(ctx: PlanContext) -> Outcome:
    """The AWS managed rule CMK_BACKING_KEY_ROTATION_ENABLED.

    TODO: whether AWS Config records in the region is not read, so a missing
    recorder shows up only when PutConfigRule is refused (the plan warns of it).
    """
    found = targets.config_rule(ctx.snapshot)
    if found.status != "needed":
        return held(found)
    return Change(
        id="create-config-rule",
        title="AWS Config rule CMK_BACKING_KEY_ROTATION_ENABLED",
        reads_now=found.reads_now,
        will_write=f"config:PutConfigRule {ctx.names.config_rule}, AWS managed rule "
        "CMK_BACKING_KEY_ROTATION_ENABLED, scoped to AWS::KMS::Key.",
        why=ctx.why(
            "create-config-rule",
            "Config reports any key whose rotation is turned off (CORRECTIONS.md 14).",
        ),
        undo="Delete the Config rule.",
        steps=config_rule_steps(ctx.names),
        notes=(
            "AWS Config must be recording in this region (a configuration "
            "recorder); without one AWS refuses the rule.",
        ),
    )


def plan_dashboard(ctx: PlanContext) -> Outcome:
    """A dashboard of AWS/Usage CallCount for KMS and the alarm states."""
    found = targets.dashboard(ctx.snapshot, ctx.names)
    if found.status != "needed":
        return held(found)
    return Change(
        id="create-dashboard",
        title="Dashboard of KMS call counts and alarm states",
        reads_now=found.reads_now,
        will_write=f"Dashboard {ctx.names.dashboard}: AWS/Usage CallCount for KMS "
        "(GenerateDataKey, Decrypt, Encrypt, DescribeKey; whole account and "
        "region)"
        + (
            f" and the states of {len(ctx.alarm_names)} alarms."
            if ctx.alarm_names
            else "."
        ),
        why=ctx.why(
            "create-dashboard",
            "The guide's dashboard charts AWS/KMS "
            "metrics that do not exist (CORRECTIONS.md 12).",
        ),
        undo="Delete the dashboard.",
        steps=dashboard_steps(ctx.names, ctx.alarm_names),
        depends_on=("create-alarms",) if ctx.alarms_planned else (),
    )
