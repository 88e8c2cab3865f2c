"""CloudTrail records of KMS calls, as the sandbox keeps them.

:mod:`.cloudtrail_layer` makes one :class:`_Event` per KMS call it records: the
full CloudTrail record and the summary LookupEvents returns beside it.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from wizard.aws.sandbox.protocols import _Call

_MAX_EVENTS = 10_000
"""Records kept; the oldest is dropped first."""


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

    def aged(self, seconds: float) -> _Event:
        """The same event, ``seconds`` earlier (both times in it moved)."""
        when = self.time - seconds
        record = json.loads(self.view["CloudTrailEvent"])
        record["eventTime"] = _iso(when)
        view = {**self.view, "EventTime": when, "CloudTrailEvent": json.dumps(record)}
        return replace(self, time=when, view=view)


def age_days(data: Any) -> float:
    """The ``days`` of a ``POST /_sandbox/events/age`` body, checked.

    Raises:
        ValueError: not a JSON object with a finite, non-negative number of days.
    """
    days = data.get("days") if isinstance(data, dict) else None
    if isinstance(days, bool) or not isinstance(days, int | float):
        raise ValueError('Give {"days": N}, N a number of days (0 or more).')
    if not math.isfinite(days) or days < 0:
        raise ValueError(f"days must be a finite number, 0 or more, not {days}.")
    return float(days)


@dataclass(frozen=True)
class _Invoked:
    """A KMS call a service made for the caller, e.g. S3's GenerateDataKey."""

    operation: str
    params: dict[str, Any]
    by: str
    """The service's DNS name, e.g. s3.amazonaws.com."""


def _username(ident: dict[str, str]) -> str:
    # For an assumed role, the last part of the ARN is the session name.
    return ident["Arn"].rsplit("/", 1)[-1]


def _user_identity(
    call: _Call, ident: dict[str, str], invoked: _Invoked | None
) -> dict[str, Any]:
    assumed = ":assumed-role/" in ident["Arn"]
    identity = {
        "type": "AssumedRole" if assumed else "IAMUser",
        "principalId": ident["UserId"],
        "arn": ident["Arn"],
        "accountId": ident["Account"],
        "accessKeyId": call.access_key,
    }
    if not assumed:
        identity["userName"] = _username(ident)
    if invoked:
        identity["invokedBy"] = invoked.by
    return identity


def _trail_event(
    call: _Call,
    ident: dict[str, str],
    arns: list[str],
    status: int,
    answer: dict[str, Any],
    invoked: _Invoked | None = None,
) -> _Event:
    """A CloudTrail record of a KMS call, and the LookupEvents view of it.

    Fields as in the KMS developer guide's examples (for instance
    https://docs.aws.amazon.com/kms/latest/developerguide/ct-encrypt.html). A
    call a service made for the caller names the service in ``invokedBy``,
    ``sourceIPAddress`` and ``userAgent`` (userIdentity element:
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html).
    """
    now, account = time.time(), ident["Account"]
    operation = invoked.operation if invoked else call.operation
    params = invoked.params if invoked else call.params
    source = call.environ.get("REMOTE_ADDR", "127.0.0.1")
    agent = call.environ.get("HTTP_USER_AGENT", "")
    if invoked:
        source = agent = invoked.by
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": _user_identity(call, ident, invoked),
        "eventTime": _iso(now),
        "eventSource": "kms.amazonaws.com",
        "eventName": operation,
        "awsRegion": call.region,
        "sourceIPAddress": source,
        "userAgent": agent,
        "requestParameters": {
            k[:1].lower() + k[1:]: v for k, v in params.items() if k not in _KMS_HIDDEN
        },
        "responseElements": None,
        "requestID": call.request_id,
        "eventID": str(uuid.uuid4()),
        "readOnly": operation in _KMS_CRYPTO,
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
        "EventName": operation,
        "ReadOnly": str(record["readOnly"]).lower(),
        "AccessKeyId": call.access_key,
        "EventTime": now,
        "EventSource": "kms.amazonaws.com",
        "Username": _username(ident),
        "Resources": [
            {"ResourceType": "AWS::KMS::Key", "ResourceName": a} for a in arns
        ],
        "CloudTrailEvent": json.dumps(record),
    }
    return _Event(account, call.region, now, view)
