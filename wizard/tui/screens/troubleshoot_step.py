"""Step 10, Troubleshooting: the cause of a guide symptom or of a failed request.

The user picks one of the guide's five symptoms, or leaves the symptom blank
and pastes a CloudTrail event (JSON) or the AWS error Harbor logged. Diagnose
asks the app for a worker that reads the account (the sandbox in a demo) and
runs :mod:`wizard.commands.troubleshoot`, the same code as
``harbor-kms diagnose``. The report lists every check, found first, with its
evidence, then the cause, the fix and the matching apply change; a bad paste
is shown here, inline. Nothing is ever written.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Label, LoadingIndicator, Select, Static, TextArea

from wizard.commands.troubleshoot import STATUS_WORDS, Report, symptom_choices
from wizard.tui.messages import StepSelected, TroubleshootRequested
from wizard.tui.screens.base import StepPane
from wizard.tui.session import Model

REQUEST_PROMPT = "None: diagnose the failed request pasted below"
_STYLES = {
    "found": "$text-error bold",
    "unknown": "$text-warning bold",
    "not_found": "$text-muted",
}


class TroubleshootStep(StepPane):
    """Symptom, pasted request, Diagnose, and the report."""

    STEP_ID = "troubleshoot"

    DEFAULT_CSS = """
    TroubleshootStep {
        & #troubleshoot-symptom { width: 1fr; }
        & #troubleshoot-input { height: 5; }
        & #troubleshoot-row { height: auto; margin-top: 1; }
        & #troubleshoot-row Button { margin-right: 1; }
        & #troubleshoot-hint { color: $text-muted; padding: 1 0 0 1; }
        & LoadingIndicator { height: 1; }
        & #troubleshoot-error { color: $text-error; }
        & #troubleshoot-report-box {
            height: 1fr;
            border: round $primary 50%;
        }
        & #troubleshoot-report-box:focus { border: round $primary; }
    }
    """

    def compose_body(self) -> ComposeResult:
        """The symptom, the paste box, the buttons, the report."""
        yield Label("Symptom from the guide")
        yield Select(
            symptom_choices(), prompt=REQUEST_PROMPT, id="troubleshoot-symptom"
        )
        yield TextArea(
            id="troubleshoot-input",
            soft_wrap=True,
            placeholder="A CloudTrail event (JSON) or the AWS error Harbor logged",
        )
        with Horizontal(id="troubleshoot-row"):
            yield Button("Diagnose", id="troubleshoot-run", variant="primary")
            yield Button("Plan it in Apply", id="troubleshoot-apply")
            yield Static("Reads only; nothing is changed.", id="troubleshoot-hint")
        yield LoadingIndicator(id="troubleshoot-busy")
        yield Static("", id="troubleshoot-error", markup=False)
        with VerticalScroll(id="troubleshoot-report-box"):
            yield Static("", id="troubleshoot-report")

    def render_model(self, model: Model) -> None:
        """The last report, or what to do; the error inline."""
        account = model.account
        self.query_one("#troubleshoot-busy").display = "troubleshoot" in account.busy
        report: Report | None = account.troubleshoot
        error = self.query_one("#troubleshoot-error", Static)
        box = self.query_one("#troubleshoot-report", Static)
        apply = self.query_one("#troubleshoot-apply", Button)
        error.display = bool(report and report.error)
        apply.display = bool(report and report.apply_change and not report.error)
        if report is None:
            box.update(
                "Choose a symptom, or paste a failed request, then Diagnose (ctrl+r)."
            )
            return
        if report.error:
            error.update(f"Cannot diagnose: {report.error}")
            box.update("")
            return
        box.update(report_content(report))

    def can_run(self, action: str) -> bool | None:
        """Diagnose when connected and no diagnosis runs."""
        account = self.model.account if self.model else None
        if account is None or not account.connected:
            return None
        return "troubleshoot" not in account.busy or None

    def action_diagnose(self) -> None:
        """Ask the app to diagnose the symptom, or else the pasted text."""
        chosen = self.query_one("#troubleshoot-symptom", Select).value
        symptom = chosen if isinstance(chosen, str) else None
        text = self.query_one("#troubleshoot-input", TextArea).text
        self.post_message(TroubleshootRequested(symptom, text))

    @on(Button.Pressed, "#troubleshoot-run")
    def _run(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_diagnose()

    @on(Button.Pressed, "#troubleshoot-apply")
    def _open_apply(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(StepSelected("apply"))


def report_content(report: Report) -> Content:
    """The report: heading, each check with evidence, the cause and the fix."""
    parts: list[Content | tuple[str, str] | str] = [(report.heading, "bold"), "\n"]
    for check in report.checks:
        word = STATUS_WORDS[check.status]
        parts += [(f"{word:<10}", _STYLES[check.status]), f" {check.title}\n"]
        parts.append((f"  {check.evidence}\n", "$text-muted"))
        if check.fix:
            parts.append(f"  fix: {check.fix}\n")
    if report.checks:
        parts.append("\n")
    for label, text in report.rows:
        parts += [(f"{label}: ", "bold"), f"{text}\n"]
    command = report.apply_command
    if command:
        parts += [
            ("Apply: ", "bold"),
            f"{command} (step 8 plans it first; nothing changes until you confirm)\n",
        ]
    parts.append(("Nothing was changed.", "$text-success"))
    return Content.assemble(*parts)
