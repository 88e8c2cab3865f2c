"""Which trails record the key's KMS events, and which alarms really fire on them.

The guide's alarms watch AWS/KMS metrics that do not exist (CORRECTIONS.md point
12). What works (point 13) is a CloudWatch Logs metric filter on a log group a
KMS-recording trail delivers to, with an alarm that has an action, or an enabled
EventBridge rule with a target. :func:`alert_check` follows those paths for
sample CloudTrail records of the events an item cares about.

- AWS/KMS metrics: https://docs.aws.amazon.com/kms/latest/developerguide/monitoring-cloudwatch.html
- CloudTrail events reach EventBridge only with a logging trail, and read-only
  ones only for rules in state ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS:
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from wizard.core.arn import parse_arn
from wizard.core.checklist.patterns import (
    PatternError,
    cloudtrail_record,
    event_matches,
    eventbridge_event,
    filter_matches,
)
from wizard.core.snapshot import AccountSnapshot, Trail, Unknown

REAL_KMS_METRICS = frozenset(
    {
        "SecondsUntilKeyMaterialExpiration",
        "ExternalKeyStoreThrottle",
        "XksExternalKeyManagerStates",
        "XksProxyCertificateDaysToExpire",
        "XksProxyCredentialAge",
        "XksProxyErrors",
        "XksProxyHsmLatency",
        "XksProxyLatency",
    }
)
"""Everything AWS/KMS publishes; an alarm on any other AWS/KMS name never fires."""

ALL_EVENTS_STATE = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"


@dataclass(frozen=True)
class SampleEvent:
    """An event an alarm must catch: a KMS call, optionally failed."""

    label: str
    name: str
    error_code: str | None = None
    read_only: bool = False


@dataclass(frozen=True)
class Coverage:
    """Trails recording the key's KMS management events, and why others don't."""

    trails: tuple[Trail, ...]
    notes: tuple[str, ...]
    unknown: Unknown | None
    """A read that kept some trail from being judged (None: all were judged)."""

    @property
    def log_groups(self) -> frozenset[str]:
        """Names of the log groups those trails deliver to."""
        return frozenset(
            log_group_name(t.log_group_arn) for t in self.trails if t.log_group_arn
        )


def log_group_name(arn: str) -> str:
    """``arn:aws:logs:R:A:log-group:NAME:*`` -> ``NAME``."""
    name = arn.split(":log-group:", 1)[-1]
    return name[:-2] if name.endswith(":*") else name


def kms_trails(snapshot: AccountSnapshot, region: str) -> Coverage | Unknown:
    """The trails that log this region's KMS management events right now."""
    if isinstance(snapshot.trails, Unknown):
        return snapshot.trails
    good: list[Trail] = []
    notes: list[str] = []
    unknown: Unknown | None = None
    for trail in snapshot.trails:
        if not trail.multi_region and trail.home_region != region:
            notes.append(f"trail {trail.name} records only {trail.home_region}")
            continue
        checks = (
            (trail.logging, True, "is not logging (StopLogging)"),
            (trail.management_events, True, "records no management events"),
            (trail.kms_events_excluded, False, "excludes kms.amazonaws.com events"),
        )
        for read, wanted, words in checks:
            if isinstance(read, Unknown):
                unknown = unknown or read
                break
            if read is not wanted:
                notes.append(f"trail {trail.name} {words}")
                break
        else:
            good.append(trail)
    return Coverage(tuple(good), tuple(notes), unknown)


@dataclass
class AlertCheck:
    """Which sample events are watched, by what, and what else was seen."""

    watched: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    unknowns: list[Unknown] = field(default_factory=list)

    def missing(self, events: Sequence[SampleEvent]) -> list[str]:
        """Labels of events nothing watches."""
        return [e.label for e in events if not self.watched.get(e.label)]


def alert_check(
    snapshot: AccountSnapshot,
    events: Sequence[SampleEvent],
    *,
    key_arn: str,
    account: str,
) -> AlertCheck:
    """Follow every alarm path for each sample event."""
    check = AlertCheck({e.label: [] for e in events})
    coverage = kms_trails(snapshot, snapshot.region)
    if isinstance(coverage, Unknown):
        check.unknowns.append(coverage)
        coverage = Coverage((), (), None)
    elif coverage.unknown is not None:
        check.unknowns.append(coverage.unknown)
    if not coverage.trails and not check.unknowns:
        check.problems.append(
            "no logging trail records this region's KMS management events, so "
            "neither metric filters nor EventBridge rules can see them"
            + (f" ({'; '.join(coverage.notes)})" if coverage.notes else "")
        )
    for event in events:
        record = cloudtrail_record(
            event.name,
            key_arn,
            region=snapshot.region,
            account=account,
            error_code=event.error_code,
            read_only=event.read_only,
        )
        _filters(snapshot, coverage, event, record, check)
        if coverage.trails:
            _rules(snapshot, event, eventbridge_event(record), check)
    _bogus_alarms(snapshot, check)
    check.problems = list(dict.fromkeys(check.problems))
    return check


