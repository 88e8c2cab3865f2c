"""The key policy linter's types and its forgiving view of a policy document.

A policy reaching the linter may be any JSON value. The rules never read the raw
document for meaning: they read :class:`Stmt`, a view that keeps what is
well-formed (string actions, parsed condition operators, principals by type) and
drops the rest, which the grammar rules report. That is how ``lint_policy``
guarantees it raises nothing but :class:`PolicyInputError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from wizard.core.arn import is_account_id, parse_arn
from wizard.core.policy.conditions import scalar_text
from wizard.core.policy.lint_rules_catalog import (
    BASE_OPERATORS,
    KMS_ACTIONS,
    NEGATED_OPERATORS,
    PLACEHOLDER_WORDS,
    SET_OPERATORS,
)
from wizard.core.values import Values

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(frozen=True, slots=True)
class Rule:
    """One lint rule: a stable id, its default severity and why it exists."""

    id: str
    severity: Severity
    title: str
    rationale: str
    help_uri: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in one statement (or in the whole policy)."""

    rule: str
    severity: Severity
    statement: str | None
    message: str
    fix: str


class PolicyInputError(ValueError):
    """The input cannot be linted at all (not JSON, no statements, ...)."""


@dataclass(frozen=True, slots=True)
class Cond:
    """One key of one condition operator, e.g. ``StringEquals kms:ViaService``."""

    operator: str
    base: str
    set_op: str | None
    if_exists: bool
    key: str
    values: tuple[Any, ...]

    @property
    def lkey(self) -> str:
        """The key in lower case: condition keys are case-insensitive."""
        return self.key.lower()

    @property
    def negated(self) -> bool:
        return self.base in NEGATED_OPERATORS

    @property
    def positive(self) -> bool:
        """Matches only when the key is present with a listed value."""
        return not self.negated and self.base != "Null" and not self.if_exists

    @property
    def texts(self) -> tuple[str, ...]:
        """The scalar values as policy text (``True`` -> ``"true"``)."""
        return tuple(t for v in self.values if (t := scalar_text(v)) is not None)


def parse_operator(text: str) -> tuple[str | None, str, bool] | None:
    """Split ``ForAnyValue:StringLikeIfExists`` into (set op, base, IfExists).

    None for anything that is not a condition operator; ``NullIfExists`` is not
    one (the operator table lists IfExists for every operator except Null).
    """
    set_op: str | None = None
    prefix, sep, rest = text.partition(":")
    if sep:
        if prefix not in SET_OPERATORS:
            return None
        set_op, text = prefix, rest
    if_exists = text.endswith("IfExists")
    base = text[: -len("IfExists")] if if_exists else text
    if base not in BASE_OPERATORS or (if_exists and base == "Null"):
        return None
    return set_op, base, if_exists


