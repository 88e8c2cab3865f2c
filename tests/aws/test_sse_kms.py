"""SSE-KMS under a key S3 cannot use, over HTTP: the sandbox refuses as S3 does,
records S3's KMS calls, and the ``--probe`` round trip fails with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from wizard.aws.sandbox import Sandbox, SeedResult
from wizard.core.snapshot import ProbeResult

from .test_readers import make_reader, use_sandbox_credentials

Seeder = Callable[..., SeedResult]
ClientFactory = Callable[..., Any]
OBJECT = "docker/registry/v2/blobs/sha256/ab/layer/data"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox's credentials through the standard chain (for the reader)."""
    use_sandbox_credentials(monkeypatch)


def _put(s3: Any, result: SeedResult, key: str, **sse: Any) -> Any:
    return s3.put_object(Bucket=result.bucket, Key=key, Body=b"layer", **sse)


def _sse_kms(key_id: str) -> dict[str, str]:
    return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_id}


def _refusal(call: Callable[..., Any], **arguments: Any) -> tuple[str, str, int]:
    """Code, message and HTTP status of ``call(**arguments)``, which must fail."""
    with pytest.raises(ClientError) as caught:
        call(**arguments)
    response = caught.value.response
    status = int(response["ResponseMetadata"]["HTTPStatusCode"])
    return response["Error"]["Code"], response["Error"]["Message"], status


def _events(boto_client: ClientFactory, key_arn: str) -> list[dict[str, Any]]:
    by_key = {"AttributeKey": "ResourceName", "AttributeValue": key_arn}
    found = boto_client("cloudtrail").lookup_events(LookupAttributes=[by_key])
    return [json.loads(e["CloudTrailEvent"]) for e in found["Events"]]


