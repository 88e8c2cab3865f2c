"""Failed requests: CloudTrail events and error text parsed, and their diagnosis worded.

The records follow the shapes AWS documents (KMS's CloudTrail examples, e.g.
https://docs.aws.amazon.com/kms/latest/developerguide/ct-decrypt.html, and the
userIdentity reference): an assumed-role session, ``invokedBy`` and
``sourceIPAddress`` ``s3.amazonaws.com`` for S3's calls on Harbor's behalf, the
encryption context in ``requestParameters``, ``errorCode``/``errorMessage``.
The policies are the guide's template (examples/guide-policy.json) and the
tool's generated policy.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.factories import ACCOUNT, BUCKET, HARBOR_ROLE, KEY_ID, guide_values
from wizard.cli import main
from wizard.core.diagnose.errortext import parse_error_text
from wizard.core.diagnose.event import EventError, FailedRequest, Hints, parse_event
from wizard.core.diagnose.explain import Explanation, explain
from wizard.core.policy.build import build_policy
from wizard.core.policy.simulate import Evaluator, Request

GUIDE_POLICY = Path(__file__).parents[2] / "examples" / "guide-policy.json"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/HarborS3Role/harbor-registry"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{KEY_ID}"
OBJECT_ARN = f"arn:aws:s3:::{BUCKET}/docker/registry/v2/blobs/sha256/3f/data"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
DENIED = (
    "User: {who} is not authorized to perform: {action} on resource: {key} because "
    "no identity-based policy allows the {action} action"
)
HINTS = Hints(
    region="us-east-1",
    account_id=ACCOUNT,
    key_arn=KEY_ARN,
    bucket=BUCKET,
    bucket_key_enabled=True,
    principal=SESSION,
)


def guide_policy() -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(GUIDE_POLICY.read_text())
    return policy


def record(
    name: str,
    *,
    context: Mapping[str, str] | None = None,
    via_s3: bool = True,
    error: str | None = "AccessDenied",
    **extra: Any,
) -> dict[str, Any]:
    """A CloudTrail record of a KMS call by Harbor's session."""
    identity: dict[str, Any] = {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLEID:harbor-registry",
        "arn": SESSION,
        "accountId": ACCOUNT,
        "accessKeyId": "ASIAEXAMPLE",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "arn": HARBOR_ROLE,
                "accountId": ACCOUNT,
                "userName": "HarborS3Role",
            }
        },
    }
    if via_s3:
        identity["invokedBy"] = "s3.amazonaws.com"
    params: dict[str, Any] = {"keyId": KEY_ARN}
    if name == "GenerateDataKey":
        params["keySpec"] = "AES_256"
    if context is not None:
        params["encryptionContext"] = dict(context)
    body: dict[str, Any] = {
        "eventVersion": "1.11",
        "userIdentity": identity,
        "eventTime": "2025-05-20T20:46:16Z",
        "eventSource": "kms.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "s3.amazonaws.com" if via_s3 else "198.51.100.7",
        "userAgent": "s3.amazonaws.com" if via_s3 else "aws-cli/2.17",
        "requestParameters": params,
        "responseElements": None,
        "requestID": "e0eb83e3-63bc-11e4-bc2b-4198b6150d5c",
        "eventID": "a9dea4f9-8395-46c0-942c-f509c02c2b71",
        "readOnly": True,
        "resources": [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": KEY_ARN}],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    if error:
        body["errorCode"] = error
        body["errorMessage"] = DENIED.format(
            who=SESSION, action=f"kms:{name}", key=KEY_ARN
        )
    return body | extra


def lookup_view(body: Mapping[str, Any]) -> dict[str, Any]:
    """The LookupEvents view of a record: CloudTrailEvent is a JSON string."""
    return {
        "EventId": body["eventID"],
        "EventName": body["eventName"],
        "ReadOnly": "true",
        "EventTime": 1747773976.0,
        "EventSource": "kms.amazonaws.com",
        "Username": "harbor-registry",
        "Resources": [{"ResourceType": "AWS::KMS::Key", "ResourceName": KEY_ARN}],
        "CloudTrailEvent": json.dumps(body),
    }


def diagnosed(policy: Mapping[str, Any], failed: FailedRequest) -> Explanation:
    result = Evaluator(policy).evaluate(failed.request)
    return explain(
        policy,
        failed.request,
        result,
        error_code=failed.error_code,
        aws_reason=failed.aws_reason,
    )


# --- parsing CloudTrail ----------------------------------------------------------


def test_s3_call_for_harbor_becomes_the_request_kms_evaluates() -> None:
    body = record("GenerateDataKey", context={"aws:s3:arn": OBJECT_ARN})
    failed = parse_event(body)
    request = failed.request
    assert request.principal == SESSION
    assert request.action == "kms:GenerateDataKey"
    assert request.resource == KEY_ARN
    assert dict(request.context) == {
        "kms:CallerAccount": ACCOUNT,
        "aws:ViaAWSService": "true",
        "kms:ViaService": "s3.us-east-1.amazonaws.com",
        "kms:EncryptionContext:aws:s3:arn": OBJECT_ARN,
        "kms:EncryptionContextKeys": ["aws:s3:arn"],
    }
    assert failed.via_service == "s3.amazonaws.com"
    assert failed.error_code == "AccessDenied"
    assert failed.event_id == body["eventID"]


@pytest.mark.parametrize(
    "wrap",
    [
        lambda b: b,
        lookup_view,
        lambda b: {"Events": [lookup_view(b)]},
        lambda b: {"Records": [b]},
        lambda b: [lookup_view(b)],
        lambda b: json.dumps(b),
        lambda b: {"detail-type": "AWS API Call via CloudTrail", "detail": b},
    ],
    ids=["bare", "lookup-view", "lookup-events", "log-file", "list", "text", "bridge"],
)
def test_every_wrapping_of_a_record_is_read(wrap: Any) -> None:
    body = record("Decrypt", context={"aws:s3:arn": BUCKET_ARN})
    assert parse_event(wrap(body)).request == parse_event(body).request


def test_source_ip_alone_marks_a_service_call() -> None:
    body = record("Decrypt", context={"aws:s3:arn": BUCKET_ARN})
    del body["userIdentity"]["invokedBy"]
    context = parse_event(body).request.context
    assert context["kms:ViaService"] == "s3.us-east-1.amazonaws.com"
    assert "aws:SourceIp" not in context


def test_direct_call_carries_the_callers_network_keys() -> None:
    body = record("Decrypt", via_s3=False, vpcEndpointId="vpce-0123456789abcdef0")
    context = parse_event(body).request.context
    assert context["aws:SourceIp"] == "198.51.100.7"
    assert context["aws:SourceVpce"] == "vpce-0123456789abcdef0"
    assert context["aws:ViaAWSService"] == "false"
    assert "kms:ViaService" not in context


def test_the_first_failed_kms_call_is_chosen_and_the_choice_noted() -> None:
    ok = record("Decrypt", context={"aws:s3:arn": BUCKET_ARN}, error=None)
    bad = record("GenerateDataKey", context={"aws:s3:arn": OBJECT_ARN})
    failed = parse_event({"Events": [lookup_view(ok), lookup_view(bad)]})
    assert failed.request.action == "kms:GenerateDataKey"
    assert "2 records" in failed.notes[0]


def test_key_comes_from_key_id_when_resources_are_missing() -> None:
    body = record("Decrypt", context={"aws:s3:arn": BUCKET_ARN}, resources=[])
    body["requestParameters"]["keyId"] = KEY_ID
    assert parse_event(body).request.resource == KEY_ARN


def test_service_identity_is_the_service_principal() -> None:
    body = record("Decrypt", context={"aws:s3:arn": BUCKET_ARN})
    body["userIdentity"] = {"type": "AWSService", "invokedBy": "s3.amazonaws.com"}
    assert parse_event(body).request.principal == "s3.amazonaws.com"


def test_s3_record_becomes_the_kms_call_s3_makes() -> None:
    body = record("PutObject", error="AccessDenied")
    body["eventSource"] = "s3.amazonaws.com"
    body["userIdentity"].pop("invokedBy")
    body["sourceIPAddress"] = "10.0.3.4"
    body["requestParameters"] = {
        "bucketName": BUCKET,
        "key": "docker/registry/v2/blobs/sha256/3f/data",
        "x-amz-server-side-encryption-aws-kms-key-id": KEY_ARN,
    }
    failed = parse_event(body, replace(HINTS, bucket_key_enabled=False))
    assert failed.request.action == "kms:GenerateDataKey"
    assert failed.operation == "s3:PutObject"
    assert failed.request.context["kms:EncryptionContext:aws:s3:arn"] == OBJECT_ARN
    bucket_keys = parse_event(body, HINTS).request.context
    assert bucket_keys["kms:EncryptionContext:aws:s3:arn"] == BUCKET_ARN


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ({"foo": 1}, "No CloudTrail record"),
        ({"eventName": "CreateBucket", "eventSource": "s3.amazonaws.com"}, "does not"),
        ({"eventName": "RunInstances", "eventSource": "ec2.amazonaws.com"}, "not KMS"),
        ({"eventName": "Decrypt", "eventSource": "kms.amazonaws.com"}, "no caller"),
    ],
)
def test_unusable_input_is_one_sentence(document: Any, words: str) -> None:
    with pytest.raises(EventError, match=words):
        parse_event(document)


