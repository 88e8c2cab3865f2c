"""CloudTrail to CloudWatch Logs in the sandbox: records, metric filters, alarms.

moto 5.2 keeps trails, log groups, metric filters and alarms but connects none
of them. When the layer records a CloudTrail event (:mod:`.cloudtrail_layer`),
:meth:`LogDelivery._deliver` does what CloudTrail and CloudWatch would:

1. Every trail that is logging, has ``CloudWatchLogsLogGroupArn`` set, covers
   the event's region (multi-Region in the same partition, or the trail's home
   region) and whose event selectors take the event (none: all management
   events; basic selectors: ``IncludeManagementEvents``, ``ReadWriteType``,
   ``ExcludeManagementEventSources``; advanced selectors by their field
   selectors) gets the full record, as one log event whose message is the
   record's JSON, in the stream ``<account>_CloudTrail_<region>`` (created if
   missing) of its log group:
   https://docs.aws.amazon.com/awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html
   https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-log-group-log-stream-naming-for-cloudtrail.html
   (older versions of the naming page say source region, the current one
   "trail_region"; the sandbox names the stream after the event's region).
2. Each metric filter of that log group whose pattern matches the record
   (:mod:`.filter_patterns`) puts one data point into moto's CloudWatch: its
   ``metricValue`` (a number, or a ``$.field`` holding one), with its
   ``dimensions`` resolved from the record and its ``unit``.
3. The alarms on that metric are evaluated (:mod:`.alarm_state`).

Not modelled: the delay of real delivery (minutes; here it is immediate), the
``CloudWatchLogsRoleArn`` and its permissions (never evaluated), organization
trails, events over 256 KB, ``defaultValue`` (AWS publishes it for ingested
events that do not match; here nothing is published for them), and events
aged with ``age_events`` (delivered once, when recorded, never moved).
Everything here runs after moto has answered: a failure is logged at debug
and never changes the caller's response.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable, Mapping
from typing import Any

from wizard.aws.sandbox.alarm_state import evaluate_alarms
from wizard.aws.sandbox.filter_patterns import PatternError, compile_pattern, select
from wizard.aws.sandbox.moto_access import MotoAccess
from wizard.aws.sandbox.trail_events import _Event
from wizard.core.arn import parse_arn
from wizard.core.regions import partition_of

logger = logging.getLogger(__name__)

# moto's state is module-global and not thread-safe; one delivery at a time
# keeps a log event, its data points and the alarm states consistent.
_DELIVERY_LOCK = threading.Lock()


def _covers(trail: Any, region: str) -> bool:
    if trail.is_multi_region:
        return partition_of(str(trail.region_name)) == partition_of(region)
    return bool(trail.region_name == region)


def _basic_takes(selector: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """A basic event selector: management events by read/write and source."""
    if not selector.get("IncludeManagementEvents", True):
        return False
    excluded = selector.get("ExcludeManagementEventSources") or []
    if record.get("eventSource") in excluded:
        return False
    kind = str(selector.get("ReadWriteType", "All"))
    return kind == "All" or (kind == "ReadOnly") == bool(record.get("readOnly"))


_FIELD_TESTS: dict[str, Callable[[str, str], bool]] = {
    "Equals": lambda value, wanted: value == wanted,
    "StartsWith": lambda value, wanted: value.startswith(wanted),
    "EndsWith": lambda value, wanted: value.endswith(wanted),
}


def _field_values(record: Mapping[str, Any], field: str) -> list[str]:
    if field == "readOnly":
        return [str(bool(record.get("readOnly"))).lower()]
    if field.startswith("resources."):
        name = field.removeprefix("resources.")
        return [str(r.get(name, "")) for r in record.get("resources") or []]
    return [str(record.get(field, ""))]


def _advanced_takes(selector: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """An advanced selector takes the event when all its field selectors do.

    https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_AdvancedFieldSelector.html
    """
    for field in selector.get("FieldSelectors") or []:
        values = _field_values(record, str(field.get("Field", "")))
        for op, test in _FIELD_TESTS.items():
            wanted = field.get(op) or []
            if wanted and not any(test(v, w) for v in values for w in wanted):
                return False
            unwanted = field.get(f"Not{op}") or []
            if any(test(v, w) for v in values for w in unwanted):
                return False
    return True


def _takes(trail: Any, record: Mapping[str, Any]) -> bool:
    """Whether the trail's event selectors log ``record`` (a management event)."""
    basic, advanced = trail.event_selectors, trail.advanced_event_selectors
    if advanced:
        return any(_advanced_takes(s, record) for s in advanced)
    if basic:
        return any(_basic_takes(s, record) for s in basic)
    return True  # a trail with no selectors logs every management event


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _datum(transform: Mapping[str, Any], record: Any) -> dict[str, Any] | None:
    """The data point a matching filter puts; None if the record lacks a field."""
    raw = str(transform.get("metricValue", ""))
    if raw.startswith("$"):
        # A JSON field must hold a number; "1.08" (eventVersion) is text.
        found = select(record, raw)
        value = _number(found) if isinstance(found, int | float) else None
    else:
        value = _number(raw)
    if value is None:
        return None
    dimensions = []
    for name, field in (transform.get("dimensions") or {}).items():
        found = select(record, str(field))
        if found is None:
            return None
        dimensions.append({"Name": str(name), "Value": str(found)})
    datum: dict[str, Any] = {
        "MetricName": str(transform["metricName"]),
        "Value": value,
        "Dimensions": dimensions,
    }
    if transform.get("unit"):
        datum["Unit"] = transform["unit"]
    return datum


