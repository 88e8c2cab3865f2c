"""Step 11, Export: the runbook, the policy files, and the best practices.

The runbook is rendered by :mod:`wizard.core.runbook` from the values, the
apply journals beside the values file, this session's checklist run and the
attestations; a path ending in ``.html`` gives the HTML form. The policy files
are written beside it, named after it.

Below, the guide's DO / DON'T list as the state of this key
(:mod:`wizard.core.best_practices`): each line met, not met or not checkable,
from this session's checklist verdicts and the lint of the key's current
policy, with the checklist items and lint rules behind it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, LoadingIndicator, Static

from wizard.tui.messages import ExportRequested
from wizard.tui.screens.base import StepPane
from wizard.tui.session import Model, current_policy
from wizard.tui.tasks import POLICY_SUFFIXES

FORMAT_LABELS = {
    "json": "Policy as JSON",
    "terraform": "Terraform (aws_kms_key_policy)",
    "cloudformation": "CloudFormation (AWS::KMS::Key)",
}
RUNBOOK_NAME = "harbor-kms-runbook.md"


class ExportStep(StepPane):
    """Path, formats, write button, and what was written."""

    STEP_ID = "export"

    DEFAULT_CSS = """
    ExportStep {
        & #export-form { height: auto; }
        & #export-path { width: 1fr; }
        & #export-row { height: auto; }
        & #export-write { margin-left: 1; }
        & LoadingIndicator { height: 1; }
        & #export-written { color: $text-success; }
        /* One row per format: the best practices need the height. */
        & #export-form Checkbox { border: none; height: 1; padding: 0 1; }
        & #practices-box {
            height: 1fr;
            border: round $primary 50%;
            border-title-color: $text-primary;
        }
        & #practices-box:focus { border: round $primary; }
    }
    """

    def compose_body(self) -> ComposeResult:
        """The form and the result lines."""
        default = self._default_path()
        with Vertical(id="export-form"):
            yield Label("Runbook file (.md for Markdown, .html for HTML)")
            with Horizontal(id="export-row"):
                yield Input(str(default), id="export-path")
                yield Button("Write files", id="export-write", variant="primary")
            for name, label in FORMAT_LABELS.items():
                yield Checkbox(label, value=True, id=f"format-{name}")
        yield LoadingIndicator(id="export-busy")
        yield Static("", id="export-contents", markup=False)
        yield Static("", id="export-written", markup=False)
        with VerticalScroll(id="practices-box") as box:
            box.border_title = "Best practices (the guide's DO / DON'T)"
            yield Static("", id="practices")

    def _default_path(self) -> Path:
        if self.model is None:
            return Path(RUNBOOK_NAME)
        return self.model.state.path.parent / RUNBOOK_NAME

    def render_model(self, model: Model) -> None:
        """Say what the runbook will hold and what was written."""
        account = model.account
        self.query_one("#export-busy").display = "export" in account.busy
        contents = ["The runbook holds the values, the policy with its reasons,"]
        if account.audit is not None:
            contents.append("this session's checklist run,")
        else:
            contents.append("the checklist (not run this session: items show as")
            contents.append("not checked; run step 9 first to include verdicts),")
        contents.append("the apply journals and the rollback steps.")
        self.query_one("#export-contents", Static).update(" ".join(contents))
        written = "\n".join(f"Written: {p}" for p in account.exported)
        self.query_one("#export-written", Static).update(written)
        self.query_one("#practices", Static).update(practices_content(model))

    def can_run(self, action: str) -> bool | None:
        """Writing needs a path and no export running."""
        account = self.model.account if self.model else None
        if account is None or "export" in account.busy:
            return None
        return bool(self.query_one("#export-path", Input).value.strip()) or None

    def action_export(self) -> None:
        """Ask the app to write the runbook and the chosen policy files."""
        text = self.query_one("#export-path", Input).value.strip()
        if not text:
            self.notify("Give the runbook's path first.", severity="error")
            return
        formats = tuple(
            name
            for name in POLICY_SUFFIXES
            if self.query_one(f"#format-{name}", Checkbox).value
        )
        self.post_message(ExportRequested(Path(text).expanduser(), formats))

    @on(Button.Pressed, "#export-write")
    def _write(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_export()

    @on(Input.Submitted, "#export-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_export()


_MARKS = {
    "met": ("MET", "$text-success bold"),
    "not_met": ("NOT MET", "$text-error bold"),
    "not_checkable": ("NOT CHECKABLE", "$text-warning"),
}


def practices_content(model: Model) -> Content:
    """Each DO / DON'T line marked, with what decided it and the checks behind it."""
    from wizard.core.best_practices import assess

    account = model.account
    findings, why = _findings(model)
    parts: list[Content | tuple[str, str] | str] = []
    if not account.verdicts:
        parts.append(
            (
                "The checklist has not run this session: lines that rest on "
                "checklist items stay not checkable until it runs (step 9).\n",
                "$text-warning",
            )
        )
    if why:
        parts.append((f"{why}\n", "$text-warning"))
    for kind, heading in (("do", "DO"), ("dont", "DON'T")):
        parts.append((f"{heading}\n", "bold"))
        for line in assess(account.verdicts, findings):
            if line.practice.kind != kind:
                continue
            word, style = _MARKS[line.state]
            parts += [(f"{word:<14}", style), f" {line.practice.guide}\n"]
            parts.append((f"  {line.reason}\n", "$text-muted"))
            behind = _behind(line.practice.items, line.practice.rules)
            if behind:
                parts.append((f"  {behind}\n", "$text-muted"))
    return Content.assemble(*parts)


def _findings(model: Model) -> tuple[list[Any] | None, str]:
    """Lint findings of the key's current policy, or None and why not."""
    from wizard.core.policy.lint import PolicyInputError, lint_policy

    policy, why = current_policy(model.account)
    if policy is None:
        return None, why + " Lines that rest on lint rules are not checkable."
    try:
        return list(lint_policy(policy, model.state.values)), ""
    except PolicyInputError as error:
        return None, f"The key's current policy cannot be linted: {error}"


def _behind(items: tuple[str, ...], rules: tuple[str, ...]) -> str:
    links = [f"checklist {', '.join(items)}"] if items else []
    links += [f"lint {', '.join(rules)}"] if rules else []
    return "behind it: " + "; ".join(links) if links else ""
