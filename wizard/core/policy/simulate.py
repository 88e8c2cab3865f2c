"""Local evaluation of a KMS key policy (and the caller's IAM policies) for a request.

AWS's IAM policy simulator does not evaluate KMS key policies (correction 11 in
the guide's CORRECTIONS.md), so the wizard decides requests itself, following
AWS's documentation:

* any matching Deny, in the key policy or an identity policy, wins:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
* a key-policy Allow naming the caller (its ARN, its role, ``*``, a service)
  suffices in the key's account; the account principal (``arn:aws:iam::ACCT:root``)
  only lets that account's IAM policies grant access, and the root user itself
  needs none:
  https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
* a caller from another account needs the key policy and its own IAM policies:
  https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html

TODO: grants, SCPs/RCPs, permissions boundaries, session policies and VPC endpoint
policies are not evaluated; a request one of them would deny can come out "allow".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from wizard.core.policy.conditions import (
    Condition,
    Context,
    compile_conditions,
    condition_holds,
    explain_condition,
    scalar_text,
)
from wizard.core.policy.principals import (
    Caller,
    Match,
    Patterns,
    Principals,
    compile_patterns,
    compile_principals,
    key_account,
    not_principal_match,
    parse_caller,
    request_context,
    string_list,
)

Decision = Literal["allow", "explicit_deny", "implicit_deny"]

_MEMO_LIMIT = 1024  # per-statement memo of action and principal results


class PolicyError(ValueError):
    """A document that is not a usable policy; the message is one sentence."""


@dataclass(frozen=True, slots=True)
class StatementRef:
    """Where a statement lives: the key policy or the caller's Nth identity policy."""

    source: str
    index: int
    sid: str | None

    def label(self) -> str:
        """The Sid, else ``#index``; identity statements get their policy as prefix."""
        name = self.sid if self.sid else f"#{self.index}"
        return name if self.source == "key_policy" else f"{self.source}:{name}"


@dataclass(frozen=True, slots=True)
class Request:
    """One KMS call to decide: who, what, on which key, with which context."""

    principal: str
    action: str
    resource: str = "*"
    context: Mapping[str, Any] = field(default_factory=dict)
    identity_policies: tuple[Mapping[str, Any], ...] = ()
    identity_policies_known: bool = False


@dataclass(frozen=True, slots=True)
class Result:
    """The decision, the statements behind it, and the reasons in plain English."""

    decision: Decision
    statements: tuple[StatementRef, ...]
    reasons: tuple[str, ...]
    context: Mapping[str, Any]


@dataclass(slots=True)
class _Statement:
    """A compiled statement; ``problem`` says why it can never apply, if it can't."""

    ref: StatementRef
    effect: str
    problem: str | None
    principals: Principals | None  # None in identity policies
    not_principal: bool
    actions: Patterns | None
    not_action: bool
    resources: Patterns | None
    not_resource: bool
    conditions: tuple[Condition, ...]
    action_memo: dict[str, bool] = field(default_factory=dict)
    principal_memo: dict[str, Match] = field(default_factory=dict)

    def action_matches(self, action: str) -> bool:
        hit = self.action_memo.get(action)
        if hit is None:
            hit = self.actions is not None and (
                self.actions.matches(action, {}) != self.not_action
            )
            if len(self.action_memo) < _MEMO_LIMIT:
                self.action_memo[action] = hit
        return hit

    def principal_match(self, caller: Caller) -> Match:
        if self.principals is None:
            return Match.EXPLICIT  # an identity policy covers the identity holding it
        found = self.principal_memo.get(caller.text)
        if found is None:
            found = (
                not_principal_match(self.principals, caller)
                if self.not_principal
                else self.principals.match(caller)
            )
            if len(self.principal_memo) < _MEMO_LIMIT:
                self.principal_memo[caller.text] = found
        return found

    def resource_matches(self, resource: str, context: Context) -> bool:
        # An unknown resource ("*") stands for this key, so it matches anything.
        hit = resource == "*" or (
            self.resources is not None and self.resources.matches(resource, context)
        )
        return self.resources is not None and hit != self.not_resource

    def applies(
        self, caller: Caller, action: str, resource: str, context: Context
    ) -> Match:
        """How the statement covers the request; Match.NONE when it does not."""
        if self.problem is not None or not self.action_matches(action):
            return Match.NONE
        match = self.principal_match(caller)
        if match is Match.NONE or not self.resource_matches(resource, context):
            return Match.NONE
        for condition in self.conditions:
            if not condition_holds(condition, context):
                return Match.NONE
        return match


