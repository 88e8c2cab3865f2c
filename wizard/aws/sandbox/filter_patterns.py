"""CloudWatch Logs JSON filter patterns, parsed once and matched against records.

The sandbox runs a log group's metric filters on each CloudTrail record it
delivers (:mod:`.log_delivery`), standing in for CloudWatch Logs. Syntax as in
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
and its page on JSON log events
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/matching-terms-json-log-events.html):

- ``{ SELECTOR OP VALUE }`` with selectors such as ``$.a.b`` and
  ``$.resources[0].ARN``; ``&&`` binds tighter than ``||``; parentheses nest.
- ``=`` and ``!=`` take a quoted or unquoted string, where ``*`` matches any
  run of characters, or a number, compared as a number with a numeric field.
- ``<``, ``>``, ``<=``, ``>=`` take a number and match numeric fields only.
- ``SELECTOR IS NULL``, ``IS TRUE``, ``IS FALSE`` and ``NOT EXISTS``.
- The empty pattern matches every event.

Not understood (:class:`PatternError`, so the caller skips the filter): term and
space-delimited patterns, ``%regex%`` values, ``[*]`` selectors. A comparison on
a field the record lacks, or on an object or array, does not match, ``!=``
included: the pages do not say otherwise.

Deliberately separate from :mod:`wizard.core.checklist.patterns`, which the
audit uses to predict whether an alarm fires: the sandbox stands in for AWS, so
it must not share the code under test. A test checks the two agree on the
project's own patterns.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_MISSING = object()
_SELECTOR = r"\$(?:\.[A-Za-z0-9_@$-]+|\[\d+\])*"
_TOKEN = re.compile(
    rf"""\s*(?:
        (?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))
        |(?P<sel>{_SELECTOR})
        |(?P<str>"(?:[^"\\]|\\.)*")
        |(?P<word>[^\s()&|=!<>"]+)
    )""",
    re.VERBOSE,
)
_COMPARE = frozenset({"=", "!=", "<", ">", "<=", ">="})
_ORDER: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


class PatternError(ValueError):
    """A filter pattern outside the syntax this module understands."""


Matcher = Callable[[Mapping[str, Any]], bool]


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Matcher:
    """A function telling whether a JSON log event matches ``pattern``.

    Raises:
        PatternError: the pattern is not a JSON pattern understood here.
    """
    text = pattern.strip()
    if not text:
        return lambda record: True
    if not (text.startswith("{") and text.endswith("}")):
        raise PatternError(f"not a JSON filter pattern: {pattern!r}")
    parser = _Parser(_tokens(text[1:-1]))
    matcher = parser.expression()
    if parser.pos != len(parser.tokens):
        raise PatternError(f"unexpected {parser.tokens[parser.pos][1]!r}")
    return matcher


def select(record: Any, selector: str) -> Any:
    """The value ``selector`` (``$.a[0].b``) names in ``record``; None if absent.

    Raises:
        PatternError: ``selector`` is not a selector.
    """
    value = _path(_parse_selector(selector))(record)
    return None if value is _MISSING else value


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while text[pos:].strip():
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise PatternError(f"cannot read {text[pos : pos + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


def _parse_selector(selector: str) -> tuple[str | int, ...]:
    if re.fullmatch(_SELECTOR, selector) is None:
        raise PatternError(f"not a selector: {selector!r}")
    parts = re.findall(r"\.([^.\[]+)|\[(\d+)\]", selector)
    return tuple(name if name else int(index) for name, index in parts)


def _path(steps: tuple[str | int, ...]) -> Callable[[Any], Any]:
    def get(record: Any) -> Any:
        value = record
        for step in steps:
            if isinstance(step, int):
                ok = isinstance(value, list) and step < len(value)
            else:
                ok = isinstance(value, Mapping) and step in value
            if not ok:
                return _MISSING
            value = value[step]
        return value

    return get


@dataclass
class _Parser:
    """Recursive descent: expression := and ('||' and)*; and := term ('&&' term)*."""

    tokens: list[tuple[str, str]]
    pos: int = 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise PatternError("the pattern ends too early")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def expression(self) -> Matcher:
        options = [self._all()]
        while self._peek() == "||":
            self._take()
            options.append(self._all())
        if len(options) == 1:
            return options[0]
        return lambda record: any(option(record) for option in options)

    def _all(self) -> Matcher:
        parts = [self._term()]
        while self._peek() == "&&":
            self._take()
            parts.append(self._term())
        if len(parts) == 1:
            return parts[0]
        return lambda record: all(part(record) for part in parts)

    def _term(self) -> Matcher:
        kind, text = self._take()
        if text == "(" and kind == "op":
            inner = self.expression()
            if self._take() != ("op", ")"):
                raise PatternError("missing ')'")
            return inner
        if kind != "sel":
            raise PatternError(f"expected a $. selector, not {text!r}")
        get = _path(_parse_selector(text))
        kind, op = self._take()
        if kind == "word":
            return self._keyword(op.upper(), get)
        if kind != "op" or op not in _COMPARE:
            raise PatternError(f"expected a comparison after {text}, not {op!r}")
        return _comparison(get, op, self._take())

    def _keyword(self, word: str, get: Callable[[Any], Any]) -> Matcher:
        target = self._take()[1].upper()
        if word == "NOT" and target == "EXISTS":
            return lambda record: get(record) is _MISSING
        wanted = {"NULL": None, "TRUE": True, "FALSE": False}
        if word == "IS" and target in wanted:
            expected = wanted[target]
            return lambda record: get(record) is expected
        raise PatternError(f"expected IS NULL, IS TRUE, IS FALSE or NOT EXISTS: {word}")


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _comparison(get: Callable[[Any], Any], op: str, token: tuple[str, str]) -> Matcher:
    kind, raw = token
    if kind not in ("str", "word"):
        raise PatternError(f"expected a value after {op}, not {raw!r}")
    text = json.loads(raw) if kind == "str" else raw
    number = _number(raw) if kind == "word" else None
    if op in _ORDER:
        if number is None:
            raise PatternError(f"{op} needs a number, not {raw!r}")
        order = _ORDER[op]
        return lambda record: _is_number(v := get(record)) and order(v, number)
    wildcard = re.compile(".*".join(re.escape(p) for p in text.split("*")), re.S)

    def equal(value: Any) -> bool:
        if number is not None and _is_number(value):
            return bool(value == number)
        if isinstance(value, bool):
            value = "true" if value else "false"
        return wildcard.fullmatch(str(value)) is not None

    def scalar(value: Any) -> bool:
        return (
            value is not _MISSING
            and value is not None
            and (not isinstance(value, Mapping | list))
        )

    if op == "=":
        return lambda record: scalar(v := get(record)) and equal(v)
    return lambda record: scalar(v := get(record)) and not equal(v)
