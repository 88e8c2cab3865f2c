"""Syntax rules: the values inside elements (principals, actions, conditions).

Sources, in order: principals, KMS permissions, condition operators.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
https://docs.aws.amazon.com/kms/latest/developerguide/kms-api-permissions-reference.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from wizard.core.arn import is_account_id, parse_arn
from wizard.core.policy.lint_rules_base import (
    Finding,
    PolicyView,
    Rule,
    Stmt,
    action_matches,
    parse_operator,
    placeholders,
    report,
    show,
    strings,
    title,
    wildcard_match,
)
from wizard.core.policy.lint_rules_catalog import (
    ARN_OPERATORS,
    BASE_OPERATORS,
    DATE_OPERATORS,
    FEDERATED_PROVIDERS,
    GLOBAL_CONDITION_KEYS,
    GLOBAL_CONDITION_PREFIXES,
    IAM_GUIDE,
    IP_OPERATORS,
    KMS_ACTIONS,
    KMS_CONDITION_KEYS,
    KMS_CONDITION_PREFIXES,
    KMS_GUIDE,
    NUMERIC_OPERATORS,
    PRINCIPAL_TYPES,
)
from wizard.core.regions import DNS_SUFFIX

_OPERATORS_DOC = IAM_GUIDE + "reference_policies_elements_condition_operators.html"
_KMS_PERMISSIONS_DOC = KMS_GUIDE + "kms-api-permissions-reference.html"

UNKNOWN_OPERATOR = Rule(
    "unknown-condition-operator",
    "error",
    "Unknown condition operator",
    "Operators are fixed names with an optional ForAllValues:/ForAnyValue: prefix "
    "and IfExists suffix (not on Null); anything else is rejected.",
    _OPERATORS_DOC,
)
VALUE_TYPE = Rule(
    "condition-value-type",
    "error",
    "Condition value has the wrong type",
    "Bool and Null take true or false, IpAddress a CIDR, Numeric a number, Date "
    "an ISO 8601 date or epoch seconds, Arn an ARN; a value of the wrong type "
    "never matches, so the condition silently fails.",
    _OPERATORS_DOC,
)
UNKNOWN_KEY = Rule(
    "unknown-condition-key",
    "warning",
    "Unknown kms: or aws: condition key",
    "A misspelt condition key is absent from every request: a positive condition "
    "on it never matches and a negated one always matches.",
    KMS_GUIDE + "conditions-kms.html",
)
PRINCIPAL_MALFORMED = Rule(
    "principal-malformed",
    "error",
    "Principal is not a valid principal",
    "Key policy principals must exist and be visible to KMS: an account id, a "
    'root, role, user or assumed-role ARN, a service principal, or "*".',
    IAM_GUIDE + "reference_policies_elements_principal.html",
)
UNKNOWN_KMS_ACTION = Rule(
    "unknown-kms-action",
    "warning",
    "Unknown KMS action",
    "An action KMS does not define matches no request, so the statement does "
    "less than it appears to.",
    _KMS_PERMISSIONS_DOC,
)
NON_KMS_ACTION = Rule(
    "non-kms-action",
    "warning",
    "Action of another service in a key policy",
    "A key policy controls only KMS actions on this key; other services' actions "
    "have no effect here.",
    _KMS_PERMISSIONS_DOC,
)
RESOURCE_NOT_THIS_KEY = Rule(
    "resource-not-this-key",
    "warning",
    'Resource is not "*" or this key',
    'In a key policy Resource "*" means this key; another value makes the '
    "statement apply to nothing (or, with NotResource, is hard to read).",
    KMS_GUIDE + "key-policy-overview.html",
)

RULES = (
    UNKNOWN_OPERATOR,
    VALUE_TYPE,
    UNKNOWN_KEY,
    PRINCIPAL_MALFORMED,
    UNKNOWN_KMS_ACTION,
    NON_KMS_ACTION,
    RESOURCE_NOT_THIS_KEY,
)

_SERVICE = re.compile(
    r"[a-z0-9][a-z0-9.-]*\.(?:"
    + "|".join(re.escape(s) for s in sorted({"amazonaws.com", *DNS_SUFFIX.values()}))
    + ")"
)
_CANONICAL = re.compile(r"[0-9a-f]{64}")
_KMS_NAMES = {a.lower(): a for a in KMS_ACTIONS}


def check_syntax(view: PolicyView) -> Iterator[Finding]:
    """Principal, action, resource and condition values of every statement."""
    for stmt in view.statements:
        yield from _principal(stmt)
        yield from _actions(stmt)
        yield from _resources(stmt, view)
        yield from _conditions(stmt)


def _principal(stmt: Stmt) -> Iterator[Finding]:
    element = "NotPrincipal" if stmt.not_principal else "Principal"
    for problem in principal_problems(stmt.raw.get(element)):
        yield report(
            PRINCIPAL_MALFORMED,
            stmt,
            f"{title(stmt)}: {problem}.",
            'Use "*", an account id, or an IAM root, role, user or STS '
            "assumed-role ARN with a 12-digit account (or a service principal).",
        )


def principal_problems(value: Any) -> list[str]:
    """What is wrong with a Principal element's value; [] when fine or absent."""
    if value is None or value == "*":
        return []
    if isinstance(value, str):
        return [f'principal {show(value)} must be "*" or inside {{"AWS": ...}}']
    if not isinstance(value, dict) or not value:
        return ['the principal must be "*" or an object such as {"AWS": ...}']
    problems: list[str] = []
    for kind, given in value.items():
        if kind not in PRINCIPAL_TYPES:
            problems.append(
                f"principal type {show(kind)} is not AWS, Service, "
                "Federated or CanonicalUser"
            )
            continue
        items = given if isinstance(given, list) else [given]
        if not items or not all(isinstance(p, str) for p in items):
            problems.append(f"the {kind} principal is not a string or list of strings")
            continue
        problems += [m for p in items if (m := _one_principal(kind, p))]
    return problems