# --- parsing error text ------------------------------------------------------------

KMS_MESSAGE = DENIED.format(who=SESSION, action="kms:GenerateDataKey", key=KEY_ARN)


@pytest.mark.parametrize(
    "text",
    [
        "An error occurred (AccessDenied) when calling the PutObject operation: "
        + KMS_MESSAGE,
        'level=error msg="response completed with error" err.message="s3aws: '
        f"AccessDenied: {KMS_MESSAGE}\n\tstatus code: 403, request id: 4Q2, "
        'host id: x="',
        "operation error S3: PutObject, https response error StatusCode: 403, "
        f"RequestID: 4Q2, HostID: x, api error AccessDenied: {KMS_MESSAGE}",
    ],
    ids=["botocore", "go-v1-harbor-log", "go-v2"],
)
def test_the_sdks_spellings_give_one_request(text: str) -> None:
    failed = parse_error_text(text, HINTS)
    assert failed.request.principal == SESSION
    assert failed.request.action == "kms:GenerateDataKey"
    assert failed.request.resource == KEY_ARN
    assert failed.request.context["kms:ViaService"] == "s3.us-east-1.amazonaws.com"
    assert failed.request.context["kms:EncryptionContext:aws:s3:arn"] == BUCKET_ARN
    assert failed.aws_reason is not None and "identity-based" in failed.aws_reason
    assert failed.error_code == "AccessDenied"


