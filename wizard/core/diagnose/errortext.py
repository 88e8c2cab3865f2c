"""A failed request, from the AWS error text Harbor (or the AWS CLI) logged.

Three SDK spellings of one error are recognised:

- botocore and the AWS CLI: ``An error occurred (AccessDenied) when calling the
  PutObject operation: MESSAGE``;
- the Go SDK v1, which Harbor's registry (distribution's S3 driver) logs:
  ``s3aws: AccessDenied: MESSAGE\\n\\tstatus code: 403, request id: ...``;
- the Go SDK v2: ``operation error S3: PutObject, https response error
  StatusCode: 403, ..., api error AccessDenied: MESSAGE``.

The message itself is either S3's bare ``Access Denied`` (the guide's symptom),
or AWS's authorization sentence, which S3 passes on from KMS:
``User: ARN is not authorized to perform: kms:GenerateDataKey on resource: KEY
because no identity-based policy allows the kms:GenerateDataKey action`` (or
``with an explicit deny in a resource-based policy``); the forms are described in
https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html.
What the text does not say (the bucket, the Bucket Keys setting, the caller for
a bare ``Access Denied``) comes from the values, and each such guess is noted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wizard.core.arn import parse_arn
from wizard.core.diagnose.event import (
    DENIED,
    S3_KMS_ACTIONS,
    EventError,
    FailedRequest,
    Hints,
    s3_context_arn,
    via_s3_context,
)
from wizard.core.policy.simulate import Request

_BOTOCORE = re.compile(
    r"An error occurred \((?P<code>[\w.]+)\) when calling the (?P<op>\w+) "
    r"operation(?: \([^)]*\))?: (?P<msg>.*)",
    re.S,
)
_GO_V2 = re.compile(
    r"operation error (?P<svc>[\w ]+?): (?P<op>\w+),.*?api error "
    r"(?P<code>[\w.]+): (?P<msg>.*)",
    re.S,
)
_GO_V1 = re.compile(
    r"(?:^|[\s\"'=])(?:s3aws: )?(?P<code>AccessDenied(?:Exception)?|KMS\.\w+|"
    r"\w+Exception): (?P<msg>.*?)(?:\n\s*status code: \d+.*)?$",
    re.S,
)
# Harbor's registry logs the HTTP method of the request that failed
# (logfmt: http.request.method=PUT); uploads are PUT/PATCH/POST, pulls GET/HEAD.
_METHOD = re.compile(r"http\.request\.method=\"?(?P<method>[A-Z]+)")
_METHOD_OPERATION = {
    "PUT": "PutObject",
    "PATCH": "PutObject",
    "POST": "PutObject",
    "GET": "GetObject",
    "HEAD": "GetObject",
}
_KMS_OPERATIONS = frozenset(
    {"Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext"}
    | {"ReEncrypt", "DescribeKey", "CreateGrant"}
)


@dataclass(frozen=True)
class _Parts:
    code: str | None
    operation: str | None
    service: str | None
    message: str


def _split(text: str) -> _Parts:
    """Error code, operation and message, whichever SDK wrote the text."""
    for pattern, service in ((_BOTOCORE, None), (_GO_V2, "")):
        found = pattern.search(text)
        if found:
            named = found.groupdict().get("svc") or service
            return _Parts(
                found.group("code"), found.group("op"), named, found.group("msg")
            )
    found = _GO_V1.search(text)
    if found:
        s3 = "s3aws:" in text
        return _Parts(found.group("code"), None, "S3" if s3 else None, found["msg"])
    return _Parts(None, None, None, text)


def parse_error_text(text: str, hints: Hints | None = None) -> FailedRequest:
    """The KMS request behind an AWS error message.

    Args:
        text: The error as logged (one line or several; surrounding log text is
            ignored).
        hints: The values: bucket, Bucket Keys, key, region, and the session
            Harbor calls with (for a bare ``Access Denied``).

    Returns:
        The derived request, with every guess in its notes.

    Raises:
        EventError: The text is not an AWS access error, or it lacks something
            (caller, bucket) the values do not supply either.
    """
    hints = hints or Hints()
    # Log formats escape the SDK's line breaks ("\\n\\tstatus code: 403").
    text = text.replace("\\n", "\n").replace("\\t", "\t").strip()
    parts = _split(text)
    denied = DENIED.search(parts.message)
    if parts.code is None and denied is None:
        raise EventError(
            "The text is not an AWS error: expected an error code such as "
            "AccessDenied, or 'User: ... is not authorized to perform: ...'."
        )
    notes: list[str] = []
    operation = parts.operation or _from_method(text, notes)
    principal = denied.group("principal") if denied else None
    action = denied.group("action") if denied else None
    if action is None and operation is not None and operation in S3_KMS_ACTIONS:
        action = S3_KMS_ACTIONS[operation]
        notes.append(f"The error names no KMS action; S3's {operation} needs {action}.")
    if action is None:
        raise EventError(
            "The error names neither a KMS action nor an S3 upload or download; "
            "give the CloudTrail event of the KMS call instead."
        )
    if principal is None:
        principal = _assumed_principal(hints, notes)
    resource = (denied.group("resource") if denied else None) or hints.key_arn or "*"
    if not (denied and denied.group("resource")) and hints.key_arn:
        notes.append("The error does not name the key; the configured key is assumed.")
    through_s3 = _through_s3(parts, operation, notes)
    context = (
        _s3_context(principal, resource, hints, notes) if through_s3 else _direct()
    )
    return FailedRequest(
        Request(principal, action, resource, context),
        "error-text",
        parts.code,
        " ".join(parts.message.split()) or None,
        denied.group("why") if denied and denied.group("why") else None,
        _operation_name(parts, operation, action),
        "s3.amazonaws.com" if through_s3 else None,
        notes=tuple(notes),
    )


def _from_method(text: str, notes: list[str]) -> str | None:
    """The S3 operation a registry log line implies by its HTTP method."""
    found = _METHOD.search(text)
    operation = _METHOD_OPERATION.get(found.group("method")) if found else None
    if found and operation:
        notes.append(
            f"The log line's HTTP method {found.group('method')} makes this an "
            f"{'upload' if operation == 'PutObject' else 'download'} ({operation})."
        )
    return operation


def _assumed_principal(hints: Hints, notes: list[str]) -> str:
    if hints.principal is None:
        raise EventError(
            "The error names no caller; give --config with Harbor's role "
            "(harbor.role_arn) so its session can stand in."
        )
    notes.append(
        f"The error names no caller; Harbor's session {hints.principal} is assumed."
    )
    return hints.principal


def _through_s3(parts: _Parts, operation: str | None, notes: list[str]) -> bool:
    """Whether S3 made the KMS call for the caller (or the caller called KMS)."""
    if operation in _KMS_OPERATIONS or (parts.service or "").upper() == "KMS":
        return False
    if operation in S3_KMS_ACTIONS or (parts.service or "").upper() == "S3":
        return True
    notes.append(
        "The error does not say which service was called; Harbor reaches the key "
        "only through S3, so an S3 call is assumed."
    )
    return True


def _operation_name(parts: _Parts, operation: str | None, action: str) -> str:
    if operation is None:
        return action
    through_kms = operation in _KMS_OPERATIONS
    return f"{'kms' if through_kms else 's3'}:{operation}"


def _direct() -> dict[str, object]:
    """A call straight to KMS: no service in between, no encryption context."""
    return {"aws:ViaAWSService": "false"}


def _s3_context(
    principal: str, resource: str, hints: Hints, notes: list[str]
) -> dict[str, object]:
    if hints.bucket is None:
        raise EventError(
            "The error does not name the bucket; give --config with Harbor's bucket "
            "(harbor.bucket) so S3's encryption context can be derived."
        )
    key = parse_arn(resource)
    region = key.region if key and key.region else hints.region
    if not region:
        raise EventError(
            "The region is not known: the error names no key ARN; give --region."
        )
    arn, guesses = s3_context_arn(hints.bucket, None, hints.bucket_key_enabled)
    notes += guesses
    caller = parse_arn(principal)
    account = caller.account if caller else hints.account_id
    return via_s3_context(account, region, arn)
