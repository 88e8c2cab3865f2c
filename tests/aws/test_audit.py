"""``harbor-kms audit`` against the sandbox over HTTP, through ``wizard.cli.main``.

The seeded scenarios are the guide followed literally (its mistakes must fail)
and the hardened account (everything automated must pass). Faults injected in
the sandbox show that a denied read is unknown with the permission named, and
that an endpoint that refuses is exit code 2 with a sentence, not a traceback.
"""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from wizard.aws.permissions import audit_policy, policy_actions
from wizard.aws.sandbox import Sandbox, SeedResult
from wizard.cli import main
from wizard.core import store
from wizard.core.checklist.engine import load_items

Seeder = Callable[..., SeedResult]
ClientFactory = Callable[..., Any]

ATTESTED = {item.id for item in load_items() if item.attested}
PROBE_ONLY = {item.id for item in load_items() if item.requires_probe}


@pytest.fixture(autouse=True)
def sandbox_credentials(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Point boto3 at the sandbox; never at a real account or profile."""
    for name, value in sandbox.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield


def _config(tmp_path: Path, result: SeedResult, **extra: Any) -> Path:
    path = tmp_path / "harbor-kms.toml"
    store.save(result.values(), path, extra=extra or None)
    return path


def _harbor_values(
    tmp_path: Path,
    result: SeedResult,
    key: str | None = None,
    *,
    encrypt: bool = True,
) -> Path:
    path = tmp_path / "values.yaml"
    s3 = {
        "region": result.region,
        "bucket": result.bucket,
        "encrypt": encrypt,
        "keyid": result.key_arn if key is None else key,
    }
    document = {"persistence": {"imageChartStorage": {"type": "s3", "s3": s3}}}
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def run(sandbox: Sandbox, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["audit", "--endpoint-url", sandbox.endpoint_url, *argv], out, err)
    return code, out.getvalue(), err.getvalue()


def _item(out: str, item_id: str) -> dict[str, Any]:
    """One item of a ``--format json`` audit."""
    items: list[dict[str, Any]] = json.loads(out)["items"]
    return next(i for i in items if i["id"] == item_id)


def statuses(document: dict[str, Any]) -> dict[str, str]:
    return {item["id"]: item["status"] for item in document["items"]}


def test_guide_as_written_fails_where_the_guide_is_wrong(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("guide-as-written")
    code, out, err = run(
        sandbox, "--config", str(_config(tmp_path, result)), "--format", "json"
    )
    assert code == 1, err
    document = json.loads(out)
    found = statuses(document)
    for item_id in (
        "rotation_enabled",
        "rotation_monitored",
        "rotation_alarm",
        "cloudtrail_enabled",
        "cloudwatch_dashboard",
        "alarm_decrypt_failures",
        "alarm_rotation_disabled",
        "alarm_policy_changes",
        "alarm_key_deletion",
        "config_rule_rotation",
        "policy_least_privilege",
        "policy_harbor_actions_minimal",
        "policy_encryption_context_bucket",
        "policy_explicit_deny_direct_use",
        "policy_simulated",
        "bucket_key_context_consistent",
        "key_tagged",
    ):
        assert found[item_id] == "fail", item_id
    assert document["key"]["arn"] == result.key_arn
    assert document["key"]["state"] == "Enabled"
    assert document["summary"]["fail"] == list(found.values()).count("fail")
    failing = {i["id"]: i for i in document["items"] if i["status"] == "fail"}
    rotation = failing["rotation_enabled"]["remediation"]
    assert f"--key-id {result.key_id}" in rotation["cli"]
    assert rotation["apply"] == "enable-rotation"
    assert failing["rotation_enabled"]["evidence"][0]["api"] == (
        "kms:GetKeyRotationStatus"
    )


def test_hardened_passes_every_automated_item(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("hardened")
    config = _config(tmp_path, result)
    harbor = _harbor_values(tmp_path, result)
    code, out, err = run(
        sandbox,
        "--config",
        str(config),
        "--harbor-values",
        str(harbor),
        "--format",
        "json",
    )
    document = json.loads(out)
    reasons = {i["id"]: i["reason"] for i in document["items"]}
    found = statuses(document)
    for item_id, status in found.items():
        if item_id in ATTESTED:
            assert status == "not_attested", item_id
        elif item_id in PROBE_ONLY:
            assert status == "unknown", item_id
            assert "run with --probe" in reasons[item_id]
        else:
            assert status == "pass", (item_id, reasons[item_id])
    assert code == 0, err


def test_the_probe_writes_reads_back_and_deletes(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("hardened")
    code, out, _ = run(
        sandbox,
        "--config",
        str(_config(tmp_path, result)),
        "--probe",
        "--format",
        "json",
    )
    probe = next(i for i in json.loads(out)["items"] if i["id"] == "test_s3_roundtrip")
    assert probe["status"] == "pass", probe["reason"]


def test_attestations_in_the_config_are_reported(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("hardened")
    entry = {"by": "alice", "at": "2026-12-03T10:00:00+00:00", "note": "wiki"}
    config = _config(tmp_path, result, attestations={"rotation_documented": entry})
    _, out, _ = run(sandbox, "--config", str(config), "--format", "json")
    item = _item(out, "rotation_documented")
    assert item["status"] == "attested"
    assert "alice" in item["reason"]


def test_a_bad_attestation_is_a_usage_error(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("empty")
    config = _config(tmp_path, result, attestations={"rotation_enabled": {"by": "a"}})
    code, out, err = run(
        sandbox,
        "--config",
        str(config),
        "--key-id",
        "1234abcd-12ab-34cd-56ef-1234567890ab",
    )
    assert code == 2
    assert "attestations.rotation_enabled" in err
    assert "Traceback" not in err


def test_denied_rotation_status_is_unknown_naming_the_permission(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("hardened")
    sandbox.add_fault("kms", "GetKeyRotationStatus", "AccessDeniedException")
    code, out, err = run(
        sandbox, "--config", str(_config(tmp_path, result)), "--format", "json"
    )
    item = _item(out, "rotation_enabled")
    assert item["status"] == "unknown"
    assert "kms:GetKeyRotationStatus" in item["reason"]
    assert code == 0, err
    code, _, _ = run(
        sandbox,
        "--config",
        str(_config(tmp_path, result)),
        "--format",
        "json",
        "--fail-on",
        "unknown",
    )
    assert code == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_an_endpoint_that_refuses_is_exit_2_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no harbor-kms.toml here: flags only
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [
            "audit",
            "--endpoint-url",
            f"http://127.0.0.1:{_closed_port()}",
            "--region",
            "us-east-1",
            "--key-id",
            "1234abcd-12ab-34cd-56ef-1234567890ab",
        ],
        out,
        err,
    )
    assert code == 2
    assert err.getvalue().startswith("harbor-kms: ")
    assert "endpoint" in err.getvalue().lower() or "connect" in err.getvalue().lower()
    assert "Traceback" not in err.getvalue()
    assert out.getvalue() == ""


def test_all_keys_audits_every_customer_managed_key(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("many-keys:3")
    code, out, err = run(
        sandbox,
        "--config",
        str(_config(tmp_path, result)),
        "--all-keys",
        "--format",
        "json",
    )
    document = json.loads(out)
    arns = {k["key"]["arn"] for k in document["keys"]}
    assert len(document["keys"]) == 4
    assert result.key_arn in arns
    assert all(extra in " ".join(arns) for extra in result.extra_key_ids)
    total = sum(document["summary"].values())
    assert total == 4 * len(load_items())
    assert code == 1, err


def test_all_keys_leaves_out_a_key_pending_deletion(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path, boto_client: Any
) -> None:
    result = seeded("many-keys:2")
    doomed = result.extra_key_ids[0]
    boto_client("kms").schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)
    code, out, err = run(
        sandbox, "--config", str(_config(tmp_path, result)), "--all-keys"
    )
    arns = [line for line in err.splitlines() if "arn:aws:kms" in line]
    assert len(arns) == 2, err
    assert not any(doomed in line for line in arns)
    assert code == 1


def test_all_keys_with_no_customer_managed_key_is_an_error(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path, boto_client: Any
) -> None:
    result = seeded("guide-as-written")
    boto_client("kms").schedule_key_deletion(KeyId=result.key_id, PendingWindowInDays=7)
    code, out, err = run(
        sandbox, "--config", str(_config(tmp_path, result)), "--all-keys"
    )
    assert code == 2
    assert "There is no customer managed key in us-east-1." in err
    assert "Traceback" not in err
    assert out == ""


def test_all_keys_covers_every_region_listed(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path, boto_client: Any
) -> None:
    result = seeded("guide-as-written")
    other = boto_client("kms", region="eu-west-1").create_key()["KeyMetadata"]
    code, out, err = run(
        sandbox,
        "--config",
        str(_config(tmp_path, result)),
        "--all-keys",
        "--region",
        "us-east-1,eu-west-1",
        "--format",
        "json",
    )
    arns = sorted(k["key"]["arn"] for k in json.loads(out)["keys"])
    assert arns == sorted([result.key_arn, other["Arn"]])
    assert ":eu-west-1:" in other["Arn"]
    assert code == 1, err


def test_all_keys_keeps_a_key_it_cannot_describe_and_says_why(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("many-keys:2")
    sandbox.add_fault("kms", "DescribeKey", "AccessDeniedException")
    code, out, err = run(
        sandbox,
        "--config",
        str(_config(tmp_path, result)),
        "--all-keys",
        "--format",
        "json",
    )
    keys = json.loads(out)["keys"]
    assert len(keys) == 3, err
    for key in keys:
        reasons = {i["id"]: i["reason"] for i in key["items"]}
        assert "kms:DescribeKey" in reasons["key_description"]
    assert code == 1


def test_all_keys_names_the_region_whose_keys_cannot_be_listed(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("guide-as-written")
    sandbox.add_fault("kms", "ListKeys", "AccessDeniedException")
    code, out, err = run(
        sandbox,
        "--config",
        str(_config(tmp_path, result)),
        "--all-keys",
        "--region",
        "us-east-1,eu-west-1",
    )
    assert code == 2
    assert "The keys of us-east-1 cannot be listed" in err
    assert "kms:ListKeys" in err
    assert "Traceback" not in err
    assert out == ""


def test_several_regions_without_all_keys_is_a_usage_error(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("guide-as-written")
    code, out, err = run(
        sandbox,
        "--config",
        str(_config(tmp_path, result)),
        "--region",
        "us-east-1,eu-west-1",
    )
    assert code == 2
    assert "only be given with --all-keys" in err
    assert out == ""


def test_output_is_written_to_the_file(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("guide-as-written")
    report = tmp_path / "audit.sarif"
    code, out, _ = run(
        sandbox,
        "--config",
        str(_config(tmp_path, result)),
        "--format",
        "sarif",
        "--output",
        str(report),
    )
    assert code == 1
    assert out == ""
    log = json.loads(report.read_text())
    assert log["version"] == "2.1.0"
    assert log["runs"][0]["results"]


def test_text_shows_progress_on_stderr_and_a_table_on_stdout(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("guide-as-written")
    code, out, err = run(sandbox, "--config", str(_config(tmp_path, result)))
    assert code == 1
    assert "Auditing account" in err
    assert "rotation_enabled" in err
    assert "Key Policy Configuration" in out
    assert "Summary:" in out


def test_markdown_has_a_table_per_section(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("guide-as-written")
    _, out, _ = run(
        sandbox, "--config", str(_config(tmp_path, result)), "--format", "markdown"
    )
    assert out.count("| Status | Item | Reason |") == 7


def test_permissions_prints_the_policy_and_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    code = main(["audit", "--permissions", "--probe"], out, err)
    assert code == 0, err.getvalue()
    policy = json.loads(out.getvalue())
    assert policy["Version"] == "2012-10-17"
    assert "kms:GetKeyRotationStatus" in policy_actions(policy)


def test_the_audit_policy_grants_what_every_item_needs() -> None:
    granted = policy_actions(audit_policy(True))
    needed = {p for item in load_items() for p in item.permissions}
    assert needed - granted == set()


def test_no_key_is_a_usage_error_before_any_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    code = main(["audit", "--endpoint-url", "http://127.0.0.1:9"], out, err)
    assert code == 2
    assert "No key to audit" in err.getvalue()


def test_harbor_values_naming_another_key_fail(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("many-keys:1")
    other = f"arn:aws:kms:{result.region}:{result.account_id}:key/"
    harbor = _harbor_values(tmp_path, result, other + result.extra_key_ids[0])
    _, out, _ = run(
        sandbox,
        "--config",
        str(_config(tmp_path, result)),
        "--harbor-values",
        str(harbor),
        "--format",
        "json",
    )
    item = _item(out, "harbor_values_key")
    assert item["status"] == "fail", item["reason"]
    assert result.extra_key_ids[0] in item["reason"]


@pytest.mark.parametrize(
    ("key", "encrypt", "expected"),
    [
        ("", True, "asks for SSE-S3 (AES256) on every upload"),
        (None, False, "sends no encryption header and ignores s3.keyid"),
    ],
    ids=["encrypt-without-keyid", "encrypt-off"],
)
def test_harbor_values_that_do_not_name_the_key_fail_with_what_s3_does(
    sandbox: Sandbox,
    seeded: Seeder,
    tmp_path: Path,
    key: str | None,
    encrypt: bool,
    expected: str,
) -> None:
    result = seeded("hardened")
    harbor = _harbor_values(tmp_path, result, key, encrypt=encrypt)
    _, out, _ = run(
        sandbox,
        "--config",
        str(_config(tmp_path, result)),
        "--harbor-values",
        str(harbor),
        "--format",
        "json",
    )
    item = _item(out, "harbor_values_key")
    assert item["status"] == "fail", item["reason"]
    assert expected in item["reason"]
    assert item["evidence"][0]["fields"]["encrypt"] is encrypt


def test_harbor_values_naming_this_key_pass(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("hardened")
    _, out, _ = run(
        sandbox,
        "--config",
        str(_config(tmp_path, result)),
        "--harbor-values",
        str(_harbor_values(tmp_path, result)),
        "--format",
        "json",
    )
    item = _item(out, "harbor_values_key")
    assert item["status"] == "pass", item["reason"]


def test_framework_groups_results_by_control_and_certifies_nothing(
    sandbox: Sandbox, seeded: Seeder, tmp_path: Path
) -> None:
    result = seeded("guide-as-written")
    config = str(_config(tmp_path, result))
    code, out, _ = run(
        sandbox, "--config", config, "--format", "json", "--framework", "soc2"
    )
    document = json.loads(out)
    assert code == 1
    assert document["compliance"]
    code, text, _ = run(sandbox, "--config", config, "--framework", "pci-dss")
    assert "certif" in text.lower()