class LogDelivery(MotoAccess):
    """Delivers recorded events to CloudWatch Logs, metrics and alarms."""

    def _deliver(self, event: _Event) -> None:
        """Deliver ``event`` as the trails covering it would; never raises."""
        try:
            record = json.loads(event.view["CloudTrailEvent"])
            with _DELIVERY_LOCK:
                for trail in self._trails(event.account):
                    group = trail.cw_log_group_arn
                    if not (trail.status.is_logging and group):
                        continue
                    if _covers(trail, event.region) and _takes(trail, record):
                        self._put_log_event(str(group), event, record)
        except Exception:
            # Bookkeeping must never turn a call moto answered into a failure.
            logger.debug("could not deliver a %s event", event.region, exc_info=True)

    def _put_log_event(self, group_arn: str, event: _Event, record: Any) -> None:
        arn = parse_arn(group_arn)
        if arn is None or not arn.resource.startswith("log-group:"):
            logger.debug("trail log group %r is not a log group ARN", group_arn)
            return
        group = arn.resource.removeprefix("log-group:").removesuffix(":*")
        logs = self._logs_backend(arn.account, arn.region)
        if group not in logs.groups:
            logger.debug("trail log group %s does not exist", group)
            return
        stream = f"{event.account}_CloudTrail_{event.region}"
        logs.ensure_log_stream(group, stream)
        message = event.view["CloudTrailEvent"]
        line = {"timestamp": int(event.time * 1000), "message": message}
        logs.put_log_events(group, stream, [line])
        self._apply_filters(logs, arn.account, arn.region, group, record)

    def _apply_filters(
        self, logs: Any, account: str, region: str, group: str, record: Any
    ) -> None:
        # PutMetricFilter replaces a filter of the same name; moto appends.
        filters = {
            f["filterName"]: f
            for f in logs.filters.get_matching_filters(log_group_name=group)
        }
        for name, found in filters.items():
            try:
                matches = compile_pattern(str(found.get("filterPattern", "")))
            except PatternError as error:
                logger.debug("metric filter %s skipped: %s", name, error)
                continue
            if not matches(record):
                continue
            for transform in found.get("metricTransformations") or []:
                datum = _datum(transform, record)
                if datum is None:
                    continue
                namespace = str(transform["metricNamespace"])
                cloudwatch = self._cloudwatch_backend(account, region)
                cloudwatch.put_metric_data(namespace, [datum])
                evaluate_alarms(
                    cloudwatch, namespace, datum["MetricName"], datum["Dimensions"]
                )
