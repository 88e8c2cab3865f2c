"""Condition operators of the IAM policy language, compiled once, tested per request.

A ``Condition`` block maps operators to ``{key: value-or-values}``. Operators are
ANDed, keys under one operator are ANDed, values for one key are ORed, and for a
negated operator the request value must match none of them (NOR). See
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
and
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html

The request context reaching this module is already normalised: keys lowercased
(key names are case-insensitive), each value either one string or a tuple of two
or more strings (a multivalued key).
"""

from __future__ import annotations

import base64
import ipaddress
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

ContextValue = str | tuple[str, ...]
Context = Mapping[str, ContextValue]
# A value test answers "does this request value match any policy value?";
# None means the request value is not of the operator's type (not a number,
# not an IP address ...), and then the condition is false whatever the operator.
Test = Callable[[str, Context], bool | None]

WILD, LITERAL, VARIABLE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a policy string: text with wildcards, literal text, a variable."""

    kind: int
    text: str
    default: str | None = None


def scalar_text(value: object) -> str | None:
    """The policy-language text of a JSON scalar (``True`` -> ``"true"``), else None."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return None


# Policy variables and the escapes ${*} ${?} ${$}, with ${key, 'default'} defaults:
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_VARIABLE_BODY = re.compile(r"\s*([^\s,']+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?")


def parse_template(text: str, variables: bool) -> tuple[Segment, ...]:
    """Split ``text`` into segments; with ``variables`` False it is one wild segment.

    Variables exist only in policies whose Version is 2012-10-17 (older versions
    read ``${...}`` literally, per the variables page above).
    """
    if not variables or "${" not in text:
        return (Segment(WILD, text),)
    segments: list[Segment] = []
    position = 0
    for found in _VARIABLE.finditer(text):
        if found.start() > position:
            segments.append(Segment(WILD, text[position : found.start()]))
        body = found.group(1)
        parsed = _VARIABLE_BODY.fullmatch(body)
        if body in ("*", "?", "$"):
            segments.append(Segment(LITERAL, body))
        elif parsed is None:
            # Not a variable AWS would recognise: keep the characters as written.
            segments.append(Segment(WILD, found.group(0)))
        else:
            default = parsed.group(2)
            if default is not None:
                default = default.replace("''", "'")
            segments.append(Segment(VARIABLE, parsed.group(1), default))
        position = found.end()
    if position < len(text):
        segments.append(Segment(WILD, text[position:]))
    return tuple(segments)


def is_static(segments: Sequence[Segment]) -> bool:
    """True when no segment needs the request context."""
    return all(segment.kind != VARIABLE for segment in segments)


def render(
    segments: Sequence[Segment], context: Context
) -> list[tuple[str, bool]] | None:
    """Resolve variables into ``(text, wildcards_active)`` chunks, or None if one has
    no value and no default (then that policy value cannot match anything).

    A multivalued key cannot be a variable (AWS documents this), so it does not
    resolve unless it holds a single value.
    """
    chunks: list[tuple[str, bool]] = []
    for segment in segments:
        if segment.kind != VARIABLE:
            chunks.append((segment.text, segment.kind == WILD))
            continue
        value = context.get(segment.text.lower())
        if isinstance(value, tuple):
            value = value[0] if len(value) == 1 else None
        if value is None:
            value = segment.default
        if value is None:
            return None
        chunks.append((value, False))
    return chunks


def wildcard_pattern(chunks: Sequence[tuple[str, bool]], arn: bool = False) -> str:
    """Regex source for wildcard text: ``*`` any run, ``?`` one character.

    With ``arn`` the first five colons are component separators and wildcards
    before the fifth cannot cross one, which is how ArnLike compares each
    colon-delimited component separately.
    """
    out: list[str] = []
    colons = 0
    for text, wild in chunks:
        for char in text:
            if char == ":":
                colons += 1
                out.append(":")
            elif wild and char == "*":
                out.append("[^:]*" if arn and colons < 5 else ".*")
            elif wild and char == "?":
                out.append("[^:]" if arn and colons < 5 else ".")
            else:
                out.append(re.escape(char))
    return "".join(out)


