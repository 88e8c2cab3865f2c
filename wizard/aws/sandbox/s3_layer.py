"""S3 in the sandbox: SSE-KMS objects need a usable key, as in AWS.

moto 5.2's S3 never calls KMS: it stores and returns an SSE-KMS object under a
disabled, pending-deletion or missing key alike. AWS S3 asks KMS for a data key
on PutObject and to decrypt it on GetObject, so it refuses both (HTTP 400) when
the key cannot be used, with KMS's error code behind ``KMS.``:
``KMS.DisabledException`` for a disabled key, ``KMS.KMSInvalidStateException``
for one pending deletion, ``KMS.NotFoundException`` for a missing one. LocalStack
validated these against AWS (https://github.com/localstack/localstack/pull/7786
for issue #7782, pull/8423 for pending deletion, pull/7448 for a missing key);
which states allow cryptographic operations is in
https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html.

The layer checks the key's state in moto before moto sees such a call, answers
S3's error instead of forwarding when the key is unusable, and records the KMS
call S3 makes for the caller (GenerateDataKey on a put, Decrypt on a get), so a
demo's CloudTrail history shows Harbor's use of the key. HeadObject needs no
KMS permission or key (API_HeadObject.html) and is not checked; every other
request goes to moto unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from wizard.aws.sandbox.cloudtrail_layer import CloudTrailLayer
from wizard.aws.sandbox.protocols import (
    Environ,
    _Call,
    _error,
    _flat,
    _read_body,
    _Response,
)
from wizard.aws.sandbox.trail_events import _Invoked
from wizard.core.arn import parse_arn
from wizard.core.regions import partition_of

_KMS_ALGORITHMS = frozenset({"aws:kms", "aws:kms:dsse"})
# KMS's error for a key that exists but is not Enabled, by key state; the
# messages are the ones LocalStack recorded from AWS (see the module doc).
_STATE_ERRORS = {
    "Disabled": ("DisabledException", "is disabled."),
    "PendingDeletion": ("KMSInvalidStateException", "is pending deletion."),
}


@dataclass(frozen=True)
class _KmsUse:
    """The key an S3 call needs, where, and the encryption context S3 sends."""

    key: str
    """As the request or the stored object names it (ARN, id or alias)."""
    region: str
    """The bucket's: S3 uses only a key in the bucket's region."""
    context_arn: str
    """``aws:s3:arn``: the bucket ARN with a Bucket Key, else the object ARN."""


class S3Layer(CloudTrailLayer):
    """S3 calls: SSE-KMS puts and gets refused when the key is unusable."""

    # TODO: CopyObject and multipart uploads use the key too, but are not checked.

    def _s3(self, call: _Call) -> _Response:
        use = self._kms_use(call)
        if use is None:
            return self._forward(call.environ, call)
        # S3 calls KMS in the bucket's region, whatever region signed the call.
        kms_call = replace(call, region=use.region)
        account = self._identity(call.access_key)["Account"]
        arn = self._key_arn(kms_call, use.key, account)
        refusal = self._refusal(use, arn)
        if refusal is None:
            response = self._forward(call.environ, call)
        else:
            _read_body(call.environ)  # keep the connection usable
            code, message = refusal
            response = _error(call, f"KMS.{code}", message)
        # A call moto refused on its own (no such bucket...) never reached KMS.
        if refusal is not None or response.status == 200:
            invoked = _invoked(call.operation, use, arn)
            self._record_invoked(kms_call, invoked, arn, refusal)
        return response

    def _kms_use(self, call: _Call) -> _KmsUse | None:
        """The key a PutObject or GetObject needs; None if it needs no KMS key."""
        if call.operation not in ("PutObject", "GetObject"):
            return None
        # WSGI passes the path's bytes as latin-1 text (PEP 3333).
        path = str(call.environ.get("PATH_INFO", "/")).encode("latin-1", "replace")
        name, _, object_key = path.decode("utf-8", "replace").lstrip("/").partition("/")
        bucket = self._s3_bucket(call, name)
        if bucket is None:
            return None
        if call.operation == "PutObject":
            found = _put_key(call.environ, bucket.encryption)
        else:
            version = _flat(call.environ.get("QUERY_STRING", "")).get("versionId")
            found = _stored_key(bucket, object_key, version)
        if found is None:
            return None
        key, bucket_key = found
        context = f"arn:{partition_of(bucket.region_name)}:s3:::{name}"
        if not bucket_key:
            context += f"/{object_key}"
        return _KmsUse(key, str(bucket.region_name), context)

    def _refusal(self, use: _KmsUse, arn: str | None) -> tuple[str, str] | None:
        """KMS's error code and message if S3 cannot use the key; None if it can.

        S3 answers with the same message and the code behind ``KMS.``.
        """
        parsed = parse_arn(arn) if arn else None
        state = None
        if arn and parsed and parsed.region == use.region:
            state = self._key_state(arn)
        if state is None:
            return "NotFoundException", f"Key '{arn or use.key}' does not exist"
        if state == "Enabled":
            return None
        code, what = _STATE_ERRORS.get(
            state, ("KMSInvalidStateException", f"is {state}.")
        )
        return code, f"{arn} {what}"


def _is_true(value: Any) -> bool:
    return str(value).lower() == "true"


def _put_key(
    environ: Environ, default: dict[str, Any] | None
) -> tuple[str, bool] | None:
    """The key and Bucket Key flag a new object gets, as moto will store it.

    The request's settings, else the bucket default's. SSE-KMS without a key
    means the AWS managed key aws/s3, which moto does not model: unchecked.
    """
    rule = (default or {}).get("Rule", {})
    by_default = rule.get("ApplyServerSideEncryptionByDefault", {})
    header = "HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION"
    algorithm = environ.get(header) or by_default.get("SSEAlgorithm")
    if algorithm not in _KMS_ALGORITHMS:
        return None
    key = environ.get(f"{header}_AWS_KMS_KEY_ID") or by_default.get("KMSMasterKeyID")
    flag = environ.get(f"{header}_BUCKET_KEY_ENABLED") or rule.get("BucketKeyEnabled")
    return (str(key), _is_true(flag)) if key else None


def _stored_key(
    bucket: Any, object_key: str, version: str | None
) -> tuple[str, bool] | None:
    """The key and Bucket Key flag an object was stored with; None if not SSE-KMS."""
    versions = bucket.keys.getlist(object_key, default=[]) or []
    if version:
        versions = [v for v in versions if str(v.version_id) == version]
    stored = versions[-1] if versions else None  # moto keeps the latest last
    if getattr(stored, "encryption", None) not in _KMS_ALGORITHMS:
        return None
    key = getattr(stored, "kms_key_id", None)
    flag = getattr(stored, "bucket_key_enabled", None)
    return (str(key), _is_true(flag)) if key else None


def _invoked(operation: str, use: _KmsUse, arn: str | None) -> _Invoked:
    """The KMS call S3 makes for a put (GenerateDataKey) or a get (Decrypt)."""
    context = {"aws:s3:arn": use.context_arn}
    params: dict[str, Any] = {"EncryptionContext": context}
    if operation == "PutObject":
        params |= {"KeyId": arn or use.key, "KeySpec": "AES_256"}
        return _Invoked("GenerateDataKey", params, "s3.amazonaws.com")
    params["EncryptionAlgorithm"] = "SYMMETRIC_DEFAULT"
    return _Invoked("Decrypt", params, "s3.amazonaws.com")
