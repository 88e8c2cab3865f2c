"""The local AWS sandbox: moto's server behind a thin WSGI layer of our own.

Everything reaches it over HTTP with ``endpoint_url``; nothing patches boto3.
The layer answers the few APIs the tool reads that moto 5.2 lacks, injects
faults for tests, and records CloudTrail-like events for KMS calls; every other
request goes to moto unchanged. Control endpoints, for tests and other
processes: ``POST /_sandbox/faults`` (a JSON :class:`Fault`), ``GET`` and
``DELETE /_sandbox/faults``, ``POST /_sandbox/reset``.

Measured against moto 5.2.5 with boto3/botocore 1.44, and what the layer does:

- Not implemented (HTTP 500 with an HTML body): CloudTrail ``LookupEvents``,
  Config ``DescribeComplianceByConfigRule``, IAM ``SimulatePrincipalPolicy``.
  The layer answers all three. Any other call moto fails on becomes an
  AWS-shaped ``NotImplemented`` error (501) that botocore can parse.
- KMS ``EnableKeyRotation`` drops ``RotationPeriodInDays`` without a range check
  (5 is accepted); ``GetKeyRotationStatus`` returns only ``KeyRotationEnabled``.
  The layer checks 90-2560, keeps the period and the enable time, and adds
  ``RotationPeriodInDays``, ``NextRotationDate`` and ``KeyId``.
- moto never evaluates key policies, grants or IAM policies: Encrypt under a
  policy that denies ``kms:*`` to ``*`` succeeds. ``PutKeyPolicy`` accepts text
  that is not JSON and a policy with no statements; IAM ``CreateRole`` accepts a
  trust policy that is not JSON (and returns it URL-encoded). Never use the
  sandbox to decide what a policy permits. moto does bind the encryption context:
  Decrypt with a different or missing context fails (InvalidCiphertextException).
- S3: a new bucket answers ``GetBucketEncryption``, ``GetPublicAccessBlock`` and
  ``GetBucketOwnershipControls`` with NotFound errors where AWS returns its
  defaults (SSE-S3, all four blocks on, BucketOwnerEnforced). Seeds set them.
- CloudTrail ``CreateTrail`` checks that the bucket exists but not its policy
  (AWS requires one that lets cloudtrail.amazonaws.com write); Config
  ``PutConfigRule`` works without a configuration recorder (AWS refuses).
- botocore 1.44 speaks Smithy RPC v2 CBOR to CloudWatch; moto understands it.
- moto answers JSON-protocol calls with ``Content-Type: text/html``; botocore
  does not mind.
- moto keeps its state in module globals: two sandboxes in one process share
  it, and a reset of one resets both.

The response shapes follow the AWS API references cited beside each handler.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.test import EnvironBuilder

from wizard.core.regions import partition_of

logger = logging.getLogger(__name__)

Environ = dict[str, Any]
StartResponse = Callable[..., Any]

_SCOPE = re.compile(r"Credential=([^/,\s]*)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_KEY_ID = re.compile(r"(mrk-[0-9a-f]{32}|[0-9a-f-]{36})")
_FAKE_DATE = "20240101"
_MAX_EVENTS = 10_000
_MAX_DELAY = 600.0
# X-Amz-Target prefixes of the JSON services the layer asks moto about itself.
_JSON_TARGETS = {"kms": "TrentService", "config": "StarlingDoveService"}


@dataclass(frozen=True)
class Fault:
    """One injected failure: match a service and operation, then fail or stall.

    ``service`` is the SigV4 signing name (``kms``, ``s3``, ``monitoring``) and
    ``operation`` the API name (``GetKeyPolicy``); either may be ``*``. An empty
    ``error_code`` with a ``delay`` only slows the call down.
    """

    service: str
    operation: str
    error_code: str
    status: int = 400
    count: int | None = None
    delay: float = 0.0
    message: str = ""

    def matches(self, service: str, operation: str) -> bool:
        return self.service in ("*", service) and self.operation in ("*", operation)


def make_fault(data: dict[str, Any]) -> Fault:
    """Build a :class:`Fault` from untrusted input, checking every field.

    Raises:
        ValueError: a field is missing, of the wrong type or out of range.
    """
    try:
        fault = Fault(
            service=str(data["service"]).lower(),
            operation=str(data["operation"]),
            error_code=str(data.get("error_code", "")),
            status=int(data.get("status", 400)),
            count=None if data.get("count") is None else int(data["count"]),
            delay=float(data.get("delay", 0.0)),
            message=str(data.get("message", "")),
        )
    except (KeyError, TypeError) as error:
        raise ValueError(f"A fault needs service and operation: {error}") from error
    if fault.error_code and not 400 <= fault.status <= 599:
        raise ValueError(f"Fault status {fault.status} is not an HTTP error.")
    if fault.count is not None and fault.count < 1:
        raise ValueError("Fault count must be at least 1, or null for always.")
    if not 0 <= fault.delay <= _MAX_DELAY:
        raise ValueError(f"Fault delay must be 0 to {_MAX_DELAY:.0f} seconds.")
    if not fault.error_code and not fault.delay:
        raise ValueError("A fault needs an error_code, a delay, or both.")
    return fault


class FaultInjector:
    """The active faults, first match wins; safe to use from request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._rules.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[Fault]:
        with self._lock:
            return list(self._rules)

    def take(self, service: str, operation: str) -> Fault | None:
        """The first matching fault, spending one of its uses."""
        with self._lock:
            for i, rule in enumerate(self._rules):
                if not rule.matches(service, operation):
                    continue
                if rule.count is not None and rule.count <= 1:
                    del self._rules[i]
                elif rule.count is not None:
                    self._rules[i] = replace(rule, count=rule.count - 1)
                return rule
        return None