def compile_wildcards(
    patterns: Sequence[str], ignore_case: bool = False
) -> re.Pattern[str]:
    """One regex matching any of ``patterns`` (whole string, ``*`` and ``?`` wild)."""
    sources = [wildcard_pattern([(pattern, True)]) for pattern in patterns]
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("|".join(f"(?:{source})" for source in sources), flags)


def _joined(chunks: Sequence[tuple[str, bool]]) -> str:
    return "".join(text for text, _ in chunks)


# --- operator families --------------------------------------------------------

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "LessThanEquals": operator.le,
    "GreaterThan": operator.gt,
    "GreaterThanEquals": operator.ge,
    "In": lambda address, network: address in network,
}
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_YEAR_MONTH = re.compile(r"(\d{4})(?:-(\d{2}))?")


def parse_number(text: str) -> Decimal | None:
    """A decimal number, or None (NaN and infinities are not numbers here)."""
    if _NUMBER.fullmatch(text.strip()) is None:
        return None
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        return None


def parse_date(text: str) -> float | None:
    """Epoch seconds from W3C ISO 8601 or epoch text; a date without zone is UTC."""
    text = text.strip()
    try:
        number = parse_number(text)
        if number is not None:
            return float(number)
        short = _YEAR_MONTH.fullmatch(text)
        if short is not None:
            moment = datetime(int(short.group(1)), int(short.group(2) or 1), 1)
        else:
            moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    except (ValueError, OverflowError):
        return None


def _parsed(parse: Callable[[str], Any], text: str) -> Any:
    try:
        return parse(text.strip())
    except ValueError:  # binascii.Error is a ValueError too
        return None


