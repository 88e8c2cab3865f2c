"""The `harbor-kms policy ...` contract: outputs, formats and exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from wizard.cli import main

TOP = Path(__file__).parents[2]
CONFIG = str(TOP / "examples" / "harbor-kms.toml")
GUIDE = str(TOP / "examples" / "guide-policy.json")
BUCKET_ARN = "arn:aws:s3:::harbor-registry-storage-111122223333-us-east-1"
HARBOR_SESSION = "arn:aws:sts::111122223333:assumed-role/HarborS3Role/harbor"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def hardened(tmp_path: Path) -> str:
    code, text, _ = run("policy", "render", "--config", CONFIG)
    assert code == 0
    path = tmp_path / "hardened.json"
    path.write_text(text)
    return str(path)


def test_render_formats() -> None:
    code, text, _ = run("policy", "render", "--config", CONFIG)
    policy = json.loads(text)
    assert code == 0 and policy["Id"] == "harbor-kms-hardened"
    _, tf, _ = run("policy", "render", "--config", CONFIG, "--format", "terraform")
    assert tf.startswith('resource "aws_kms_key_policy" "harbor" {')
    _, cfn, _ = run(
        "policy", "render", "--config", CONFIG, "--format", "cloudformation"
    )
    assert (
        json.loads(cfn)["Resources"]["HarborKmsKey"]["Properties"]["KeyPolicy"]
        == policy
    )


def test_render_with_invalid_config_exits_2_naming_each_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('version = 1\n[aws]\naccount_id = "12"\nregion = "mars-1"\n')
    code, out, err = run("policy", "render", "--config", str(bad))
    assert code == 2 and out == ""
    assert f"{bad}: aws.account_id" in err and f"{bad}: aws.region" in err
    assert "Traceback" not in err


def test_render_without_config_says_how_to_make_one(tmp_path: Path) -> None:
    code, _, err = run("policy", "render", "--config", str(tmp_path / "no.toml"))
    assert code == 2 and "does not exist" in err


def test_lint_exit_codes_and_json_shape(hardened: str) -> None:
    code, text, _ = run("policy", "lint", GUIDE, "--format", "json")
    findings = json.loads(text)
    assert code == 1
    assert all(
        set(f) == {"rule", "severity", "statement", "message", "fix"} for f in findings
    )
    assert "encryption-context-literal-wildcard" in {f["rule"] for f in findings}
    code, _, _ = run("policy", "lint", hardened, "--config", CONFIG)
    assert code == 0


def test_lint_sarif_is_2_1_0() -> None:
    code, text, _ = run("policy", "lint", GUIDE, "--format", "sarif")
    sarif = json.loads(text)
    assert code == 1 and sarif["version"] == "2.1.0"
    assert sarif["runs"][0]["results"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a policy"),
        ('{"Version": "2012-10-17"}', "Statement"),
    ],
)
def test_lint_unusable_input_exits_2(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(content)
    code, _, err = run("policy", "lint", str(path))
    assert code == 2 and words in err and "Traceback" not in err


def test_lint_missing_file_exits_2(tmp_path: Path) -> None:
    code, _, err = run("policy", "lint", str(tmp_path / "none.json"))
    assert code == 2 and "cannot be read" in err


def test_simulate_one_request_text_and_json(hardened: str) -> None:
    args = (
        "policy",
        "simulate",
        hardened,
        "--config",
        CONFIG,
        "--principal",
        HARBOR_SESSION,
        "--action",
        "kms:Decrypt",
    )
    code, text, _ = run(*args)
    assert code == 0 and text.startswith("explicit_deny (DenyHarborDirectUse, ")
    code, text, _ = run(
        *args,
        "--format",
        "json",
        "--context",
        "kms:ViaService=s3.us-east-1.amazonaws.com",
        "--context",
        "kms:EncryptionContext:aws:s3:arn="
        "arn:aws:s3:::harbor-registry-storage-111122223333-us-east-1",
        "--context",
        "aws:PrincipalOrgID=o-a1b2c3d4e5",
        "--context",
        "aws:ViaAWSService=true",
    )
    result = json.loads(text)
    assert result["decision"] == "allow"
    assert result["statements"] == ["HarborUseThroughS3"]


def test_simulate_context_repeats_make_a_list(tmp_path: Path) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {
                    "ForAllValues:StringEquals": {
                        "kms:EncryptionContextKeys": ["a", "b"]
                    }
                },
            }
        ],
    }
    path = tmp_path / "p.json"
    path.write_text(json.dumps(policy))
    base = (
        "policy",
        "simulate",
        str(path),
        "--principal",
        "arn:aws:iam::111122223333:role/R",
        "--action",
        "kms:Decrypt",
        "--format",
        "json",
    )
    _, ok, _ = run(
        *base,
        "--context",
        "kms:EncryptionContextKeys=a",
        "--context",
        "kms:EncryptionContextKeys=b",
    )
    _, bad, _ = run(
        *base,
        "--context",
        "kms:EncryptionContextKeys=a",
        "--context",
        "kms:EncryptionContextKeys=c",
    )
    assert json.loads(ok)["decision"] == "allow"
    assert json.loads(bad)["decision"] == "implicit_deny"


def test_simulate_requests_jsonl_with_per_line_policies(
    tmp_path: Path, hardened: str
) -> None:
    guide = json.loads(Path(GUIDE).read_text())
    lines = [
        {
            "principal": HARBOR_SESSION,
            "action": "kms:GenerateDataKey",
            "context": {
                "kms:ViaService": "s3.us-east-1.amazonaws.com",
                "kms:EncryptionContext:aws:s3:arn": f"{BUCKET_ARN}/x",
            },
            "policy": guide,
        },
        {"principal": "s3.amazonaws.com", "action": "kms:Decrypt", "policy": guide},
        "not an object",
    ]
    path = tmp_path / "requests.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n{broken\n")
    code, text, _ = run("policy", "simulate", "-", "--requests", str(path))
    results = [json.loads(line) for line in text.splitlines()]
    assert code == 0 and len(results) == 4
    # Correction 1: the guide's StringEquals wildcard never matches an object ARN.
    assert results[0]["decision"] == "implicit_deny"
    assert results[1]["decision"] == "explicit_deny"
    assert "error" in results[2] and "error" in results[3]


def test_simulate_needs_principal_and_action(hardened: str) -> None:
    code, _, err = run("policy", "simulate", hardened)
    assert code == 2 and "--principal" in err


def test_scenarios_guide_fails_and_generated_passes(hardened: str) -> None:
    code, text, _ = run("policy", "scenarios", GUIDE, "--config", CONFIG)
    assert code == 1 and "FAIL Harbor pushes a layer" in text
    code, text, _ = run(
        "policy", "scenarios", hardened, "--config", CONFIG, "--format", "json"
    )
    outcomes = json.loads(text)
    assert code == 0 and all(o["ok"] for o in outcomes)
    assert {o["group"] for o in outcomes} == {
        "harbor-s3",
        "direct-use",
        "strangers",
        "administrators",
    }


def test_explain_lists_statements_and_corrections() -> None:
    code, text, _ = run("policy", "explain", "--config", CONFIG)
    assert code == 0
    assert "HarborUseThroughS3 (Allow)" in text and "Correction 1" in text


def test_from_harbor_values_prefills(tmp_path: Path) -> None:
    chart = tmp_path / "values.yaml"
    chart.write_text(
        "persistence:\n  imageChartStorage:\n    type: s3\n    s3:\n"
        "      region: us-east-1\n      bucket: from-chart-bucket\n"
        "      encrypt: true\n"
    )
    config = tmp_path / "c.toml"
    config.write_text(
        Path(CONFIG)
        .read_text()
        .replace('bucket = "harbor-registry-storage-111122223333-us-east-1"\n', "")
    )
    code, text, err = run(
        "policy", "render", "--config", str(config), "--from-harbor-values", str(chart)
    )
    assert code == 0, err
    assert "arn:aws:s3:::from-chart-bucket" in text
    assert "keyid is empty" in err
