"""Grammar rules: the document and statement structure KMS and IAM require.

Sources: the key policy format and elements
(https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html)
and the IAM policy grammar
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html).
The values inside the elements (principal ARNs, actions, conditions) are checked
in ``lint_rules_syntax``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from wizard.core.policy.lint_rules_base import (
    Finding,
    PolicyView,
    Rule,
    label_of,
    report,
    show,
    title,
    walk_strings,
)
from wizard.core.policy.lint_rules_catalog import (
    ELEMENTS_POLICY,
    ELEMENTS_STATEMENT,
    IAM_GUIDE,
    KMS_API,
    KMS_GUIDE,
)

_KEY_POLICY_DOC = KMS_GUIDE + "key-policy-overview.html"
_GRAMMAR_DOC = IAM_GUIDE + "reference_policies_grammar.html"

POLICY_VERSION = Rule(
    "policy-version",
    "warning",
    "Version is not 2012-10-17",
    "Without Version, or with 2008-10-17, policy variables such as ${aws:username} "
    "are read as literal text; any other value is rejected.",
    IAM_GUIDE + "reference_policies_elements_version.html",
)
EMPTY_STATEMENT = Rule(
    "empty-statement",
    "error",
    "Policy has no statements",
    "A key policy must contain at least one statement (key policy elements).",
    _KEY_POLICY_DOC,
)
POLICY_TOO_LARGE = Rule(
    "policy-too-large",
    "error",
    "Policy is larger than 32 KB",
    "KMS rejects key policies over 32 kilobytes (32,768 bytes).",
    _KEY_POLICY_DOC,
)
INVALID_CHARACTERS = Rule(
    "policy-invalid-characters",
    "error",
    "Character not allowed in a key policy",
    "A key policy may contain only printable ASCII and Latin-1 Supplement "
    "characters, tab, line feed and carriage return.",
    _KEY_POLICY_DOC,
)
DUPLICATE_SID = Rule(
    "duplicate-sid",
    "warning",
    "Two statements share a Sid",
    "Sids name statements in reviews, diffs and this tool's findings; a repeated "
    "Sid makes a finding or a change ambiguous.",
    IAM_GUIDE + "reference_policies_elements_sid.html",
)
SID_CHARACTERS = Rule(
    "sid-characters",
    "warning",
    "Sid uses characters outside letters, digits and spaces",
    "IAM documents Sids as letters and digits only; key policies additionally "
    "allow spaces. Other characters are outside what AWS documents for either.",
    _KEY_POLICY_DOC,
)
UNKNOWN_ELEMENT = Rule(
    "unknown-element",
    "error",
    "Unknown policy or statement element",
    "The policy grammar allows only Version, Id and Statement at the top and Sid, "
    "Effect, (Not)Principal, (Not)Action, (Not)Resource and Condition in a "
    "statement; a misspelt element is either rejected or silently ignored.",
    _GRAMMAR_DOC,
)
MALFORMED_ELEMENT = Rule(
    "malformed-element",
    "error",
    "Element has the wrong JSON type",
    "Statements must be objects, Sid a string, Action and Resource a string or a "
    "list of strings, and Condition an object of objects.",
    _GRAMMAR_DOC,
)
INVALID_EFFECT = Rule(
    "invalid-effect",
    "error",
    "Effect is not Allow or Deny",
    "Effect is required and must be exactly Allow or Deny.",
    IAM_GUIDE + "reference_policies_elements_effect.html",
)
MISSING_PRINCIPAL = Rule(
    "missing-principal",
    "error",
    "Statement has no Principal",
    "Each statement in a key policy must name one or more principals "
    "(PutKeyPolicy rejects it otherwise); Principal and NotPrincipal are exclusive.",
    _KEY_POLICY_DOC,
)
NOT_PRINCIPAL = Rule(
    "not-principal",
    "warning",
    "Statement uses NotPrincipal",
    "NotPrincipal applies a statement to everyone it does not list, including "
    "other accounts and anonymous callers; AWS recommends against it.",
    IAM_GUIDE + "reference_policies_elements_notprincipal.html",
)
ACTION_ELEMENT = Rule(
    "action-element",
    "error",
    "Statement needs exactly one of Action and NotAction",
    "A key policy statement without Action has no effect (PutKeyPolicy still "
    "accepts it); Action and NotAction together are invalid.",
    _KEY_POLICY_DOC,
)
RESOURCE_ELEMENT = Rule(
    "resource-element",
    "error",
    "Statement needs exactly one of Resource and NotResource",
    "A key policy statement without Resource has no effect, yet PutKeyPolicy "
    "accepts it, so a Deny or Allow silently does nothing.",
    KMS_API + "API_PutKeyPolicy.html",
)

RULES = (
    POLICY_VERSION,
    EMPTY_STATEMENT,
    POLICY_TOO_LARGE,
    INVALID_CHARACTERS,
    DUPLICATE_SID,
    SID_CHARACTERS,
    UNKNOWN_ELEMENT,
    MALFORMED_ELEMENT,
    INVALID_EFFECT,
    MISSING_PRINCIPAL,
    NOT_PRINCIPAL,
    ACTION_ELEMENT,
    RESOURCE_ELEMENT,
)

MAX_POLICY_CHARS = 32_768
_SID_OK = re.compile(r"[A-Za-z0-9 ]*")


def _allowed_char(c: str) -> bool:
    # key-policy-overview.html, "Key policy format".
    code = ord(c)
    return 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF or c in "\t\n\r"


def check_document(view: PolicyView) -> Iterator[Finding]:
    """Policy-level rules: elements, Version, size, characters, Sids."""
    raw = view.raw
    for key in raw:
        if key not in ELEMENTS_POLICY:
            yield report(
                UNKNOWN_ELEMENT,
                None,
                f"The policy has an unknown top-level element {show(key)}.",
                "Keep only Version, Id and Statement at the top level.",
            )
    yield from _version(raw.get("Version", None), "Version" in raw)
    if isinstance(raw.get("Id"), list | dict | bool | int | float):
        yield report(
            MALFORMED_ELEMENT,
            None,
            "The policy's Id is not a string.",
            "Make Id a string or remove it.",
        )
    if not view.statement_values:
        yield report(
            EMPTY_STATEMENT,
            None,
            "The policy has no statements, so nothing is allowed and nobody can "
            "manage the key.",
            "Add statements, starting with the root delegation and administrators.",
        )
    yield from _size(raw)
    yield from _characters(raw)
    yield from _sids(view)


def _version(version: Any, present: bool) -> Iterator[Finding]:
    if version == "2012-10-17":
        return
    fix = 'Set "Version": "2012-10-17".'
    if not present:
        message = (
            "The policy has no Version, so AWS reads it as 2008-10-17 and "
            "treats policy variables such as ${aws:username} as literal text."
        )
        yield report(POLICY_VERSION, None, message, fix)
    elif version == "2008-10-17":
        message = (
            "The policy's Version is 2008-10-17, which treats policy variables "
            "such as ${aws:username} as literal text."
        )
        yield report(POLICY_VERSION, None, message, fix)
    else:
        message = (
            f"The policy's Version {show(version)} is not a policy language version."
        )
        yield report(POLICY_VERSION, None, message, fix, "error")


def _size(raw: Any) -> Iterator[Finding]:
    try:
        compact = json.dumps(
            raw, separators=(",", ":"), ensure_ascii=False, default=str
        )
    except (RecursionError, ValueError):
        return
    if len(compact) > MAX_POLICY_CHARS:
        yield report(
            POLICY_TOO_LARGE,
            None,
            f"The policy is {len(compact):,} characters even without whitespace, "
            f"over KMS's limit of {MAX_POLICY_CHARS:,}.",
            "Merge statements that share principal and conditions, drop unused "
            "ones, and remove whitespace before applying.",
        )


def _characters(raw: Any) -> Iterator[Finding]:
    bad = sorted({c for s in walk_strings(raw) for c in s if not _allowed_char(c)})
    if bad:
        shown = ", ".join(f"U+{ord(c):04X}" for c in bad[:5])
        yield report(
            INVALID_CHARACTERS,
            None,
            f"The policy contains characters KMS does not accept in a key "
            f"policy ({shown}).",
            "Replace them with printable ASCII (curly quotes and non-breaking "
            "spaces often come from copying out of a document).",
        )


def _sids(view: PolicyView) -> Iterator[Finding]:
    sids = [s.raw["Sid"] for s in view.statements if isinstance(s.raw.get("Sid"), str)]
    for sid, count in Counter(sids).items():
        if count > 1 and sid:
            yield report(
                DUPLICATE_SID,
                sid,
                f"{count} statements share the Sid {show(sid)}.",
                "Give every statement its own Sid.",
            )
    for stmt in view.statements:
        sid = stmt.raw.get("Sid")
        if isinstance(sid, str) and not _SID_OK.fullmatch(sid):
            yield report(
                SID_CHARACTERS,
                stmt,
                f"{title(stmt)} has a Sid with characters other than letters, "
                "digits and spaces.",
                "Use letters and digits (KMS also allows spaces) so the policy "
                "stays valid wherever it is copied.",
            )


def check_statements(view: PolicyView) -> Iterator[Finding]:
    """Statement structure: object, known elements, Effect, Principal, Action."""
    for index, raw in enumerate(view.statement_values):
        label = label_of(index, raw)
        if not isinstance(raw, dict):
            yield report(
                MALFORMED_ELEMENT,
                label,
                f"{title(label)} is not a JSON object.",
                "Write each statement as an object with Effect, Principal, "
                "Action and Resource.",
            )
            continue
        yield from _structure(label, raw)


def _structure(label: str, raw: dict[str, Any]) -> Iterator[Finding]:
    name = title(label)
    for key in raw:
        if key not in ELEMENTS_STATEMENT:
            yield report(
                UNKNOWN_ELEMENT,
                label,
                f"{name} has an unknown element {show(key)}.",
                "Remove it or correct its spelling (elements are case-sensitive).",
            )
    if "Sid" in raw and not isinstance(raw["Sid"], str):
        yield report(
            MALFORMED_ELEMENT,
            label,
            f"{name} has a Sid that is not a string.",
            "Make the Sid a string.",
        )
    yield from _effect(label, raw)
    yield from _pair(label, raw, "Principal", MISSING_PRINCIPAL)
    if "NotPrincipal" in raw:
        yield report(
            NOT_PRINCIPAL,
            label,
            f"{name} uses NotPrincipal, which applies it to every principal "
            "it does not list, in any account.",
            "Use Principal with the principals meant, and conditions such as "
            "aws:PrincipalArn for exceptions.",
        )
    yield from _pair(label, raw, "Action", ACTION_ELEMENT)
    yield from _pair(label, raw, "Resource", RESOURCE_ELEMENT)
    for element in ("Action", "NotAction", "Resource", "NotResource"):
        if element in raw and not _string_list(raw[element]):
            yield report(
                MALFORMED_ELEMENT,
                label,
                f"{name} has a {element} that is not a string or a non-empty "
                "list of strings.",
                f'Write {element} as "kms:Decrypt" or ["kms:Decrypt", ...].'
                if "Action" in element
                else f'Write {element} as "*".',
            )
    yield from _condition_shape(label, raw.get("Condition"))


def _effect(label: str, raw: dict[str, Any]) -> Iterator[Finding]:
    effect = raw.get("Effect")
    if effect in ("Allow", "Deny"):
        return
    if "Effect" not in raw:
        message = f"{title(label)} has no Effect."
    else:
        message = f"{title(label)} has Effect {show(effect)}, not Allow or Deny."
    hint = ""
    if isinstance(effect, str) and effect.capitalize() in ("Allow", "Deny"):
        hint = " (the value is case-sensitive)"
    yield report(
        INVALID_EFFECT,
        label,
        message,
        f'Set "Effect" to exactly "Allow" or "Deny"{hint}.',
    )


def _pair(
    label: str, raw: dict[str, Any], element: str, rule: Rule
) -> Iterator[Finding]:
    positive, negative = element in raw, f"Not{element}" in raw
    if positive and negative:
        message = f"{title(label)} has both {element} and Not{element}."
        fix = f"Keep only {element}."
    elif not positive and not negative:
        message = f"{title(label)} has no {element}, so it has no effect."
        if element == "Principal":
            message = f"{title(label)} has no Principal, which KMS requires."
        fix = {
            "Principal": 'Add "Principal": {"AWS": "arn:aws:iam::ACCOUNT:role/NAME"}.',
            "Action": 'Add "Action" with the kms: actions meant.',
            "Resource": 'Add "Resource": "*" (in a key policy it means this key).',
        }[element]
    else:
        return
    yield report(rule, label, message, fix)


def _string_list(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, str) for v in value)
    )


def _condition_shape(label: str, condition: Any) -> Iterator[Finding]:
    if condition is None:
        return
    fix = 'Write Condition as {"StringEquals": {"kms:ViaService": "..."}}.'
    if not isinstance(condition, dict):
        yield report(
            MALFORMED_ELEMENT,
            label,
            f"{title(label)} has a Condition that is not an object.",
            fix,
        )
        return
    for operator, block in condition.items():
        if not isinstance(block, dict):
            yield report(
                MALFORMED_ELEMENT,
                label,
                f"{title(label)} has condition operator {show(operator)} whose value "
                "is not an object of condition keys.",
                fix,
            )
