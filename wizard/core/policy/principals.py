"""Who is calling and on what: the caller, the request context, and the scope
elements of a statement (Principal, Action, Resource) that decide whether it
covers the request before any condition is looked at.

Principal rules, from
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
(an account id and ``arn:aws:iam::ACCT:root`` both delegate to the account; no
partial wildcards; a role principal covers that role's sessions) and
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
(a NotPrincipal Deny spares only the principals it names; see
not_principal_match).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from wizard.core.arn import is_account_id, parse_arn
from wizard.core.policy.conditions import (
    WILD,
    Context,
    ContextValue,
    Segment,
    compile_wildcards,
    parse_template,
    render,
    scalar_text,
    wildcard_pattern,
)

CallerKind = Literal[
    "root", "user", "role", "session", "federated", "service", "unknown"
]

# Service principals are DNS-like names; ``s3.amazonaws.com``, also in China.
_SERVICE = re.compile(r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com(?:\.cn)?")


class Match(enum.IntEnum):
    """How a statement's Principal covers the caller."""

    NONE = 0
    ACCOUNT = 1  # through the account principal: IAM policies must also allow
    EXPLICIT = 2  # by its own ARN, its role, a service name or "*"


@dataclass(frozen=True, slots=True)
class Caller:
    """The principal making a request, parsed once."""

    text: str
    kind: CallerKind
    partition: str = "aws"
    account: str | None = None
    name: str = ""
    role_arn: str | None = None

    @property
    def has_identity_policies(self) -> bool:
        """Whether IAM identity policies apply (not to services or the root user)."""
        return self.kind not in ("service", "root")


@lru_cache(maxsize=4096)
def parse_caller(text: str) -> Caller:
    """Classify a principal string: account root, IAM user or role, session, service."""
    if is_account_id(text):
        return Caller(text, "root", account=text)
    arn = parse_arn(text)
    if arn is None:
        if _SERVICE.fullmatch(text):
            return Caller(text, "service", name=text)
        return Caller(text, "unknown")
    if not is_account_id(arn.account):
        return Caller(text, "unknown", arn.partition)
    kind: CallerKind = "unknown"
    name = arn.resource_name
    role_arn = None
    parts = arn.resource.split("/")
    if arn.service == "iam" and arn.resource == "root":
        kind = "root"
    elif arn.service == "iam" and arn.resource_type in ("user", "role") and name:
        kind = "user" if arn.resource_type == "user" else "role"
        role_arn = text if kind == "role" else None
    elif arn.service == "sts" and parts[0] == "assumed-role" and len(parts) >= 3:
        # Session ARNs drop the role's path, so the role is known by name only.
        kind, name = "session", parts[1]
        role_arn = f"arn:{arn.partition}:iam::{arn.account}:role/{name}"
    elif arn.service == "sts" and parts[0] == "federated-user" and len(parts) >= 2:
        kind = "federated"
    return Caller(text, kind, arn.partition, arn.account, name, role_arn)


_PRINCIPAL_TYPES = {
    "root": "Account",
    "user": "User",
    "role": "AssumedRole",
    "session": "AssumedRole",
    "federated": "FederatedUser",
}


@lru_cache(maxsize=4096)
def derived_keys(caller: Caller) -> tuple[tuple[str, str], ...]:
    """Global and KMS condition keys that follow from the caller alone.

    Key meanings:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
    (aws:PrincipalArn of a role session is the role's ARN) and
    https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
    (kms:CallerAccount).
    """
    if caller.kind == "service":
        return (
            ("aws:PrincipalIsAWSService", "true"),
            ("aws:PrincipalServiceName", caller.name),
        )
    if caller.kind == "unknown" or caller.account is None:
        return ()
    root = f"arn:{caller.partition}:iam::{caller.account}:root"
    principal_arn = {"root": root, "session": caller.role_arn}.get(
        caller.kind, caller.text
    )
    keys = [
        ("aws:PrincipalArn", principal_arn or caller.text),
        ("aws:PrincipalAccount", caller.account),
        ("kms:CallerAccount", caller.account),
        ("aws:PrincipalType", _PRINCIPAL_TYPES[caller.kind]),
        ("aws:PrincipalIsAWSService", "false"),
    ]
    if caller.kind == "user":
        keys.append(("aws:username", caller.name))
    return tuple(keys)


@dataclass(frozen=True, slots=True)
class Principals:
    """A compiled Principal (or NotPrincipal) element."""

    anyone: bool = False
    any_aws: bool = False
    accounts: frozenset[str] = frozenset()
    arns: frozenset[str] = frozenset()
    roles: frozenset[tuple[str, str, str]] = frozenset()
    services: frozenset[str] = frozenset()

    def match(self, caller: Caller) -> Match:
        """How this element names ``caller`` when used as ``Principal``."""
        if self.anyone:
            return Match.EXPLICIT
        if caller.kind == "service":
            return (
                Match.EXPLICIT if caller.name.lower() in self.services else Match.NONE
            )
        if self.any_aws or caller.text in self.arns:
            return Match.EXPLICIT
        if caller.role_arn is not None and (
            caller.role_arn in self.arns
            or (caller.partition, caller.account or "", caller.name) in self.roles
        ):
            return Match.EXPLICIT
        if caller.account is not None and caller.account in self.accounts:
            return Match.ACCOUNT
        return Match.NONE

    def describe(self, caller: Caller) -> str:
        """Why :meth:`match` covers ``caller``, as a clause for a reason sentence."""
        if self.anyone:
            return 'its Principal is "*"'
        if caller.kind == "service":
            return f"its Principal names the service {caller.name}"
        if self.any_aws:
            return 'its Principal is {"AWS": "*"}'
        if caller.text in self.arns:
            return f"its Principal names {caller.text}"
        if self.match(caller) is Match.EXPLICIT:
            return f"its Principal names the role {caller.role_arn} of this session"
        return f"its Principal is account {caller.account}"