def test_an_enabled_key_round_trips_and_s3_kms_calls_are_recorded(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    s3 = boto_client("s3")

    _put(s3, result, OBJECT, **_sse_kms(result.key_arn))
    got = s3.get_object(Bucket=result.bucket, Key=OBJECT)

    assert got["Body"].read() == b"layer"
    assert got["SSEKMSKeyId"] == result.key_arn
    decrypt, generate = _events(boto_client, result.key_arn)[:2]
    assert (decrypt["eventName"], generate["eventName"]) == (
        "Decrypt",
        "GenerateDataKey",
    )
    for record in (decrypt, generate):
        assert record["userIdentity"]["invokedBy"] == "s3.amazonaws.com"
        assert record["sourceIPAddress"] == "s3.amazonaws.com"
        assert "errorCode" not in record
        # The hardened bucket uses a Bucket Key: S3 sends the bucket ARN.
        context = record["requestParameters"]["encryptionContext"]
        assert context == {"aws:s3:arn": f"arn:aws:s3:::{result.bucket}"}
    assert generate["requestParameters"]["keyId"] == result.key_arn


def test_a_disabled_key_refuses_puts_and_gets_but_not_heads(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    s3 = boto_client("s3")
    _put(s3, result, OBJECT, **_sse_kms(result.key_arn))
    boto_client("kms").disable_key(KeyId=result.key_id)

    put = _refusal(s3.put_object, Bucket=result.bucket, Key="new", Body=b"x" * 70000)
    get = _refusal(s3.get_object, Bucket=result.bucket, Key=OBJECT)

    for code, message, status in (put, get):
        assert (code, status) == ("KMS.DisabledException", 400)
        assert message == f"{result.key_arn} is disabled."
    # HeadObject needs no KMS; the refused write left nothing behind.
    head = s3.head_object(Bucket=result.bucket, Key=OBJECT)
    assert head["SSEKMSKeyId"] == result.key_arn
    listed = s3.list_objects_v2(Bucket=result.bucket).get("Contents", [])
    assert [o["Key"] for o in listed] == [OBJECT]
    decrypt = _events(boto_client, result.key_arn)[0]
    assert (decrypt["eventName"], decrypt["errorCode"]) == (
        "Decrypt",
        "DisabledException",
    )


def test_a_key_pending_deletion_refuses_with_invalid_state(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    kms = boto_client("kms")
    kms.schedule_key_deletion(KeyId=result.key_id, PendingWindowInDays=7)
    s3 = boto_client("s3")

    # No SSE header: the bucket's default (SSE-KMS under this key) applies.
    code, message, status = _refusal(
        s3.put_object, Bucket=result.bucket, Key=OBJECT, Body=b"x"
    )

    assert (code, status) == ("KMS.KMSInvalidStateException", 400)
    assert message == f"{result.key_arn} is pending deletion."
    kms.cancel_key_deletion(KeyId=result.key_id)
    kms.enable_key(KeyId=result.key_id)
    assert _put(s3, result, OBJECT)["SSEKMSKeyId"] == result.key_arn


@pytest.mark.parametrize(
    "name", ["alias/no-such-key", "arn:aws:kms:eu-west-1:123456789012:key/{id}"]
)
def test_a_missing_key_or_one_of_another_region_is_not_found(
    seeded: Seeder, boto_client: ClientFactory, name: str
) -> None:
    result = seeded("hardened")

    code, message, status = _refusal(
        boto_client("s3").put_object,
        Bucket=result.bucket,
        Key=OBJECT,
        Body=b"x",
        **_sse_kms(name.format(id=result.key_id)),
    )

    assert (code, status) == ("KMS.NotFoundException", 400)
    assert message == f"Key '{name.format(id=result.key_id)}' does not exist"


def test_puts_without_kms_are_unaffected_by_the_key(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    boto_client("kms").disable_key(KeyId=result.key_id)
    s3 = boto_client("s3")

    put = _put(s3, result, OBJECT, ServerSideEncryption="AES256")
    got = s3.get_object(Bucket=result.bucket, Key=OBJECT)

    assert put["ServerSideEncryption"] == got["ServerSideEncryption"] == "AES256"
    assert got["Body"].read() == b"layer"
    assert [e["eventName"] for e in _events(boto_client, result.key_arn)][0] == (
        "DisableKey"
    )


def test_the_probe_fails_naming_the_code_and_the_fix(
    seeded: Seeder, sandbox: Sandbox, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    boto_client("kms").disable_key(KeyId=result.key_id)

    probe = make_reader(sandbox).snapshot(result.values(), probe=True).probe

    assert isinstance(probe, ProbeResult), probe
    assert not probe.ok and probe.cleaned_up
    assert "KMS.DisabledException" in probe.detail
    assert "aws kms enable-key" in probe.detail
    assert "Nothing was written" in probe.detail
    assert "Contents" not in boto_client("s3").list_objects_v2(Bucket=result.bucket)


def test_the_probe_cleans_up_when_s3_cannot_decrypt(
    seeded: Seeder, sandbox: Sandbox, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    # The key becomes unusable between the write and the read.
    code = "KMS.KMSInvalidStateException"
    sandbox.add_fault("s3", "GetObject", code, count=1)

    probe = make_reader(sandbox).snapshot(result.values(), probe=True).probe

    assert isinstance(probe, ProbeResult), probe
    assert not probe.ok and probe.cleaned_up
    assert f"refused to read back the probe object {result.bucket}/" in probe.detail
    assert code in probe.detail and "cancel-key-deletion" in probe.detail
    assert probe.detail.endswith("The probe object was deleted.")
    assert "Contents" not in boto_client("s3").list_objects_v2(Bucket=result.bucket)


def test_a_denied_put_stays_unknown(seeded: Seeder, sandbox: Sandbox) -> None:
    result = seeded("hardened")
    sandbox.add_fault("s3", "PutObject", "AccessDenied", status=403, count=1)

    probe = make_reader(sandbox).snapshot(result.values(), probe=True).probe

    assert not isinstance(probe, ProbeResult)
    assert probe is not None and probe.kind == "access_denied"
    assert probe.code == "AccessDenied"
