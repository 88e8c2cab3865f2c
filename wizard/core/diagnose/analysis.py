"""Statement by statement: does a key policy cover a request, and what failed.

:class:`~wizard.core.policy.simulate.Evaluator` gives the decision; this module
gives the detail a diagnosis needs around it: which statements name the caller,
which of them list the action, and, for each condition, whether it held and
why. It is built from the same compiled pieces the evaluator uses
(:mod:`~wizard.core.policy.principals`, :mod:`~wizard.core.policy.conditions`),
so the two cannot disagree about what a principal, an action or a condition
matches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from wizard.core.policy.conditions import (
    Context,
    ContextValue,
    compile_conditions,
    condition_holds,
    explain_condition,
)
from wizard.core.policy.principals import (
    Caller,
    Match,
    compile_patterns,
    compile_principals,
    not_principal_match,
    parse_caller,
    request_context,
    string_list,
)
from wizard.core.policy.simulate import Request

Scope = Literal["explicit", "account", "none"]


@dataclass(frozen=True)
class ConditionCheck:
    """One ``operator / key / values`` of a statement, tested against the request."""

    operator: str
    key: str
    values: tuple[str, ...]
    holds: bool
    clause: str
    """The evaluator's own sentence, e.g. 'kms:ViaService is absent, so ...'."""
    request_value: ContextValue | None


@dataclass(frozen=True)
class StatementCheck:
    """How one key policy statement relates to one request."""

    index: int
    sid: str | None
    effect: str
    principal: Scope
    """How the Principal covers the caller: by name, through its account, not."""
    action: bool
    """Whether Action (or NotAction) covers the request's action."""
    resource: bool
    conditions: tuple[ConditionCheck, ...]
    problem: str | None
    """Why the statement can never apply (unusable element), or None."""

    @property
    def label(self) -> str:
        """The Sid, else ``#index``, as the evaluator labels statements."""
        return self.sid if self.sid else f"#{self.index}"

    @property
    def failed(self) -> tuple[ConditionCheck, ...]:
        """The conditions that did not hold."""
        return tuple(c for c in self.conditions if not c.holds)

    @property
    def in_scope(self) -> bool:
        """Principal, action and resource cover the request (conditions aside)."""
        return (
            self.problem is None
            and self.principal != "none"
            and self.action
            and self.resource
        )


@dataclass(frozen=True)
class Analysis:
    """Every statement checked against one request, and the context used."""

    statements: tuple[StatementCheck, ...]
    context: Context
    caller: Caller

    def by_label(self, label: str) -> StatementCheck | None:
        """The statement with this Sid or ``#index`` label."""
        return next((s for s in self.statements if s.label == label), None)

    def naming_caller(self, effect: str = "Allow") -> list[StatementCheck]:
        """Usable statements of ``effect`` whose Principal names the caller itself."""
        return [
            s
            for s in self.statements
            if s.effect == effect and s.principal == "explicit" and s.problem is None
        ]

    def near_misses(self) -> list[StatementCheck]:
        """Allows in scope whose conditions failed; by name first, fewest failures."""
        misses = [
            s
            for s in self.statements
            if s.effect == "Allow" and s.in_scope and s.failed
        ]
        return sorted(
            misses, key=lambda s: (s.principal != "explicit", len(s.failed), s.index)
        )


def analyse(policy: Mapping[str, Any], request: Request) -> Analysis:
    """Check every statement of ``policy`` against ``request``.

    Args:
        policy: The key policy document; statements that are not objects are
            skipped (the evaluator rejects such a policy anyway).
        request: The request, as for the evaluator.

    Returns:
        One :class:`StatementCheck` per statement, in policy order.
    """
    caller = parse_caller(request.principal)
    context, _ = request_context(request.context, caller)
    variables = policy.get("Version") == "2012-10-17"
    raw = policy.get("Statement", [])
    items: Sequence[Any] = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(items, list | tuple):
        items = []
    checks = [
        _check(index, item, caller, request, context, variables)
        for index, item in enumerate(items)
        if isinstance(item, Mapping)
    ]
    return Analysis(tuple(checks), context, caller)


def _check(
    index: int,
    item: Mapping[str, Any],
    caller: Caller,
    request: Request,
    context: Context,
    variables: bool,
) -> StatementCheck:
    problems: list[str] = []
    sid = item.get("Sid") if isinstance(item.get("Sid"), str) else None
    effect = item.get("Effect") if item.get("Effect") in ("Allow", "Deny") else ""
    if not effect:
        problems.append("its Effect is not Allow or Deny")
    principal = _principal_scope(item, caller, problems)
    action = _covers(item, "Action", request.action.lower(), {}, False, True, problems)
    resource = _covers(
        item, "Resource", request.resource, context, variables, False, problems
    )
    compiled, problem = compile_conditions(item.get("Condition"), variables)
    if problem:
        problems.append(problem)
    conditions = tuple(
        ConditionCheck(
            c.operator,
            c.key,
            c.values,
            condition_holds(c, context),
            explain_condition(c, context),
            context.get(c.key_lower),
        )
        for c in compiled
    )
    return StatementCheck(
        index,
        sid,
        str(effect),
        principal,
        action,
        resource,
        conditions,
        "; ".join(problems) or None,
    )


def _principal_scope(
    item: Mapping[str, Any], caller: Caller, problems: list[str]
) -> Scope:
    negated = "NotPrincipal" in item
    value = item.get("NotPrincipal" if negated else "Principal")
    if value is None:
        problems.append("it has no Principal")
        return "none"
    compiled = compile_principals(value)
    if isinstance(compiled, str):
        problems.append(compiled)
        return "none"
    match = not_principal_match(compiled, caller) if negated else compiled.match(caller)
    if match is Match.EXPLICIT:
        return "explicit"
    return "account" if match is Match.ACCOUNT else "none"


def _covers(
    item: Mapping[str, Any],
    name: str,
    value: str,
    context: Context,
    variables: bool,
    fold: bool,
    problems: list[str],
) -> bool:
    """Whether ``name`` (or ``Not<name>``) of the statement covers ``value``."""
    negated = f"Not{name}" in item
    listed = string_list(item.get(f"Not{name}" if negated else name))
    if listed is None:
        problems.append(f"its {name} is missing or not a string or list of strings")
        return False
    # As the evaluator does: an unknown resource ("*") stands for this key.
    hit = (name == "Resource" and value == "*") or compile_patterns(
        listed, variables, fold
    ).matches(value, context)
    return hit != negated