def _policy_bytes(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _request_bytes(text: str) -> bytes:
    # The request context is text, so a binary value arrives base64-encoded;
    # anything that is not base64 is compared as its UTF-8 bytes.
    decoded = _parsed(_policy_bytes, text)
    return decoded if isinstance(decoded, bytes) else text.encode()


def _network(text: str) -> Any:
    return ipaddress.ip_network(text, strict=False)  # a bare address is /32 or /128


def _typed_test(base: str, family: str, values: Sequence[str]) -> Test:
    """Numeric, Date, IP address and Binary operators: parse, then compare."""
    policy_parse: Callable[[str], Any]
    request_parse: Callable[[str], Any]
    compare: Callable[[Any, Any], bool]
    if family == "ip":
        policy_parse, request_parse = _network, ipaddress.ip_address
        compare = _COMPARE["In"]
    elif family == "binary":
        policy_parse, request_parse, compare = (
            _policy_bytes,
            _request_bytes,
            operator.eq,
        )
    else:
        policy_parse = request_parse = (
            parse_number if family == "numeric" else parse_date
        )
        compare = _COMPARE[base.removeprefix(family.capitalize()).replace("Not", "")]
    limits = [x for x in (_parsed(policy_parse, v) for v in values) if x is not None]

    def test(value: str, context: Context) -> bool | None:
        parsed = _parsed(request_parse, value)
        if parsed is None:
            return None
        return any(compare(parsed, limit) for limit in limits)

    return test


def _templated_test(base: str, templates: Sequence[tuple[Segment, ...]]) -> Test:
    """String, Bool and ARN operators: the families that accept policy variables."""
    arn = base.startswith("Arn")
    like = arn or base.endswith("Like")
    fold = base.endswith("IgnoreCase") or base == "Bool"
    if all(map(is_static, templates)):
        chunk_lists = [render(segments, {}) or [] for segments in templates]
        if like:
            sources = [wildcard_pattern(chunks, arn) for chunks in chunk_lists]
            pattern = re.compile("|".join(f"(?:{s})" for s in sources), re.DOTALL)

            def like_test(value: str, context: Context) -> bool | None:
                if arn and value.count(":") < 5:
                    return None
                return pattern.fullmatch(value) is not None

            return like_test
        wanted = {_joined(chunks) for chunks in chunk_lists}
        if fold:
            wanted = {text.lower() for text in wanted}
        return lambda value, context: (value.lower() if fold else value) in wanted

    def dynamic_test(value: str, context: Context) -> bool | None:
        if arn and value.count(":") < 5:
            return None
        probe = value.lower() if fold else value
        for segments in templates:
            chunks = render(segments, context)
            if chunks is None:
                continue
            if like:
                source = wildcard_pattern(chunks, arn)
                if re.fullmatch(source, value, re.DOTALL) is not None:
                    return True
            elif (_joined(chunks).lower() if fold else _joined(chunks)) == probe:
                return True
        return False

    return dynamic_test


# canonical name, negated, family; keyed by the lowercased name.
_OPERATORS: dict[str, tuple[str, bool, str]] = {
    name.lower(): (name, "Not" in name, family)
    for family, names in {
        "string": "StringEquals StringNotEquals StringEqualsIgnoreCase "
        "StringNotEqualsIgnoreCase StringLike StringNotLike",
        "numeric": "NumericEquals NumericNotEquals NumericLessThan "
        "NumericLessThanEquals NumericGreaterThan NumericGreaterThanEquals",
        "date": "DateEquals DateNotEquals DateLessThan DateLessThanEquals "
        "DateGreaterThan DateGreaterThanEquals",
        "bool": "Bool",
        "binary": "BinaryEquals",
        "ip": "IpAddress NotIpAddress",
        "arn": "ArnEquals ArnLike ArnNotEquals ArnNotLike",
        "null": "Null",
    }.items()
    for name in names.split()
}
_TYPE_NAMES = {"numeric": "number", "date": "date", "ip": "IP address", "arn": "ARN"}


@dataclass(frozen=True, slots=True)
class Condition:
    """One ``operator / key / values`` triple, ready to test against a context."""

    operator: str
    key: str
    values: tuple[str, ...]
    base: str
    family: str
    negated: bool
    set_op: str
    if_exists: bool
    test: Test
    templates: tuple[tuple[Segment, ...], ...]
    key_lower: str  # how the key is looked up in the lowercased context


def _build(
    operator: str, key: str, values: tuple[str, ...], variables: bool
) -> Condition | str:
    lowered = operator.lower()
    set_op = ""
    for prefix, name in (("forallvalues:", "all"), ("foranyvalue:", "any")):
        if lowered.startswith(prefix):
            set_op, lowered = name, lowered[len(prefix) :]
    if_exists = lowered.endswith("ifexists")
    if if_exists:
        lowered = lowered[: -len("ifexists")]
    entry = _OPERATORS.get(lowered)
    if entry is None or (entry[2] == "null" and (if_exists or set_op)):
        return f'unknown condition operator "{operator}"'
    base, negated, family = entry
    templated = family in ("string", "bool", "arn")
    templates = tuple(
        parse_template(value, variables and templated) for value in values
    )
    test: Test
    if templated:
        test = _templated_test(base, templates)
    elif family == "null":
        test = _presence_only
    else:
        test = _typed_test(base, family, values)
    return Condition(
        operator,
        key,
        values,
        base,
        family,
        negated,
        set_op,
        if_exists,
        test,
        templates,
        key.lower(),
    )


def _presence_only(value: str, context: Context) -> bool | None:
    return None  # Null is decided by presence alone, in condition_holds.


def compile_conditions(
    block: object, variables: bool
) -> tuple[tuple[Condition, ...], str | None]:
    """Compile a Condition element.

    Returns:
        The conditions, and None or the reason the element is unusable (not an
        object, a value that is not a string, number or boolean, an unknown
        operator). A statement whose Condition is unusable never applies.
    """
    if block is None:
        return (), None
    if not isinstance(block, Mapping):
        return (), "its Condition is not an object"
    conditions: list[Condition] = []
    for name, keys in block.items():
        if not isinstance(keys, Mapping) or not keys:
            return (), f'its condition operator "{name}" has no keys'
        for key, raw in keys.items():
            items = raw if isinstance(raw, list) else [raw]
            values = tuple(text for text in map(scalar_text, items) if text is not None)
            if not isinstance(key, str) or not items or len(values) != len(items):
                return (), (
                    f'its condition "{name}" on "{key}" has a value that is not '
                    "a string, number or boolean"
                )
            built = _build(str(name), key, values, variables)
            if isinstance(built, str):
                return (), built
            conditions.append(built)
    return tuple(conditions), None


def _satisfies(condition: Condition, value: str, context: Context) -> bool:
    matched = condition.test(value, context)
    if matched is None:
        return False
    return not matched if condition.negated else matched


def condition_holds(condition: Condition, context: Context) -> bool:
    """Evaluate one condition against a normalised request context.

    Missing key: false, except negated operators and ``...IfExists`` (true), and
    ``ForAllValues`` (true, also for an empty set; ``ForAnyValue`` is false then).
    """
    raw = context.get(condition.key_lower)
    if condition.family == "null":
        wanted = "true" if raw is None else "false"
        return any(value.lower() == wanted for value in condition.values)
    if condition.set_op:
        members = (
            () if raw is None or raw == "" else (raw,) if isinstance(raw, str) else raw
        )
        if not members:
            return condition.set_op == "all" or (raw is None and condition.if_exists)
        check = all if condition.set_op == "all" else any
        return check(_satisfies(condition, value, context) for value in members)
    if raw is None:
        return condition.if_exists or condition.negated
    if isinstance(raw, tuple):
        # AWS requires a set operator for a multivalued key and does not document
        # what a plain operator does with one; we treat it as not matching.
        if len(raw) != 1:
            return False
        raw = raw[0]
    return _satisfies(condition, raw, context)


def explain_condition(condition: Condition, context: Context) -> str:
    """One clause: ``kms:ViaService is absent, so StringNotEquals is true``."""
    raw = context.get(condition.key_lower)
    verdict = "true" if condition_holds(condition, context) else "false"
    if raw is None:
        state = "is absent"
    elif isinstance(raw, str):
        state = f'is "{raw}"'
    else:
        state = "is [" + ", ".join(f'"{value}"' for value in raw) + "]"
    text = f"{condition.key} {state}, so {condition.operator} is {verdict}"
    return text + _hint(condition, raw, context, verdict == "true")


def _hint(
    condition: Condition, raw: ContextValue | None, context: Context, held: bool
) -> str:
    """A parenthesised pointer to the usual mistake behind a result, if any."""
    if condition.family == "null":
        return ""  # Null only asks whether the key is there; the clause says it
    single = raw if isinstance(raw, str) else None
    missing = [
        f"${{{segment.text}}}"
        for segments in condition.templates
        for segment in segments
        if segment.kind == VARIABLE and render((segment,), context) is None
    ]
    literal = condition.base.startswith(("StringEquals", "StringNotEquals"))
    if isinstance(raw, tuple) and len(raw) > 1 and not condition.set_op:
        return " (a key with several values needs ForAnyValue or ForAllValues)"
    if single is not None and condition.test(single, context) is None:
        kind = _TYPE_NAMES.get(condition.family, "value")
        return f" (the request value is not a valid {kind})"
    if missing:
        return f" (policy variable {', '.join(missing)} has no value in the request)"
    if literal and any("*" in v or "?" in v for v in condition.values):
        return (
            f" ({condition.base} compares literally, so * and ? are not wildcards; "
            "use StringLike or ArnLike)"
        )
    if raw is None and condition.set_op == "all":
        return " (ForAllValues is true when the key is absent)"
    if not held and raw is not None and not condition.negated:
        return (
            " (policy expects " + " or ".join(f'"{v}"' for v in condition.values) + ")"
        )
    return ""
