"""Requests and answers of the sandbox layer, in the caller's AWS protocol.

Recognising a call (service, region and caller from the SigV4 scope; the
operation from the JSON target, the RPC v2 CBOR path, the query ``Action`` or
S3's method, path and subresource) and answering it in the same protocol:
errors botocore can parse, and the few success shapes the handlers need.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from werkzeug.http import HTTP_STATUS_CODES

Environ = dict[str, Any]
StartResponse = Callable[..., Any]

_SCOPE = re.compile(r"Credential=([^/,\s]*)/\d{8}/([^/]+)/([^/]+)/aws4_request")


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
        return self.with_body(json.dumps(data).encode())

    def with_body(self, body: bytes) -> _Response:
        """The same status and headers around ``body``, its length updated."""
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


def _members(params: dict[str, Any], name: str) -> list[str]:
    """A query-protocol list (``Name.member.1``, ``Name.member.2``...)."""
    found = [
        (int(k.rsplit(".", 1)[1]), v)
        for k, v in params.items()
        if k.startswith(f"{name}.member.") and k.rsplit(".", 1)[1].isdigit()
    ]
    return [v for _, v in sorted(found)]


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
