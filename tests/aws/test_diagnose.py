"""``harbor-kms diagnose`` against the sandbox over HTTP, the key policy read live.

Three CloudTrail shapes of a failed Harbor request meet the guide-as-written key:
an upload (GenerateDataKey through S3, object ARN as context), a download with
S3 Bucket Keys (Decrypt through S3, bucket ARN as context) and a direct Decrypt
by Harbor's role; each must name the deciding statement and the fix. Every
symptom is run once where its cause is present (the guide as written, or a
tweak of it) and once where it is not (the hardened account).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from wizard.aws.sandbox import Sandbox, SeedResult
from wizard.aws.sandbox.seed import TRAIL_NAME, guide_key_policy
from wizard.cli import main
from wizard.core import store

Seeder = Callable[..., SeedResult]
ClientFactory = Callable[..., Any]
OBJECT = "docker/registry/v2/blobs/sha256/3f/data"


@pytest.fixture(autouse=True)
def sandbox_credentials(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Point boto3 at the sandbox; never at a real account or profile."""
    for name, value in sandbox.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield


def config(tmp_path: Path, result: SeedResult, **changes: Any) -> str:
    path = tmp_path / "harbor-kms.toml"
    store.save(replace(result.values(), **changes), path)
    return str(path)


def run(sandbox: Sandbox, *argv: str) -> tuple[int, dict[str, Any]]:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["diagnose", "--endpoint-url", sandbox.endpoint_url, "--format", "json"]
        + list(argv),
        out,
        err,
    )
    assert code in (0, 1), err.getvalue()
    document: dict[str, Any] = json.loads(out.getvalue())
    return code, document


def session(result: SeedResult) -> str:
    return f"arn:aws:sts::{result.account_id}:assumed-role/HarborS3Role/harbor-core"


def kms_record(
    result: SeedResult, name: str, context_arn: str | None, via_s3: bool = True
) -> dict[str, Any]:
    """A KMS record of Harbor's session, as CloudTrail writes it."""
    identity: dict[str, Any] = {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLEID:harbor-core",
        "arn": session(result),
        "accountId": result.account_id,
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "arn": result.harbor_role_arn}
        },
    }
    if via_s3:
        identity["invokedBy"] = "s3.amazonaws.com"
    params: dict[str, Any] = {"keyId": result.key_arn}
    if context_arn:
        params["encryptionContext"] = {"aws:s3:arn": context_arn}
    message = (
        f"User: {session(result)} is not authorized to perform: kms:{name} on "
        f"resource: {result.key_arn} because no identity-based policy allows the "
        f"kms:{name} action"
    )
    return {
        "eventVersion": "1.11",
        "userIdentity": identity,
        "eventTime": "2025-05-20T20:46:16Z",
        "eventSource": "kms.amazonaws.com",
        "eventName": name,
        "awsRegion": result.region,
        "sourceIPAddress": "s3.amazonaws.com" if via_s3 else "203.0.113.9",
        "userAgent": "s3.amazonaws.com" if via_s3 else "aws-cli/2.17",
        "errorCode": "AccessDenied",
        "errorMessage": message,
        "requestParameters": params,
        "responseElements": None,
        "eventID": f"event-{name}",
        "readOnly": True,
        "resources": [
            {
                "accountId": result.account_id,
                "type": "AWS::KMS::Key",
                "ARN": result.key_arn,
            }
        ],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": result.account_id,
    }


def write(tmp_path: Path, document: Any) -> str:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(document))
    return str(path)


# --- three failed requests against the guide's key, read live ----------------------


