"""Monitoring reads: trails, metric filters, alarms, EventBridge rules, Config
rules, dashboards, and the key's recent CloudTrail events.

These are account-level and read once per run; the snapshot of every key shares
them. Lists are all-or-nothing: if one part cannot be read (one log group, one
rule's targets), the whole field is unknown, because a check such as "an alarm
watches key deletion" must not fail or pass on a partial list.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from wizard.aws import read_s3
from wizard.core.arn import parse_arn
from wizard.core.snapshot import (
    Alarm,
    ConfigRule,
    Dashboard,
    EventRule,
    MetricFilter,
    Read,
    Trail,
    Unknown,
)

if TYPE_CHECKING:
    from wizard.aws.readers import Api

logger = logging.getLogger(__name__)

T = TypeVar("T")
KMS_SOURCE = "kms.amazonaws.com"
EVENT_DAYS = 7
"""How far back the key's CloudTrail events are looked up."""
EVENT_PAGE = 50
"""LookupEvents' largest page: enough to show which calls reach CloudTrail."""


def described_trails(api: Api, region: str) -> Read[list[Mapping[str, Any]]]:
    """cloudtrail:DescribeTrails, shadow trails of other regions included."""
    found = api.call(
        "cloudtrail", "DescribeTrails", region, region=region, includeShadowTrails=True
    )
    if isinstance(found, Unknown):
        return found
    return list(found.get("trailList", []))


def trails(api: Api, region: str) -> Read[tuple[Trail, ...]]:
    """The trails that apply to ``region``, with status, selectors and bucket."""
    raw = described_trails(api, region)
    if isinstance(raw, Unknown):
        return raw
    return tuple(api.fan([partial(_trail, api, region, data) for data in raw]))


def _trail(api: Api, region: str, data: Mapping[str, Any]) -> Trail:
    # Status and selectors of a shadow trail (one created in another region)
    # can only be read by ARN:
    # https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetTrailStatus.html
    arn = str(data.get("TrailARN", ""))
    bucket_name = data.get("S3BucketName")
    status, selectors, bucket = api.fan(
        [
            partial(
                api.call, "cloudtrail", "GetTrailStatus", arn, region=region, Name=arn
            ),
            partial(
                api.call,
                "cloudtrail",
                "GetEventSelectors",
                arn,
                region=region,
                TrailName=arn,
            ),
            partial(_trail_bucket, api, region, bucket_name),
        ]
    )
    logging_on: Read[bool] = status
    if not isinstance(status, Unknown):
        logging_on = bool(status.get("IsLogging", False))
    management: Read[bool] = selectors
    excluded: Read[bool] = selectors
    if not isinstance(selectors, Unknown):
        management, excluded = _management_events(selectors)
    return Trail(
        name=str(data.get("Name", "")),
        arn=arn,
        home_region=str(data.get("HomeRegion", "")),
        multi_region=bool(data.get("IsMultiRegionTrail", False)),
        log_file_validation=bool(data.get("LogFileValidationEnabled", False)),
        s3_bucket=bucket_name,
        log_group_arn=data.get("CloudWatchLogsLogGroupArn"),
        logging=logging_on,
        management_events=management,
        kms_events_excluded=excluded,
        bucket=bucket,
    )


def _trail_bucket(api: Api, region: str, name: str | None) -> Any:
    return read_s3.bucket(api, region, name) if name else None


def _management_events(found: Mapping[str, Any]) -> tuple[bool, bool]:
    """(records management events, every such selector leaves KMS out).

    Basic selectors: IncludeManagementEvents and ExcludeManagementEventSources.
    Advanced selectors: eventCategory = Management, and an eventSource field
    that excludes kms.amazonaws.com (NotEquals) or selects only other sources.
    https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetEventSelectors.html
    """
    excludes_kms: list[bool] = []
    for selector in found.get("EventSelectors") or []:
        if selector.get("IncludeManagementEvents"):
            sources = selector.get("ExcludeManagementEventSources") or []
            excludes_kms.append(KMS_SOURCE in sources)
    for selector in found.get("AdvancedEventSelectors") or []:
        fields = {f.get("Field"): f for f in selector.get("FieldSelectors", [])}
        if "Management" not in (fields.get("eventCategory", {}).get("Equals") or []):
            continue
        source = fields.get("eventSource", {})
        only = source.get("Equals") or []
        excludes_kms.append(
            KMS_SOURCE in (source.get("NotEquals") or [])
            or (bool(only) and KMS_SOURCE not in only)
        )
    return bool(excludes_kms), bool(excludes_kms) and all(excludes_kms)


