"""CloudTrail in the sandbox: KMS calls recorded as events, and LookupEvents.

moto 5.2 does not implement ``LookupEvents``. The layer keeps a CloudTrail-like
record (:mod:`.trail_events`) of each KMS call that is not a Describe, Get or
List, and of the KMS calls S3 makes for a caller (:mod:`.s3_layer`), and
answers LookupEvents from it. Like CloudTrail's Event history, LookupEvents
returns only the last 90 days; ``age_events`` moves every record into the
past, so a test can give a key an old history and nothing recent. Each record
is also delivered to the CloudWatch Logs group of every trail that would log
it, where metric filters count it and alarms fire (:mod:`.log_delivery`).
"""

from __future__ import annotations

import base64
import logging
import time
from collections import deque
from datetime import datetime
from typing import Any

from wizard.aws.sandbox.log_delivery import LogDelivery
from wizard.aws.sandbox.protocols import _ApiError, _Call, _json_ok, _Response
from wizard.aws.sandbox.trail_events import _Event, _Invoked, _trail_event

logger = logging.getLogger(__name__)

# Event history keeps the last 90 days of management events:
# https://docs.aws.amazon.com/awscloudtrail/latest/userguide/view-cloudtrail-events.html
_RETENTION = 90 * 86400.0


def _epoch(value: Any) -> float | None:
    """botocore sends JSON timestamps as epoch seconds; accept ISO text too."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


_LOOKUP_KEYS = frozenset(
    {"EventId", "EventName", "ReadOnly", "Username", "ResourceType"}
    | {"ResourceName", "EventSource", "AccessKeyId"}
)


def _token(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode()


def _lookup_query(
    params: dict[str, Any],
) -> tuple[list[dict[str, str]], float | None, float | None, int, int]:
    """LookupEvents' attributes, time range, page size and offset, checked.

    Raises:
        _ApiError: with the error code CloudTrail documents for the input.
    """
    attrs = params.get("LookupAttributes") or []
    if len(attrs) > 1 or any(a.get("AttributeKey") not in _LOOKUP_KEYS for a in attrs):
        raise _ApiError(
            "InvalidLookupAttributesException",
            "Give at most one lookup attribute, with a supported AttributeKey.",
        )
    try:
        start, end = _epoch(params.get("StartTime")), _epoch(params.get("EndTime"))
    except ValueError as error:
        raise _ApiError("InvalidTimeRangeException", str(error)) from error
    if start is not None and end is not None and start > end:
        raise _ApiError("InvalidTimeRangeException", "StartTime is after EndTime.")
    limit = params.get("MaxResults", 50)
    if not isinstance(limit, int) or not 1 <= limit <= 50:
        raise _ApiError("InvalidMaxResultsException", "MaxResults is 1 to 50.")
    try:
        offset = int(base64.b64decode(params.get("NextToken") or _token(0)))
    except ValueError as error:
        raise _ApiError("InvalidNextTokenException", "Invalid NextToken.") from error
    if offset < 0:
        raise _ApiError("InvalidNextTokenException", "Invalid NextToken.")
    return attrs, start, end, limit, offset


class CloudTrailLayer(LogDelivery):
    """Records KMS calls and answers CloudTrail ``LookupEvents`` from them."""

    _events: deque[_Event]

    def _record(self, call: _Call, response: _Response) -> None:
        """Keep a CloudTrail record of a KMS call (KMS dev guide, ct-*.html)."""
        # TODO: read-only KMS calls (Describe*, Get*, List*) and other services'
        # calls are not recorded, though CloudTrail records them as well.
        if call.operation.startswith(("Describe", "Get", "List")):
            return
        try:
            self._record_call(call, response)
        except Exception:
            # Bookkeeping must never turn a call moto answered into a failure.
            logger.exception("could not record %s", call.operation)

    def _record_call(self, call: _Call, response: _Response) -> None:
        ident = self._identity(call.access_key)
        account, answer = ident["Account"], response.json()
        # The response names the key by ARN for most calls (crypto calls,
        # CreateKey); otherwise resolve what the request named.
        found = (answer.get("KeyId"), answer.get("KeyMetadata", {}).get("Arn"))
        arns = [a for a in found if isinstance(a, str) and ":key/" in a]
        refs = ["TargetKeyId", "SourceKeyId", "DestinationKeyId"]
        for name in refs if arns else ["KeyId", *refs]:
            arn = self._key_arn(call, str(call.params.get(name, "")), account)
            arns += [arn] if arn else []
        event = _trail_event(call, ident, sorted(set(arns)), response.status, answer)
        with self._lock:
            self._events.append(event)
        self._deliver(event)

    def _record_invoked(
        self,
        call: _Call,
        invoked: _Invoked,
        arn: str | None,
        error: tuple[str, str] | None,
    ) -> None:
        """Record a KMS call a service made for the caller of ``call``.

        Args:
            call: the caller's request to the service (S3's PutObject...).
            invoked: the KMS call the service made.
            arn: the key it named, when there is one.
            error: KMS's error code and message, when KMS refused.
        """
        status, answer = 200, {}
        if error is not None:
            status, answer = 400, {"__type": error[0], "message": error[1]}
        try:
            ident = self._identity(call.access_key)
            arns = [arn] if arn else []
            event = _trail_event(call, ident, arns, status, answer, invoked)
        except Exception:
            logger.exception("could not record %s", invoked.operation)
            return
        with self._lock:
            self._events.append(event)
        self._deliver(event)

    def age_events(self, days: float) -> int:
        """Move every recorded event ``days`` into the past; how many there were."""
        with self._lock:
            aged = [event.aged(days * 86400) for event in self._events]
            self._events.clear()
            self._events.extend(aged)
        return len(aged)

    # CloudTrail LookupEvents:
    # https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html
    # https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_Event.html

    def _lookup_events(self, call: _Call) -> _Response:
        attrs, start, end, limit, offset = _lookup_query(call.params)
        account = self._identity(call.access_key)["Account"]
        oldest = time.time() - _RETENTION
        with self._lock:
            events = [e for e in reversed(self._events) if e.account == account]
        events = [
            e
            for e in events
            if e.region == call.region
            and e.time >= oldest
            and (start is None or e.time >= start)
            and (end is None or e.time <= end)
            and all(e.matches(a["AttributeKey"], a["AttributeValue"]) for a in attrs)
            and call.params.get("EventCategory") != "insight"
        ]
        result: dict[str, Any] = {"Events": [e.view for e in events[offset:][:limit]]}
        if offset + limit < len(events):
            result["NextToken"] = _token(offset + limit)
        return _json_ok(call, result)
