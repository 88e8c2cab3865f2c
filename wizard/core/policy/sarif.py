"""Key policy findings as SARIF 2.1.0, for code scanning in CI.

One run, one tool (``harbor-kms``) listing every rule of the catalogue, so a
result's ``ruleIndex`` is stable between runs. A key policy has no useful line
numbers once parsed, so each result points at the policy file and names the
statement as a logical location. Levels map ``error``/``warning``/``info`` to
SARIF's ``error``/``warning``/``note``.
Spec: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wizard.core.policy.lint import RULES, Finding, Severity

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
    "sarif-schema-2.1.0.json"
)
SARIF_VERSION = "2.1.0"
TOOL_NAME = "harbor-kms"
# TODO: point this at the project's home page once it has a public one.
TOOL_URI = "https://pypi.org/project/harbor-kms-wizard/"

LEVELS: dict[Severity, str] = {"error": "error", "warning": "warning", "info": "note"}


def _rules() -> list[dict[str, Any]]:
    return [
        {
            "id": rule.id,
            "name": rule.id,
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": rule.rationale},
            "helpUri": rule.help_uri,
            "defaultConfiguration": {"level": LEVELS[rule.severity]},
        }
        for rule in RULES.values()
    ]


def _result(finding: Finding, index: int, artifact_uri: str) -> dict[str, Any]:
    statement = finding.statement
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": {"uri": artifact_uri}},
        "logicalLocations": [
            {
                "name": statement if statement is not None else "policy",
                "fullyQualifiedName": (
                    f"Statement/{statement}" if statement is not None else "policy"
                ),
                "kind": "object",
            }
        ],
    }
    return {
        "ruleId": finding.rule,
        "ruleIndex": index,
        "level": LEVELS[finding.severity],
        "message": {"text": f"{finding.message} {finding.fix}"},
        "locations": [location],
    }


def to_sarif(findings: Sequence[Finding], artifact_uri: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log of ``findings`` for the policy at ``artifact_uri``.

    Args:
        findings: Findings from :func:`wizard.core.policy.lint.lint_policy`.
        artifact_uri: The policy file as the scanner should show it (a path
            relative to the repository root, or a URI such as
            ``kms://arn:aws:kms:...`` for a live key).

    Returns:
        The SARIF log as a JSON-ready dict.

    Raises:
        KeyError: A finding names a rule that is not in the catalogue.
    """
    index = {rule_id: i for i, rule_id in enumerate(RULES)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "informationUri": TOOL_URI,
                        "rules": _rules(),
                    }
                },
                "results": [_result(f, index[f.rule], artifact_uri) for f in findings],
            }
        ],
    }