@dataclass
class _Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def send(self, start_response: StartResponse) -> list[bytes]:
        phrase = HTTP_STATUS_CODES.get(self.status, "Unknown")
        start_response(f"{self.status} {phrase}", self.headers)
        return [self.body]

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; {} for anything else (moto sends "null")."""
        try:
            data = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def with_json(self, data: Any) -> _Response:
        body = json.dumps(data).encode()
        headers = [(k, v) for k, v in self.headers if k.lower() != "content-length"]
        return _Response(
            self.status, [*headers, ("Content-Length", str(len(body)))], body
        )


@dataclass
class _Call:
    """One request as the layer sees it."""

    environ: Environ
    service: str
    region: str
    access_key: str
    operation: str
    protocol: str  # json | cbor | query | rest-xml | rest-json
    params: dict[str, Any]

    @property
    def request_id(self) -> str:
        return str(self.environ.setdefault("sandbox.request_id", str(uuid.uuid4())))


def _read_body(environ: Environ) -> bytes:
    """Read the request body once and put it back for moto to read again."""
    stream = environ["wsgi.input"]
    length = str(environ.get("CONTENT_LENGTH") or "")
    if length.isdigit():
        body = bytes(stream.read(int(length)))
    elif environ.get("wsgi.input_terminated"):
        body = bytes(stream.read())
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _flat(text: str) -> dict[str, str]:
    """A query string or form as name -> first value (``?encryption`` -> "")."""
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def _parse_call(environ: Environ) -> _Call:
    """Service, region and key from the SigV4 scope; operation by protocol."""
    query = _flat(environ.get("QUERY_STRING", ""))
    scope = environ.get("HTTP_AUTHORIZATION", "")
    if "X-Amz-Credential" in query:  # a presigned URL
        scope = f"Credential={query['X-Amz-Credential']}"
    match = _SCOPE.search(scope)
    access_key, region, service = match.groups() if match else ("", "us-east-1", "")
    call = _Call(environ, service.lower(), region, access_key, "", "rest-json", {})
    if call.service == "s3":
        call.protocol, call.operation = "rest-xml", _s3_operation(environ, query)
        return call
    body = _read_body(environ)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        call.protocol, call.operation = "json", target.rsplit(".", 1)[-1]
        loaded = json.loads(body) if body.strip() else {}
        call.params = loaded if isinstance(loaded, dict) else {}
    elif environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor":
        call.protocol = "cbor"
        call.operation = environ.get("PATH_INFO", "").rsplit("/", 1)[-1]
    else:
        params = {**query, **_flat(body.decode("utf-8", "replace"))}
        if "Action" in params:
            call.protocol, call.operation = "query", params["Action"]
            call.params = params
        else:
            call.operation = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}"
    return call


_S3_VERBS = {"GET": "Get", "PUT": "Put", "DELETE": "Delete", "HEAD": "Head"}
_S3_BUCKET_SUBRESOURCES = {
    "encryption": "BucketEncryption",
    "policyStatus": "BucketPolicyStatus",
    "policy": "BucketPolicy",
    "publicAccessBlock": "PublicAccessBlock",
    "ownershipControls": "BucketOwnershipControls",
    "versioning": "BucketVersioning",
    "logging": "BucketLogging",
    "lifecycle": "BucketLifecycleConfiguration",
    "location": "BucketLocation",
    "acl": "BucketAcl",
    "tagging": "BucketTagging",
    "cors": "BucketCors",
    "notification": "BucketNotificationConfiguration",
    "replication": "BucketReplication",
    "website": "BucketWebsite",
    "object-lock": "ObjectLockConfiguration",
}
_S3_OBJECT_SUBRESOURCES = {
    "tagging": "ObjectTagging",
    "acl": "ObjectAcl",
    "retention": "ObjectRetention",
    "legal-hold": "ObjectLegalHold",
    "attributes": "ObjectAttributes",
}


def _s3_operation(environ: Environ, query: dict[str, str]) -> str:
    """S3's API name from method, path-style path and subresource.

    Only path-style addressing is recognised: botocore uses it for an
    ``endpoint_url`` on an IP address, which is what the sandbox gives out.
    """
    # TODO: virtual-hosted-style requests (BUCKET.host) get wrong names here,
    # so a fault for them must use operation "*".
    method = str(environ["REQUEST_METHOD"])
    bucket, _, key = environ.get("PATH_INFO", "/").lstrip("/").partition("/")
    verb = _S3_VERBS.get(method, method.title())
    if not bucket:
        return "ListBuckets"
    if key:
        if "uploadId" in query:
            return {
                "PUT": "UploadPart",
                "POST": "CompleteMultipartUpload",
                "DELETE": "AbortMultipartUpload",
            }.get(method, "ListParts")
        if "uploads" in query:
            return "CreateMultipartUpload"
        for name, noun in _S3_OBJECT_SUBRESOURCES.items():
            if name in query:
                return verb + noun
        if method == "PUT" and environ.get("HTTP_X_AMZ_COPY_SOURCE"):
            return "CopyObject"
        return f"{verb}Object"
    for name, noun in _S3_BUCKET_SUBRESOURCES.items():
        if name in query:
            return verb + noun
    if "delete" in query:
        return "DeleteObjects"
    if "uploads" in query:
        return "ListMultipartUploads"
    if "versions" in query:
        return "ListObjectVersions"
    listing = "ListObjectsV2" if query.get("list-type") == "2" else "ListObjects"
    bucket_ops = {"GET": listing, "PUT": "CreateBucket", "DELETE": "DeleteBucket"}
    return bucket_ops.get(method, f"{verb}Bucket")


def _cbor_head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes([major << 5 | value])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * size):
            return bytes([major << 5 | info]) + value.to_bytes(size, "big")
    raise ValueError("CBOR length too large")


def _cbor_text_map(items: dict[str, str]) -> bytes:
    """A CBOR map of text strings: all an RPC v2 CBOR error body needs."""
    out = bytearray(_cbor_head(5, len(items)))
    for key, value in items.items():
        for text in (key.encode(), value.encode()):
            out += _cbor_head(3, len(text)) + text
    return bytes(out)


def _error(call: _Call, code: str, message: str, status: int = 400) -> _Response:
    """An error in the shape of the caller's protocol.

    JSON: https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html
    RPC v2 CBOR: https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html
    Query: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-responses.html
    S3: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
    """
    rid = call.request_id
    headers = [("x-amzn-RequestId", rid)]
    if call.protocol == "json":
        ctype = call.environ.get("CONTENT_TYPE") or "application/x-amz-json-1.1"
        body = json.dumps({"__type": code, "message": message}).encode()
    elif call.protocol == "cbor":
        ctype = "application/cbor"
        headers.append(("smithy-protocol", "rpc-v2-cbor"))
        body = _cbor_text_map({"__type": code, "message": message})
    elif call.protocol in ("query", "rest-xml"):
        ctype = "text/xml"
        error = f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        if call.protocol == "rest-xml":
            headers = [("x-amz-request-id", rid)]
            text = f"<Error>{error}<RequestId>{rid}</RequestId></Error>"
        else:
            fault = "Receiver" if status >= 500 else "Sender"
            text = (
                f"<ErrorResponse><Error><Type>{fault}</Type>{error}</Error>"
                f"<RequestId>{rid}</RequestId></ErrorResponse>"
            )
        body = ('<?xml version="1.0" encoding="UTF-8"?>' + text).encode()
    else:
        ctype = "application/json"
        headers.append(("x-amzn-ErrorType", code))
        body = json.dumps({"message": message}).encode()
    headers += [("Content-Type", ctype), ("Content-Length", str(len(body)))]
    return _Response(status, headers, body)


def _json_ok(call: _Call, data: Any) -> _Response:
    body = json.dumps(data).encode()
    headers = [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("x-amzn-RequestId", call.request_id),
        ("Content-Length", str(len(body))),
    ]
    return _Response(200, headers, body)


def _xml_ok(call: _Call, action: str, result: str, namespace: str) -> _Response:
    body = (
        f'<{action}Response xmlns="{namespace}"><{action}Result>{result}'
        f"</{action}Result><ResponseMetadata><RequestId>{call.request_id}"
        f"</RequestId></ResponseMetadata></{action}Response>"
    ).encode()
    headers = [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))]
    return _Response(200, headers, body)


def _epoch(value: Any) -> float | None:
    """botocore sends JSON timestamps as epoch seconds; accept ISO text too."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _members(params: dict[str, Any], name: str) -> list[str]:
    """A query-protocol list (``Name.member.1``, ``Name.member.2``...)."""
    found = [
        (int(k.rsplit(".", 1)[1]), v)
        for k, v in params.items()
        if k.startswith(f"{name}.member.") and k.rsplit(".", 1)[1].isdigit()
    ]
    return [v for _, v in sorted(found)]


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


