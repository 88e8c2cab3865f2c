"""The guide's DO / DON'T list as the state of one key: met, not met, not checkable.

The lines are data (``checklists/mappings/best-practices.toml``), each linked to
checklist items and lint rules. :func:`assess` judges them from an audit's
verdicts and the key policy's lint findings, conservatively: a line is met only
when everything it rests on was checked and passed, so missing data never reads
as met.
"""

from __future__ import annotations

import textwrap
import tomllib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from wizard.core.checklist.model import Verdict
from wizard.core.errors import WizardError
from wizard.core.policy.lint import Finding
from wizard.core.resources import data_dir

State = Literal["met", "not_met", "not_checkable"]
Kind = Literal["do", "dont"]
_GOOD = frozenset({"pass", "attested"})
_BAD = frozenset({"fail", "not_attested"})
_KEYS = frozenset({"id", "kind", "guide", "items", "rules", "note"})
_MARKS: dict[State, str] = {
    "met": "MET",
    "not_met": "NOT MET",
    "not_checkable": "NOT CHECKABLE",
}


class PracticesError(WizardError):
    """The best-practices file cannot be used; the message names file and entry."""

    title = "Best practices"


@dataclass(frozen=True)
class Practice:
    """One line of the guide's DO or DON'T list and the checks behind it."""

    id: str
    kind: Kind
    guide: str
    items: tuple[str, ...]
    rules: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class Assessment:
    """One line's state for this key, and what decided it."""

    practice: Practice
    state: State
    reason: str
    items: tuple[tuple[str, str], ...]
    """(item id, verdict status or 'not evaluated') per linked item."""
    fired: tuple[str, ...]
    """Linked lint rules with findings in the key policy."""


# TODO: judge "Use Customer Managed Keys" from the key's KeyManager once a
# checklist item records it; until then that line is not checkable.


def practices_path() -> Path:
    """The packaged list."""
    return data_dir("checklists") / "mappings" / "best-practices.toml"


@cache
def _load_default() -> tuple[Practice, ...]:
    return tuple(load_practices(practices_path()))


def load_practices(path: Path | None = None) -> list[Practice]:
    """Read the list (the packaged one by default), checking its shape.

    Raises:
        PracticesError: The file is unreadable or an entry has the wrong shape.
    """
    if path is None:
        return list(_load_default())
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PracticesError(f"{path} cannot be read: {error}.") from None
    raw = data.get("practice")
    if not isinstance(raw, list) or not raw:
        raise PracticesError(f"{path} has no [[practice]] tables.")
    problems: list[str] = []
    found = [p for p in (_practice(entry, problems) for entry in raw) if p]
    if problems:
        raise PracticesError(f"{path} cannot be used:\n  " + "\n  ".join(problems))
    return found


def _practice(entry: Any, problems: list[str]) -> Practice | None:
    where = f"practice {entry.get('id', '?') if isinstance(entry, dict) else '?'}"
    if not isinstance(entry, dict) or set(entry) != _KEYS:
        problems.append(f"{where}: needs exactly {', '.join(sorted(_KEYS))}.")
        return None
    lists = (entry["items"], entry["rules"])
    texts = (entry["id"], entry["guide"], entry["note"])
    if entry["kind"] not in ("do", "dont") or not all(
        isinstance(t, str) for t in texts
    ):
        problems.append(f"{where}: kind is do or dont; id, guide, note are text.")
        return None
    if not all(
        isinstance(x, list) and all(isinstance(i, str) for i in x) for x in lists
    ):
        problems.append(f"{where}: items and rules are lists of ids.")
        return None
    return Practice(
        entry["id"],
        entry["kind"],
        entry["guide"],
        tuple(entry["items"]),
        tuple(entry["rules"]),
        entry["note"],
    )


def validate_practices(
    practices: Sequence[Practice],
    item_ids: Collection[str],
    rule_ids: Collection[str],
) -> list[str]:
    """Links to checklist items or lint rules that do not exist, duplicate ids."""
    problems = []
    seen: set[str] = set()
    for practice in practices:
        if practice.id in seen:
            problems.append(f"practice {practice.id}: duplicate id.")
        seen.add(practice.id)
        problems += [
            f"practice {practice.id}: {i!r} is not a checklist item."
            for i in practice.items
            if i not in item_ids
        ]
        problems += [
            f"practice {practice.id}: {r!r} is not a lint rule."
            for r in practice.rules
            if r not in rule_ids
        ]
        if not (practice.items or practice.rules or practice.note):
            problems.append(f"practice {practice.id}: unlinked and unexplained.")
    return problems


