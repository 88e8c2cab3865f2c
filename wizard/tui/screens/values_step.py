"""Step 2, Environment values: the account, key, Harbor role, bucket, admins.

The form comes from :data:`wizard.core.steps.ENVIRONMENT_FIELDS`; the key, the
role and the bucket can be picked from lists read from the account, and the
region, bucket and key can be filled from Harbor's Helm ``values.yaml``.
"""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input, Static

from wizard.core.errors import InputError
from wizard.core.helm import read_harbor_values
from wizard.core.steps import step
from wizard.tui.messages import HelmImported, ProblemReported
from wizard.tui.screens.base import StepPane
from wizard.tui.session import Model
from wizard.tui.widgets.field_form import FieldForm
from wizard.tui.widgets.quiet import update

PICKABLE = frozenset({"key_id", "harbor_role_arn", "bucket"})


class EnvironmentStep(StepPane):
    """The values form, with a Helm import row above it."""

    STEP_ID = "environment"

    DEFAULT_CSS = """
    EnvironmentStep {
        & #helm-row { height: auto; margin-bottom: 1; }
        & #helm-path { width: 1fr; }
        & #helm-import { margin-left: 1; }
        & #values-status { height: auto; }
    }
    """

    def compose_body(self) -> ComposeResult:
        """Import row, status line and the form."""
        model = self.model
        with Horizontal(id="helm-row"):
            yield Input(
                placeholder="Harbor Helm values.yaml to import (optional)",
                id="helm-path",
            )
            yield Button("Import", id="helm-import")
        yield Static("", id="values-status", markup=False)
        if model is not None:
            yield FieldForm(
                step(self.STEP_ID).fields,
                model.state.values,
                model.state.drafts,
                pickable=PICKABLE,
                id="environment-form",
            )

    def render_model(self, model: Model) -> None:
        """Bring the fields in line with the values and say what is missing."""
        form = self.query_one(FieldForm)
        form.sync(model.state.values, model.state.drafts)
        problems = form.problems
        status = self.query_one("#values-status", Static)
        status.set_class(bool(problems), "problem")
        if problems:
            update(
                status,
                f"{len(problems)} value(s) need attention; "
                "fields marked * are required.",
            )
        else:
            saved = model.state.path if model.state.writable else "not saved"
            update(status, f"Saved to {saved} as you type.")

    def focus_first(self) -> None:
        """Start in the first field of the form, not the import row."""
        form = self.query_one(FieldForm)
        for widget in form.query("*"):
            if widget.focusable:
                widget.focus()
                return

    def action_import_helm(self) -> None:
        """Read the Helm values file named in the import row."""
        path_input = self.query_one("#helm-path", Input)
        if not path_input.value.strip():
            path_input.focus()
            self.notify("Type the path of Harbor's values.yaml, then Enter.")
            return
        path = Path(path_input.value.strip()).expanduser()
        try:
            storage = read_harbor_values(path)
        except InputError as error:
            self.post_message(ProblemReported(error.title, error.message))
            return
        self.post_message(HelmImported(storage, path))

    @on(Button.Pressed, "#helm-import")
    def _import_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_import_helm()

    @on(Input.Submitted, "#helm-path")
    def _import_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_import_helm()
