"""SARIF output: the structure SARIF 2.1.0 requires, checked by hand.

No SARIF schema ships with an installed package, so the required properties
and the cross-references (ruleIndex, levels) are asserted directly; names follow
https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
"""

from __future__ import annotations

import json
from typing import Any

from wizard.core.policy.lint import RULES, Finding, lint_policy
from wizard.core.policy.sarif import to_sarif

ROOT = "arn:aws:iam::111122223333:root"
HARBOR = "arn:aws:iam::111122223333:role/HarborS3Role"
# A policy with findings of all three severities.
POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Root",
            "Effect": "Allow",
            "Principal": {"AWS": ROOT},
            "Action": "kms:*",
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:CallerAccount": "111122223333"}},
        },
        {
            "Effect": "Allow",
            "Principal": {"AWS": HARBOR},
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::b/*"}
            },
        },
    ],
}
LEVELS = {"error", "warning", "note", "none"}


def _log(findings: list[Finding] | None = None) -> dict[str, Any]:
    found = lint_policy(POLICY) if findings is None else findings
    log = to_sarif(found, "policies/key-policy.json")
    # What is written must survive JSON unchanged.
    assert json.loads(json.dumps(log)) == log
    return log


def test_log_has_the_required_top_level_properties() -> None:
    log = _log()
    assert log["version"] == "2.1.0"
    assert log["$schema"].startswith("https://") and "2.1.0" in log["$schema"]
    assert isinstance(log["runs"], list) and len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "harbor-kms"
    assert driver["informationUri"].startswith("https://")


def test_rules_describe_the_whole_catalogue() -> None:
    rules = _log()["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    for descriptor in rules:
        rule = RULES[descriptor["id"]]
        assert descriptor["shortDescription"]["text"] == rule.title
        assert descriptor["fullDescription"]["text"] == rule.rationale
        assert descriptor["helpUri"] == rule.help_uri
        level = descriptor["defaultConfiguration"]["level"]
        assert (
            level
            == {"error": "error", "warning": "warning", "info": "note"}[rule.severity]
        )


def test_results_reference_their_rules_and_locations() -> None:
    findings = lint_policy(POLICY)
    assert {f.severity for f in findings} == {"error", "warning", "info"}
    run = _log(findings)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert len(results) == len(findings)
    for result, finding in zip(results, findings, strict=True):
        assert result["ruleId"] == finding.rule
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in LEVELS
        assert result["level"] == (
            "note" if finding.severity == "info" else finding.severity
        )
        text = result["message"]["text"]
        assert finding.message in text and finding.fix in text
        (location,) = result["locations"]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        assert uri == "policies/key-policy.json"
        (logical,) = location["logicalLocations"]
        expected = finding.statement if finding.statement is not None else "policy"
        assert logical["name"] == expected
        assert logical["kind"] == "object"
    names = {r["locations"][0]["logicalLocations"][0]["name"] for r in results}
    assert {"Root", "#1"} <= names


def test_no_findings_is_still_a_valid_log() -> None:
    run = _log([])["runs"][0]
    assert run["results"] == []
    assert len(run["tool"]["driver"]["rules"]) == len(RULES)