def _one_principal(kind: str, text: str) -> str | None:
    if placeholders(text):
        return None  # unfilled-placeholder reports it
    if kind == "AWS":
        return _aws_principal(text)
    if kind == "Service":
        if _SERVICE.fullmatch(text):
            return None
        return f"service principal {show(text)} is not of the form NAME.amazonaws.com"
    if kind == "CanonicalUser":
        return (
            None
            if _CANONICAL.fullmatch(text)
            else (f"canonical user {show(text)} is not 64 hexadecimal digits")
        )
    arn = parse_arn(text)
    if text in FEDERATED_PROVIDERS or (
        arn is not None
        and arn.service == "iam"
        and arn.resource_type in ("saml-provider", "oidc-provider")
    ):
        return None
    return f"federated principal {show(text)} is not an identity provider"


def _aws_principal(text: str) -> str | None:
    if text == "*" or is_account_id(text):
        return None
    who = f"AWS principal {show(text)}"
    arn = parse_arn(text)
    if arn is None:
        return f"{who} is neither a 12-digit account id nor an ARN"
    if "*" in text or "?" in text:
        return (
            f'{who} has a wildcard; only "*" alone is allowed (use the '
            "aws:PrincipalArn condition for patterns)"
        )
    if not is_account_id(arn.account):
        return f"{who} does not name a 12-digit account"
    if arn.region:
        return f"{who} has a region; IAM and STS ARNs have none"
    parts = arn.resource.split("/")
    if arn.service == "iam":
        if arn.resource == "root" or (
            parts[0] in ("role", "user") and len(parts) >= 2 and all(parts[1:])
        ):
            return None
        if parts[0] == "group":
            return f"{who} is an IAM group, which cannot be a principal"
        return f"{who} is not a root, role or user ARN"
    if arn.service == "sts":
        if parts[0] == "assumed-role" and len(parts) == 3 and all(parts[1:]):
            return None
        if parts[0] == "federated-user" and len(parts) == 2 and parts[1]:
            return None
        return f"{who} is not an assumed-role or federated-user ARN"
    return f"{who} is a {arn.service} ARN, not an IAM or STS one"


def _actions(stmt: Stmt) -> Iterator[Finding]:
    element = "NotAction" if stmt.not_action else "Action"
    for action in stmt.actions:
        service, sep, name = action.partition(":")
        if action == "*":
            continue
        if not sep:
            yield report(
                NON_KMS_ACTION,
                stmt,
                f"{title(stmt)} has {element} {show(action)} without a service prefix, "
                "which matches nothing.",
                f'Write it as "kms:{action}".',
                "error",
            )
        elif service.lower() != "kms":
            yield report(
                NON_KMS_ACTION,
                stmt,
                f"{title(stmt)} lists {show(action)}, which a key policy cannot "
                "grant or deny.",
                "Remove it; grant other services' actions in IAM or their own "
                "resource policies.",
            )
        elif not any(action_matches(action, a) for a in KMS_ACTIONS):
            yield report(
                UNKNOWN_KMS_ACTION,
                stmt,
                f"{title(stmt)} lists {show(action)}, which matches no KMS action.",
                _action_fix(name),
            )


def _action_fix(name: str) -> str:
    if name.lower() == "reencrypt":
        return (
            "ReEncrypt is authorised as kms:ReEncryptFrom and kms:ReEncryptTo: "
            'use "kms:ReEncrypt*".'
        )
    close = [a for low, a in _KMS_NAMES.items() if low.startswith(name.lower()[:6])]
    hint = f" (did you mean kms:{close[0]}?)" if close else ""
    return (
        f"Correct the name against the KMS API reference{hint}; if KMS added "
        "the action recently, this warning can be ignored."
    )


def _resources(stmt: Stmt, view: PolicyView) -> Iterator[Finding]:
    if "NotResource" in stmt.raw:
        yield report(
            RESOURCE_NOT_THIS_KEY,
            stmt,
            f"{title(stmt)} uses NotResource, which in a key policy either "
            "excludes this key (no effect) or means every resource.",
            'Use "Resource": "*".',
        )
        return
    key_arn = ""
    if view.values is not None and view.values.key_id:
        key_arn = view.values.key_arn
    for resource in strings(stmt.raw.get("Resource")):
        if resource == "*" or _is_this_key(resource, key_arn):
            continue
        yield report(
            RESOURCE_NOT_THIS_KEY,
            stmt,
            f"{title(stmt)} has Resource {show(resource)}, which is not this key, so "
            "the statement may apply to nothing.",
            'Use "Resource": "*"; in a key policy it means the key the policy '
            "is attached to.",
        )