def _shown(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else f"a {type(value).__name__}"


def _element(
    raw: Mapping[Any, Any], name: str, problems: list[str]
) -> tuple[object, bool]:
    """The value of ``name`` or ``NotName`` and whether it is the negated form."""
    if name in raw and f"Not{name}" in raw:
        problems.append(f"it has both {name} and Not{name}")
    negated = f"Not{name}" in raw
    return raw.get(f"Not{name}" if negated else name), negated


def _compile_statement(
    raw: Mapping[Any, Any], ref: StatementRef, variables: bool
) -> _Statement:
    problems: list[str] = []
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        shown = "missing" if effect is None else _shown(effect)
        problems.append(f'its Effect is {shown}, not "Allow" or "Deny"')
    scope: dict[str, tuple[list[str] | None, bool]] = {}
    for name in ("Action", "Resource"):
        value, negated = _element(raw, name, problems)
        scope[name] = (string_list(value), negated)
        if scope[name][0] is None:
            problems.append(f"its {name} is missing or not a string or list of strings")
    principal, not_principal = _element(raw, "Principal", problems)
    principals: Principals | None = None
    if ref.source != "key_policy":
        if principal is not None:
            problems.append("an identity policy statement cannot have a Principal")
    elif principal is None:
        problems.append("it has no Principal")
    else:
        compiled = compile_principals(principal)
        if isinstance(compiled, str):
            problems.append(compiled)
        else:
            principals = compiled
    conditions, problem = compile_conditions(raw.get("Condition"), variables)
    problems += [problem] if problem else []
    actions, resources = scope["Action"][0], scope["Resource"][0]
    return _Statement(
        ref,
        effect if isinstance(effect, str) else "",
        "; ".join(problems) or None,
        principals,
        not_principal,
        None if actions is None else compile_patterns(actions, False, True),
        scope["Action"][1],
        None if resources is None else compile_patterns(resources, variables, False),
        scope["Resource"][1],
        conditions,
    )


def _compile_policy(document: object, source: str, what: str) -> tuple[_Statement, ...]:
    if not isinstance(document, Mapping):
        raise PolicyError(f"The {what} must be a JSON object, not {_shown(document)}.")
    if "Statement" not in document:
        raise PolicyError(f"The {what} has no Statement element.")
    raw = document["Statement"]
    items = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(items, list | tuple):
        raise PolicyError(f"The {what}'s Statement must be a list or an object.")
    # Policy variables exist only in the 2012-10-17 policy language.
    variables = document.get("Version") == "2012-10-17"
    statements = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise PolicyError(f"Statement #{index} of the {what} is not an object.")
        sid = item.get("Sid")
        ref = StatementRef(source, index, sid if isinstance(sid, str) else None)
        statements.append(_compile_statement(item, ref, variables))
    return tuple(statements)


@dataclass
class _Findings:
    """The statements that apply to one request, by role, and notes on the way."""

    denies: list[_Statement] = field(default_factory=list)
    explicit: list[_Statement] = field(default_factory=list)
    delegated: list[_Statement] = field(default_factory=list)
    identity_allows: list[_Statement] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Evaluator:
    """A key policy compiled once, deciding any number of requests."""

    def __init__(self, key_policy: Mapping[str, Any]) -> None:
        """Compile ``key_policy``.

        Args:
            key_policy: The key policy document, parsed from JSON.

        Raises:
            PolicyError: The document is not an object, has no Statement list or
                object, or a statement is not an object. Anything wrong inside a
                statement only stops that statement from applying.
        """
        self._statements = _compile_policy(key_policy, "key_policy", "key policy")
        self._broken = tuple(s for s in self._statements if s.problem is not None)

    def evaluate(self, request: Request) -> Result:
        """Decide ``request``; never raises.

        Args:
            request: The call to decide.

        Returns:
            The decision, the statements that decided it and the reasons.
        """
        principal = request.principal if isinstance(request.principal, str) else ""
        action = request.action if isinstance(request.action, str) else ""
        resource = request.resource if isinstance(request.resource, str) else "*"
        caller, lowered = parse_caller(principal), action.lower()
        context, shown = request_context(request.context, caller)
        found = _Findings()
        for statement in self._statements:
            match = statement.applies(caller, lowered, resource, context)
            if match is not Match.NONE and statement.effect == "Deny":
                found.denies.append(statement)
            elif match is Match.EXPLICIT:
                found.explicit.append(statement)
            elif match is Match.ACCOUNT:
                found.delegated.append(statement)
        identities = _identity_statements(request, caller, found.notes)
        for statement in identities:
            if statement.applies(caller, lowered, resource, context) is not Match.NONE:
                deny = statement.effect == "Deny"
                (found.denies if deny else found.identity_allows).append(statement)
        for statement in self._broken:
            if statement.actions is None or statement.action_matches(lowered):
                label, problem = statement.ref.label(), statement.problem
                found.notes.append(f"Statement {label} is ignored: {problem}.")
        known = bool(request.identity_policies) or request.identity_policies_known
        decision, deciding, reasons = _decide(found, caller, action, resource, known)
        if decision == "implicit_deny":
            for statement in (*self._statements, *identities):
                miss = _near_miss(statement, caller, lowered, resource, context)
                reasons += [miss] if miss else []
        else:
            reasons[:0] = [_explain(s, caller, action, context) for s in deciding]
        refs = tuple(s.ref for s in deciding)
        return Result(decision, refs, tuple(reasons + found.notes), shown)


def _identity_statements(
    request: Request, caller: Caller, notes: list[str]
) -> list[_Statement]:
    """The caller's identity policies compiled; unusable ones are noted, not fatal."""
    documents: Any = request.identity_policies
    if isinstance(documents, Mapping) or not isinstance(documents, list | tuple):
        documents = (documents,) if isinstance(documents, Mapping) else ()
    if not caller.has_identity_policies:
        if documents:
            who = "a service has" if caller.kind == "service" else "the root user has"
            notes.append(f"The identity policies given were not used: {who} none.")
        return []
    statements: list[_Statement] = []
    for number, document in enumerate(documents):
        source = f"identity_policy[{number}]"
        try:
            statements += _compile_policy(document, source, f"identity policy {number}")
        except PolicyError as error:
            notes.append(f"{error} It was left out.")
    return statements


_NEEDS_IAM = (
    "{action} is allowed by the key policy only if an IAM policy in account "
    "{account} grants it; {tail}."
)
_IAM_ONLY = (
    "An identity policy allows {action}, but IAM policies count only when the key "
    "policy allows the caller or its account, and no statement does."
)
_SERVICE = (
    "No key policy statement allows {action} for the service {caller}; identity "
    "policies do not apply to services."
)


def _decide(
    found: _Findings, caller: Caller, action: str, resource: str, known: bool
) -> tuple[Decision, list[_Statement], list[str]]:
    """Apply KMS's rules (see the module docstring) to the applicable statements."""
    if found.denies:
        return "explicit_deny", found.denies, []
    key_allows = found.explicit + found.delegated
    if caller.kind == "service":
        if found.explicit:
            return "allow", found.explicit, []
        return "implicit_deny", [], [_SERVICE.format(action=action, caller=caller.text)]
    if found.explicit and caller.account == key_account(resource, caller):
        return "allow", found.explicit, []
    if key_allows and caller.kind == "root":
        return "allow", key_allows, ["The account root user needs no IAM policy."]
    if key_allows and found.identity_allows:
        return "allow", key_allows + found.identity_allows, []
    if key_allows:
        tail = "none of the caller's identity policies does"
        tail = tail if known else "no identity policies were given"
        text = _NEEDS_IAM.format(action=action, account=caller.account, tail=tail)
        return "implicit_deny", key_allows, [text]
    if found.identity_allows:
        return "implicit_deny", [], [_IAM_ONLY.format(action=action)]
    return "implicit_deny", [], [f"No statement allows {action} for {caller.text}."]


def _explain(
    statement: _Statement, caller: Caller, action: str, context: Context
) -> str:
    """``Statement X denies: kms:ViaService is absent, so StringNotEquals is true.``"""
    verb = "denies" if statement.effect == "Deny" else "allows"
    clauses = [explain_condition(c, context) for c in statement.conditions]
    if statement.principals is not None and verb == "allows":
        who = statement.principals.describe(caller)
        if statement.not_principal:
            who = "its NotPrincipal does not list the caller"
        clauses.insert(0, who)
    label = statement.ref.label()
    if not clauses:
        return f"Statement {label} {verb} {action} with no conditions."
    return f"Statement {label} {verb}: {'; '.join(clauses)}."


def _near_miss(
    statement: _Statement, caller: Caller, action: str, resource: str, context: Context
) -> str | None:
    """Why an Allow that names the caller and the action still does not apply."""
    if (
        statement.effect != "Allow"
        or statement.problem is not None
        or not statement.action_matches(action)
        or statement.principal_match(caller) is Match.NONE
    ):
        return None
    label = statement.ref.label()
    if not statement.resource_matches(resource, context):
        return (
            f"Statement {label} does not apply: its Resource does not match {resource}."
        )
    failed = [
        explain_condition(c, context)
        for c in statement.conditions
        if not condition_holds(c, context)
    ]
    return f"Statement {label} does not apply: {'; '.join(failed)}." if failed else None


def evaluate(key_policy: Mapping[str, Any], request: Request) -> Result:
    """Compile ``key_policy`` and decide one request (see :class:`Evaluator`).

    Raises:
        PolicyError: ``key_policy`` is not a usable policy.
    """
    return Evaluator(key_policy).evaluate(request)


# "policy" belongs to the CLI: a JSONL line may carry its own key policy.
_REQUEST_FIELDS = {"principal", "action", "resource", "context", "identity_policies"}


def _context_value(key: str, value: object) -> object:
    items = value if isinstance(value, list) else [value]
    if all(scalar_text(item) is not None for item in items):
        return value
    raise ValueError(
        f'Context key "{key}" must be a string, number, boolean or a list of them.'
    )


def request_from_json(obj: Mapping[str, Any], default_resource: str = "*") -> Request:
    """Build a :class:`Request` from one line of the ``simulate --requests`` JSONL.

    Args:
        obj: ``{"principal", "action", "resource"?, "context"?, "identity_policies"?}``.
        default_resource: The key ARN to use when ``resource`` is absent.

    Returns:
        The request; ``identity_policies_known`` is True when the line has
        ``identity_policies`` (even an empty list: the caller has none).

    Raises:
        ValueError: The line is not of that shape; the message says what is wrong.
    """
    if not isinstance(obj, Mapping):
        raise ValueError("A request must be a JSON object.")
    unknown = sorted(str(k) for k in obj if k not in _REQUEST_FIELDS | {"policy"})
    if unknown:
        raise ValueError(f"A request has unknown fields: {', '.join(unknown)}.")
    for name in ("principal", "action"):
        if not isinstance(obj.get(name), str) or not obj[name]:
            raise ValueError(f'A request needs "{name}" as a non-empty string.')
    resource = obj.get("resource", default_resource)
    if not isinstance(resource, str) or not resource:
        raise ValueError('A request\'s "resource" must be a non-empty string.')
    raw_context = obj.get("context", {})
    if not isinstance(raw_context, Mapping):
        raise ValueError('A request\'s "context" must be a JSON object.')
    context = {str(k): _context_value(str(k), v) for k, v in raw_context.items()}
    policies = obj.get("identity_policies", [])
    if not isinstance(policies, list):
        raise ValueError('A request\'s "identity_policies" must be a list of policies.')
    for number, policy in enumerate(policies):
        _compile_policy(
            policy, f"identity_policy[{number}]", f"identity policy {number}"
        )
    return Request(
        obj["principal"],
        obj["action"],
        resource,
        context,
        tuple(policies),
        "identity_policies" in obj,
    )


def result_to_json(result: Result) -> dict[str, Any]:
    """The JSON form of a result: decision, statement labels and reasons."""
    return {
        "decision": result.decision,
        "statements": [ref.label() for ref in result.statements],
        "reasons": list(result.reasons),
    }
