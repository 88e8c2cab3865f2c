"""Does a metric filter or an EventBridge rule catch a given CloudTrail event?

The alarm items decide whether an alarm really fires on, say, ScheduleKeyDeletion
by running the filter against a sample CloudTrail record of that event, as
CloudWatch Logs and EventBridge would. Only the syntax needed for CloudTrail
alarms is understood; a pattern outside it raises :class:`PatternError`, and the
evaluator says it could not read the pattern rather than guessing.

- Filter syntax (JSON selectors, ``&&``/``||``, ``*`` wildcards, ``EXISTS``,
  ``IS NULL``; term patterns):
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
- Event patterns (exact values, ``prefix``, ``suffix``, ``anything-but``,
  ``exists``, ``equals-ignore-case``, ``wildcard``):
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
- CloudTrail records of KMS calls:
  https://docs.aws.amazon.com/kms/latest/developerguide/understanding-kms-entries.html
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_MISSING = object()
_TOKEN = re.compile(
    r"""\s*(?:(?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))
        |(?P<sel>\$(?:\.[A-Za-z0-9_@-]+|\[\d+\])*)
        |(?P<str>"(?:[^"\\]|\\.)*")
        |(?P<word>[^\s()&|=!<>"]+))""",
    re.VERBOSE,
)


class PatternError(ValueError):
    """A filter or event pattern this module does not understand."""


def cloudtrail_record(
    event_name: str,
    key_arn: str,
    *,
    region: str,
    account: str,
    error_code: str | None = None,
    read_only: bool = False,
) -> dict[str, Any]:
    """A CloudTrail record of a KMS call on ``key_arn``, as the log group gets it."""
    record: dict[str, Any] = {
        "eventVersion": "1.11",
        "userIdentity": {"type": "AssumedRole", "accountId": account},
        "eventSource": "kms.amazonaws.com",
        "eventName": event_name,
        "awsRegion": region,
        "requestParameters": {"keyId": key_arn},
        "readOnly": read_only,
        "resources": [{"accountId": account, "type": "AWS::KMS::Key", "ARN": key_arn}],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
    }
    if error_code:
        record["errorCode"] = error_code
        record["errorMessage"] = f"{error_code} on {event_name}"
    return record


def eventbridge_event(record: Mapping[str, Any]) -> dict[str, Any]:
    """The EventBridge event CloudTrail sends for ``record``."""
    return {
        "version": "0",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.kms",
        "account": record.get("recipientAccountId", ""),
        "region": record.get("awsRegion", ""),
        "resources": [],
        "detail": dict(record),
    }


def filter_matches(pattern: str, record: Mapping[str, Any]) -> bool:
    """Whether a CloudWatch Logs filter pattern matches a JSON log event.

    Raises:
        PatternError: the pattern uses syntax outside what is understood here.
    """
    text = pattern.strip()
    if not text:
        return True  # an empty pattern matches every event
    if text.startswith("{"):
        if not text.endswith("}"):
            raise PatternError(f"unbalanced braces in {pattern!r}")
        parser = _JsonPattern(text[1:-1])
        return parser.parse(record)
    if text.startswith("["):
        raise PatternError("space-delimited patterns are not understood")
    return _terms_match(text, json.dumps(record))


def _terms_match(text: str, line: str) -> bool:
    terms = re.findall(r'"[^"]*"|\S+', text)
    optional = [t[1:].strip('"') for t in terms if t.startswith("?")]
    excluded = [t[1:].strip('"') for t in terms if t.startswith("-")]
    required = [t.strip('"') for t in terms if t[0] not in "?-"]
    if any(t in line for t in excluded):
        return False
    if optional:
        return any(t in line for t in optional)
    return all(t in line for t in required)


class _JsonPattern:
    """A recursive-descent reader of the JSON filter syntax: || over && over terms."""

    def __init__(self, text: str) -> None:
        self.tokens = self._tokenise(text)
        self.pos = 0

    @staticmethod
    def _tokenise(text: str) -> list[tuple[str, str]]:
        tokens, pos = [], 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise PatternError(f"cannot read {text[pos : pos + 20]!r}")
            kind = match.lastgroup or ""
            tokens.append((kind, match.group(kind)))
            pos = match.end()
        return tokens

    def parse(self, record: Mapping[str, Any]) -> bool:
        result = self._or(record)
        if self.pos != len(self.tokens):
            raise PatternError(f"unexpected {self.tokens[self.pos][1]!r}")
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise PatternError("the pattern ends too early")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def _or(self, record: Mapping[str, Any]) -> bool:
        result = self._and(record)
        while self._peek() == "||":
            self._take()
            right = self._and(record)
            result = result or right
        return result

    def _and(self, record: Mapping[str, Any]) -> bool:
        result = self._term(record)
        while self._peek() == "&&":
            self._take()
            right = self._term(record)
            result = result and right
        return result

    def _term(self, record: Mapping[str, Any]) -> bool:
        kind, text = self._take()
        if text == "(":
            result = self._or(record)
            if self._take()[1] != ")":
                raise PatternError("missing ')'")
            return result
        if kind != "sel":
            raise PatternError(f"expected a $. selector, not {text!r}")
        value = _select(record, text)
        kind, op = self._take()
        if kind == "word" and op.upper() in ("IS", "NOT", "EXISTS"):
            return self._keyword(op.upper(), value)
        if kind != "op" or op in ("(", ")", "&&", "||"):
            raise PatternError(f"expected a comparison after {text}, not {op!r}")
        vkind, wanted = self._take()
        if vkind == "str":
            wanted = json.loads(wanted)
        elif vkind != "word":
            raise PatternError(f"expected a value after {op}, not {wanted!r}")
        return _compare(value, op, wanted)

    def _keyword(self, word: str, value: Any) -> bool:
        if word == "EXISTS":
            return value is not _MISSING
        if word == "NOT":
            if self._take()[1].upper() != "EXISTS":
                raise PatternError("expected NOT EXISTS")
            return value is _MISSING
        target = self._take()[1].upper()
        if target == "NULL":
            return value is None
        if target in ("TRUE", "FALSE"):
            return value is (target == "TRUE")
        raise PatternError(f"expected IS NULL, IS TRUE or IS FALSE, not IS {target}")


def _select(record: Any, selector: str) -> Any:
    value = record
    for part in re.findall(r"\.([A-Za-z0-9_@-]+)|\[(\d+)\]", selector):
        name, index = part
        if name and isinstance(value, Mapping) and name in value:
            value = value[name]
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return _MISSING
    return value


def _compare(value: Any, op: str, wanted: str) -> bool:
    if value is _MISSING or isinstance(value, Mapping | list):
        return False
    if op in ("<", ">", "<=", ">="):
        try:
            left, right = float(value), float(wanted)
        except (TypeError, ValueError):
            return False
        return {"<": left < right, ">": left > right, "<=": left <= right}.get(
            op, left >= right
        )
    text = "true" if value is True else "false" if value is False else str(value)
    body = ".*".join(re.escape(part) for part in wanted.split("*"))
    equal = re.fullmatch(body, text, re.DOTALL) is not None
    return equal if op == "=" else not equal


def event_matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether an EventBridge event pattern matches ``event``.

    Raises:
        PatternError: the pattern uses a filter this module does not understand.
    """
    for key, rule in pattern.items():
        value = event.get(key, _MISSING) if isinstance(event, Mapping) else _MISSING
        if isinstance(rule, Mapping):
            # An array of objects matches when one of its objects does (the
            # approximation of EventBridge's flattening used here).
            found = value if isinstance(value, list) else [value]
            if not any(
                isinstance(v, Mapping) and event_matches(rule, v) for v in found
            ):
                return False
        elif isinstance(rule, list):
            if not any(_match_one(choice, value) for choice in rule):
                return False
        else:
            raise PatternError(f"the value of {key!r} must be a list or an object")
    return True


def _match_one(choice: Any, value: Any) -> bool:
    if isinstance(value, list):
        return any(_match_one(choice, v) for v in value)
    if not isinstance(choice, Mapping):
        return value is not _MISSING and choice == value
    if len(choice) != 1:
        raise PatternError(f"a content filter has one key, not {sorted(choice)}")
    ((name, arg),) = choice.items()
    if name == "exists":
        return (value is not _MISSING) == bool(arg)
    if value is _MISSING:
        return False
    text = value if isinstance(value, str) else None
    if name == "prefix" and isinstance(arg, str):
        return text is not None and text.startswith(arg)
    if name == "suffix" and isinstance(arg, str):
        return text is not None and text.endswith(arg)
    if name == "equals-ignore-case" and isinstance(arg, str):
        return text is not None and text.lower() == arg.lower()
    if name == "wildcard" and isinstance(arg, str):
        body = ".*".join(re.escape(p) for p in arg.split("*"))
        return text is not None and re.fullmatch(body, text) is not None
    if name == "anything-but":
        if isinstance(arg, Mapping):
            return not _match_one(arg, value)
        return value not in (arg if isinstance(arg, list) else [arg])
    raise PatternError(f"the content filter {name!r} is not understood")
