"""A failed request, from a CloudTrail event, as the KMS request that was decided.

Accepted shapes: a bare CloudTrail record; the ``lookup-events`` view of one
(``CloudTrailEvent`` holds the record as a JSON string); the whole
``lookup-events`` answer (``{"Events": [...]}``) or a trail's log file
(``{"Records": [...]}``); an EventBridge "AWS API Call via CloudTrail" event; a
list of any of these. Of several records, the first failed KMS call is used.

How a record becomes a request (field meanings from CloudTrail's reference,
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
and
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html;
KMS records as in https://docs.aws.amazon.com/kms/latest/developerguide/ct-generatedatakey.html
and ct-decrypt.html):

- principal: ``userIdentity.arn`` (for an assumed role, the session ARN); for
  ``type: AWSService``, the service in ``invokedBy``;
- action: ``kms:`` + ``eventName``; the key: ``resources[].ARN``, else
  ``requestParameters.keyId``;
- a call an AWS service made for the caller names the service in
  ``userIdentity.invokedBy`` or as ``sourceIPAddress`` (``s3.amazonaws.com``);
  then ``kms:ViaService`` is ``SERVICE.awsRegion.amazonaws.com``
  (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service)
  and ``aws:ViaAWSService`` is true; otherwise ``sourceIPAddress`` is the
  caller's ``aws:SourceIp``;
- ``requestParameters.encryptionContext`` gives ``kms:EncryptionContext:*`` and
  ``kms:EncryptionContextKeys``; ``userIdentity.accountId`` gives
  ``kms:CallerAccount``; ``vpcEndpointId`` gives ``aws:SourceVpce``.

An S3 record of a denied PutObject or GetObject is accepted too: it becomes the
KMS call S3 would have made (see :data:`S3_KMS_ACTIONS`). Harbor's logged error
text is parsed by :mod:`wizard.core.diagnose.errortext` into the same type.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from wizard.core.arn import parse_arn
from wizard.core.policy.simulate import Request

Source = Literal["cloudtrail", "error-text"]

S3_KMS_ACTIONS: Mapping[str, str] = {
    "PutObject": "kms:GenerateDataKey",
    "PostObject": "kms:GenerateDataKey",
    "CopyObject": "kms:GenerateDataKey",
    "CreateMultipartUpload": "kms:GenerateDataKey",
    "GetObject": "kms:Decrypt",
    "UploadPart": "kms:Decrypt",
    "UploadPartCopy": "kms:Decrypt",
    "CompleteMultipartUpload": "kms:Decrypt",
    "SelectObjectContent": "kms:Decrypt",
}
"""The KMS call behind an S3 operation on an SSE-KMS object: uploads need
GenerateDataKey, reads and multipart parts Decrypt
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html)."""

DENIED = re.compile(
    r"User: (?P<principal>\S+) is not authorized to perform: "
    r"(?P<action>[\w-]+:\w+)"
    r"(?: on (?:resource: (?P<resource>\S+?)|the resource associated with this "
    r"ciphertext))?"
    r"(?: (?P<why>because no [\w-]+ policy allows[^.\n]*|with an explicit deny in "
    r"(?:a|an) [\w -]+ policy[^.\n]*))?\.?(?:\s|$)",
)
"""AWS's authorization sentence, in the forms
https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
describes (implicit: "because no ... policy allows"; explicit: "with an explicit
deny in a ... policy")."""

EXAMPLE_OBJECT = "docker/registry/v2/blobs/sha256/00/example/data"
"""Stands in for the object when the input does not name one (Harbor's layout)."""


class EventError(ValueError):
    """The input holds no usable request; the message is one sentence."""


@dataclass(frozen=True)
class Hints:
    """What the values file knows, for what the input does not say."""

    region: str | None = None
    account_id: str | None = None
    key_arn: str | None = None
    bucket: str | None = None
    bucket_key_enabled: bool | None = None
    principal: str | None = None
    """The session ARN Harbor calls with, for errors that name no caller."""


@dataclass(frozen=True)
class FailedRequest:
    """The KMS request derived from the input, and what the input said about it."""

    request: Request
    source: Source
    error_code: str | None = None
    error_message: str | None = None
    aws_reason: str | None = None
    """AWS's own verdict from the message ('with an explicit deny in ...')."""
    operation: str | None = None
    """The call that failed as the caller saw it: 's3:PutObject', 'kms:Decrypt'."""
    via_service: str | None = None
    """The service that called KMS for the caller, e.g. 's3.amazonaws.com'."""
    event_id: str | None = None
    event_time: str | None = None
    notes: tuple[str, ...] = ()


def parse_event(document: object, hints: Hints | None = None) -> FailedRequest:
    """The request behind the (first failed KMS) CloudTrail record in ``document``.

    Args:
        document: Parsed JSON, or JSON text, in any shape the module names.
        hints: Values for what the record does not say (the bucket's Bucket
            Keys setting for an S3 record, the key's region and account).

    Returns:
        The derived request with its provenance.

    Raises:
        EventError: No CloudTrail record of a KMS or S3 call is in the input,
            or the record names no caller.
    """
    hints = hints or Hints()
    records = _records(document)
    if not records:
        raise EventError(
            "No CloudTrail record found: give one event (the console's JSON, or an "
            "element of lookup-events' Events) or a list of them."
        )
    chosen, notes = _choose(records)
    if chosen.get("eventSource") == "s3.amazonaws.com":
        return _from_s3_record(chosen, hints, notes)
    return _from_kms_record(chosen, hints, notes)


def _records(document: object) -> list[Mapping[str, Any]]:
    """Every CloudTrail record in the input, whatever wraps it."""
    if isinstance(document, str | bytes):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    if isinstance(document, list):
        return [record for item in document for record in _records(item)]
    if not isinstance(document, Mapping):
        return []
    for wrapper in ("Events", "Records"):
        if isinstance(document.get(wrapper), list):
            return _records(document[wrapper])
    if "CloudTrailEvent" in document:
        return _records(document["CloudTrailEvent"])
    if document.get("detail-type") == "AWS API Call via CloudTrail":
        return _records(document.get("detail"))
    return [document] if "eventName" in document else []


def _choose(
    records: list[Mapping[str, Any]],
) -> tuple[Mapping[str, Any], list[str]]:
    """The record to diagnose: a failed KMS call, else a failed S3 call, else the
    first KMS record."""
    kms = [r for r in records if r.get("eventSource") == "kms.amazonaws.com"]
    s3 = [r for r in records if r.get("eventSource") == "s3.amazonaws.com"]
    candidates = (
        [r for r in kms if r.get("errorCode")]
        or [r for r in s3 if r.get("errorCode")]
        or kms
        or s3
    )
    if not candidates:
        sources = sorted({str(r.get("eventSource")) for r in records})
        raise EventError(
            f"The events are not KMS or S3 calls (event sources: {', '.join(sources)})."
        )
    chosen = candidates[0]
    notes = []
    if len(records) > 1:
        notes.append(
            f"{len(records)} records were given; this is the first failed KMS or "
            f"S3 call (event {chosen.get('eventID', 'without an id')})."
        )
    return chosen, notes


def denial_reason(message: str | None) -> str | None:
    """AWS's own verdict in an access-denied message, e.g. 'with an explicit
    deny in a resource-based policy', or None."""
    found = DENIED.search(message or "")
    return found.group("why") if found and found.group("why") else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def is_ip_address(text: str) -> bool:
    """True for an IPv4 or IPv6 address (not a service's DNS name)."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def service_via(service: str, region: str) -> str:
    """``kms:ViaService`` of a call ``service`` made for the caller in ``region``."""
    return f"{service.split('.', 1)[0]}.{region}.amazonaws.com"


def _caller(record: Mapping[str, Any]) -> tuple[str, str | None, list[str]]:
    """The principal, the service that called for it (if any), and notes."""
    identity = _mapping(record.get("userIdentity"))
    invoked = _text(identity.get("invokedBy"))
    source = _text(record.get("sourceIPAddress")) or ""
    service = invoked
    if service is None and source.endswith(".amazonaws.com"):
        service = source
    account = _text(identity.get("accountId"))
    arn = _text(identity.get("arn"))
    kind = identity.get("type")
    if kind == "AWSService" and invoked:
        return invoked, None, []
    if arn:
        return arn, service, []
    if kind == "Root" and account:
        return f"arn:aws:iam::{account}:root", service, []
    raise EventError(
        "The record names no caller (userIdentity.arn is missing), so the request "
        "cannot be evaluated."
    )


def _key_arn(
    record: Mapping[str, Any], key_id: str | None, hints: Hints, notes: list[str]
) -> str:
    for resource in record.get("resources") or []:
        arn = _text(_mapping(resource).get("ARN")) or ""
        parsed = parse_arn(arn)
        if parsed and parsed.service == "kms" and parsed.resource.startswith("key/"):
            return arn
    if key_id and key_id.startswith("arn:") and ":key/" in key_id:
        return key_id
    region = _text(record.get("awsRegion")) or hints.region
    account = _text(record.get("recipientAccountId")) or hints.account_id
    if key_id and not key_id.startswith(("arn:", "alias/")) and region and account:
        return f"arn:aws:kms:{region}:{account}:key/{key_id}"
    if hints.key_arn:
        notes.append("The record does not name the key; the configured key is assumed.")
        return hints.key_arn
    notes.append("The record does not name the key; any key of the policy matches.")
    return "*"


def _from_kms_record(
    record: Mapping[str, Any], hints: Hints, notes: list[str]
) -> FailedRequest:
    principal, service, more = _caller(record)
    notes += more
    name = _text(record.get("eventName")) or ""
    region = _text(record.get("awsRegion")) or hints.region or ""
    params = _mapping(record.get("requestParameters"))
    key = _key_arn(record, _text(params.get("keyId")), hints, notes)
    context = _base_context(record, service, region)
    encryption = _mapping(params.get("encryptionContext"))
    for key_name, value in encryption.items():
        context[f"kms:EncryptionContext:{key_name}"] = str(value)
    if encryption:
        context["kms:EncryptionContextKeys"] = [str(k) for k in encryption]
    if service and not encryption and name in ("Decrypt", "GenerateDataKey"):
        notes.append(
            "The record shows no encryption context; S3 always sends aws:s3:arn, "
            "so the record may have been redacted."
        )
    return FailedRequest(
        Request(principal, f"kms:{name}", key, context),
        "cloudtrail",
        _text(record.get("errorCode")),
        _text(record.get("errorMessage")),
        denial_reason(_text(record.get("errorMessage"))),
        f"kms:{name}",
        service,
        _text(record.get("eventID")),
        _text(record.get("eventTime")),
        tuple(notes),
    )


def _base_context(
    record: Mapping[str, Any], service: str | None, region: str
) -> dict[str, Any]:
    """The condition keys every record gives: service, account, network."""
    identity = _mapping(record.get("userIdentity"))
    context: dict[str, Any] = {}
    account = _text(identity.get("accountId"))
    if account:
        context["kms:CallerAccount"] = account
    # AWS documents aws:ViaAWSService as present, true or false, in most requests.
    context["aws:ViaAWSService"] = "true" if service else "false"
    if service and region:
        context["kms:ViaService"] = service_via(service, region)
    source = _text(record.get("sourceIPAddress"))
    if source and is_ip_address(source):
        context["aws:SourceIp"] = source
    vpce = _text(record.get("vpcEndpointId"))
    if vpce:
        context["aws:SourceVpce"] = vpce
    return context


def s3_context_arn(
    bucket: str, object_key: str | None, bucket_key_enabled: bool | None
) -> tuple[str, list[str]]:
    """The ``aws:s3:arn`` S3 sends for an object, with notes on any guess.

    With Bucket Keys on S3 sends the bucket ARN, otherwise the object ARN
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html).
    """
    notes: list[str] = []
    if bucket_key_enabled:
        return f"arn:aws:s3:::{bucket}", notes
    if bucket_key_enabled is None:
        notes.append(
            "Whether the bucket uses S3 Bucket Keys is not known; the object ARN "
            "(Bucket Keys off) is assumed."
        )
    if not object_key:
        notes.append(f"The input names no object; {EXAMPLE_OBJECT} stands in for it.")
    return f"arn:aws:s3:::{bucket}/{object_key or EXAMPLE_OBJECT}", notes


def via_s3_context(
    caller_account: str | None, region: str, context_arn: str
) -> dict[str, Any]:
    """The condition keys of a KMS call S3 makes for the caller."""
    context: dict[str, Any] = {
        "kms:ViaService": service_via("s3.amazonaws.com", region),
        "aws:ViaAWSService": "true",
        "kms:EncryptionContext:aws:s3:arn": context_arn,
        "kms:EncryptionContextKeys": ["aws:s3:arn"],
    }
    if caller_account:
        context["kms:CallerAccount"] = caller_account
    return context


def _from_s3_record(
    record: Mapping[str, Any], hints: Hints, notes: list[str]
) -> FailedRequest:
    name = _text(record.get("eventName")) or ""
    action = S3_KMS_ACTIONS.get(name)
    if action is None:
        raise EventError(
            f"S3's {name or 'unnamed'} call does not use the key (only uploads, "
            "reads and multipart parts do); give the KMS record instead."
        )
    principal, _, more = _caller(record)
    notes += more
    params = _mapping(record.get("requestParameters"))
    bucket = _text(params.get("bucketName")) or hints.bucket
    if bucket is None:
        raise EventError("The S3 record names no bucket (requestParameters).")
    region = _text(record.get("awsRegion")) or hints.region or ""
    arn, guesses = s3_context_arn(
        bucket, _text(params.get("key")), hints.bucket_key_enabled
    )
    header = "x-amz-server-side-encryption-aws-kms-key-id"
    key = _key_arn({}, _text(params.get(header)), hints, notes)
    account = _text(_mapping(record.get("userIdentity")).get("accountId"))
    notes.append(
        f"Derived from S3's {name} record: the KMS call S3 makes for the caller "
        "is reconstructed; the KMS record itself is more exact."
    )
    return FailedRequest(
        Request(principal, action, key, via_s3_context(account, region, arn)),
        "cloudtrail",
        _text(record.get("errorCode")),
        _text(record.get("errorMessage")),
        denial_reason(_text(record.get("errorMessage"))),
        f"s3:{name}",
        "s3.amazonaws.com",
        _text(record.get("eventID")),
        _text(record.get("eventTime")),
        tuple(notes + guesses),
    )
