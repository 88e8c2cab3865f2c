"""Step 9, Security checklist: every item checked live, with its evidence.

A run reads the account afresh and evaluates every item of ``checklists/`` in
a worker, with progress; each verdict is pass, fail, unknown (saying exactly
what could not be read), attested or not attested. Selecting an item shows the
reason, the evidence (which API, which fields, when) and the remediation;
items only a person can answer are attested here with a note.
"""

from __future__ import annotations

import getpass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import ProgressBar, Static

from wizard.tui.messages import Attested, ChecklistRequested
from wizard.tui.screens.attest_modal import AttestModal
from wizard.tui.screens.base import StepPane
from wizard.tui.session import Model
from wizard.tui.widgets.checklist_table import ChecklistTable


class ChecklistStep(StepPane):
    """Progress, the table over the selected item's evidence."""

    STEP_ID = "checklist"

    DEFAULT_CSS = """
    ChecklistStep {
        & #checklist-progress { height: 1; }
        & #checklist-body { height: 1fr; }
        & #checklist-table { height: 3fr; }
        & #checklist-detail-box {
            height: 2fr;
            border: round $primary 50%;
        }
        & #checklist-detail-box:focus { border: round $primary; }
    }
    """

    def compose_body(self) -> ComposeResult:
        """Progress line, table and detail."""
        yield ProgressBar(id="checklist-progress", show_eta=False)
        yield Static("", id="checklist-status", markup=False)
        # Stacked, so the items' titles read in full across the step.
        with Vertical(id="checklist-body"):
            yield ChecklistTable(id="checklist-table")
            with VerticalScroll(id="checklist-detail-box"):
                yield Static("", id="checklist-detail", markup=False)

    def render_model(self, model: Model) -> None:
        """Progress while running; the verdicts when done."""
        account = model.account
        running = "checklist" in account.busy
        bar = self.query_one(ProgressBar)
        bar.display = running
        done, total, label = account.checklist_progress
        # total 0: still reading the account; the bar shows it is working.
        bar.update(total=total or None, progress=done)
        status = self.query_one("#checklist-status", Static)
        status.update(status_text(model, running, label))
        table = self.query_one(ChecklistTable)
        if account.verdicts:
            table.show(account.items, account.verdicts, account.previous_verdicts)

    @on(ChecklistTable.Chosen)
    def _chosen(self, event: ChecklistTable.Chosen) -> None:
        event.stop()
        detail = self.query_one("#checklist-detail", Static)
        detail.update(verdict_text(event.item, event.verdict))

    def can_run(self, action: str) -> bool | None:
        """Re-run when connected and idle; attest an attested item."""
        account = self.model.account if self.model else None
        if account is None or not account.connected or "checklist" in account.busy:
            return None
        if action == "attest":
            item = self.query_one(ChecklistTable).highlighted_item
            return bool(item is not None and item.attested) or None
        return True

    def action_rerun(self) -> None:
        """Check every item again."""
        self.post_message(ChecklistRequested())

    def action_attest(self) -> None:
        """Attest the highlighted item, with a note."""
        item = self.query_one(ChecklistTable).highlighted_item
        if item is None or not item.attested or self.model is None:
            return
        identity = self.model.account.identity
        by = getattr(identity, "arn", "") or getpass.getuser()

        def attested(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                self.post_message(Attested(item.id, answer[0], answer[1]))

        self.app.push_screen(AttestModal(item.title, item.guide_text, by), attested)


def status_text(model: Model, running: bool, label: str) -> str:
    """What the table shows, or what is being checked."""
    account = model.account
    if running:
        return f"Checking: {label}" if label else "Checking..."
    if not account.connected:
        return "Waiting for the connection to AWS (or the demo sandbox)."
    if not account.verdicts:
        return "Not run yet: r runs it."
    fixed = _changed(account.previous_verdicts, account.verdicts)
    text = "Verdicts of the last run; r re-runs, t attests a manual item."
    if fixed:
        text += f" {fixed} item(s) went from fail to pass since the run before."
    if account.checklist_stale:
        text += " The account changed since: re-run to see it."
    return text


def _changed(before: Any, after: Any) -> int:
    was = {v.item_id: v.status for v in before}
    return sum(was.get(v.item_id) == "fail" and v.status == "pass" for v in after)


def _short(value: Any, limit: int = 160) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def verdict_text(item: Any, verdict: Any) -> str:
    """Reason, evidence and remediation of one verdict."""
    if verdict is None:
        return f"{item.title}\nNot checked yet."
    lines = [
        item.title,
        f"Section: {item.section}",
        f"{verdict.status.replace('_', ' ')}: {verdict.reason}",
    ]
    if item.guide_text:
        lines.append(f"Guide: {item.guide_text}")
    if item.correction:
        lines.append(f"Correction: {item.correction}")
    for evidence in verdict.evidence:
        lines.append(f"Evidence: {evidence.api} at {evidence.at:%Y-%m-%d %H:%M}Z")
        lines.extend(f"  {k}: {_short(v)}" for k, v in evidence.fields.items())
    fix = verdict.remediation
    if fix is not None:
        if fix.apply:
            lines.append(f"Fix with apply (step 8): {fix.apply}")
        lines.append(f"Console: {fix.console}")
        lines.append(f"CLI: {fix.cli}")
    return "\n".join(lines)