def compile_principals(value: object) -> Principals | str:
    """Compile a Principal element, or say in a clause why it cannot be used."""
    if value == "*":
        return Principals(anyone=True)
    if not isinstance(value, Mapping):
        return 'its Principal is neither "*" nor an object'
    any_aws = False
    accounts: set[str] = set()
    arns: set[str] = set()
    roles: set[tuple[str, str, str]] = set()
    services: set[str] = set()
    for kind, raw in value.items():
        items = raw if isinstance(raw, list) else [raw]
        if not items or not all(isinstance(item, str) for item in items):
            return f'its Principal "{kind}" has a value that is not a string'
        if kind == "Service":
            services.update(item.lower() for item in items)
        elif kind == "AWS":
            for item in items:
                any_aws = any_aws or item == "*"
                arn = parse_arn(item)
                if is_account_id(item):
                    accounts.add(item)
                elif (
                    arn is not None and arn.service == "iam" and arn.resource == "root"
                ):
                    accounts.add(arn.account)
                else:
                    # Exact ARNs (AWS allows no partial wildcards in principals).
                    arns.add(item)
                    if (
                        arn is not None
                        and arn.service == "iam"
                        and arn.resource_type == "role"
                    ):
                        roles.add((arn.partition, arn.account, arn.resource_name))
        elif kind not in ("Federated", "CanonicalUser"):
            return f'its Principal has an unknown type "{kind}"'
    return Principals(
        False,
        any_aws,
        frozenset(accounts),
        frozenset(arns),
        frozenset(roles),
        frozenset(services),
    )


def not_principal_match(principals: Principals, caller: Caller) -> Match:
    """``NotPrincipal``: the statement applies to everyone the element does not list.

    A caller is listed by its own ARN, a session also by its role's ARN, the root
    user by its account. Listing an account does not list its users and roles:
    AWS's NotPrincipal page shows every user but Bob denied although Bob's account
    is listed, and recommends listing "the role and the account" for a role's
    sessions (the account only because some services check it first).
    """
    if principals.anyone or (caller.kind != "service" and principals.any_aws):
        return Match.NONE
    if caller.kind in ("service", "root"):
        listed = principals.match(caller) is not Match.NONE
    else:
        listed = principals.match(caller) is Match.EXPLICIT
    return Match.NONE if listed else Match.EXPLICIT


@dataclass(frozen=True, slots=True)
class Patterns:
    """Action or Resource values: exact names, one wildcard regex, dynamic templates."""

    everything: bool
    names: frozenset[str]
    pattern: re.Pattern[str] | None
    dynamic: tuple[tuple[Segment, ...], ...] = ()

    def matches(self, value: str, context: Context) -> bool:
        """Whether ``value`` (already lowercased for actions) is covered."""
        if self.everything or value in self.names:
            return True
        if self.pattern is not None and self.pattern.fullmatch(value) is not None:
            return True
        for segments in self.dynamic:
            chunks = render(segments, context)
            if chunks is not None and re.fullmatch(
                wildcard_pattern(chunks), value, re.S
            ):
                return True
        return False


def string_list(value: object) -> list[str] | None:
    """A string or a non-empty list of strings as a list, else None."""
    items = value if isinstance(value, list) else [value]
    if items and all(isinstance(item, str) for item in items):
        return [item for item in items if isinstance(item, str)]
    return None


def compile_patterns(values: list[str], variables: bool, fold: bool) -> Patterns:
    """Compile Action (``fold``: case-insensitive) or Resource values.

    Variables may appear in a Resource only after the fifth colon:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    """
    if fold:
        values = [value.lower() for value in values]
    dynamic: list[tuple[Segment, ...]] = []
    static: list[str] = []
    for value in values:
        parts = value.split(":", 5)
        head = ":".join(parts[:5]) + ":" if len(parts) == 6 else value
        segments = parse_template(parts[5], variables) if len(parts) == 6 else ()
        if any(segment.kind != WILD for segment in segments):
            # Variables and escapes (${*} is a literal star) are rendered per request.
            dynamic.append((Segment(WILD, head), *segments))
        else:
            static.append(head + "".join(segment.text for segment in segments))
    names = frozenset(v for v in static if "*" not in v and "?" not in v)
    wild = [v for v in static if v not in names]
    pattern = compile_wildcards(wild) if wild else None
    return Patterns("*" in static, names, pattern, tuple(dynamic))


def _normalise(value: object) -> ContextValue | None:
    if isinstance(value, list | tuple):
        texts = tuple(text for text in map(scalar_text, value) if text is not None)
        return texts or None  # an empty set counts as absent
    return scalar_text(value)


def request_context(
    raw: object, caller: Caller
) -> tuple[dict[str, ContextValue], dict[str, Any]]:
    """The lowercased context to evaluate, and the same with the request's spelling.

    Derived keys fill gaps only: a value the request gave is never overwritten.
    """
    context: dict[str, ContextValue] = {}
    shown: dict[str, Any] = {}
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            normal = _normalise(value) if isinstance(key, str) else None
            if normal is not None and isinstance(key, str):
                context[key.lower()] = normal
                shown[key] = normal if isinstance(normal, str) else list(normal)
    for key, value in derived_keys(caller):
        lowered = key.lower()
        if lowered not in context:
            context[lowered] = value
            shown[key] = value
    return context, shown


def key_account(resource: str, caller: Caller) -> str | None:
    """The key's account: from its ARN, else (resource "*") the caller's own."""
    arn = parse_arn(resource) if resource != "*" else None
    if arn is not None and is_account_id(arn.account):
        return arn.account
    return caller.account