def assess(
    verdicts: Sequence[Verdict],
    findings: Sequence[Finding] | None,
    practices: Sequence[Practice] | None = None,
) -> list[Assessment]:
    """Judge every line for one key.

    Args:
        verdicts: The key's checklist verdicts.
        findings: The key policy's lint findings; None when the policy could not
            be read or linted (its rules then decide nothing).
        practices: The lines; the packaged list by default.

    Returns:
        One :class:`Assessment` per line, in the guide's order.
    """
    by_item = {v.item_id: v.status for v in verdicts}
    fired_all = {f.rule for f in findings} if findings is not None else set()
    results = []
    for practice in practices if practices is not None else _load_default():
        items = tuple((i, by_item.get(i, "not evaluated")) for i in practice.items)
        fired = tuple(r for r in practice.rules if r in fired_all)
        results.append(
            Assessment(
                practice, *_judge(practice, items, fired, findings), items, fired
            )
        )
    return results


def _judge(
    practice: Practice,
    items: tuple[tuple[str, str], ...],
    fired: tuple[str, ...],
    findings: Sequence[Finding] | None,
) -> tuple[State, str]:
    bad = [f"{i} {s.replace('_', ' ')}" for i, s in items if s in _BAD]
    if bad or fired:
        return "not_met", "; ".join(
            [*bad, *(f"lint rule {r} fired" for r in fired)]
        ) + "."
    if not items and not practice.rules:
        return "not_checkable", practice.note or "No check is linked to this line."
    open_items = [f"{i} {s.replace('_', ' ')}" for i, s in items if s not in _GOOD]
    if practice.rules and findings is None:
        open_items.append("the key policy could not be linted")
    if open_items:
        return "not_checkable", "Not decided: " + "; ".join(open_items) + "."
    shown = [f"{i} {s}" for i, s in items]
    if practice.rules:
        shown.append(f"no finding of {', '.join(practice.rules)}")
    return "met", "; ".join(shown) + "."


def to_json(assessments: Sequence[Assessment]) -> list[dict[str, Any]]:
    """One object per line: id, kind, guide line, state, reason, links."""
    return [
        {
            "id": a.practice.id,
            "kind": a.practice.kind,
            "guide": a.practice.guide,
            "state": a.state,
            "reason": a.reason,
            "items": [{"id": i, "status": s} for i, s in a.items],
            "rules": list(a.practice.rules),
            "rules_fired": list(a.fired),
            "note": a.practice.note,
        }
        for a in assessments
    ]


def to_text(assessments: Sequence[Assessment], width: int = 88) -> str:
    """The DO and DON'T lists, each line marked, with the reason under it."""
    wrap = textwrap.TextWrapper(
        width,
        initial_indent=" " * 18,
        subsequent_indent=" " * 18,
        break_long_words=False,
        break_on_hyphens=False,
    )
    lines: list[str] = []
    for kind, heading in (("do", "DO"), ("dont", "DON'T")):
        lines.append(heading)
        for a in (a for a in assessments if a.practice.kind == kind):
            head = textwrap.wrap(
                a.practice.guide,
                width,
                initial_indent=f"  {_MARKS[a.state]:<15} ",
                subsequent_indent=" " * 18,
                break_long_words=False,
            )
            lines += head + wrap.wrap(a.reason)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def to_markdown(assessments: Sequence[Assessment]) -> str:
    """A Markdown table per list (DO, DON'T)."""
    out = ["## Best practices", ""]
    for kind, heading in (("do", "DO"), ("dont", "DON'T")):
        out += [
            f"### {heading}",
            "",
            "| State | Practice | Why |",
            "| --- | --- | --- |",
        ]
        out += [
            f"| {_MARKS[a.state]} | {_cell(a.practice.guide)} | {_cell(a.reason)} |"
            for a in assessments
            if a.practice.kind == kind
        ]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
