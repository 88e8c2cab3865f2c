"""Lint a KMS key policy: grammar, the guide's misconfigurations, its corrections.

``lint_policy`` reads any JSON value and returns findings; it raises only
:class:`PolicyInputError`, and only when there is nothing to lint (not an
object, no ``Statement``, ``Statement`` neither a list nor an object). Every
finding names a rule of :data:`RULES` and a severity:

- ``error``: AWS rejects the policy, or it does not do what it appears to
  (Harbor's uploads fail, a Deny never applies, the key can be locked out);
- ``warning``: it works but is weaker or riskier than it needs to be;
- ``info``: correct, but worth knowing (the root principal delegates to IAM).

The rules live in ``lint_rules_grammar`` and ``lint_rules_syntax`` (what AWS
accepts), ``lint_rules_conditions`` (``shared/guide/CORRECTIONS.md`` points 1,
2, 4, 5), ``lint_rules_semantics`` (the guide's "Common Misconfigurations" 1-5
and corrections 3, 6, 8, 9, 10) and ``lint_rules_context`` (the policy against
the user's values). Misconfigurations 6 (rotation not enabled) and 7 (no
CloudTrail) cannot be seen in a key policy; the checklist engine checks them
against the account. Correction 11 (the IAM simulator ignores key policies) is
not a property of a policy either.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from wizard.core.policy import (
    lint_rules_conditions,
    lint_rules_context,
    lint_rules_grammar,
    lint_rules_semantics,
    lint_rules_syntax,
)
from wizard.core.policy.lint_rules_base import (
    SEVERITIES,
    Check,
    Finding,
    PolicyInputError,
    Rule,
    Severity,
    build_view,
)
from wizard.core.values import Values

__all__ = [
    "RULES",
    "Finding",
    "PolicyInputError",
    "Rule",
    "Severity",
    "findings_to_json",
    "has_errors",
    "lint_policy",
    "parse_policy_text",
]

RULES: Mapping[str, Rule] = {
    rule.id: rule
    for module in (
        lint_rules_grammar,
        lint_rules_syntax,
        lint_rules_conditions,
        lint_rules_semantics,
        lint_rules_context,
    )
    for rule in module.RULES
}
"""Every rule, by id, in the order the catalogue and SARIF list them."""

_CHECKS: tuple[Check, ...] = (
    lint_rules_grammar.check_document,
    lint_rules_grammar.check_statements,
    lint_rules_syntax.check_syntax,
    lint_rules_conditions.check_conditions,
    lint_rules_semantics.check_access,
    lint_rules_context.check_context,
)


def parse_policy_text(text: str) -> dict[str, Any]:
    """Parse a key policy document and check that it can be linted.

    Args:
        text: The policy as JSON text (a file's contents, GetKeyPolicy output).

    Returns:
        The parsed policy object.

    Raises:
        PolicyInputError: The text is not JSON, or not a policy object with a
            ``Statement`` list or object; the message says which and where.
    """
    try:
        policy = json.loads(text)
    except json.JSONDecodeError as error:
        raise PolicyInputError(
            f"The policy is not valid JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}."
        ) from error
    except RecursionError as error:
        raise PolicyInputError(
            "The policy is not usable JSON: it is nested too deeply to read."
        ) from error
    _check_shape(policy)
    return dict(policy)


def _check_shape(policy: Any) -> None:
    if not isinstance(policy, dict):
        kind = type(policy).__name__ if policy is not None else "null"
        raise PolicyInputError(
            f"The policy must be a JSON object with a Statement, not a {kind}."
        )
    if "Statement" not in policy:
        raise PolicyInputError("The policy has no Statement element.")
    if not isinstance(policy["Statement"], list | dict):
        raise PolicyInputError(
            "The policy's Statement must be a list of statements (or one "
            "statement object)."
        )


def lint_policy(policy: Any, values: Values | None = None) -> list[Finding]:
    """Lint a parsed key policy.

    Args:
        policy: The policy document, as parsed JSON (any JSON value is accepted;
            only a document with no statements to read raises).
        values: The user's values (account, region, bucket, Harbor role,
            administrators). With them, the policy is also checked against
            them: region, bucket, Bucket Keys form, Harbor's actions, lockout.

    Returns:
        The findings, errors first, then warnings, then infos; within one
        severity in rule-catalogue and statement order. Duplicates are dropped.

    Raises:
        PolicyInputError: ``policy`` is not an object with a ``Statement`` list
            or object.
    """
    _check_shape(policy)
    view = build_view(policy, values)
    seen: dict[Finding, None] = {}
    for check in _CHECKS:
        for finding in check(view):
            seen.setdefault(finding, None)
    rank = {severity: i for i, severity in enumerate(SEVERITIES)}
    return sorted(seen, key=lambda f: rank[f.severity])


def findings_to_json(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """Findings as JSON-ready dicts with keys rule, severity, statement, message, fix.

    Args:
        findings: Findings from :func:`lint_policy`.

    Returns:
        One dict per finding, in the same order.
    """
    return [
        {
            "rule": f.rule,
            "severity": f.severity,
            "statement": f.statement,
            "message": f.message,
            "fix": f.fix,
        }
        for f in findings
    ]


def has_errors(findings: Sequence[Finding]) -> bool:
    """Whether any finding is an error (what makes ``policy lint`` exit non-zero).

    Args:
        findings: Findings from :func:`lint_policy`.

    Returns:
        True if at least one finding has severity ``error``.
    """
    return any(f.severity == "error" for f in findings)
