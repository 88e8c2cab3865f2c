"""Metric alarms in the sandbox: evaluated when a metric filter adds a data point.

moto 5.2 stores alarms and metric data but never evaluates one against the
other: an alarm stays in the state it was created in (``OK`` in moto, where AWS
starts at ``INSUFFICIENT_DATA``). :func:`evaluate_alarms` runs after the layer
puts a data point (:mod:`.log_delivery`): for each alarm on that metric (same
namespace, name and dimensions) it takes the statistic (Sum, SampleCount,
Average, Minimum or Maximum) of the data points of the last ``Period``
seconds, compares it with ``Threshold`` by ``ComparisonOperator``, and moves a
breaching alarm to ``ALARM`` with moto's ``set_alarm_state``, so DescribeAlarms
and DescribeAlarmHistory show it. How AWS evaluates alarms:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html

Kept simple, and not modelled:

- only the latest period counts: an alarm with ``EvaluationPeriods`` or
  ``DatapointsToAlarm`` above 1 is left alone, as are percentile
  (``ExtendedStatistic``), metric math and anomaly detection alarms;
- alarms are evaluated only when a data point arrives, never on a clock, so
  ``TreatMissingData`` is not read and an alarm never goes back to ``OK``;
- alarm actions (SNS notifications) are not sent.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

logger = logging.getLogger(__name__)

_STATISTICS = frozenset({"Sum", "SampleCount", "Average", "Minimum", "Maximum"})
_OPERATORS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (
        lambda v, t: v >= t,
        "greater than or equal to",
    ),
    "GreaterThanThreshold": (lambda v, t: v > t, "greater than"),
    "LessThanThreshold": (lambda v, t: v < t, "less than"),
    "LessThanOrEqualToThreshold": (lambda v, t: v <= t, "less than or equal to"),
}


def _dimensions(items: Iterable[Any]) -> frozenset[tuple[str, str]]:
    return frozenset((str(d.name), str(d.value)) for d in items)


def _utc(when: datetime) -> datetime:
    # moto keeps naive UTC datetimes, or aware ones parsed from a request.
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _statistic(name: str, data: list[Any]) -> float:
    """``name`` over moto's stored data: single values or StatisticValues sets."""
    total = count = 0.0
    low, high = math.inf, -math.inf
    for datum in data:
        if hasattr(datum, "value"):
            value = float(datum.value)
            total, count = total + value, count + 1
            low, high = min(low, value), max(high, value)
        else:
            total, count = total + datum.sum, count + datum.sample_count
            low, high = min(low, datum.min), max(high, datum.max)
    stats = {"Sum": total, "SampleCount": count, "Minimum": low, "Maximum": high}
    stats["Average"] = total / count if count else math.nan
    return stats[name]


def _evaluable(alarm: Any) -> bool:
    if alarm.metric_data_queries or alarm.extended_statistic or alarm.rule:
        return False
    if int(alarm.evaluation_periods or 1) > 1:
        return False
    if int(alarm.datapoints_to_alarm or 1) > 1:
        return False
    return alarm.statistic in _STATISTICS and alarm.comparison_operator in _OPERATORS


def evaluate_alarms(
    backend: Any,
    namespace: str,
    metric: str,
    dimensions: list[dict[str, str]],
    now: datetime | None = None,
) -> list[str]:
    """Evaluate the alarms of ``backend`` (moto's CloudWatch) on one metric.

    Returns:
        The names of the alarms moved to ``ALARM``.
    """
    now = now or datetime.now(UTC)
    wanted = frozenset((d["Name"], d["Value"]) for d in dimensions)
    fired = []
    for alarm in list(backend.alarms.values()):
        if (alarm.namespace, alarm.metric_name) != (namespace, metric):
            continue
        if _dimensions(alarm.dimensions) != wanted or not _evaluable(alarm):
            continue
        if alarm.state_value != "ALARM" and _breach(backend, alarm, wanted, now):
            fired.append(alarm.name)
    return fired


def _breach(backend: Any, alarm: Any, wanted: frozenset[Any], now: datetime) -> bool:
    start = now - timedelta(seconds=int(alarm.period))
    data = [
        d
        for d in backend.metric_data
        if (d.namespace, d.name) == (alarm.namespace, alarm.metric_name)
        and _dimensions(d.dimensions) == wanted
        and start <= _utc(d.timestamp) <= now
    ]
    if not data:
        return False
    value = _statistic(alarm.statistic, data)
    compare, words = _OPERATORS[alarm.comparison_operator]
    if not compare(value, float(alarm.threshold)):
        return False
    stamp = now.strftime("%d/%m/%y %H:%M:%S")
    reason = (
        f"Threshold Crossed: 1 out of the last 1 datapoints [{value} ({stamp})] "
        f"was {words} the threshold ({float(alarm.threshold)}) (minimum 1 "
        "datapoint for OK -> ALARM transition)."
    )
    reason_data = {
        "version": "1.0",
        "queryDate": now.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "statistic": alarm.statistic,
        "period": int(alarm.period),
        "recentDatapoints": [value],
        "threshold": float(alarm.threshold),
    }
    backend.set_alarm_state(alarm.name, reason, json.dumps(reason_data), "ALARM")
    logger.debug("alarm %s: %s", alarm.name, reason)
    return True