def test_bare_access_denied_uses_the_values_and_says_so() -> None:
    text = "An error occurred (AccessDenied) when calling the GetObject operation: "
    failed = parse_error_text(text + "Access Denied", HINTS)
    assert failed.request.action == "kms:Decrypt"
    assert failed.request.principal == SESSION
    assert failed.operation == "s3:GetObject"
    joined = " ".join(failed.notes)
    assert "names no caller" in joined and "S3's GetObject needs kms:Decrypt" in joined


@pytest.mark.parametrize(
    ("method", "action"), [("PUT", "kms:GenerateDataKey"), ("GET", "kms:Decrypt")]
)
def test_registry_log_line_method_picks_upload_or_download(
    method: str, action: str
) -> None:
    text = (
        'level=error msg="response completed with error" err.detail="s3aws: '
        'AccessDenied: Access Denied\\n\\tstatus code: 403, request id: 7Q" '
        f"http.request.method={method} http.request.uri=/v2/library/nginx/blobs/x"
    )
    failed = parse_error_text(text, HINTS)
    assert failed.request.action == action
    assert failed.error_message == "Access Denied"
    assert any(f"HTTP method {method}" in note for note in failed.notes)


def test_direct_kms_error_has_no_s3_context() -> None:
    text = (
        "An error occurred (AccessDeniedException) when calling the Decrypt "
        f"operation: User: {SESSION} is not authorized to perform: kms:Decrypt on "
        "the resource associated with this ciphertext because no identity-based "
        "policy allows the kms:Decrypt action"
    )
    failed = parse_error_text(text, HINTS)
    assert failed.via_service is None
    assert "kms:ViaService" not in failed.request.context
    assert failed.request.resource == KEY_ARN


@pytest.mark.parametrize(
    ("text", "hints", "words"),
    [
        ("it broke", HINTS, "not an AWS error"),
        (
            "An error occurred (AccessDenied) when calling the PutObject operation: x",
            Hints(bucket=BUCKET, region="us-east-1"),
            "names no caller",
        ),
        (
            "An error occurred (AccessDenied) when calling the PutObject operation: "
            + KMS_MESSAGE,
            Hints(),
            "does not name the bucket",
        ),
        (
            "An error occurred (AccessDenied) when calling the ListBuckets "
            "operation: Access Denied",
            HINTS,
            "neither a KMS action",
        ),
    ],
)
def test_error_text_that_cannot_be_used(text: str, hints: Hints, words: str) -> None:
    with pytest.raises(EventError, match=words):
        parse_error_text(text, hints)


