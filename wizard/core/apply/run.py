"""Run a plan: backup, journal, call, verify, in that order for every step.

The AWS side is an :class:`Adapter` (``wizard.aws.apply_exec`` implements it
with boto3; tests may use another), so the order of operations that makes an
apply safe lives here once, for the command line, the line mode and the TUI:

1. refuse a key policy the lockout proof rejects (unless overridden, loudly);
2. for each step: read and back up what it replaces, or see whether what it
   creates exists already; journal that; make the call; journal the result;
3. stop at the first failure, saying what was and was not changed;
4. after the key policy: check it reads back as written, and with ``probe`` run
   the S3 round trip, offering to restore the old policy at once if it fails.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from wizard.core.apply.adapter import Adapter, StepFailed
from wizard.core.apply.backup import Backup, write_backup
from wizard.core.apply.journal import Journal
from wizard.core.apply.model import Change, Plan, Step
from wizard.core.apply.rollback import RollbackResult, rollback
from wizard.core.errors import WizardError
from wizard.core.policy.diff import same_policy
from wizard.core.snapshot import CallerIdentity
from wizard.core.values import Values

Progress = Callable[[str], None]
StepStatus = Literal["done", "existed", "failed", "not run", "interrupted"]


class LockoutRefused(WizardError):
    """The new key policy would lock someone out; nothing was changed."""

    title = "Lockout check"
    exit_code = 3


LOCKOUT_OVERRIDE_WARNING = (
    "WARNING: --allow-lockout-risk is set. The lockout check failed and the key "
    "policy will be put anyway. If the administrators or the break-glass role "
    "cannot call kms:PutKeyPolicy afterwards, nobody but AWS Support can repair "
    "this key, and if Harbor's role cannot use it, every push and pull fails "
    "until the policy is fixed. The backup and the journal are your way back."
)


@dataclass
class StepOutcome:
    """What happened to one step."""

    change: str
    index: int
    summary: str
    status: StepStatus
    detail: str = ""


@dataclass
class ApplyResult:
    """The outcome of an apply, for the report and for the tests."""

    journal: Path | None
    outcome: Literal["complete", "failed", "interrupted", "probe-failed", "nothing"]
    outcomes: list[StepOutcome] = field(default_factory=list)
    message: str = ""
    backups: list[Backup] = field(default_factory=list)
    rollback: RollbackResult | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[StepOutcome]:
        """Steps that wrote to AWS (and were not rolled back)."""
        return [o for o in self.outcomes if o.status == "done"]

    @property
    def not_changed(self) -> list[StepOutcome]:
        """Steps that did not write: failed, not run, or found in place."""
        return [o for o in self.outcomes if o.status != "done"]


class ApplyInterrupted(WizardError):
    """Ctrl-C between or during steps; the journal says what was done."""

    title = "Interrupted"
    exit_code = 130

    def __init__(self, result: ApplyResult, message: str) -> None:
        super().__init__(message)
        self.result = result


def refuse_if_locked_out(plan: Plan, allow_risk: bool) -> list[str]:
    """Raise LockoutRefused unless the proof holds or the user overrides.

    Returns:
        The loud warning to show when the override is used; [] otherwise.
    """
    if plan.change("put-key-policy") is None or plan.lockout is None:
        return []
    if plan.lockout.get("ok"):
        return []
    problems = "\n".join(f"  - {p}" for p in plan.lockout.get("problems", ()))
    if allow_risk:
        return [LOCKOUT_OVERRIDE_WARNING, problems]
    raise LockoutRefused(
        "The new key policy is refused, and nothing was changed:\n"
        f"{problems}\nFix the values (administrators, break-glass role, Harbor's "
        "role and bucket) or the policy, and run apply again. --allow-lockout-risk "
        "puts it anyway; read its warning first."
    )


def apply_plan(
    plan: Plan,
    values: Values,
    adapter: Adapter,
    base: Path,
    *,
    allow_lockout_risk: bool = False,
    probe: bool = False,
    confirm_rollback: Callable[[str], bool] = lambda _: False,
    progress: Progress = lambda _: None,
    caller: dict[str, str] | None = None,
    now: datetime | None = None,
) -> ApplyResult:
    """Apply every ready change of ``plan``, journaled, stopping at a failure.

    Args:
        plan: the selected changes (see :func:`~wizard.core.apply.model.select`).
        values: the checked values (the key id names the journal and backups).
        adapter: the AWS side.
        base: the state directory beside the config file.
        allow_lockout_risk: put a key policy the lockout proof rejects.
        probe: run the S3 round trip after the key policy is put.
        confirm_rollback: asked with the probe's failure; True restores the old
            key policy at once (``--auto-rollback`` answers True).
        progress: told one line per step.
        caller: who runs the apply (ARN, account), recorded in the journal.
        now: the time in the journal's name (tests).

    Returns:
        What was done; the journal holds the same, written as it happened.

    Raises:
        LockoutRefused: the policy is refused; nothing was written.
        ApplyInterrupted: Ctrl-C; the journal says what was done.
        WizardError: the journal or a backup cannot be written (nothing more is
            done after that).
    """
    warnings = refuse_if_locked_out(plan, allow_lockout_risk)
    ready = [c for c in plan.changes if c.ready]
    if not ready:
        return ApplyResult(None, "nothing", message="Nothing to apply.")
    start = {
        "command": "apply",
        "key_arn": plan.key_arn,
        "region": plan.region,
        "plan": plan.to_json(),
        "allow_lockout_risk": allow_lockout_risk,
        "caller": caller or {},
    }
    journal = Journal.create(base, values.bare_key_id, start, now=now)
    result = ApplyResult(journal.path, "complete", notes=list(warnings))
    run = _Run(plan, values, adapter, base, journal, result, progress)
    try:
        for change in ready:
            run.change(change)
            if change.id == "put-key-policy" and not run.after_policy(
                probe, confirm_rollback
            ):
                break
    except StepFailed as failure:
        result.outcome, result.message = "failed", failure.message
    except KeyboardInterrupt:
        result.outcome = "interrupted"
        journal.append({"type": "end", "outcome": "interrupted"})
        journal.close()
        _not_run(result, ready)
        raise ApplyInterrupted(result, _interrupted_sentence(result)) from None
    except WizardError:
        # A backup or the journal could not be written: stop before any more
        # calls; what was done so far is in the journal already.
        with contextlib.suppress(WizardError):
            journal.append({"type": "end", "outcome": "failed"})
        journal.close()
        raise
    journal.append({"type": "end", "outcome": result.outcome})
    journal.close()
    _not_run(result, ready)
    return result


def _interrupted_sentence(result: ApplyResult) -> str:
    done = len(result.changed)
    return (
        f"Interrupted after {done} completed step(s); the journal {result.journal} "
        "records exactly what was and was not done. `harbor-kms rollback` undoes it."
    )


def _not_run(result: ApplyResult, ready: list[Change]) -> None:
    seen = {(o.change, o.index) for o in result.outcomes}
    for change in ready:
        for index, step in enumerate(change.steps):
            if (change.id, index) not in seen:
                result.outcomes.append(
                    StepOutcome(change.id, index, step.summary, "not run")
                )


@dataclass
class _Run:
    plan: Plan
    values: Values
    adapter: Adapter
    base: Path
    journal: Journal
    result: ApplyResult
    progress: Progress

    def change(self, change: Change) -> None:
        for index, step in enumerate(change.steps):
            self.step(change, index, step)

    def step(self, change: Change, index: int, step: Step) -> None:
        record: dict[str, Any] = {
            "type": "step",
            "change": change.id,
            "index": index,
            "api": step.api,
            "summary": step.summary,
        }
        outcome = StepOutcome(change.id, index, step.summary, "interrupted")
        self.result.outcomes.append(outcome)
        try:
            if step.kind == "replace":
                record["backup"] = self._backup(step)
            elif step.kind == "create" and self.adapter.exists(step):
                self.journal.append({**record, "status": "done", "created": False})
                outcome.status, outcome.detail = "existed", "already there; kept"
                self.progress(f"  = {step.summary}: already there")
                return
            self.journal.append({**record, "status": "started"})
            outputs = self.adapter.call(step)
        except StepFailed as failure:
            self.journal.append(
                {**record, "status": "failed", "error": failure.message}
            )
            outcome.status, outcome.detail = "failed", failure.message
            self.progress(f"  ! {step.summary}: failed")
            raise
        created = step.kind == "create"
        done = {**record, "status": "done", "created": created, "outputs": outputs}
        self.journal.append(done)
        outcome.status = "done"
        self.progress(f"  + {step.summary}")

    def _backup(self, step: Step) -> dict[str, str]:
        what = step.backup
        assert what is not None  # every replace step names its backup
        key = str(step.params["KeyId"])
        state = self.adapter.read_state(what, key)
        current = self.plan.current_policy
        if (
            what == "key-policy"
            and current
            and not same_policy(state["policy"], current)
        ):
            raise StepFailed(
                "The key policy changed since the plan was read, so the diff "
                "shown is no longer true; the policy was not replaced. Run "
                "apply again to see the new diff."
            )
        content = {"what": what, "key_arn": key, "state": state}
        backup = write_backup(self.base, self.values.bare_key_id, what, content)
        self.result.backups.append(backup)
        return {"path": str(backup.path), "sha256": backup.sha256}

    def after_policy(self, probe: bool, confirm: Callable[[str], bool]) -> bool:
        """Verify the policy reads back as written; run the canary. False: stop."""
        written = self.plan.policy or {}
        text = self.adapter.policy_text(self.plan.key_arn)
        same = same_policy(text, written)
        self.journal.append({"type": "verify", "change": "put-key-policy", "ok": same})
        if not same:
            self.result.notes.append(
                "The key policy read back differs from what was written (normalised "
                "JSON); someone else may have changed it at the same moment."
            )
        if not probe:
            return True
        ok, detail = self.adapter.probe()
        self.journal.append({"type": "probe", "ok": ok, "detail": detail})
        self.progress(f"  {'+' if ok else '!'} S3 round trip: {detail}")
        if ok:
            return True
        self.result.outcome = "probe-failed"
        self.result.message = (
            f"The S3 round trip failed after the new key policy was put: {detail} "
            "The remaining changes were not applied."
        )
        if confirm(detail):
            self.journal.append({"type": "rollback", "change": "put-key-policy"})
            self.result.rollback = rollback(
                self.journal.path,
                self.adapter,
                self.base,
                changes=("put-key-policy",),
                progress=self.progress,
            )
            for outcome in self.result.outcomes:
                if outcome.change == "put-key-policy" and outcome.status == "done":
                    outcome.status, outcome.detail = "not run", "rolled back"
        return False


def caller_record(identity: object) -> dict[str, str] | None:
    """The journal's "who" from a snapshot's caller (None when it is unknown)."""
    if isinstance(identity, CallerIdentity):
        return {"arn": identity.arn, "account": identity.account}
    return None
