"""The app's workers: every blocking call, on a thread, reporting by message.

Each worker is ``exclusive`` in a named group with ``exit_on_error=False``: a
second apply cannot start while one runs, and an exception becomes an error
modal (see ``WizardApp.on_worker_state_changed``), never a crash. The work
itself is in :mod:`wizard.tui.tasks`; the handlers here fold each result into
the app's state objects, replaced whole.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App

from wizard.core.values import Values
from wizard.tui import messages as msg
from wizard.tui.session import AccountView, WizardState, merge_seeded

if TYPE_CHECKING:
    from wizard.tui.tasks import Backend

    _Base = App[int]
else:
    _Base = object


class AccountWorkers(_Base):
    """Workers and result handlers, mixed into :class:`WizardApp`.

    Handlers here use ``on_<message>`` names rather than ``@on``: Textual
    collects ``@on`` handlers only from classes built on its message pump, and
    this mixin is a plain class at run time.
    """

    if TYPE_CHECKING:
        state: WizardState
        account: AccountView
        backend: Backend
        _sandbox: Any
        _fresh: bool
        _read_for: Values | None

        def update(
            self,
            state: WizardState | None = None,
            account: AccountView | None = None,
            *,
            save: bool = False,
        ) -> None: ...

        def _on_step_opened(self, step_id: str) -> None: ...

        def show_error(self, title: str, message: str) -> None: ...

    def on_account_read_requested(self, event: msg.AccountReadRequested) -> None:
        """Handle :class:`~wizard.tui.messages.AccountReadRequested`."""
        if self.account.connected:
            self.read_account()

    def on_pick_requested(self, event: msg.PickRequested) -> None:
        """Handle :class:`~wizard.tui.messages.PickRequested`."""
        if not self.account.connected:
            self.notify("The sandbox is still starting; try again in a moment.")
            return
        self.list_choices(event.field_name)

    @work(thread=True, exclusive=True, group="sandbox", exit_on_error=False)
    def start_demo(self) -> None:
        """Start and seed the sandbox (it imports the emulator: seconds)."""
        demo = self.backend.start_demo()
        self._sandbox = demo.sandbox
        self.post_message(
            msg.SandboxReady(demo.endpoint_url, demo.values, demo.scenario)
        )

    def on_sandbox_ready(self, event: msg.SandboxReady) -> None:
        """Handle :class:`~wizard.tui.messages.SandboxReady`."""
        values = merge_seeded(self.state.values, event.values, self._fresh)
        account = replace(self.account, endpoint_url=event.endpoint_url, connected=True)
        self.update(replace(self.state, values=values), account, save=True)
        self.notify(
            f"Sandbox seeded with the {event.scenario} account; nothing here "
            "touches AWS.",
            title="Demo",
        )
        self._on_step_opened(self.state.last_step)

    @work(thread=True, exclusive=True, group="snapshot", exit_on_error=False)
    def read_account(self) -> None:
        """Read identity, permissions and the snapshot for the current values."""
        values = self.state.values
        self._read_for = values
        read = self.backend.read_account(values, self.account.endpoint_url)
        self.post_message(
            msg.IdentityRead(
                read.identity,
                read.missing_permissions,
                read.checked_permissions,
                read.step_permissions,
            )
        )
        self.post_message(msg.SnapshotRead(read.snapshot))

    def on_identity_read(self, event: msg.IdentityRead) -> None:
        """Handle :class:`~wizard.tui.messages.IdentityRead`."""
        from wizard.core.snapshot import Unknown

        problems = dict(self.account.problems)
        completed = set(self.account.completed)
        if isinstance(event.identity, Unknown):
            problems["prerequisites"] = event.identity.reason
            completed.discard("prerequisites")
        else:
            problems.pop("prerequisites", None)
            self.post_message(msg.StepCompleted("prerequisites"))
        account = replace(
            self.account,
            identity=event.identity,
            missing_permissions=event.missing_permissions,
            checked_permissions=event.checked_permissions,
            step_permissions=event.step_permissions,
            problems=problems,
            completed=frozenset(completed),
        )
        self.update(account=account)

    def on_snapshot_read(self, event: msg.SnapshotRead) -> None:
        """Handle :class:`~wizard.tui.messages.SnapshotRead`."""
        self.update(account=replace(self.account, snapshot=event.snapshot))

    @work(thread=True, exclusive=True, group="pick", exit_on_error=False)
    def list_choices(self, field_name: str) -> None:
        """Read the keys, roles or buckets the user can pick from."""
        from wizard.core.snapshot import Unknown

        endpoint = self.account.endpoint_url
        found = self.backend.list_choices(field_name, self.state.values, endpoint)
        if isinstance(found, Unknown):
            title = "Listing from AWS"
            self.post_message(msg.ProblemReported(title, found.reason, "environment"))
            return
        self.post_message(msg.ResourcesListed(field_name, tuple(found)))

    def on_resources_listed(self, event: msg.ResourcesListed) -> None:
        """Handle :class:`~wizard.tui.messages.ResourcesListed`."""
        from wizard.core.steps import ENVIRONMENT_FIELDS
        from wizard.tui.screens.pick_modal import PickModal

        spec = next(f for f in ENVIRONMENT_FIELDS if f.name == event.field_name)

        def picked(choice: str | None) -> None:
            if choice is not None:
                self.post_message(msg.FieldEdited(spec, spec.parse(choice)))

        self.push_screen(PickModal(spec.label, event.items), picked)

    # The checklist: a fresh read, then every item, with progress.

    def on_checklist_requested(self, event: msg.ChecklistRequested) -> None:
        """Handle :class:`~wizard.tui.messages.ChecklistRequested`."""
        if self.account.connected:
            self.run_checklist()

    @work(thread=True, exclusive=True, group="checklist", exit_on_error=False)
    def run_checklist(self) -> None:
        """Read the account and evaluate every checklist item."""
        from wizard.tui.tasks import audit_document

        values = self.state.values

        def report(done: int, total: int, label: str) -> None:
            self.post_message(msg.ChecklistProgress(done, total, label))

        run = self.backend.run_checklist(
            values,
            self.account.endpoint_url,
            self.state.attestations,
            str(self.state.path),
            report,
        )
        self.post_message(msg.ChecklistEvaluated(run, audit_document(run, values)))

    def on_checklist_progress(self, event: msg.ChecklistProgress) -> None:
        """Handle :class:`~wizard.tui.messages.ChecklistProgress`."""
        progress = (event.done, event.total, event.label)
        self.update(account=replace(self.account, checklist_progress=progress))

    def on_checklist_evaluated(self, event: msg.ChecklistEvaluated) -> None:
        """Keep the verdicts (and the ones before), the fresh snapshot, the audit."""
        run = event.run
        failing = sum(v.status == "fail" for v in run.verdicts)
        problems = dict(self.account.problems)
        completed = set(self.account.completed)
        if failing:
            problems["checklist"] = f"{failing} checklist item(s) fail."
            completed.discard("checklist")
        else:
            problems.pop("checklist", None)
            self.post_message(msg.StepCompleted("checklist"))
        self._read_for = self.state.values
        account = replace(
            self.account,
            items=run.items,
            previous_verdicts=self.account.verdicts,
            verdicts=run.verdicts,
            checklist_stale=False,
            audit=event.audit,
            snapshot=run.read.snapshot,
            identity=run.read.identity,
            problems=problems,
            completed=frozenset(completed),
        )
        self.update(account=account)

    def on_attested(self, event: msg.Attested) -> None:
        """Record an attestation in the values file and re-evaluate."""
        from wizard.core.checklist.engine import add_attestation

        item = next(i for i in self.account.items if i.id == event.item_id)
        table = add_attestation(self.state.attestations, item, event.by, event.note)
        self.update(replace(self.state, attestations=table), save=True)
        self.notify(f"Attested {item.title}.", title="Checklist")
        self.run_checklist()

    # Apply and rollback: exclusive in one group, so two can never overlap.

    def on_apply_requested(self, event: msg.ApplyRequested) -> None:
        """Handle :class:`~wizard.tui.messages.ApplyRequested`."""
        from wizard.core.apply.model import select
        from wizard.tui.session import plan_for

        plan = plan_for(self.account, self.state.values)
        if plan is None:
            return
        # select() holds back changes whose prerequisites were not chosen.
        narrowed = select(plan, only=event.change_ids)
        status: dict[str, str] = {c.id: "waiting" for c in narrowed.changes if c.ready}
        self.update(account=replace(self.account, change_status=status))
        self.apply_changes(narrowed)

    @work(thread=True, exclusive=True, group="apply", exit_on_error=False)
    def apply_changes(self, plan: Any) -> None:
        """Apply the chosen changes, journaled and backed up, one by one."""

        def report(_done: int, _total: int, line: str) -> None:
            change, status, detail = line.split("\t", 2)
            self.post_message(msg.ChangeProgress(change, status, detail))

        values, path = self.state.values, self.state.path
        endpoint = self.account.endpoint_url
        result = self.backend.apply_changes(plan, values, endpoint, path, report)
        if result.outcome in ("complete", "nothing"):
            self.post_message(msg.PolicyApplied(result))
        else:
            title = "Apply stopped" if result.outcome != "probe-failed" else "Canary"
            self.post_message(msg.ApplyFailed(title, result.message, result))

    def on_change_progress(self, event: msg.ChangeProgress) -> None:
        """Show one change as running or done."""
        status = {**self.account.change_status, event.change_id: event.status}
        self.update(account=replace(self.account, change_status=status))

    def on_policy_applied(self, event: msg.PolicyApplied) -> None:
        """Mark apply done, and read the account again: the plan shrinks."""
        self._after_apply(event.result, None)
        self.notify("Applied. The journal and backups are beside the values file.")

    def on_apply_failed(self, event: msg.ApplyFailed) -> None:
        """Show what failed; rollback stays on offer."""
        self._after_apply(event.result, event.message)
        self.show_error(event.title, event.message)

    def _after_apply(self, result: Any, failure: str | None) -> None:
        status = dict(self.account.change_status)
        for outcome in result.outcomes if result is not None else ():
            if outcome.status == "failed" or status.get(outcome.change) != "failed":
                status[outcome.change] = outcome.status
        problems = dict(self.account.problems)
        completed = set(self.account.completed)
        if failure:
            problems["apply"] = failure
        else:
            problems.pop("apply", None)
            self.post_message(msg.StepCompleted("apply"))
        account = replace(
            self.account,
            applied=result,
            change_status=status,
            problems=problems,
            completed=frozenset(completed),
            checklist_stale=True,
        )
        self.update(account=account)
        self.read_account()

    def on_rollback_requested(self, event: msg.RollbackRequested) -> None:
        """Handle :class:`~wizard.tui.messages.RollbackRequested`."""
        applied = self.account.applied
        if applied is not None and applied.journal is not None:
            self.roll_back(applied.journal)

    @work(thread=True, exclusive=True, group="apply", exit_on_error=False)
    def roll_back(self, journal: Path) -> None:
        """Undo the last apply from its journal and backups."""
        values, path = self.state.values, self.state.path
        result = self.backend.roll_back(
            journal, values, self.account.endpoint_url, path
        )
        self.post_message(msg.RolledBack(result))

    def on_rolled_back(self, event: msg.RolledBack) -> None:
        """Show how the rollback went and read the account again."""
        result = event.result
        done = sum(o.status == "done" for o in result.outcomes)
        failed = [o for o in result.outcomes if o.status == "failed"]
        status = dict.fromkeys(self.account.change_status, "rolled back")
        completed = set(self.account.completed) - {"apply"}
        account = replace(
            self.account,
            rolled_back=result,
            applied=None,
            change_status=status,
            completed=frozenset(completed),
            checklist_stale=True,
        )
        self.update(account=account)
        if failed:
            lines = "\n".join(f"{o.summary}: {o.detail}" for o in failed)
            self.show_error("Rollback incomplete", lines)
        else:
            self.notify(f"Rolled back: {done} call(s) undone.", title="Rollback")
        self.read_account()

    # Troubleshooting: reads only, never a write.

    def on_troubleshoot_requested(self, event: msg.TroubleshootRequested) -> None:
        """Handle :class:`~wizard.tui.messages.TroubleshootRequested`."""
        if not self.account.connected:
            self.notify("The sandbox is still starting; try again in a moment.")
            return
        self.troubleshoot(event.symptom, event.text)

    @work(thread=True, exclusive=True, group="troubleshoot", exit_on_error=False)
    def troubleshoot(self, symptom: str | None, text: str) -> None:
        """Diagnose a symptom or a pasted request against the account."""
        values, endpoint = self.state.values, self.account.endpoint_url
        report = self.backend.troubleshoot(values, endpoint, symptom, text)
        self.post_message(msg.TroubleshootDiagnosed(report))

    def on_troubleshoot_diagnosed(self, event: msg.TroubleshootDiagnosed) -> None:
        """Keep the report; the step draws it."""
        self.update(account=replace(self.account, troubleshoot=event.report))

    # Export: local files only, but on a thread all the same (disk, jinja2).

    def on_export_requested(self, event: msg.ExportRequested) -> None:
        """Handle :class:`~wizard.tui.messages.ExportRequested`."""
        self.export_files(event.path, event.formats)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def export_files(self, path: Path, formats: tuple[Any, ...]) -> None:
        """Write the runbook and the policy files."""
        from wizard.tui.tasks import export_files

        written = export_files(
            self.state.values,
            self.state.path,
            path,
            formats,
            self.account.audit,
            self.state.attestations,
            self.account.identity,
        )
        self.post_message(msg.Exported(written))

    def on_exported(self, event: msg.Exported) -> None:
        """Remember what was written and say so."""
        self.update(account=replace(self.account, exported=event.paths))
        self.post_message(msg.StepCompleted("export"))
        names = ", ".join(str(p) for p in event.paths)
        self.notify(f"Written: {names}", title="Export")

    def on_step_completed(self, event: msg.StepCompleted) -> None:
        """Mark a step's work done; the sidebar shows it."""
        completed = self.account.completed | {event.step_id}
        self.update(account=replace(self.account, completed=completed))