class _ApiError(Exception):
    """A client error a handler answers with, in the caller's protocol."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class _Refused(Exception):
    """moto refused a call a handler made for the caller: pass its answer on."""

    def __init__(self, response: _Response) -> None:
        super().__init__(response.status)
        self.response = response


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


class SandboxApp:
    """The WSGI layer in front of moto (see the module docstring)."""

    def __init__(self) -> None:
        self._moto = DomainDispatcherApplication(create_backend_app)
        self._lock = threading.Lock()
        self._events: deque[_Event] = deque(maxlen=_MAX_EVENTS)
        self._rotation: dict[str, tuple[int, float]] = {}
        self._identities: dict[str, dict[str, str]] = {}
        self.faults = FaultInjector()
        self.stopping = threading.Event()
        """Set on stop, so requests stalled by a delay fault wake up and end."""
        self._handlers: dict[tuple[str, str], Callable[[_Call], _Response]] = {
            ("cloudtrail", "LookupEvents"): self._lookup_events,
            ("config", "DescribeComplianceByConfigRule"): self._compliance,
            ("iam", "SimulatePrincipalPolicy"): self._simulate,
        }

    def __call__(
        self, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_sandbox/") or path == "/moto-api/reset":
            return self._control(environ).send(start_response)
        try:
            call = _parse_call(environ)
        except ValueError:
            return self._forward(environ).send(start_response)
        return self._handle(call).send(start_response)

    def reset(self) -> None:
        """Forget everything: moto's state, events, rotation periods, faults."""
        environ = EnvironBuilder(method="POST", path="/moto-api/reset").get_environ()
        self._forward(environ)
        with self._lock:
            self._events.clear()
            self._rotation.clear()
            self._identities.clear()
        self.faults.clear()

    def _handle(self, call: _Call) -> _Response:
        fault = self.faults.take(call.service, call.operation)
        if fault is not None:
            logger.debug("fault %s on %s %s", fault, call.service, call.operation)
            if fault.delay:
                self.stopping.wait(fault.delay)
            if fault.error_code:
                if call.protocol == "rest-xml":
                    _read_body(call.environ)  # keep the connection usable
                message = (
                    fault.message or f"Injected by the sandbox: {fault.error_code}"
                )
                response = _error(call, fault.error_code, message, fault.status)
                if call.service == "kms":
                    self._record(call, response)
                return response
        handler = self._handlers.get((call.service, call.operation))
        try:
            if handler is not None:
                return handler(call)
        except _ApiError as error:
            return _error(call, error.code, error.message)
        except _Refused as refused:
            return refused.response
        if call.service == "kms":
            return self._kms(call)
        return self._forward(call.environ, call)

    def _forward(self, environ: Environ, call: _Call | None = None) -> _Response:
        """Run moto on ``environ`` and buffer its answer."""
        status: list[str] = []
        headers: list[tuple[str, str]] = []

        def start_response(line: str, hdrs: list[tuple[str, str]], *_: Any) -> Any:
            status.append(line)
            headers.extend(hdrs)
            return chunks.append

        chunks: list[bytes] = []
        try:
            result = self._moto(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                getattr(result, "close", lambda: None)()
        except Exception as error:  # moto raises NotImplementedError and others
            logger.warning("moto failed on %s: %r", environ.get("PATH_INFO"), error)
            if call is None:
                raise
            return _error(call, "NotImplemented", f"moto: {error!r}", 501)
        return _Response(int(status[0].split()[0]), headers, b"".join(chunks))

    def _ask(
        self, service: str, region: str, access_key: str, operation: str, **kw: Any
    ) -> _Response:
        """Call moto in-process as ``access_key`` would (moto maps it to an account)."""
        scope = f"{access_key or 'testing'}/{_FAKE_DATE}/{region}/{service}"
        headers = [
            ("Authorization", f"AWS4-HMAC-SHA256 Credential={scope}/aws4_request"),
            ("Host", "127.0.0.1"),
        ]
        if service in _JSON_TARGETS:
            headers.append(("X-Amz-Target", f"{_JSON_TARGETS[service]}.{operation}"))
            data = json.dumps(kw).encode()
            ctype = "application/x-amz-json-1.1"
        else:
            data = urlencode({"Action": operation, **kw}).encode()
            ctype = "application/x-www-form-urlencoded"
        builder = EnvironBuilder(
            method="POST", path="/", headers=headers, data=data, content_type=ctype
        )
        return self._forward(builder.get_environ())

    def _ask_as(
        self, call: _Call, service: str, operation: str, **kw: Any
    ) -> _Response:
        """:meth:`_ask` as the caller of ``call``, in its region."""
        return self._ask(service, call.region, call.access_key, operation, **kw)

    def _kms_ask(self, call: _Call, operation: str, **kw: Any) -> dict[str, Any]:
        """A KMS answer from moto as a dict; {} when moto refused."""
        response = self._ask_as(call, "kms", operation, **kw)
        return response.json() if response.status == 200 else {}

    def _identity(self, access_key: str) -> dict[str, str]:
        """Who moto thinks ``access_key`` is (account, ARN, user id), cached."""
        with self._lock:
            if access_key in self._identities:
                return self._identities[access_key]
        response = self._ask("sts", "us-east-1", access_key, "GetCallerIdentity")
        # moto's own XML, produced in this process: trusted input.
        root = ElementTree.fromstring(response.body)
        found = {el.tag.rsplit("}", 1)[-1]: el.text or "" for el in root.iter()}
        ident = {k: found.get(k, "") for k in ("Account", "Arn", "UserId")}
        with self._lock:
            self._identities[access_key] = ident
        return ident

    # KMS: rotation period and CloudTrail-like events.

    def _kms(self, call: _Call) -> _Response:
        if call.operation == "EnableKeyRotation":
            period = call.params.get("RotationPeriodInDays", 365)
            if not isinstance(period, int) or not 90 <= period <= 2560:
                message = (
                    f"Value '{period}' at 'rotationPeriodInDays' failed to satisfy "
                    "constraint: Member must have value between 90 and 2560"
                )
                response = _error(call, "ValidationException", message)
                self._record(call, response)
                return response
        response = self._forward(call.environ, call)
        if response.status == 200 and call.operation.endswith("KeyRotation"):
            self._note_rotation(call, call.operation == "EnableKeyRotation")
        elif response.status == 200 and call.operation == "GetKeyRotationStatus":
            response = self._rotation_status(call, response)
        self._record(call, response)
        return response

    def _note_rotation(self, call: _Call, enabled: bool) -> None:
        account = self._identity(call.access_key)["Account"]
        arn = self._key_arn(call, str(call.params.get("KeyId", "")), account)
        if arn is None:
            return
        period = int(call.params.get("RotationPeriodInDays", 365))
        with self._lock:
            if not enabled:
                self._rotation.pop(arn, None)
                return
            # AWS counts the first rotation from when rotation was first enabled.
            since = self._rotation.get(arn, (period, time.time()))[1]
            self._rotation[arn] = (period, since)

    def _rotation_status(self, call: _Call, response: _Response) -> _Response:
        """Add the fields moto drops (API_GetKeyRotationStatus.html, KMS API ref)."""
        data = response.json()
        account = self._identity(call.access_key)["Account"]
        arn = self._key_arn(call, str(call.params.get("KeyId", "")), account)
        if arn is None:
            return response
        data.setdefault("KeyId", arn)
        with self._lock:
            state = self._rotation.get(arn)
        # Without a record (moto's state changed behind the layer's back) the
        # period is unknown: leave it out rather than invent it.
        if data.get("KeyRotationEnabled") and state is not None:
            period, since = state
            data["RotationPeriodInDays"] = period
            data["NextRotationDate"] = since + period * 86400
        return response.with_json(data)

    def _key_arn(self, call: _Call, ref: str, account: str) -> str | None:
        """A key ARN from a key id, key ARN, alias name or alias ARN."""
        if ref.startswith("arn:") and ":key/" in ref:
            return ref
        if _KEY_ID.fullmatch(ref):
            partition = partition_of(call.region)
            return f"arn:{partition}:kms:{call.region}:{account}:key/{ref}"
        if not ref:
            return None
        meta = self._kms_ask(call, "DescribeKey", KeyId=ref).get("KeyMetadata", {})
        arn = meta.get("Arn")
        return arn if isinstance(arn, str) else None

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

    # Config DescribeComplianceByConfigRule:
    # https://docs.aws.amazon.com/config/latest/APIReference/API_DescribeComplianceByConfigRule.html

    def _compliance(self, call: _Call) -> _Response:
        rotation: tuple[str, int] | None = None
        wanted = set(call.params.get("ComplianceTypes") or [])
        results = []
        for rule in self._config_rules(call):
            source = rule.get("Source", {})
            kind, count = "INSUFFICIENT_DATA", 0
            if source.get("Owner") == "AWS" and (
                source.get("SourceIdentifier") == "CMK_BACKING_KEY_ROTATION_ENABLED"
            ):
                rotation = rotation or self._rotation_compliance(call)
                kind, count = rotation
            if wanted and kind not in wanted:
                continue
            compliance: dict[str, Any] = {"ComplianceType": kind}
            if kind == "NON_COMPLIANT":
                compliance["ComplianceContributorCount"] = {
                    "CappedCount": count,
                    "CapExceeded": False,
                }
            results.append(
                {"ConfigRuleName": rule["ConfigRuleName"], "Compliance": compliance}
            )
        return _json_ok(call, {"ComplianceByConfigRules": results})

    def _config_rules(self, call: _Call) -> list[dict[str, Any]]:
        """The rules the request names (all if none), as moto has them."""
        rules: list[dict[str, Any]] = []
        names = call.params.get("ConfigRuleNames")
        payload: dict[str, Any] = {"ConfigRuleNames": names} if names else {}
        while True:
            response = self._ask_as(call, "config", "DescribeConfigRules", **payload)
            if response.status != 200:
                raise _Refused(response)  # NoSuchConfigRuleException, in moto's words
            rules += response.json().get("ConfigRules", [])
            payload["NextToken"] = response.json().get("NextToken")
            if not payload["NextToken"]:
                return rules

    def _rotation_compliance(self, call: _Call) -> tuple[str, int]:
        """Evaluate CMK_BACKING_KEY_ROTATION_ENABLED over the region's keys.

        Like AWS Config, nothing is evaluated without a recording configuration
        recorder; keys that are not enabled, symmetric, customer managed KMS
        keys are out of scope; no key in scope gives INSUFFICIENT_DATA.
        """
        status = self._ask_as(
            call, "config", "DescribeConfigurationRecorderStatus"
        ).json()
        recorders = status.get("ConfigurationRecordersStatus", [])
        if not any(r.get("recording") for r in recorders):
            return "INSUFFICIENT_DATA", 0
        in_scope = failing = 0
        for key_id in self._all_key_ids(call):
            meta = self._kms_ask(call, "DescribeKey", KeyId=key_id).get(
                "KeyMetadata", {}
            )
            if (
                meta.get("KeyManager") != "CUSTOMER"
                or meta.get("KeyState") != "Enabled"
                or meta.get("KeySpec") != "SYMMETRIC_DEFAULT"
                or meta.get("Origin") != "AWS_KMS"
            ):
                continue
            in_scope += 1
            rotation = self._kms_ask(call, "GetKeyRotationStatus", KeyId=key_id)
            failing += not rotation.get("KeyRotationEnabled")
        if not in_scope:
            return "INSUFFICIENT_DATA", 0
        return ("NON_COMPLIANT", failing) if failing else ("COMPLIANT", 0)

    def _all_key_ids(self, call: _Call) -> list[str]:
        ids: list[str] = []
        marker: str | None = None
        while True:
            page = self._kms_ask(
                call, "ListKeys", **({"Marker": marker} if marker else {})
            )
            ids += [k["KeyId"] for k in page.get("Keys", [])]
            marker = page.get("NextMarker")
            if not page.get("Truncated") or not marker:
                return ids

    # IAM SimulatePrincipalPolicy: the shape only (correction 11: the simulator
    # ignores KMS key policies, and the tool never trusts it for them).
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html

    def _simulate(self, call: _Call) -> _Response:
        source = str(call.params.get("PolicySourceArn", ""))
        kind, _, name = source.partition(":iam::")[2].partition(":")[2].partition("/")
        check = {"role": ("GetRole", "RoleName"), "user": ("GetUser", "UserName")}
        if kind in check:
            operation, field = check[kind]
            name = name.rsplit("/", 1)[-1]
            query = {field: name, "Version": "2010-05-08"}
            found = self._ask_as(call, "iam", operation, **query)
            if found.status != 200:
                raise _Refused(found)  # NoSuchEntity, in IAM's own words
        resources = _members(call.params, "ResourceArns") or ["*"]
        members = "".join(
            f"<member><EvalActionName>{escape(action)}</EvalActionName>"
            f"<EvalResourceName>{escape(resource)}</EvalResourceName>"
            "<EvalDecision>implicitDeny</EvalDecision>"
            "<MatchedStatements/><MissingContextValues/></member>"
            for action in _members(call.params, "ActionNames")
            for resource in resources
        )
        result = f"<IsTruncated>false</IsTruncated><EvaluationResults>{members}"
        result += "</EvaluationResults>"
        namespace = "https://iam.amazonaws.com/doc/2010-05-08/"
        return _xml_ok(call, "SimulatePrincipalPolicy", result, namespace)

    # Control endpoints for tests and other processes.

    def _control(self, environ: Environ) -> _Response:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if path in ("/_sandbox/reset", "/moto-api/reset") and method == "POST":
            self.reset()
            return _plain(200, {"status": "reset"})
        if path == "/_sandbox/faults" and method == "GET":
            return _plain(200, {"faults": [asdict(f) for f in self.faults.rules()]})
        if path == "/_sandbox/faults" and method == "DELETE":
            self.faults.clear()
            return _plain(200, {"faults": []})
        if path == "/_sandbox/faults" and method == "POST":
            try:
                data = json.loads(_read_body(environ) or b"null")
                fault = make_fault(data if isinstance(data, dict) else {})
            except ValueError as error:
                return _plain(400, {"error": str(error)})
            self.faults.add(fault)
            return _plain(201, {"fault": asdict(fault)})
        return _plain(404, {"error": f"No sandbox endpoint {method} {path}."})


def _plain(status: int, data: dict[str, Any]) -> _Response:
    body = json.dumps(data).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    return _Response(status, headers, body)


class _QuietHandler(MotoRequestHandler):
    """moto's request handler, logging to our logger at debug, not stderr."""

    def log(self, type: str, message: str, *args: Any) -> None:
        logger.debug("%s %s", type, message % args)


class Sandbox:
    """moto and the layer, served on a background thread; a context manager.

    Example::

        with Sandbox() as sandbox:
            client = boto3.client("kms", endpoint_url=sandbox.endpoint_url, ...)
    """

    def __init__(
        self, port: int = 0, host: str = "127.0.0.1", *, region: str = "us-east-1"
    ) -> None:
        self.host = host
        self.port = port
        self.region = region
        self.app = SandboxApp()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        """``http://HOST:PORT`` of the running sandbox.

        Raises:
            RuntimeError: the sandbox is not running.
        """
        if self._server is None:
            raise RuntimeError("The sandbox is not running: call start() first.")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._server.server_port}"

    def start(self) -> Sandbox:
        """Bind the port (0: a free one) and serve on a daemon thread."""
        if self._server is not None:
            return self
        self.app.stopping.clear()
        server = make_server(
            self.host, self.port, self.app, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"harbor-kms-sandbox-{server.server_port}",
            daemon=True,
        )
        self._server = server
        self._thread.start()
        logger.info("sandbox listening on %s", self.endpoint_url)
        return self

    def stop(self) -> None:
        """Stop serving, wake stalled requests and free the port."""
        if self._server is None:
            return
        self.app.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def add_fault(
        self,
        service: str,
        operation: str,
        error_code: str,
        *,
        status: int = 400,
        count: int | None = None,
        delay: float = 0.0,
        message: str = "",
    ) -> None:
        """Make matching calls fail with ``error_code`` and/or stall ``delay`` s.

        Args:
            service: SigV4 signing name (``kms``, ``s3``, ``iam``), or ``*``.
            operation: API name (``GetKeyPolicy``, ``GetBucketEncryption``), or ``*``.
            error_code: the AWS error code to return; empty to only delay.
            status: HTTP status of the error.
            count: how many calls to affect; None for every call.
            delay: seconds to wait before answering (a hanging endpoint).
            message: the error message; a default names the sandbox.

        Raises:
            ValueError: the fault is out of range (see :func:`make_fault`).
        """
        fault = make_fault(
            {
                "service": service,
                "operation": operation,
                "error_code": error_code,
                "status": status,
                "count": count,
                "delay": delay,
                "message": message,
            }
        )
        self.app.faults.add(fault)

    def clear_faults(self) -> None:
        """Remove every fault."""
        self.app.faults.clear()

    def reset(self) -> None:
        """Empty the sandbox: moto's resources, events, faults."""
        self.app.reset()

    def environment(self) -> dict[str, str]:
        """Environment variables that point the AWS CLI and SDKs at the sandbox."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }
