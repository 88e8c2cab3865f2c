"""Roll an apply back from its journal, and prove the key policy is restored.

The rollback writes its own journal (``"command": "rollback"``, naming the
apply journal it undoes), so an interrupted rollback can simply be run again:
every undo call is safe to repeat (a policy put back twice is the same policy;
a deletion of what is gone is reported as gone).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from wizard.core.apply.adapter import Adapter, StepFailed
from wizard.core.apply.journal import Journal, JournalError, read_journal
from wizard.core.apply.model import Plan
from wizard.core.apply.undo import UndoCall, undo_plan
from wizard.core.errors import WizardError
from wizard.core.policy.diff import same_policy


class RollbackInterrupted(WizardError):
    """Ctrl-C during a rollback; running it again finishes it."""

    title = "Interrupted"
    exit_code = 130


@dataclass
class UndoOutcome:
    """One undo call and what happened."""

    change: str
    summary: str
    status: Literal["done", "failed"]
    detail: str = ""


@dataclass
class RollbackResult:
    """The outcome of a rollback."""

    journal: Path
    of: Path
    outcome: Literal["complete", "incomplete", "nothing"]
    outcomes: list[UndoOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    policy_restored: bool | None = None
    """True when the key policy reads back equal to the backup (normalised);
    None when the apply had not replaced the key policy."""


def rollback(
    apply_journal: Path,
    adapter: Adapter,
    base: Path,
    *,
    changes: tuple[str, ...] | None = None,
    progress: Callable[[str], None] = lambda _: None,
    caller: dict[str, str] | None = None,
) -> RollbackResult:
    """Undo what ``apply_journal`` records, last step first.

    Args:
        apply_journal: the journal of the apply to undo.
        adapter: the AWS side.
        base: the state directory beside the config file.
        changes: undo only these changes (the canary rolls back the policy).
        progress: told one line per call.
        caller: who runs the rollback (ARN, account), recorded in the journal.

    Returns:
        What was undone, what failed, and whether the policy equals the backup.

    Raises:
        JournalError: the journal is unreadable or not an apply journal.
        BackupError: a backup is missing or does not match its recorded hash.
    """
    state = read_journal(apply_journal)
    if state.command != "apply":
        raise JournalError(
            f"{apply_journal} is a {state.command} journal, not an apply."
        )
    plan = Plan.from_json(state.start.get("plan", {}))
    if changes is not None:
        state = replace(state, steps=[s for s in state.steps if s.change in changes])
    undo = undo_plan(plan, state)
    key_id = plan.key_arn.rsplit("/", 1)[-1]
    start = {
        "command": "rollback",
        "of": str(Path(apply_journal).resolve()),
        "key_arn": plan.key_arn,
        "calls": [c.step.to_json() for c in undo.calls],
        "caller": caller or {},
    }
    journal = Journal.create(base, key_id, start, now=None)
    result = RollbackResult(journal.path, Path(apply_journal), "complete")
    result.notes += undo.notes
    if not undo.calls:
        result.outcome = "nothing"
    for index, call in enumerate(undo.calls):
        record = {
            "type": "step",
            "change": call.change,
            "index": index,
            "api": call.step.api,
            "summary": call.step.summary,
        }
        journal.append({**record, "status": "started"})
        try:
            detail = _undo_one(call, plan, adapter, journal, result)
        except KeyboardInterrupt:
            journal.append({"type": "end", "outcome": "interrupted"})
            journal.close()
            raise RollbackInterrupted(
                f"Rollback interrupted after {len(result.outcomes)} of "
                f"{len(undo.calls)} undo calls; its journal {journal.path} says "
                "which. Run `harbor-kms rollback` again: every call is safe to "
                "repeat."
            ) from None
        except StepFailed as failure:
            summary = call.step.summary
            _failed(journal, record, result, call.change, summary, failure.message)
            continue
        journal.append({**record, "status": "done", "detail": detail})
        result.outcomes.append(
            UndoOutcome(call.change, call.step.summary, "done", detail)
        )
        progress(f"  - {call.step.summary}: {detail}")
    journal.append({"type": "end", "outcome": result.outcome})
    journal.close()
    return result


def _undo_one(
    call: UndoCall,
    plan: Plan,
    adapter: Adapter,
    journal: Journal,
    result: RollbackResult,
) -> str:
    """Make one undo call; for the key policy, refuse to overwrite a later change
    and prove the restore (normalised JSON equal to the backup).

    TODO: only the key policy is checked for changes made after the apply;
    rotation, tags and the description are put back over any later change.
    """
    backup = call.verify_policy
    if backup is None:
        return adapter.undo(call.step)
    current = adapter.policy_text(plan.key_arn)
    written = plan.policy
    if (
        written
        and not same_policy(current, written)
        and not same_policy(current, backup)
    ):
        raise StepFailed(
            "The key policy was changed after the apply (it is neither what the "
            "apply wrote nor the backup), so it was not overwritten. Compare it "
            "with the backup the apply journal names, and restore by hand if that "
            "is still wanted."
        )
    detail = adapter.undo(call.step)
    restored = same_policy(adapter.policy_text(plan.key_arn), backup)
    result.policy_restored = restored
    journal.append({"type": "verify", "ok": restored})
    if not restored:
        raise StepFailed(
            "The key policy read back differs from the backup (normalised JSON)."
        )
    return detail


def _failed(
    journal: Journal,
    record: dict[str, object],
    result: RollbackResult,
    change: str,
    summary: str,
    detail: str,
) -> None:
    journal.append({**record, "status": "failed", "error": detail})
    result.outcomes.append(UndoOutcome(change, summary, "failed", detail))
    result.outcome = "incomplete"