def test_upload_through_s3_with_object_arn(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("guide-as-written")
    body = kms_record(
        result, "GenerateDataKey", f"arn:aws:s3:::{result.bucket}/{OBJECT}"
    )
    view = {"EventId": body["eventID"], "CloudTrailEvent": json.dumps(body)}
    code, found = run(
        sandbox, "--event", write(tmp_path, view), "--config", config(tmp_path, result)
    )
    assert code == 1
    assert found["policy_source"] == "AWS (kms:GetKeyPolicy)"
    assert found["request"]["context"]["kms:ViaService"] == "s3.us-east-1.amazonaws.com"
    assert found["decision"] == "implicit_deny"
    assert found["statement"] == "Allow Harbor Role Encryption Operations"
    assert found["condition"] == "StringEquals kms:EncryptionContext:aws:s3:arn"
    assert "compares kms:EncryptionContext:aws:s3:arn literally" in found["cause"]
    assert "use StringLike (correction 1)" in found["cause"]
    assert found["fix"].startswith("Change StringEquals to StringLike")
    assert found["apply_change"] == "put-key-policy"


def test_download_with_bucket_keys_and_the_bucket_arn(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("guide-as-written")
    body = kms_record(result, "Decrypt", f"arn:aws:s3:::{result.bucket}")
    events = {"Events": [{"CloudTrailEvent": json.dumps(body)}]}
    code, found = run(sandbox, "--event", write(tmp_path, events))
    assert code == 1
    assert found["decision"] == "implicit_deny"
    assert found["statement"] == "Allow Harbor Role Encryption Operations"
    assert "S3 Bucket Keys are on, so S3 sent the bucket ARN" in found["cause"]
    assert "Admit the exact bucket ARN" in found["fix"]
    assert found["correction"] == 1


def test_direct_decrypt_by_harbors_role(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("guide-as-written")
    body = kms_record(result, "Decrypt", None, via_s3=False)
    code, found = run(sandbox, "--event", write(tmp_path, body))
    assert code == 1
    assert found["request"]["context"]["aws:SourceIp"] == "203.0.113.9"
    assert found["decision"] == "explicit_deny"
    assert found["statements"] == [
        "Deny Key Usage Outside S3",
        "Deny Unencrypted S3 Operations",
    ]
    assert found["statement"] == "Deny Key Usage Outside S3"
    assert found["condition"] == "StringNotEquals kms:ViaService"
    assert "went straight to KMS" in found["cause"]
    assert "only through S3" in found["fix"] and found["apply_change"] is None


def test_harbors_error_text_with_the_values(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("guide-as-written")
    # A registry log line in logfmt, as Harbor's registry container writes it.
    text = (
        'time="2025-05-20T20:46:16Z" level=error msg="response completed with '
        'error" err.code=unknown err.detail="s3aws: AccessDenied: Access Denied'
        '\\n\\tstatus code: 403, request id: 7Q, host id: x" http.request.method=PUT '
        'http.request.uri="/v2/library/nginx/blobs/uploads/1f"'
    )
    # The values file is wrong about Bucket Keys; the bucket as read wins.
    values = config(tmp_path, result, bucket_key_enabled=False)
    code, found = run(sandbox, "--error", text, "--config", values)
    assert code == 1 and found["input"] == "error-text"
    assert found["request"]["action"] == "kms:GenerateDataKey"
    assert found["error"]["operation"] == "s3:PutObject"
    assert found["request"]["principal"].endswith(
        ":assumed-role/HarborS3Role/harbor-registry"
    )
    # Bucket Keys are on in the sandbox's bucket (read live): the bucket ARN.
    context = found["request"]["context"]
    assert (
        context["kms:EncryptionContext:aws:s3:arn"] == f"arn:aws:s3:::{result.bucket}"
    )
    assert found["statement"] == "Allow Harbor Role Encryption Operations"


def test_lookup_events_output_of_the_sandbox_is_read(
    sandbox: Sandbox, seeded: Seeder, boto_client: ClientFactory, tmp_path: Path
) -> None:
    result = seeded("guide-as-written")
    boto_client("kms").generate_data_key(
        KeyId=result.key_arn,
        KeySpec="AES_256",
        EncryptionContext={"aws:s3:arn": f"arn:aws:s3:::{result.bucket}"},
    )
    answer = boto_client("cloudtrail").lookup_events(
        LookupAttributes=[
            {"AttributeKey": "ResourceName", "AttributeValue": result.key_arn}
        ]
    )
    events = [e | {"EventTime": str(e["EventTime"])} for e in answer["Events"]]
    code, found = run(sandbox, "--event", write(tmp_path, {"Events": events}))
    assert found["request"]["action"] == "kms:GenerateDataKey"
    assert found["request"]["resource"] == result.key_arn
    assert found["request"]["context"]["kms:EncryptionContextKeys"] == ["aws:s3:arn"]
    assert found["decision"] == "implicit_deny" and code == 1


# --- symptoms: the cause present, and absent ---------------------------------------


def symptom(
    sandbox: Sandbox, tmp_path: Path, result: SeedResult, name: str, *extra: str
) -> tuple[int, dict[str, Any], dict[str, dict[str, Any]]]:
    code, document = run(
        sandbox, "--symptom", name, "--config", config(tmp_path, result), *extra
    )
    checks = {c["id"]: c for c in document["checks"]}
    return code, document, checks


def test_upload_denied_present(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    code, report, checks = symptom(
        sandbox, tmp_path, seeded("guide-as-written"), "upload-denied"
    )
    assert code == 1
    assert report["most_likely"] == "encryption_context"
    assert "Bucket Keys on" in checks["encryption_context"]["evidence"]
    assert report["apply_change"] == "put-key-policy"
    assert checks["role_in_policy"]["status"] == "not_found"
    assert checks["key_state"]["status"] == "not_found"
    assert report["changed"] is False


def test_upload_denied_absent(sandbox: Sandbox, seeded: Seeder, tmp_path: Path) -> None:
    code, report, checks = symptom(
        sandbox, tmp_path, seeded("hardened"), "upload-denied"
    )
    assert code == 0 and report["most_likely"] is None
    assert {c["status"] for c in checks.values()} == {"not_found"}


def _put_object(
    boto_client: ClientFactory,
    result: SeedResult,
    key_arn: str,
    bucket_key: bool = True,
) -> None:
    boto_client("s3").put_object(
        Bucket=result.bucket,
        Key=OBJECT,
        Body=b"layer",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key_arn,
        BucketKeyEnabled=bucket_key,
    )


def test_download_denied_present_object_under_another_key(
    sandbox: Sandbox, seeded: Seeder, boto_client: ClientFactory, tmp_path: Path
) -> None:
    result = seeded("guide-as-written")
    other = boto_client("kms").create_key()["KeyMetadata"]["Arn"]
    _put_object(boto_client, result, other)
    code, report, checks = symptom(
        sandbox, tmp_path, result, "download-denied", "--object", OBJECT
    )
    assert code == 1
    assert checks["object_key"]["status"] == "found"
    assert other in checks["object_key"]["evidence"]
    assert checks["encryption_context"]["status"] == "found"
    assert [c["id"] for c in report["checks"]][:2] == [
        "object_key",
        "encryption_context",
    ]


def test_download_denied_present_object_from_before_bucket_keys(
    sandbox: Sandbox, seeded: Seeder, boto_client: ClientFactory, tmp_path: Path
) -> None:
    result = seeded("hardened")
    _put_object(boto_client, result, result.key_arn, bucket_key=False)
    code, report, checks = symptom(
        sandbox, tmp_path, result, "download-denied", "--object", OBJECT
    )
    assert code == 1 and report["most_likely"] == "encryption_context"
    assert "written without a Bucket Key" in checks["encryption_context"]["evidence"]
    assert '"both"' in checks["encryption_context"]["remediation"]


def test_download_denied_absent(
    sandbox: Sandbox, seeded: Seeder, boto_client: ClientFactory, tmp_path: Path
) -> None:
    result = seeded("hardened")
    _put_object(boto_client, result, result.key_arn)
    code, report, checks = symptom(
        sandbox, tmp_path, result, "download-denied", "--object", OBJECT
    )
    assert code == 0 and report["most_likely"] is None
    assert checks["object_key"]["status"] == "not_found"
    assert {c["status"] for c in checks.values()} == {"not_found"}


def test_direct_kms_allowed_present_without_via_service_or_deny(
    sandbox: Sandbox, seeded: Seeder, boto_client: ClientFactory, tmp_path: Path
) -> None:
    result = seeded("guide-as-written")
    policy = guide_key_policy(result.account_id, result.region, result.bucket)
    # The guide's Common Misconfiguration 2: Harbor's Allow has no condition.
    statements = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    for statement in statements:
        if statement["Sid"] == "Allow Harbor Role Encryption Operations":
            del statement["Condition"]
    policy["Statement"] = statements
    boto_client("kms").put_key_policy(
        KeyId=result.key_id, PolicyName="default", Policy=json.dumps(policy)
    )
    code, report, checks = symptom(sandbox, tmp_path, result, "direct-kms-allowed")
    assert code == 1
    assert report["most_likely"] == "direct_use"
    assert "Allow Harbor Role Encryption Operations" in checks["direct_use"]["evidence"]
    assert checks["via_service_missing"]["status"] == "found"
    assert checks["no_direct_deny"]["status"] == "found"
    assert checks["iam_delegation"]["status"] == "unknown"


def test_direct_kms_allowed_absent(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    code, report, checks = symptom(
        sandbox, tmp_path, seeded("hardened"), "direct-kms-allowed"
    )
    assert code == 0 and report["most_likely"] is None
    assert "DenyHarborDirectUse" in checks["no_direct_deny"]["evidence"]
    assert {c["status"] for c in checks.values()} == {"not_found"}


def test_rotation_not_working_present(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    code, report, checks = symptom(
        sandbox, tmp_path, seeded("guide-as-written"), "rotation-not-working"
    )
    assert code == 1 and report["most_likely"] == "rotation_disabled"
    assert report["apply_change"] == "enable-rotation"
    assert report["apply_command"] == "harbor-kms apply --only enable-rotation"


def test_rotation_not_working_absent(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    code, report, checks = symptom(
        sandbox, tmp_path, seeded("hardened"), "rotation-not-working"
    )
    # Rotation is on; only the explanation that the first one is not due yet.
    assert code == 0
    assert checks["rotation_disabled"]["status"] == "not_found"
    assert checks["rotation_pending"]["status"] == "found"
    assert checks["rotation_pending"]["benign"] is True
    assert "correction 15" in checks["rotation_pending"]["evidence"]


def test_cloudtrail_not_logging_present(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    code, report, checks = symptom(
        sandbox, tmp_path, seeded("guide-as-written"), "cloudtrail-not-logging"
    )
    assert code == 1 and report["most_likely"] == "no_trail"
    assert report["apply_change"] == "create-trail"


def test_cloudtrail_not_logging_present_when_the_trail_is_stopped(
    sandbox: Sandbox, seeded: Seeder, boto_client: ClientFactory, tmp_path: Path
) -> None:
    result = seeded("hardened")
    boto_client("cloudtrail").stop_logging(Name=TRAIL_NAME)
    code, report, checks = symptom(sandbox, tmp_path, result, "cloudtrail-not-logging")
    assert code == 1 and report["most_likely"] == "trail_not_logging"
    assert "start-logging" in checks["trail_not_logging"]["remediation"]


def test_cloudtrail_not_logging_absent(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    code, report, checks = symptom(
        sandbox, tmp_path, seeded("hardened"), "cloudtrail-not-logging"
    )
    assert code == 0 and report["most_likely"] is None
    assert {c["status"] for c in checks.values()} == {"not_found"}


def test_symptom_text_lists_found_first_and_changes_nothing(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("guide-as-written")
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [
            "diagnose",
            "--endpoint-url",
            sandbox.endpoint_url,
            "--symptom",
            "rotation-not-working",
            "--config",
            config(tmp_path, result),
        ],
        out,
        err,
    )
    text = out.getvalue()
    assert code == 1
    assert text.splitlines()[2].startswith("FOUND       Automatic rotation disabled")
    assert "Apply       harbor-kms apply --only enable-rotation" in text
    assert text.rstrip().endswith("Nothing was changed.")