def _log_groups(raw: Sequence[Mapping[str, Any]]) -> list[str]:
    return sorted(
        {
            str(t["CloudWatchLogsLogGroupArn"])
            for t in raw
            if t.get("CloudWatchLogsLogGroupArn")
        }
    )


def metric_filters(
    api: Api, region: str, account: str | None
) -> Read[tuple[MetricFilter, ...]]:
    """Metric filters on the log groups the trails deliver to."""
    raw = described_trails(api, region)
    if isinstance(raw, Unknown):
        return raw
    groups = _log_groups(raw)
    found = api.fan([partial(_filters_of, api, group, account) for group in groups])
    return _all_or_unknown(found)


def _filters_of(
    api: Api, group_arn: str, account: str | None
) -> Read[tuple[MetricFilter, ...]]:
    arn = parse_arn(group_arn)
    if arn is None or not arn.resource.startswith("log-group:"):
        return Unknown("error", f"{group_arn!r} is not a log group ARN.")
    name = arn.resource.removeprefix("log-group:").removesuffix(":*")
    if account and arn.account != account:
        return Unknown(
            "unsupported",
            f"Log group {name} is in account {arn.account}, not {account}; "
            f"read its metric filters with credentials for {arn.account}.",
            api="logs:DescribeMetricFilters",
        )
    pages = api.pages(
        "logs", "DescribeMetricFilters", name, region=arn.region, logGroupName=name
    )
    if isinstance(pages, Unknown):
        return pages
    return tuple(
        MetricFilter(
            log_group=name,
            name=str(f.get("filterName", "")),
            pattern=str(f.get("filterPattern", "")),
            metric_namespace=str(t.get("metricNamespace", "")),
            metric_name=str(t.get("metricName", "")),
        )
        for page in pages
        for f in page.get("metricFilters", [])
        for t in f.get("metricTransformations", [])
    )


def alarms(api: Api, region: str) -> Read[tuple[Alarm, ...]]:
    """Metric alarms in ``region`` and in the regions of the trails' log groups.

    A metric filter publishes its metric in the log group's region, so the
    alarm on it lives there, which for a multi-region trail may be elsewhere.
    """
    regions = {region}
    raw = described_trails(api, region)
    if not isinstance(raw, Unknown):
        regions |= {a.region for g in _log_groups(raw) if (a := parse_arn(g))}
    found = api.fan([partial(_alarms_in, api, r) for r in sorted(regions)])
    return _all_or_unknown(found)


def _alarms_in(api: Api, region: str) -> Read[tuple[Alarm, ...]]:
    pages = api.pages("cloudwatch", "DescribeAlarms", region, region=region)
    if isinstance(pages, Unknown):
        return pages
    return tuple(
        Alarm(
            name=str(a.get("AlarmName", "")),
            namespace=a.get("Namespace"),
            metric_name=a.get("MetricName"),
            actions=tuple(str(x) for x in a.get("AlarmActions", [])),
            state=str(a.get("StateValue", "")),
            dimensions={
                str(d.get("Name")): str(d.get("Value")) for d in a.get("Dimensions", [])
            },
        )
        for page in pages
        for a in page.get("MetricAlarms", [])
    )


def event_rules(api: Api, region: str) -> Read[tuple[EventRule, ...]]:
    """Rules on the default event bus (where CloudTrail's KMS events arrive)."""
    pages = api.pages("events", "ListRules", region, region=region)
    if isinstance(pages, Unknown):
        return pages
    rules = [r for page in pages for r in page.get("Rules", [])]
    found = api.fan([partial(_rule, api, region, rule) for rule in rules])
    for rule in found:
        if isinstance(rule, Unknown):
            return rule
    return tuple(r for r in found if isinstance(r, EventRule))


def _rule(api: Api, region: str, rule: Mapping[str, Any]) -> Read[EventRule]:
    name = str(rule.get("Name", ""))
    pages = api.pages(
        "events",
        "ListTargetsByRule",
        str(rule.get("Arn", name)),
        region=region,
        Rule=name,
    )
    if isinstance(pages, Unknown):
        return pages
    pattern = _json_object(rule.get("EventPattern"))
    return EventRule(
        name=name,
        pattern=pattern,
        state=str(rule.get("State", "")),
        targets=tuple(
            str(t.get("Arn", "")) for p in pages for t in p.get("Targets", [])
        ),
    )


