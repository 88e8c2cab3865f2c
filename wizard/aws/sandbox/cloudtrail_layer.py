"""CloudTrail in the sandbox: KMS calls recorded as events, and LookupEvents.

moto 5.2 does not implement ``LookupEvents``. The layer keeps a CloudTrail-like
record of each KMS call that is not a Describe, Get or List (up to
``_MAX_EVENTS``, oldest dropped first) and answers LookupEvents from it.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wizard.aws.sandbox.moto_access import MotoAccess
from wizard.aws.sandbox.protocols import _ApiError, _Call, _json_ok, _Response

logger = logging.getLogger(__name__)

_MAX_EVENTS = 10_000


def _epoch(value: Any) -> float | None:
    """botocore sends JSON timestamps as epoch seconds; accept ISO text too."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# KMS calls recorded as CloudTrail events: everything but the read-only
# Describe/Get/List calls. Crypto calls are management events AWS marks
# readOnly, as it does here.
_KMS_CRYPTO = frozenset(
    {
        "Encrypt",
        "Decrypt",
        "ReEncrypt",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "GenerateRandom",
        "GenerateMac",
        "VerifyMac",
        "Sign",
        "Verify",
        "DeriveSharedSecret",
    }
)
# Secrets and blobs never go into requestParameters (AWS leaves them out too).
_KMS_HIDDEN = frozenset(
    {"Plaintext", "CiphertextBlob", "Message", "Signature", "Mac", "ImportToken"}
    | {"EncryptedKeyMaterial", "Recipient", "PublicKey"}
)
_LOOKUP_KEYS = frozenset(
    {"EventId", "EventName", "ReadOnly", "Username", "ResourceType"}
    | {"ResourceName", "EventSource", "AccessKeyId"}
)


@dataclass(frozen=True)
class _Event:
    account: str
    region: str
    time: float
    view: dict[str, Any]
    """The ``Event`` structure LookupEvents returns, CloudTrailEvent included."""

    def matches(self, key: str, value: str) -> bool:
        if key in ("ResourceName", "ResourceType"):
            return any(r[key] == value for r in self.view["Resources"])
        return bool(self.view.get(key) == value)


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


def _trail_event(
    call: _Call,
    ident: dict[str, str],
    arns: list[str],
    status: int,
    answer: dict[str, Any],
) -> _Event:
    """A CloudTrail record of a KMS call, and the LookupEvents view of it.

    Fields as in the KMS developer guide's examples (for instance
    https://docs.aws.amazon.com/kms/latest/developerguide/ct-encrypt.html).
    """
    now, account = time.time(), ident["Account"]
    assumed = ":assumed-role/" in ident["Arn"]
    # For an assumed role, the last part of the ARN is the session name.
    username = ident["Arn"].rsplit("/", 1)[-1]
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole" if assumed else "IAMUser",
            "principalId": ident["UserId"],
            "arn": ident["Arn"],
            "accountId": account,
            "accessKeyId": call.access_key,
            **({} if assumed else {"userName": username}),
        },
        "eventTime": _iso(now),
        "eventSource": "kms.amazonaws.com",
        "eventName": call.operation,
        "awsRegion": call.region,
        "sourceIPAddress": call.environ.get("REMOTE_ADDR", "127.0.0.1"),
        "userAgent": call.environ.get("HTTP_USER_AGENT", ""),
        "requestParameters": {
            k[:1].lower() + k[1:]: v
            for k, v in call.params.items()
            if k not in _KMS_HIDDEN
        },
        "responseElements": None,
        "requestID": call.request_id,
        "eventID": str(uuid.uuid4()),
        "readOnly": call.operation in _KMS_CRYPTO,
        "resources": [
            {"accountId": account, "type": "AWS::KMS::Key", "ARN": arn} for arn in arns
        ],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if status >= 400:
        record["errorCode"] = str(answer.get("__type", status)).rsplit("#", 1)[-1]
        record["errorMessage"] = answer.get("message", "")
    view = {
        "EventId": record["eventID"],
        "EventName": call.operation,
        "ReadOnly": str(record["readOnly"]).lower(),
        "AccessKeyId": call.access_key,
        "EventTime": now,
        "EventSource": "kms.amazonaws.com",
        "Username": username,
        "Resources": [
            {"ResourceType": "AWS::KMS::Key", "ResourceName": a} for a in arns
        ],
        "CloudTrailEvent": json.dumps(record),
    }
    return _Event(account, call.region, now, view)


class CloudTrailLayer(MotoAccess):
    """Records KMS calls and answers CloudTrail ``LookupEvents`` from them."""

    _events: deque[_Event]

    def _record(self, call: _Call, response: _Response) -> None:
        """Keep a CloudTrail record of a KMS call (KMS dev guide, ct-*.html)."""
        # TODO: read-only KMS calls (Describe*, Get*, List*) and other services'
        # calls are not recorded, though CloudTrail records them as well.
        # TODO: events are not delivered to a trail's CloudWatch Logs group, so
        # the seeded metric filters and alarms never fire in the sandbox.
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

    # CloudTrail LookupEvents:
    # https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html
    # https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_Event.html

    def _lookup_events(self, call: _Call) -> _Response:
        attrs, start, end, limit, offset = _lookup_query(call.params)
        account = self._identity(call.access_key)["Account"]
        with self._lock:
            events = [e for e in reversed(self._events) if e.account == account]
        events = [
            e
            for e in events
            if e.region == call.region
            and (start is None or e.time >= start)
            and (end is None or e.time <= end)
            and all(e.matches(a["AttributeKey"], a["AttributeValue"]) for a in attrs)
            and call.params.get("EventCategory") != "insight"
        ]
        result: dict[str, Any] = {"Events": [e.view for e in events[offset:][:limit]]}
        if offset + limit < len(events):
            result["NextToken"] = _token(offset + limit)
        return _json_ok(call, result)
