"""The runbook's history part: apply journals, rollback, rotation schedule.

Journals are JSON Lines (:mod:`wizard.core.apply.journal`): a ``start`` record
with the command and the plan, then ``step`` records as each step starts and
ends (with the backup it took), then an ``end`` record. This module turns them
into rows: what changed, when, by whom, where the backups are, how to undo the
last apply, and when the key rotates next (correction 15: one period after
rotation is enabled).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from wizard.core import runbook_text as text
from wizard.core.runbook_inputs import InputProblem, identity_words, when
from wizard.core.runbook_text import Placeholders, clean
from wizard.core.values import Values


@dataclass(frozen=True)
class JournalFile:
    """One journal's records (JSON Lines, oldest first) and where it is."""

    path: str
    records: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class Change:
    """One change of one apply or rollback run, from its journal."""

    journal: str
    run: str
    """``apply N`` or ``rollback N``: the command and the journal's position."""
    undoes: str
    """For a rollback: the apply journal it undid; '' for an apply."""
    at: str
    change: str
    summary: str
    steps: int
    status: str
    """done, failed, skipped, or started (began, never ended: effect unknown)."""
    by: str
    backup: str
    error: str
    undo: str
    """How the plan said to undo this change, in words."""


@dataclass(frozen=True)
class RollbackStep:
    """One thing to do to put the key back as it was."""

    what: str
    command: str


@dataclass(frozen=True)
class RotationPlan:
    """The key's rotation: state, period, next date, and where that came from."""

    enabled: str
    period_days: str
    next_rotation: str
    basis: str


def read_changes(journals: Sequence[JournalFile]) -> tuple[Change, ...]:
    """One row per change of every run in ``journals``, in the order they ran.

    Each journal is one run (apply or rollback) starting with its ``start``
    record; a step's last record wins, as in
    :func:`wizard.core.apply.journal.read_journal`, and a change's status is
    the worst of its steps' (failed, then started, then skipped, then done).
    """
    rows: list[Change] = []
    for number, journal in enumerate(journals, start=1):
        start = journal.records[0] if journal.records else {}
        if start.get("type") != "start":
            raise InputProblem(f"{journal.path} is not a harbor-kms journal.")
        steps: dict[tuple[str, int], Mapping[str, Any]] = {}
        for record in journal.records[1:]:
            if record.get("type") == "step":
                name = clean(record.get("change")) or "change"
                steps[(name, int(record.get("index", 0)))] = record
        rows += _rows(journal.path, number, start, steps)
    return tuple(rows)


_WORST = ("failed", "started", "skipped", "done")


def _rows(
    path: str,
    number: int,
    start: Mapping[str, Any],
    steps: Mapping[tuple[str, int], Mapping[str, Any]],
) -> list[Change]:
    command = clean(start.get("command")) or "apply"
    by = identity_words(_first_mapping(start, "caller", "identity"))
    plan = _plan_changes(start.get("plan"))
    rows = []
    for name in dict.fromkeys(change for change, _ in steps):
        records = [r for (change, _), r in steps.items() if change == name]
        statuses = {clean(r.get("status")) or "started" for r in records}
        backups = [r["backup"] for r in records if isinstance(r.get("backup"), Mapping)]
        errors = [clean(r.get("error")) for r in records if r.get("error")]
        rows.append(
            Change(
                journal=path,
                run=f"{command} {number}",
                undoes=clean(start.get("of")) if command == "rollback" else "",
                at=when(records[-1].get("at")) or "not recorded",
                change=name,
                summary=plan.get(name, {}).get("title", name),
                steps=len(records),
                status=next((s for s in _WORST if s in statuses), "started"),
                by=by,
                backup=clean(backups[0].get("path")) if backups else "",
                error="; ".join(errors),
                undo=plan.get(name, {}).get("undo", ""),
            )
        )
    return rows


def _first_mapping(record: Mapping[str, Any], *names: str) -> Mapping[str, Any] | None:
    for name in names:
        if isinstance(record.get(name), Mapping):
            found: Mapping[str, Any] = record[name]
            return found
    return None


def _plan_changes(plan: Any) -> dict[str, dict[str, str]]:
    """Title and undo text of each planned change, by change id."""
    changes = plan.get("changes", []) if isinstance(plan, Mapping) else []
    found: dict[str, dict[str, str]] = {}
    for change in changes if isinstance(changes, list) else []:
        if isinstance(change, Mapping) and change.get("id"):
            found[clean(change["id"])] = {
                "title": clean(change.get("title")) or clean(change["id"]),
                "undo": clean(change.get("undo")),
            }
    return found