def _filters(
    snapshot: AccountSnapshot,
    coverage: Coverage,
    event: SampleEvent,
    record: dict[str, object],
    check: AlertCheck,
) -> None:
    filters, alarms = snapshot.metric_filters, snapshot.alarms
    for read in (filters, alarms):
        if isinstance(read, Unknown) and read not in check.unknowns:
            check.unknowns.append(read)
    if isinstance(filters, Unknown):
        return
    for mf in filters:
        try:
            if not filter_matches(mf.pattern, record):
                continue
        except PatternError as error:
            check.problems.append(
                f"metric filter {mf.name}: pattern not understood ({error})"
            )
            continue
        if mf.log_group not in coverage.log_groups:
            check.problems.append(
                f"metric filter {mf.name} is on log group {mf.log_group}, which no "
                "trail recording KMS events delivers to"
            )
            continue
        if isinstance(alarms, Unknown):
            continue
        watching = [
            a
            for a in alarms
            if a.namespace == mf.metric_namespace and a.metric_name == mf.metric_name
        ]
        acting = [
            a
            for a in watching
            if a.actions and _heard(snapshot, a.actions, check, f"alarm {a.name}")
        ]
        if acting:
            check.watched[event.label] += [
                f"alarm {a.name} on metric filter {mf.name}" for a in acting
            ]
        elif not any(a.actions for a in watching):
            check.problems.append(
                f"metric filter {mf.name} matches {event.label}, but no alarm with "
                f"an action watches {mf.metric_namespace}/{mf.metric_name}"
            )


def _rules(
    snapshot: AccountSnapshot,
    event: SampleEvent,
    message: dict[str, object],
    check: AlertCheck,
) -> None:
    rules = snapshot.event_rules
    if isinstance(rules, Unknown):
        if rules not in check.unknowns:
            check.unknowns.append(rules)
        return
    for rule in rules:
        try:
            if rule.pattern is None or not event_matches(rule.pattern, message):
                continue
        except PatternError as error:
            check.problems.append(
                f"EventBridge rule {rule.name}: pattern not understood ({error})"
            )
            continue
        states = (
            (ALL_EVENTS_STATE,) if event.read_only else ("ENABLED", ALL_EVENTS_STATE)
        )
        if rule.state not in states:
            needs = (
                f" (read-only events need {ALL_EVENTS_STATE})"
                if event.read_only
                else ""
            )
            check.problems.append(
                f"EventBridge rule {rule.name} matches {event.label} but is "
                f"{rule.state}{needs}"
            )
        elif not rule.targets:
            check.problems.append(
                f"EventBridge rule {rule.name} matches {event.label} but has no target"
            )
        elif _heard(snapshot, rule.targets, check, f"EventBridge rule {rule.name}"):
            check.watched[event.label].append(f"EventBridge rule {rule.name}")


def _heard(
    snapshot: AccountSnapshot, arns: Sequence[str], check: AlertCheck, who: str
) -> bool:
    """Whether what ``who`` sends to ``arns`` reaches anyone; why not into ``check``.

    A target that is not an SNS topic (Lambda, SSM, Auto Scaling...) acts by
    itself. A topic reaches someone only through a confirmed subscription: an
    e-mail nobody confirmed receives nothing. A snapshot that did not read the
    topics (``sns_topics`` None) leaves them as they are.
    """
    topics = snapshot.sns_topics
    if topics is None or any(not _is_topic(arn) for arn in arns):
        return True
    if isinstance(topics, Unknown):
        if topics not in check.unknowns:
            check.unknowns.append(topics)
        return False
    by_arn = {t.arn: t for t in topics}
    deaf, undecided = [], False
    for arn in arns:
        topic = by_arn.get(arn)
        unread = topic.unread if topic is not None else None
        if topic is None or unread is not None:
            why = unread or Unknown(
                "error", f"The subscriptions of SNS topic {arn} were not read."
            )
            if why not in check.unknowns:
                check.unknowns.append(why)
            undecided = True
            continue
        if topic.confirmed:
            return True
        if not topic.exists:
            deaf.append(f"SNS topic {arn}, which does not exist")
        elif topic.pending:
            deaf.append(
                f"SNS topic {arn}, whose {topic.pending} subscription(s) nobody "
                "has confirmed yet"
            )
        else:
            deaf.append(f"SNS topic {arn}, which has no subscription")
    if not undecided:
        check.problems.append(
            f"{who} notifies only {' and '.join(deaf)}: nobody is told"
        )
    return False


def _is_topic(arn: str) -> bool:
    parsed = parse_arn(arn)
    return parsed is not None and parsed.service == "sns"


def _bogus_alarms(snapshot: AccountSnapshot, check: AlertCheck) -> None:
    if isinstance(snapshot.alarms, Unknown):
        return
    for alarm in snapshot.alarms:
        if alarm.namespace == "AWS/KMS" and alarm.metric_name not in REAL_KMS_METRICS:
            check.problems.append(
                f"alarm {alarm.name} watches AWS/KMS {alarm.metric_name}, a metric "
                "AWS does not publish, so it never fires (correction 12)"
            )
