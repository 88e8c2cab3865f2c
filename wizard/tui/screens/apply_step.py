"""Step 8, Apply: the plan, each change selectable, applied with progress.

The plan comes from :func:`wizard.core.apply.plan.make_plan` over the last read
of the account; what already holds and what cannot be planned are listed with
the plan's reasons. Applying asks for confirmation in
:class:`ApplyConfirmModal`, then shows each change as it runs; the last apply
can be rolled back from its journal and backups.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import LoadingIndicator, ProgressBar, SelectionList, Static
from textual.widgets.selection_list import Selection

from wizard.tui.messages import AccountReadRequested, ApplyRequested, RollbackRequested
from wizard.tui.screens.apply_confirm_modal import ApplyConfirmModal
from wizard.tui.screens.base import StepPane
from wizard.tui.session import Model, plan_for
from wizard.tui.tasks import backup_dir

MARKS = {
    "waiting": ("○", "$text-muted"),
    "running": ("◐", "$text-accent"),
    "done": ("●", "$text-success"),
    "existed": ("=", "$text-success"),
    "failed": ("✗", "$text-error"),
    "not run": ("-", "$text-muted"),
    "interrupted": ("!", "$text-error"),
    "rolled back": ("↶", "$text-warning"),
}
"""Status of a change while and after it is applied."""


class ApplyStep(StepPane):
    """Plan list with status marks, the highlighted change's detail, progress."""

    STEP_ID = "apply"

    DEFAULT_CSS = """
    ApplyStep {
        & #apply-busy { height: 1; }
        & #apply-body { height: 1fr; }
        & #changes { width: 2fr; height: 1fr; }
        & #change-detail-box {
            width: 3fr;
            height: 1fr;
            border: round $primary 50%;
        }
        & #change-detail-box:focus { border: round $primary; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._plan: Any = None
        self._shown: tuple[str, ...] = ()

    def compose_body(self) -> ComposeResult:
        """Status, list beside detail, progress bar."""
        yield LoadingIndicator(id="apply-busy")
        yield Static("", id="apply-status", markup=False)
        with Horizontal(id="apply-body"):
            changes: SelectionList[str] = SelectionList(id="changes")
            changes.border_title = "Changes (space selects)"
            yield changes
            with VerticalScroll(id="change-detail-box"):
                yield Static("", id="change-detail", markup=False)
        yield ProgressBar(id="apply-progress", show_eta=False)

    def render_model(self, model: Model) -> None:
        """Rebuild the list when the plan changes; update marks and progress."""
        account = model.account
        busy = bool({"snapshot", "apply"} & account.busy)
        self.query_one("#apply-busy").display = busy
        plan = plan_for(account, model.state.values)
        self._plan = plan
        status = self.query_one("#apply-status", Static)
        status.update(status_text(plan, model))
        ids = tuple(c.id for c in plan.changes) if plan is not None else ()
        changes = self.query_one("#changes", SelectionList)
        if ids != self._shown:
            self._shown = ids
            changes.clear_options()
            for change in plan.changes if plan is not None else ():
                changes.add_option(
                    Selection(
                        change.title,
                        change.id,
                        change.ready,
                        id=change.id,
                        disabled=not change.ready,
                    )
                )
        for change in plan.changes if plan is not None else ():
            mark, colour = MARKS.get(account.change_status.get(change.id, ""), ("", ""))
            prompt = Content.assemble(
                (f"{mark} " if mark else "", colour), change.title
            )
            changes.replace_option_prompt(change.id, prompt)
        self._progress(account.change_status)
        self._show_detail(changes.highlighted)

    def _show_detail(self, index: int | None) -> None:
        index = 0 if index is None else index
        if self._plan is None or index >= len(self._plan.changes):
            text = "" if self._plan is None else "Nothing to change."
            self.query_one("#change-detail", Static).update(text)
            return
        change = self._plan.changes[index]
        self.query_one("#change-detail", Static).update(change_text(change))

    def _progress(self, status: Any) -> None:
        bar = self.query_one(ProgressBar)
        finished = sum(s not in ("waiting", "running") for s in status.values())
        bar.update(total=max(1, len(status)), progress=finished)
        bar.display = bool(status)

    @on(SelectionList.SelectionHighlighted, "#changes")
    def _highlighted(self, event: SelectionList.SelectionHighlighted[str]) -> None:
        event.stop()
        self._show_detail(event.selection_index)

    def can_run(self, action: str) -> bool | None:
        """Apply needs a plan and a selection; rollback a finished apply."""
        account = self.model.account if self.model else None
        if account is None or "apply" in account.busy:
            return None
        if action == "apply":
            return (
                bool(self._plan and self.query_one("#changes", SelectionList).selected)
                or None
            )
        if action == "rollback":
            applied = account.applied
            return bool(applied is not None and applied.journal is not None) or None
        return account.connected or None

    def action_plan(self) -> None:
        """Read the account again; the plan follows."""
        self.post_message(AccountReadRequested())

    def action_apply(self) -> None:
        """Confirm, then ask the app to apply the selected changes."""
        from wizard.core.apply.model import select

        chosen = tuple(self.query_one("#changes", SelectionList).selected)
        if self._plan is None or not chosen or self.model is None:
            return
        narrowed = select(self._plan, only=chosen)

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.post_message(ApplyRequested(chosen))

        where = backup_dir(self.model.state.path)
        self.app.push_screen(ApplyConfirmModal(narrowed, where), confirmed)

    def action_rollback(self) -> None:
        """Confirm, then undo the last apply."""
        if self._plan is None or self.model is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.post_message(RollbackRequested())

        where = backup_dir(self.model.state.path)
        modal = ApplyConfirmModal(self._plan, where, rollback=True)
        self.app.push_screen(modal, confirmed)


def status_text(plan: Any, model: Model) -> str:
    """One paragraph: what the plan holds, and what is in place or held."""
    if plan is None:
        if not model.account.connected:
            return "Waiting for the connection to AWS (or the demo sandbox)."
        return "The plan is made from a read of the account; it is being read."
    parts = [
        f"{len(plan.changes)} change(s) planned for {plan.key_arn} "
        f"(account read at {plan.read_at})."
    ]
    if plan.satisfied:
        parts.append("In place: " + ", ".join(h.id for h in plan.satisfied) + ".")
    if plan.blocked:
        parts.append(
            "Not planned: " + "; ".join(f"{h.id} ({h.reason})" for h in plan.blocked)
        )
    lockout = plan.lockout or {}
    if plan.change("put-key-policy") is not None:
        parts.append(
            "Lockout check: passed."
            if lockout.get("ok")
            else "Lockout check FAILED: the key policy would be refused."
        )
    applied = model.account.applied
    if applied is not None and applied.journal is not None:
        parts.append(f"Last apply: {applied.outcome}; journal {applied.journal}.")
    return " ".join(parts)


def change_text(change: Any) -> str:
    """The highlighted change in full: now, writes, why, undo, notes, missing."""
    lines = [
        change.title,
        f"Now: {change.reads_now}",
        f"Writes: {change.will_write}",
        f"Why: {change.why.guide_section}. {change.why.reason}",
    ]
    if change.why.checklist_items:
        lines.append("Serves checklist items: " + ", ".join(change.why.checklist_items))
    lines.append(f"Undo: {change.undo}")
    lines.extend(f"Note: {note}" for note in change.notes)
    if change.missing:
        lines.append("Missing (not applied until given): " + "; ".join(change.missing))
    if change.diff:
        lines.append("")
        lines.append(change.diff)
    return "\n".join(lines)
