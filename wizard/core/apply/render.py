"""The plan and the outcome of an apply, as text for a terminal or a README.

Request parameters are shown exactly, except that long JSON documents inside
them (policies, the dashboard body) are shown by size unless ``full`` is set:
the key policy's change is already shown as a diff of normalised JSON.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping
from typing import Any

from wizard.core.apply.model import Change, Plan, Step
from wizard.core.apply.run import ApplyResult

WIDTH = 88
_LONG = 100


def render_plan(plan: Plan, *, full: bool = False) -> str:
    """The whole plan: each change, then what is in place and what is held."""
    lines = [f"Plan for {plan.key_arn}", f"(account read at {plan.read_at})", ""]
    if plan.empty:
        lines.append("Nothing to change: every target state already holds.")
    for number, change in enumerate(plan.changes, 1):
        lines += _change(number, change, plan, full)
    if plan.satisfied:
        lines.append("Already in place (not planned):")
        lines += _held_lines((h.id, h.reason) for h in plan.satisfied)
    if plan.blocked:
        lines.append("Not planned:")
        lines += _held_lines((h.id, h.reason) for h in plan.blocked)
    return "\n".join(lines).rstrip() + "\n"


def _wrap(label: str, text: str, indent: int = 4) -> list[str]:
    head = " " * indent + f"{label:<9}"
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=head,
        subsequent_indent=" " * len(head),
        break_on_hyphens=False,
    ) or [head.rstrip()]


def _change(number: int, change: Change, plan: Plan, full: bool) -> list[str]:
    lines = [f"{number:>2}. {change.id}: {change.title}"]
    lines += _wrap("now:", change.reads_now)
    lines += _wrap("writes:", change.will_write)
    lines += _wrap("why:", f"{change.why.guide_section}. {change.why.reason}")
    if change.why.checklist_items:
        lines += _wrap("serves:", ", ".join(change.why.checklist_items))
    lines += _wrap("undo:", change.undo)
    if change.missing:
        lines += _wrap(
            "MISSING:", "; ".join(change.missing) + " (not applied until given)"
        )
    if change.depends_on:
        lines += _wrap("after:", ", ".join(change.depends_on))
    if change.id == "put-key-policy" and plan.lockout is not None:
        lines += _lockout(plan.lockout)
    for note in change.notes:
        if not note.startswith("Lockout check FAILED"):
            lines += _wrap("note:", note)
    lines.append("    requests:")
    for step in change.steps:
        lines += _request(step, full)
    if change.diff:
        lines.append("    diff of the key policy (normalised JSON):")
        lines += ["      " + line for line in change.diff.rstrip("\n").splitlines()]
    lines.append("")
    return lines


def _lockout(report: Mapping[str, Any]) -> list[str]:
    if report.get("ok"):
        return _wrap("lockout:", "proven. " + " ".join(report.get("proven", ())))
    lines = _wrap("LOCKOUT:", "REFUSED: the new policy would lock someone out.")
    for problem in report.get("problems", ()):
        lines += _wrap("", "- " + problem)
    return lines


def _request(step: Step, full: bool) -> list[str]:
    """The API and its parameters, one per line, exactly as sent."""
    lines = [f"      {step.api}"]
    for name, value in step.params.items():
        lines += _param(name, value, full, 8)
    return lines


def _param(name: str, value: Any, full: bool, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, Mapping) and any(_is_document(v) for v in value.values()):
        lines = [f"{pad}{name}:"]
        for key, inner in value.items():
            lines += _param(key, inner, full, indent + 2)
        return lines
    if not _is_document(value):
        return [f"{pad}{name}: {json.dumps(value, sort_keys=True)}"]
    if not full:
        return [f"{pad}{name}: <JSON document, {len(value)} characters>"]
    pretty = json.dumps(json.loads(value), indent=2, sort_keys=True)
    return [f"{pad}{name}:"] + [f"{pad}  {line}" for line in pretty.splitlines()]


def _is_document(value: Any) -> bool:
    """A long string holding JSON (a policy, a pattern, a dashboard body)."""
    if not isinstance(value, str) or len(value) <= _LONG:
        return False
    try:
        return isinstance(json.loads(value), dict | list)
    except ValueError:
        return False


def _held_lines(items: Any) -> list[str]:
    lines = []
    for change_id, reason in items:
        lines += textwrap.wrap(
            reason,
            WIDTH,
            initial_indent=f"  {change_id}: ",
            subsequent_indent="      ",
            break_on_hyphens=False,
        )
    lines.append("")
    return lines


def render_result(result: ApplyResult) -> str:
    """What was and was not changed, and where the backups and the journal are."""
    lines = [""] + [f"note: {note}" for note in result.notes]
    kept = [
        f"  - {o.summary} ({o.status}{': ' + o.detail if o.detail else ''})"
        for o in result.not_changed
    ]
    if result.outcome == "complete":
        lines.append(f"All {len(result.changed)} writes done (listed above).")
        lines += ["Found in place, left as they were:", *kept] if kept else []
    else:
        changed = [f"  - {o.summary}" for o in result.changed] or ["  - nothing"]
        lines += ["Changed:", *changed, "Not changed:", *kept]
    lines += [f"Backup: {b.path} (sha256 {b.sha256[:12]})" for b in result.backups]
    lines += [f"Journal: {result.journal}"] if result.journal else []
    if result.rollback is not None:
        same = result.rollback.policy_restored
        lines.append(
            "The previous key policy was restored"
            + (
                " and reads back equal to the backup."
                if same
                else ", but it does NOT read back equal to the backup."
            )
        )
    if result.outcome == "complete":
        lines.append("Done. `harbor-kms audit` shows the checklist now.")
    return "\n".join(lines) + "\n"
