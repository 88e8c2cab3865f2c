"""S3 reads: a bucket's region, default encryption, public access block and
policy; and the ``--probe`` round trip through SSE-KMS.

A setting that is not set reads as None, not as unknown: S3 answers
GetBucketPolicy on a bucket without a policy with NoSuchBucketPolicy, and moto
answers a fresh bucket's GetBucketEncryption and GetPublicAccessBlock the same
way where AWS now returns its defaults (see ``errors.NOT_SET_CODES``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from wizard.aws.api import policy_document
from wizard.core.snapshot import Bucket, BucketEncryption, ProbeResult, Read, Unknown

if TYPE_CHECKING:
    from wizard.aws.readers import Api

logger = logging.getLogger(__name__)

PROBE_PREFIX = "harbor-kms-probe/"
"""Where probe objects go; the probe's IAM permissions are scoped to it."""
_WHOLE_BUCKET_KINDS = frozenset({"endpoint", "throttled", "error"})
# S3 answers an SSE-KMS put or get with KMS's error behind "KMS." when the key
# cannot be used: the round trip failed, as Harbor's pushes and pulls would.
# Codes as AWS returns them, validated by LocalStack:
# https://github.com/localstack/localstack/pull/7786 (issue #7782) and
# https://github.com/localstack/localstack/pull/8423; which key states allow
# use: https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
_KMS_ADVICE = {
    "KMS.DisabledException": "the key is disabled; enable it (aws kms enable-key)",
    "KMS.KMSInvalidStateException": (
        "the key's state does not allow its use, for example pending deletion; "
        "cancel the deletion (aws kms cancel-key-deletion) and enable the key"
    ),
    "KMS.NotFoundException": (
        "S3 found no such key; check the key ARN and that the key is in the "
        "bucket's region"
    ),
}


def bucket(api: Api, region: str, name: str) -> Read[Bucket]:
    """The bucket's settings, each read on its own; not_found if it does not exist."""
    # Each setting is its own Read; only the results' types differ.
    reads: list[Callable[[], Any]] = [
        partial(_location, api, region, name),
        partial(_encryption, api, region, name),
        partial(_public_access_block, api, region, name),
        partial(_policy, api, region, name),
    ]
    location, encryption, block, policy = api.fan(reads)
    parts = (location, encryption, block, policy)
    for part in parts:
        if isinstance(part, Unknown) and part.kind == "not_found":
            return replace(part, reason=f"Bucket {name} does not exist ({part.api}).")
    # Nothing read at all, and not for want of a permission (which each field
    # names on its own): one Unknown says it better than four.
    unknowns = [p for p in parts if isinstance(p, Unknown)]
    if len(unknowns) == len(parts) and unknowns[0].kind in _WHOLE_BUCKET_KINDS:
        return unknowns[0]
    return Bucket(name, location, encryption, block, policy)


def _location(api: Api, region: str, name: str) -> Read[str]:
    found = api.call("s3", "GetBucketLocation", name, region=region, Bucket=name)
    if isinstance(found, Unknown):
        return found
    # us-east-1 answers null and eu-west-1 may answer its legacy name EU:
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html
    constraint = found.get("LocationConstraint") or "us-east-1"
    return "eu-west-1" if constraint == "EU" else str(constraint)


def _encryption(api: Api, region: str, name: str) -> Read[BucketEncryption | None]:
    found = api.call_optional(
        "s3", "GetBucketEncryption", name, region=region, Bucket=name
    )
    if found is None or isinstance(found, Unknown):
        return found
    rules = found.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    if not rules:
        return None
    # S3 keeps a single rule per bucket; the first is the one that applies.
    rule: Mapping[str, Any] = rules[0]
    default = rule.get("ApplyServerSideEncryptionByDefault", {})
    return BucketEncryption(
        algorithm=str(default.get("SSEAlgorithm", "")),
        kms_key_id=default.get("KMSMasterKeyID"),
        bucket_key_enabled=bool(rule.get("BucketKeyEnabled", False)),
    )


def _public_access_block(
    api: Api, region: str, name: str
) -> Read[Mapping[str, bool] | None]:
    found = api.call_optional(
        "s3", "GetPublicAccessBlock", name, region=region, Bucket=name
    )
    if found is None or isinstance(found, Unknown):
        return found
    config = found.get("PublicAccessBlockConfiguration", {})
    return {str(k): bool(v) for k, v in config.items()}


def _policy(api: Api, region: str, name: str) -> Read[Mapping[str, Any] | None]:
    found = api.call_optional("s3", "GetBucketPolicy", name, region=region, Bucket=name)
    if found is None or isinstance(found, Unknown):
        return found
    return policy_document(found, f"The policy of bucket {name}", "s3:GetBucketPolicy")