# --- cause and fix: the guide's policy ---------------------------------------------


def test_guide_upload_names_the_literal_wildcard() -> None:
    body = record("GenerateDataKey", context={"aws:s3:arn": OBJECT_ARN})
    found = diagnosed(guide_policy(), parse_event(body))
    assert found.decision == "implicit_deny"
    assert found.statement == "Allow Harbor Role Encryption Operations"
    assert found.condition == "StringEquals kms:EncryptionContext:aws:s3:arn"
    assert found.cause == (
        "Statement 'Allow Harbor Role Encryption Operations' did not match: "
        "StringEquals compares kms:EncryptionContext:aws:s3:arn literally, and "
        f"'{BUCKET_ARN}/*' is not '{OBJECT_ARN}'; use StringLike (correction 1)."
    )
    assert "StringLike" in found.fix and found.correction == 1
    assert found.apply_change == "put-key-policy"


def test_guide_download_with_bucket_keys_names_the_bucket_arn() -> None:
    body = record("Decrypt", context={"aws:s3:arn": BUCKET_ARN})
    found = diagnosed(guide_policy(), parse_event(body))
    assert found.statement == "Allow Harbor Role Encryption Operations"
    assert "S3 Bucket Keys are on, so S3 sent the bucket ARN" in found.cause
    assert f"Admit the exact bucket ARN '{BUCKET_ARN}'" in found.fix


def test_guide_direct_decrypt_is_the_deny_working() -> None:
    found = diagnosed(guide_policy(), parse_event(record("Decrypt", via_s3=False)))
    assert found.decision == "explicit_deny"
    assert found.statements[0] == "Deny Key Usage Outside S3"
    assert found.statement == "Deny Key Usage Outside S3"
    assert found.condition == "StringNotEquals kms:ViaService"
    assert "went straight to KMS" in found.cause
    assert "only through S3" in found.fix and found.apply_change is None


def test_guide_blanket_deny_binds_administrators() -> None:
    admin = f"arn:aws:sts::{ACCOUNT}:assumed-role/KMSAdminRole/alice"
    request = Request(admin, "kms:Decrypt", KEY_ARN, {"aws:ViaAWSService": "false"})
    result = Evaluator(guide_policy()).evaluate(request)
    found = explain(guide_policy(), request, result)
    assert found.statement == "Deny Unencrypted S3 Operations"
    assert found.correction == 8 and "administrators" in found.cause


def test_aws_confirms_when_only_iam_delegation_covers_the_caller() -> None:
    policy = guide_policy()
    policy["Statement"] = [
        s for s in policy["Statement"] if "Harbor" not in json.dumps(s["Principal"])
    ]
    body = record("GenerateDataKey", context={"aws:s3:arn": OBJECT_ARN})
    found = diagnosed(policy, parse_event(body))
    assert found.statements == ("Enable IAM Policies",)
    assert found.statement is None
    assert "No statement names the role" in found.cause
    assert "AWS confirms" in found.cause


def test_statement_naming_the_role_without_the_action() -> None:
    policy = guide_policy()
    for statement in policy["Statement"]:
        if statement["Sid"] == "Allow Harbor Role Encryption Operations":
            statement["Action"] = ["kms:Decrypt", "kms:DescribeKey"]
    body = record("GenerateDataKey", context={"aws:s3:arn": OBJECT_ARN})
    found = diagnosed(policy, parse_event(body))
    assert "names the role" in found.cause and "kms:GenerateDataKey" in found.cause
    assert found.fix.startswith("Add kms:GenerateDataKey")


def test_explicit_deny_reported_by_aws_but_not_by_the_policy_is_noted() -> None:
    text = (
        "An error occurred (AccessDenied) when calling the PutObject operation: User: "
        f"{SESSION} is not authorized to perform: kms:GenerateDataKey on resource: "
        f"{KEY_ARN} with an explicit deny in an identity-based policy"
    )
    found = diagnosed(build_policy(guide_values()), parse_error_text(text, HINTS))
    assert found.decision == "allow"
    assert any("the Deny is elsewhere" in d for d in found.details)
    assert "IAM" in found.fix


def test_disabled_key_is_the_cause_whatever_the_policy() -> None:
    text = (
        "An error occurred (KMS.DisabledException) when calling the PutObject "
        f"operation: {KEY_ARN} is disabled."
    )
    found = diagnosed(guide_policy(), parse_error_text(text, HINTS))
    assert "DisabledException" in found.cause and "enable-key" in found.fix
    assert found.details[0].startswith("Key policy: ")