@cache
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern
    )
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def wildcard_match(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    """IAM's ``*``/``?`` matching of ``text`` against ``pattern``."""
    return _wildcard(pattern, ignore_case).fullmatch(text) is not None


def action_matches(pattern: str, action: str) -> bool:
    """Whether an Action pattern covers ``kms:<action>`` (case-insensitive)."""
    return wildcard_match(pattern, f"kms:{action}", ignore_case=True)


def strings(value: Any) -> tuple[str, ...]:
    """The strings of a string-or-list element; other items are dropped."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def is_root(principal: str) -> bool:
    """An account principal: a bare account id or ``arn:...:iam::ACCOUNT:root``."""
    if is_account_id(principal):
        return True
    arn = parse_arn(principal)
    return arn is not None and arn.service == "iam" and arn.resource == "root"


def account_of(principal: str) -> str | None:
    """The account of an AWS principal, if it names one."""
    if is_account_id(principal):
        return principal
    arn = parse_arn(principal)
    return arn.account if arn is not None and is_account_id(arn.account) else None


def is_iam_user(principal: str) -> bool:
    arn = parse_arn(principal)
    return arn is not None and arn.service == "iam" and arn.resource_type == "user"


_PLACEHOLDER = re.compile(
    r"\$\{[A-Z][A-Z0-9_]*\}"  # shell variables left from the guide's heredoc
    r"|<[A-Za-z][A-Za-z0-9 _-]*>"  # <ACCOUNT_ID> style
    r"|\bo-x{10,32}\b"  # the guide's o-xxxxxxxxxx
    r"|\byour-(?:kms-key-id|account-id|bucket-name|region|role-arn)\b"
    r"|(?<![A-Za-z0-9_])(?:" + "|".join(PLACEHOLDER_WORDS) + r")(?![A-Za-z0-9_])"
)


def placeholders(text: str) -> list[str]:
    """The guide placeholders left in ``text`` (policy variables do not count)."""
    return [m.group(0) for m in _PLACEHOLDER.finditer(text)]


@dataclass(frozen=True, slots=True)
class Stmt:
    """A statement as the rules see it: what is well-formed, normalised."""

    index: int
    label: str
    raw: Mapping[str, Any]
    effect: str
    principal_any: bool
    aws: tuple[str, ...]
    services: tuple[str, ...]
    not_principal: bool
    actions: tuple[str, ...]
    not_action: bool
    conditions: tuple[Cond, ...]
    kms: frozenset[str]
    """The KMS actions (bare names) the statement applies to, computed once."""

    @property
    def allow(self) -> bool:
        return self.effect == "Allow"

    @property
    def deny(self) -> bool:
        return self.effect == "Deny"

    @property
    def has_condition(self) -> bool:
        return bool(self.conditions)

    def covers(self, action: str) -> bool:
        """Whether the statement applies to ``kms:<action>``."""
        return action in self.kms

    def covered(self) -> frozenset[str]:
        """The KMS actions (bare names) the statement applies to."""
        return self.kms

    def covers_all(self) -> bool:
        """``kms:*`` or ``*``: every KMS action, present and future."""
        if self.not_action:
            return False
        return any(p == "*" or p.lower() == "kms:*" for p in self.actions)

    def conds(self, key: str) -> list[Cond]:
        """Conditions on ``key`` (lower case); a trailing ``*`` is a prefix."""
        if key.endswith("*"):
            return [c for c in self.conditions if c.lkey.startswith(key[:-1])]
        return [c for c in self.conditions if c.lkey == key]

    def non_root(self) -> tuple[str, ...]:
        """Named AWS principals other than account principals."""
        return tuple(p for p in self.aws if not is_root(p))

    def roots(self) -> tuple[str, ...]:
        return tuple(p for p in self.aws if is_root(p))

    def names(self, principal: str) -> bool:
        """Whether the statement's Principal lists ``principal`` by name."""
        return not self.not_principal and principal in self.aws

    def applies_to(self, principal: str) -> bool:
        """Whether the statement's principal covers ``principal`` (for Deny).

        An account principal in a Deny covers every identity of that account,
        and NotPrincipal covers everyone it does not list.
        """
        if self.not_principal:
            return not self.principal_any and principal not in self.aws
        if self.principal_any or principal in self.aws:
            return True
        account = account_of(principal)
        return any(is_root(p) and account_of(p) == account for p in self.aws)


@dataclass(frozen=True, slots=True)
class PolicyView:
    """The whole document: its raw form, its statements and the user's values."""

    raw: Mapping[str, Any]
    statement_values: tuple[Any, ...]
    statements: tuple[Stmt, ...]
    values: Values | None = None

    def allows(self) -> Iterator[Stmt]:
        return (s for s in self.statements if s.allow)

    def denies(self) -> Iterator[Stmt]:
        return (s for s in self.statements if s.deny)


Check = Callable[[PolicyView], Iterable[Finding]]


def managers(view: PolicyView) -> frozenset[str]:
    """The administrators and break-glass principals the user named."""
    if view.values is None:
        return frozenset()
    return frozenset(view.values.admin_principals + view.values.break_glass_principals)


def subjects(stmt: Stmt) -> tuple[str, ...]:
    """Who a statement is about, account principals left out ("*" for anyone)."""
    if stmt.not_principal:
        return ()
    return stmt.non_root() + (("*",) if stmt.principal_any else ())


def grants_only_for_aws(stmt: Stmt) -> bool:
    """CreateGrant is limited by ``Bool kms:GrantIsForAWSResource true``."""
    return any(
        c.base == "Bool"
        and not c.if_exists
        and c.texts
        and all(t.lower() == "true" for t in c.texts)
        for c in stmt.conds("kms:grantisforawsresource")
    )


def report(
    rule: Rule,
    where: Stmt | str | None,
    message: str,
    fix: str,
    severity: Severity | None = None,
) -> Finding:
    """A finding of ``rule`` in a statement (or its label; None: the policy)."""
    label = where.label if isinstance(where, Stmt) else where
    return Finding(rule.id, severity or rule.severity, label, message, fix)


def title(where: Stmt | str) -> str:
    """How messages name a statement: ``Statement "Sid"`` or ``Statement #2``."""
    label = where.label if isinstance(where, Stmt) else where
    return f"Statement {label}" if label.startswith("#") else f"Statement {show(label)}"


def show(value: object) -> str:
    """A policy value for a message: JSON-quoted, short, never a deep repr.

    Messages quote what the user wrote; a value may be a megabyte string or a
    list nested fifty thousand deep, so containers are only named.
    """
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return json.dumps(text, ensure_ascii=False)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    return type(value).__name__


def label_of(index: int, raw: Any) -> str:
    """A statement's Sid, else ``#<index>``."""
    sid = raw.get("Sid") if isinstance(raw, dict) else None
    return sid if isinstance(sid, str) and sid else f"#{index}"


def build_view(policy: Mapping[str, Any], values: Values | None) -> PolicyView:
    """The linter's view of a policy whose top-level shape was checked."""
    body = policy["Statement"]
    items: tuple[Any, ...] = tuple(body) if isinstance(body, list) else (body,)
    stmts = tuple(_stmt(i, raw) for i, raw in enumerate(items) if isinstance(raw, dict))
    return PolicyView(policy, items, stmts, values)


def _stmt(index: int, raw: Mapping[str, Any]) -> Stmt:
    not_principal = "Principal" not in raw and "NotPrincipal" in raw
    principal = raw.get("NotPrincipal" if not_principal else "Principal")
    any_, aws, services = _principals(principal)
    not_action = "Action" not in raw and "NotAction" in raw
    actions = strings(raw.get("NotAction" if not_action else "Action"))
    effect = raw.get("Effect")
    return Stmt(
        index=index,
        label=label_of(index, raw),
        raw=raw,
        effect=effect if isinstance(effect, str) else "",
        principal_any=any_,
        aws=aws,
        services=services,
        not_principal=not_principal,
        actions=actions,
        not_action=not_action,
        conditions=tuple(_conditions(raw.get("Condition"))),
        kms=_covered(actions, not_action),
    )


def _covered(actions: tuple[str, ...], not_action: bool) -> frozenset[str]:
    return frozenset(
        a
        for a in KMS_ACTIONS
        if any(action_matches(p, a) for p in actions) != not_action
    )


def _principals(value: Any) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
    if value == "*":
        return True, (), ()
    if not isinstance(value, dict):
        return False, (), ()
    aws = strings(value.get("AWS"))
    return "*" in aws, tuple(p for p in aws if p != "*"), strings(value.get("Service"))


def _conditions(value: Any) -> Iterator[Cond]:
    if not isinstance(value, dict):
        return
    for operator, block in value.items():
        parsed = parse_operator(operator) if isinstance(operator, str) else None
        if parsed is None or not isinstance(block, dict):
            continue
        set_op, base, if_exists = parsed
        for key, given in block.items():
            if isinstance(key, str):
                vals = tuple(given) if isinstance(given, list) else (given,)
                yield Cond(operator, base, set_op, if_exists, key, vals)


def walk_strings(value: Any, *, skip: tuple[str, ...] = ()) -> Iterator[str]:
    """Every string in a JSON value, keys included, without recursion.

    Iterative so that a deeply nested document cannot raise RecursionError.
    Object members named in ``skip`` are left out (with their keys).
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for k, v in item.items():
                if k in skip:
                    continue
                if isinstance(k, str):
                    yield k
                stack.append(v)
        elif isinstance(item, list):
            stack.extend(item)