def probe(api: Api, region: str, bucket_name: str, key_arn: str) -> Read[ProbeResult]:
    """Write, read back and delete a small object encrypted with the key.

    The object is written as Harbor's S3 driver writes with ``encrypt`` and a
    ``keyid``: SSE-KMS naming the key, bucket defaults for everything else.
    Cleanup runs whatever failed after the write.

    Returns:
        ProbeResult (ok or not, with why), not ok too when S3 refused because
        of the key (a ``KMS.*`` error code); Unknown when a call itself failed
        (denied, throttled, unreachable), its reason saying what was cleaned up.
    """
    object_key = f"{PROBE_PREFIX}{uuid.uuid4()}"
    where = f"{bucket_name}/{object_key}"
    body = f"harbor-kms-wizard probe {object_key}\n".encode()
    put = api.call(
        "s3",
        "PutObject",
        where,
        region=region,
        memo=False,
        Bucket=bucket_name,
        Key=object_key,
        Body=body,
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key_arn,
    )
    if isinstance(put, Unknown):
        refused = _kms_refusal(put, "write", where, key_arn)
        if refused is not None:  # S3 writes nothing when KMS refuses
            return ProbeResult(
                False, f"{refused} Nothing was written.", object_key, True
            )
        if put.kind not in ("endpoint", "throttled"):
            return put  # refused outright: nothing was written
        # The write may have landed before the connection failed.
        left = _delete(api, region, bucket_name, object_key, None)
        return _annotated(put, where, left)
    failure = _verify(api, region, bucket_name, object_key, key_arn, body)
    left = _delete(api, region, bucket_name, object_key, put.get("VersionId"))
    if isinstance(failure, Unknown):
        return _annotated(failure, where, left)
    cleanup = _cleanup_sentence(where, left)
    if failure is not None:
        return ProbeResult(False, f"{failure} {cleanup}", object_key, left is None)
    detail = f"Wrote and read back {where} encrypted with {key_arn}. {cleanup}"
    return ProbeResult(True, detail, object_key, left is None)


def _verify(
    api: Api, region: str, bucket_name: str, object_key: str, key_arn: str, body: bytes
) -> Unknown | str | None:
    """None if S3 kept the object under the key and returns it intact; else why."""
    where = f"{bucket_name}/{object_key}"
    head = api.call(
        "s3",
        "HeadObject",
        where,
        region=region,
        memo=False,
        Bucket=bucket_name,
        Key=object_key,
    )
    if isinstance(head, Unknown):
        return head
    algorithm, used = head.get("ServerSideEncryption"), head.get("SSEKMSKeyId")
    if algorithm != "aws:kms" or used != key_arn:
        return (
            f"S3 stored the probe object with {algorithm or 'no'} encryption "
            f"under {used or 'no KMS key'}, not SSE-KMS under {key_arn}."
        )
    got = api.call(
        "s3",
        "GetObject",
        where,
        region=region,
        memo=False,
        Bucket=bucket_name,
        Key=object_key,
    )
    if isinstance(got, Unknown):
        return _kms_refusal(got, "read back", where, key_arn) or got
    if got.get("Body") != body:
        return "The probe object read back differs from what was written."
    return None


def _kms_refusal(failure: Unknown, verb: str, where: str, key_arn: str) -> str | None:
    """Why the round trip failed if S3 could not use the key; None otherwise."""
    code = failure.code or ""
    if not code.startswith("KMS."):
        return None
    advice = _KMS_ADVICE.get(code, "S3 could not use the key; check its state")
    return (
        f"S3 refused to {verb} the probe object {where} under {key_arn} "
        f"with {code}: {advice}. Harbor's pushes and pulls fail the same way."
    )


def _delete(
    api: Api, region: str, bucket_name: str, object_key: str, version: str | None
) -> Unknown | None:
    """Delete the probe object; None when gone, else why it is still there.

    In a versioned bucket a plain delete only adds a delete marker, so the
    version written is deleted by id.
    """
    params: dict[str, Any] = {"Bucket": bucket_name, "Key": object_key}
    if version:
        params["VersionId"] = version
    done = api.call(
        "s3",
        "DeleteObject",
        f"{bucket_name}/{object_key}",
        region=region,
        memo=False,
        **params,
    )
    if isinstance(done, Unknown):
        logger.warning(
            "probe object %s/%s left behind: %s", bucket_name, object_key, done.reason
        )
        return done
    return None


def _cleanup_sentence(where: str, left: Unknown | None) -> str:
    if left is None:
        return "The probe object was deleted."
    return (
        f"The probe object {where} could not be deleted "
        f"({left.reason.rstrip('.')}); delete it by hand."
    )


def _annotated(failure: Unknown, where: str, left: Unknown | None) -> Unknown:
    return replace(failure, reason=f"{failure.reason} {_cleanup_sentence(where, left)}")