def config_rules(api: Api, region: str) -> Read[tuple[ConfigRule, ...]]:
    """AWS Config rules in ``region`` and each rule's compliance."""
    pages = api.pages("config", "DescribeConfigRules", region, region=region)
    if isinstance(pages, Unknown):
        return pages
    rules = [r for page in pages for r in page.get("ConfigRules", [])]
    if not rules:
        return ()
    compliance = _compliance(api, region)
    return tuple(
        ConfigRule(
            name=str(rule.get("ConfigRuleName", "")),
            source_identifier=str(rule.get("Source", {}).get("SourceIdentifier", "")),
            compliance=_rule_compliance(
                compliance, str(rule.get("ConfigRuleName", ""))
            ),
        )
        for rule in rules
    )


def _compliance(api: Api, region: str) -> Read[dict[str, str]]:
    pages = api.pages("config", "DescribeComplianceByConfigRule", region, region=region)
    if isinstance(pages, Unknown):
        return pages
    return {
        str(c.get("ConfigRuleName")): str(c.get("Compliance", {}).get("ComplianceType"))
        for page in pages
        for c in page.get("ComplianceByConfigRules", [])
    }


def _rule_compliance(compliance: Read[dict[str, str]], name: str) -> Read[str]:
    if isinstance(compliance, Unknown):
        return compliance
    if name not in compliance:
        return Unknown(
            "not_found",
            f"AWS Config returned no compliance for rule {name}.",
            api="config:DescribeComplianceByConfigRule",
        )
    return compliance[name]


def dashboards(api: Api, region: str) -> Read[tuple[Dashboard, ...]]:
    """CloudWatch dashboards with their bodies."""
    pages = api.pages("cloudwatch", "ListDashboards", region, region=region)
    if isinstance(pages, Unknown):
        return pages
    names = [
        str(d["DashboardName"]) for p in pages for d in p.get("DashboardEntries", [])
    ]
    found = api.fan([partial(_dashboard, api, region, name) for name in names])
    for board in found:
        if isinstance(board, Unknown):
            return board
    return tuple(b for b in found if isinstance(b, Dashboard))


def _dashboard(api: Api, region: str, name: str) -> Read[Dashboard]:
    found = api.call(
        "cloudwatch", "GetDashboard", name, region=region, DashboardName=name
    )
    if isinstance(found, Unknown):
        return found
    return Dashboard(name=name, body=_json_object(found.get("DashboardBody")) or {})


def key_events(
    api: Api, region: str, key_arn: str
) -> Read[tuple[Mapping[str, Any], ...]]:
    """The most recent CloudTrail management events naming the key.

    One page of at most ``EVENT_PAGE`` events, newest first, over the last
    ``EVENT_DAYS`` days. The checks only ask whether the key's events reach
    CloudTrail and which ones: a busy Harbor key logs thousands of Decrypt
    events a day, and paging through all of them at the two LookupEvents
    requests per second an account and region allows would take minutes
    (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html).
    """
    end = datetime.now(UTC)
    page = api.call(
        "cloudtrail",
        "LookupEvents",
        key_arn,
        region=region,
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": key_arn}],
        StartTime=end - timedelta(days=EVENT_DAYS),
        EndTime=end,
        MaxResults=EVENT_PAGE,
    )
    if isinstance(page, Unknown):
        return page
    return tuple(_event(e) for e in page.get("Events", []))


def _event(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The full CloudTrail record; the summary fields if it cannot be parsed."""
    record = _json_object(event.get("CloudTrailEvent"))
    if record is not None:
        return record
    return {
        "eventName": event.get("EventName"),
        "eventSource": event.get("EventSource"),
        "eventTime": str(event.get("EventTime", "")),
        "username": event.get("Username"),
    }


def _json_object(text: Any) -> dict[str, Any] | None:
    if not isinstance(text, str):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _all_or_unknown(parts: Sequence[Read[tuple[T, ...]]]) -> Read[tuple[T, ...]]:
    """The parts joined, or the first Unknown among them."""
    joined: list[T] = []
    for part in parts:
        if isinstance(part, Unknown):
            return part
        joined.extend(part)
    return tuple(joined)