# --- cause and fix: the generated policy -------------------------------------------


def test_generated_policy_allows_s3s_call() -> None:
    body = record("GenerateDataKey", context={"aws:s3:arn": BUCKET_ARN})
    found = diagnosed(build_policy(guide_values()), parse_event(body))
    assert found.decision == "allow"
    assert found.statements == ("HarborUseThroughS3",)
    assert "not the key policy" in found.cause


def test_generated_policy_old_object_arn_says_both_forms() -> None:
    body = record("Decrypt", context={"aws:s3:arn": OBJECT_ARN})
    found = diagnosed(build_policy(guide_values()), parse_event(body))
    assert found.statement == "HarborUseThroughS3"
    assert "written before they were enabled" in found.cause
    assert '"both"' in found.fix


def test_generated_policy_other_region_names_the_region() -> None:
    body = record("Decrypt", context={"aws:s3:arn": BUCKET_ARN}, awsRegion="eu-west-1")
    found = diagnosed(build_policy(guide_values()), parse_event(body))
    assert found.decision == "explicit_deny"
    assert found.statement == "DenyHarborDirectUse"
    assert "eu-west-1" in found.cause and "the Deny spares only" in found.cause


def test_generated_policy_direct_use_is_denied_by_its_deny() -> None:
    found = diagnosed(
        build_policy(guide_values()), parse_event(record("Decrypt", via_s3=False))
    )
    assert found.statement == "DenyHarborDirectUse"


def test_other_bucket_is_named() -> None:
    body = record("GenerateDataKey", context={"aws:s3:arn": "arn:aws:s3:::elsewhere"})
    found = diagnosed(build_policy(guide_values()), parse_event(body))
    assert "bucket 'elsewhere'" in found.cause


def test_network_key_on_s3s_call_is_correction_5() -> None:
    policy = build_policy(guide_values())
    for statement in policy["Statement"]:
        if statement["Sid"] == "HarborUseThroughS3":
            statement["Condition"]["StringEquals"]["aws:SourceVpce"] = (
                "vpce-0123456789abcdef0"
            )
    body = record("GenerateDataKey", context={"aws:s3:arn": BUCKET_ARN})
    found = diagnosed(policy, parse_event(body))
    assert found.correction == 5 and "not reliably documented" in found.cause


# --- the command with --policy (no AWS) --------------------------------------------


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["diagnose", *argv], out, err)
    return code, out.getvalue(), err.getvalue()


def test_json_has_request_decision_statements_cause_and_fix(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    body = record("GenerateDataKey", context={"aws:s3:arn": OBJECT_ARN})
    event.write_text(json.dumps(lookup_view(body)))
    code, out, _ = run(
        "--event", str(event), "--policy", str(GUIDE_POLICY), "--format", "json"
    )
    document = json.loads(out)
    assert code == 1
    assert document["request"]["principal"] == SESSION
    assert document["request"]["action"] == "kms:GenerateDataKey"
    assert document["request"]["context"]["kms:ViaService"].startswith("s3.")
    assert document["decision"] == "implicit_deny"
    assert document["statements"] == ["Enable IAM Policies"]
    assert document["statement"] == "Allow Harbor Role Encryption Operations"
    assert document["cause"].startswith("Statement 'Allow Harbor Role")
    assert document["fix"] and document["changed"] is False
    assert document["apply_command"] == "harbor-kms apply --only put-key-policy"


def test_text_names_decision_cause_fix_and_changes_nothing(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(record("Decrypt", via_s3=False)))
    code, out, _ = run("--event", str(event), "--policy", str(GUIDE_POLICY))
    assert code == 1
    assert "Decision    explicit deny" in out
    assert "Cause       Statement 'Deny Key Usage Outside S3'" in out
    assert out.rstrip().endswith("Nothing was changed.")


def test_allowed_request_exits_zero(tmp_path: Path) -> None:
    event, policy = tmp_path / "event.json", tmp_path / "policy.json"
    body = record("GenerateDataKey", context={"aws:s3:arn": BUCKET_ARN})
    event.write_text(json.dumps(body))
    policy.write_text(json.dumps(build_policy(guide_values())))
    code, out, _ = run("--event", str(event), "--policy", str(policy))
    assert code == 0 and "Decision    allow" in out


def test_bad_event_file_is_exit_2(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"hello": "world"}')
    code, _, err = run("--event", str(event), "--policy", str(GUIDE_POLICY))
    assert code == 2 and "No CloudTrail record" in err