def policy_state(changes: Sequence[Change]) -> str:
    """One sentence: whether the final policy is on the key, from the journal."""
    applied = [c for c in changes if "policy" in c.change and c.status == "done"]
    if not applied:
        return (
            "No apply by this tool is recorded. This is the policy the values "
            "produce; harbor-kms apply puts it only if the key's current policy "
            "differs, after backing that one up."
        )
    last = applied[-1]
    verb = "Restored by a rollback" if last.run.startswith("rollback") else "Applied"
    who = (
        f" by {last.by}"
        if last.by != "not recorded"
        else (" (the journal does not record by whom)")
    )
    return f"{verb} on {last.at}{who}, as journal {last.journal} records."


def rollback_steps(
    changes: Sequence[Change], fill: Placeholders, config_arg: str = ""
) -> tuple[RollbackStep, ...]:
    """How to undo the last apply: the tool's rollback first, then by hand."""
    applies = [c for c in changes if c.run.startswith("apply")]
    last = applies[-1].journal if applies else ""
    done = [c for c in applies if c.journal == last and c.status == "done"]
    if not done:
        return (
            RollbackStep(
                "Nothing has been applied by this tool, so there is nothing to "
                "roll back. Keep a copy of the current policy before any change:",
                fill.fill(
                    "aws kms get-key-policy --key-id {key_arn} --policy-name default "
                    "--region {region} --query Policy --output text "
                    "> key-policy-before.json"
                ),
            ),
        )
    undone = [c for c in changes if c.undoes and _same_file(c.undoes, last)]
    if undone:
        return (
            RollbackStep(
                f"The last apply ({last}) was already rolled back on "
                f"{undone[-1].at} ({undone[-1].journal}). Nothing is left to undo.",
                "",
            ),
        )
    steps = [
        RollbackStep(
            "Let the tool undo the last apply from its journal; it checks each "
            "backup against the hash the journal recorded before restoring it:",
            f"harbor-kms rollback{config_arg} --journal {fill.quote(last)}",
        )
    ]
    return tuple(steps + [_by_hand(change, fill) for change in reversed(done)])


def _by_hand(change: Change, fill: Placeholders) -> RollbackStep:
    """The manual undo of one change; the key policy as a command to paste."""
    if change.backup and "policy" in change.change:
        # A key-policy backup keeps the policy text under state.policy.
        backup = fill.quote(change.backup)
        command = f"jq -r .state.policy {backup} > key-policy-before.json && " + (
            fill.fill(
                "aws kms put-key-policy --key-id {key_arn} --policy-name default "
                "--region {region} --policy file://key-policy-before.json"
            )
        )
        return RollbackStep(
            f"By hand, put back the key policy saved before {change.at}:", command
        )
    where = f" The state before is in {change.backup}." if change.backup else ""
    undo = change.undo or "see the journal."
    return RollbackStep(f"By hand, undo {change.summary}: {undo}{where}", "")


def _same_file(left: str, right: str) -> bool:
    return Path(left).resolve() == Path(right).resolve()


def rotation_plan(
    values: Values, audit: Mapping[str, Any] | None, changes: Sequence[Change]
) -> RotationPlan:
    """Rotation state and next date (correction 15: one period after enabling)."""
    period = values.rotation_period_days
    enabled = [c for c in changes if "rotation" in c.change and c.status == "done"]
    rotation = _audit_rotation(audit)
    if rotation.get("next_rotation"):
        return RotationPlan(
            "yes",
            clean(rotation.get("period_days") or period),
            when(rotation["next_rotation"]),
            "As KMS reported it in the audit.",
        )
    if enabled and (moment := text.parse_time(_raw_time(enabled[-1]))):
        return RotationPlan(
            "yes",
            str(period),
            text.stamp(moment + timedelta(days=period)),
            f"Rotation was enabled on {enabled[-1].at}; KMS rotates one period "
            "later, then every period.",
        )
    flag = rotation.get("enabled")
    state = ("yes" if flag else "no") if isinstance(flag, bool) else "not known"
    return RotationPlan(
        state,
        str(period),
        "not known",
        "Enable rotation with the chosen period (or re-run the audit after "
        "enabling it); the first rotation comes one period after enabling.",
    )


def _raw_time(change: Change) -> str:
    # Change.at is already printed as "YYYY-MM-DD HH:MM:SS UTC".
    return change.at.removesuffix(" UTC").replace(" ", "T") + "+00:00"


def _audit_rotation(audit: Mapping[str, Any] | None) -> dict[str, Any]:
    """Rotation as the audit's kms:GetKeyRotationStatus evidence recorded it."""
    for item in (audit or {}).get("items", []):
        evidence = item.get("evidence") if isinstance(item, Mapping) else None
        for entry in evidence if isinstance(evidence, list) else []:
            if not isinstance(entry, Mapping):
                continue
            fields = entry.get("fields")
            if entry.get("api") == "kms:GetKeyRotationStatus" and isinstance(
                fields, Mapping
            ):
                return {
                    "enabled": fields.get("KeyRotationEnabled"),
                    "period_days": fields.get("RotationPeriodInDays"),
                    "next_rotation": fields.get("NextRotationDate"),
                }
    return {}