def _is_this_key(resource: str, key_arn: str) -> bool:
    if key_arn:
        return wildcard_match(resource, key_arn)
    arn = parse_arn(resource)
    return arn is not None and arn.service == "kms" and arn.resource.startswith("key/")


def _conditions(stmt: Stmt) -> Iterator[Finding]:
    condition = stmt.raw.get("Condition")
    if not isinstance(condition, dict):
        return
    for operator in condition:
        if parse_operator(operator) is None:
            yield report(
                UNKNOWN_OPERATOR,
                stmt,
                f"{title(stmt)} uses the unknown condition operator {show(operator)}.",
                _operator_fix(operator),
            )
    for cond in stmt.conditions:
        problem = _key_problem(cond.lkey)
        if problem:
            yield report(
                UNKNOWN_KEY,
                stmt,
                f"{title(stmt)} uses condition key {show(cond.key)}, {problem}.",
                "Correct the key against the KMS condition keys and AWS global "
                "condition keys pages.",
            )
        if not cond.values:
            yield report(
                VALUE_TYPE,
                stmt,
                f"{title(stmt)}: {cond.operator} {cond.key} has an empty list of "
                "values, so it never matches.",
                f"Give {cond.base} {_expected(cond.base)}.",
            )
        for value in cond.values:
            problem = value_problem(cond.base, value)
            if problem:
                yield report(
                    VALUE_TYPE,
                    stmt,
                    f"{title(stmt)}: {cond.operator} {cond.key} has value "
                    f"{show(value)}, {problem}.",
                    f"Give {cond.base} {_expected(cond.base)}.",
                )


def _operator_fix(operator: str) -> str:
    base = operator.rsplit(":", 1)[-1].removesuffix("IfExists")
    known = {b.lower(): b for b in BASE_OPERATORS}
    if base == "Null":
        return "Null tests presence itself; drop IfExists (and any set operator)."
    if base.lower() in known:
        return (
            f"Write the operator as {show(known[base.lower()])} "
            "(operators are case-sensitive)."
        )
    return (
        "Use one of the IAM operators (StringEquals, StringLike, ArnLike, Bool, "
        "IpAddress, Null, ...), optionally with ForAllValues:/ForAnyValue: and "
        "IfExists."
    )


def _key_problem(key: str) -> str | None:
    if key.startswith("kms:"):
        if key in KMS_CONDITION_KEYS:
            return None
        for prefix in KMS_CONDITION_PREFIXES:
            if key.startswith(prefix) and len(key) > len(prefix):
                return None
        return "which is not a KMS condition key"
    if key.startswith("aws:"):
        if key in GLOBAL_CONDITION_KEYS:
            return None
        if any(
            key.startswith(p) and len(key) > len(p) for p in GLOBAL_CONDITION_PREFIXES
        ):
            return None
        return "which is not an AWS global condition key"
    if ":" not in key:
        return "which has no service prefix"
    return None


def _expected(base: str) -> str:
    if base in ("Bool", "Null"):
        return 'true or false (as "true"/"false")'
    if base in NUMERIC_OPERATORS:
        return "a number"
    if base in DATE_OPERATORS:
        return "an ISO 8601 date such as 2025-01-31T00:00:00Z or epoch seconds"
    if base in IP_OPERATORS:
        return "an IPv4 or IPv6 CIDR such as 10.0.0.0/8"
    if base in ARN_OPERATORS:
        return "an ARN (wildcards allowed with ArnLike)"
    if base == "BinaryEquals":
        return "a base64 string"
    return "strings (or a non-empty list of strings)"


def value_problem(base: str, value: Any) -> str | None:
    """Why ``value`` cannot be a value of operator ``base``; None if it can."""
    if value is None or isinstance(value, dict | list):
        return "which is not a string, number or boolean"
    if isinstance(value, str) and "${" in value:
        return None  # a policy variable; its type is known only at request time
    if base in ("Bool", "Null"):
        ok = isinstance(value, bool) or (
            isinstance(value, str) and value.lower() in ("true", "false")
        )
        return None if ok else "which is not true or false"
    if base in NUMERIC_OPERATORS:
        return None if _is_number(value) else "which is not a number"
    if base in DATE_OPERATORS:
        return None if _is_date(value) else "which is not a date or epoch time"
    if base in IP_OPERATORS:
        return None if _is_network(value) else "which is not an IP address or CIDR"
    if base in ARN_OPERATORS:
        ok = isinstance(value, str) and (value.startswith("arn:") or value == "*")
        return None if ok else "which is not an ARN"
    if base == "BinaryEquals":
        return None if _is_base64(value) else "which is not base64"
    return None


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _is_date(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float) or str(value).isdigit():
        return True
    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def _is_network(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


def _is_base64(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
