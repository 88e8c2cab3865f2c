"""From a journal back to the calls that restore the state before the apply.

Undo runs in reverse order of what was done. A step that replaced state is
undone from its backup (checked against the hash the journal recorded); a step
that created something is undone only if the journal says this apply created
it; a step that failed changed nothing. A step that started but never reported
an end (a crash, Ctrl-C, a lost connection in the middle of the call) is undone
too where that is safe: restoring a backup is right whether the write landed or
not, and deleting what did not exist before cannot hurt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wizard.core.apply.backup import read_backup
from wizard.core.apply.journal import JournalState, StepRecord
from wizard.core.apply.model import Plan, Step


@dataclass(frozen=True)
class UndoCall:
    """One call of a rollback, with what it restores."""

    change: str
    step: Step
    verify_policy: str | None = None
    """For a key policy restore: the backed-up policy text to compare with."""


@dataclass(frozen=True)
class UndoPlan:
    """The calls, and what cannot be undone with the reason."""

    calls: tuple[UndoCall, ...]
    notes: tuple[str, ...]


def undo_plan(plan: Plan, state: JournalState) -> UndoPlan:
    """The calls that undo what ``state`` records, last step first.

    Raises:
        BackupError: a backup the journal names is missing or was changed.
    """
    steps: dict[tuple[str, int], Step] = {
        (c.id, i): s for c in plan.changes for i, s in enumerate(c.steps)
    }
    created_topics = {
        str(s.params.get("Name"))
        for r in state.steps
        if r.created and r.status in ("done", "started")
        for s in [steps.get((r.change, r.index))]
        if s is not None and s.operation == "CreateTopic"
    }
    calls: list[UndoCall] = []
    notes: list[str] = []
    for record in reversed(state.steps):
        step = steps.get((record.change, record.index))
        if step is None or record.status in ("failed", "skipped"):
            continue
        if step.kind == "replace":
            calls += _restore(record, step, notes)
        elif step.kind == "create" and not record.created:
            continue
        else:
            calls += _reverse(record, step, created_topics, notes)
    return UndoPlan(tuple(calls), tuple(notes))


def _reverse(
    record: StepRecord, step: Step, created_topics: set[str], notes: list[str]
) -> list[UndoCall]:
    if step.operation == "Subscribe" and _topic_name(step) in created_topics:
        return []  # deleting the topic this apply created removes the subscription
    calls = []
    for undo in step.undo:
        params = _resolve(undo.params, record.outputs)
        if params is None:
            notes.append(
                f"{undo.summary}: not possible, the journal has no "
                f"{', '.join(step.keep)} for it (the call did not finish)."
            )
            continue
        calls.append(UndoCall(record.change, _with(undo, params)))
    return calls


def _topic_name(step: Step) -> str:
    return str(step.params.get("TopicArn", "")).rsplit(":", 1)[-1]


def _resolve(
    params: Mapping[str, Any], outputs: Mapping[str, Any]
) -> dict[str, Any] | None:
    resolved: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, Mapping) and set(value) == {"$output"}:
            found = outputs.get(str(value["$output"]))
            if found is None:
                return None
            value = found
        resolved[name] = value
    return resolved


def _with(step: Step, params: Mapping[str, Any]) -> Step:
    return Step(step.service, step.operation, params, step.summary, step.kind)


def _restore(record: StepRecord, step: Step, notes: list[str]) -> list[UndoCall]:
    if not record.backup:
        if record.status == "done":
            notes.append(
                f"{step.summary}: no backup was recorded, so it is not undone."
            )
        return []
    content = read_backup(Path(record.backup["path"]), record.backup["sha256"])
    state = content.get("state", {})
    key = str(step.params["KeyId"])
    restore = _RESTORERS[step.backup or ""]
    return [UndoCall(record.change, s, v) for s, v in restore(key, state, step, notes)]


Restored = list[tuple[Step, str | None]]


def _policy(key: str, state: Mapping[str, Any], _: Step, notes: list[str]) -> Restored:
    text = str(state["policy"])
    params = {"KeyId": key, "PolicyName": "default", "Policy": text}
    summary = "put the backed-up key policy back"
    return [(Step("kms", "PutKeyPolicy", params, summary, "modify"), text)]


def _rotation(
    key: str, state: Mapping[str, Any], _: Step, notes: list[str]
) -> Restored:
    if not state.get("enabled"):
        step = Step(
            "kms",
            "DisableKeyRotation",
            {"KeyId": key},
            "turn automatic rotation off again",
            "modify",
        )
        return [(step, None)]
    period = state.get("period_days")
    params: dict[str, Any] = {"KeyId": key}
    if isinstance(period, int):
        params["RotationPeriodInDays"] = period
    else:
        notes.append(
            "The old rotation period was not reported; AWS's default "
            "(365 days) is restored."
        )
    summary = f"set the rotation period back to {period or 365} days"
    return [(Step("kms", "EnableKeyRotation", params, summary, "modify"), None)]


def _tags(key: str, state: Mapping[str, Any], step: Step, notes: list[str]) -> Restored:
    before: Mapping[str, str] = state.get("tags", {})
    written = {t["TagKey"]: t["TagValue"] for t in step.params.get("Tags", ())}
    added = sorted(k for k in written if k not in before)
    changed = [
        {"TagKey": k, "TagValue": before[k]}
        for k in sorted(written)
        if k in before and before[k] != written[k]
    ]
    restored: Restored = []
    if added:
        restored.append(
            (
                Step(
                    "kms",
                    "UntagResource",
                    {"KeyId": key, "TagKeys": added},
                    f"remove tags {', '.join(added)}",
                    "modify",
                ),
                None,
            )
        )
    if changed:
        restored.append(
            (
                Step(
                    "kms",
                    "TagResource",
                    {"KeyId": key, "Tags": changed},
                    "put the old tag values back",
                    "modify",
                ),
                None,
            )
        )
    return restored


def _description(
    key: str, state: Mapping[str, Any], _: Step, notes: list[str]
) -> Restored:
    params = {"KeyId": key, "Description": str(state.get("description", ""))}
    step = Step(
        "kms", "UpdateKeyDescription", params, "put the old description back", "modify"
    )
    return [(step, None)]


_RESTORERS = {
    "key-policy": _policy,
    "rotation": _rotation,
    "tags": _tags,
    "description": _description,
}
