"""Step 6, Key rotation: the key's rotation status, its next date, the period.

The status is kms:GetKeyRotationStatus as read; the period is a value saved
with the others. When rotation is off, the date shown is one period after it
would be enabled today: the first rotation follows enabling, not the key's
creation (CORRECTIONS.md point 15).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from textual.app import ComposeResult
from textual.widgets import LoadingIndicator, Static

from wizard.core.snapshot import KeyInfo, Rotation, Unknown
from wizard.core.steps import step
from wizard.tui.messages import AccountReadRequested
from wizard.tui.screens.base import StepPane
from wizard.tui.session import Model, plan_for
from wizard.tui.widgets.field_form import FieldForm


class RotationStep(StepPane):
    """Rotation status, what the plan would change, and the period field."""

    STEP_ID = "rotation"

    DEFAULT_CSS = """
    RotationStep {
        & LoadingIndicator { height: 1; }
        & #rotation-status { margin-bottom: 1; }
        & #rotation-plan { margin-bottom: 1; color: $text-accent; }
    }
    """

    def compose_body(self) -> ComposeResult:
        """Status, plan line, then the period field."""
        yield LoadingIndicator(id="rotation-busy")
        yield Static("", id="rotation-status", markup=False)
        yield Static("", id="rotation-plan", markup=False)
        if self.model is not None:
            yield FieldForm(
                step(self.STEP_ID).fields,
                self.model.state.values,
                self.model.state.drafts,
                id="rotation-form",
            )

    def render_model(self, model: Model) -> None:
        """Status from the snapshot, the planned change, the field."""
        self.query_one("#rotation-busy").display = "snapshot" in model.account.busy
        self.query_one(FieldForm).sync(model.state.values, model.state.drafts)
        status, problem = rotation_text(model)
        widget = self.query_one("#rotation-status", Static)
        widget.update(status)
        widget.set_class(problem, "problem")
        self.query_one("#rotation-plan", Static).update(planned_text(model))

    def action_reread(self) -> None:
        """Read the rotation status again."""
        self.post_message(AccountReadRequested())


def rotation_text(model: Model, today: datetime | None = None) -> tuple[str, bool]:
    """The rotation status in words, and whether it needs attention."""
    snapshot = model.account.snapshot
    if snapshot is None:
        return "The rotation status has not been read yet.", False
    rotation = snapshot.rotation
    if isinstance(rotation, Unknown):
        return f"The rotation status is unknown: {rotation.reason}", True
    assert isinstance(rotation, Rotation)
    created = ""
    if isinstance(snapshot.key, KeyInfo) and snapshot.key.created:
        created = f" The key was created on {snapshot.key.created:%Y-%m-%d}."
    if rotation.enabled:
        period = rotation.period_days or 365
        next_date = (
            f"{rotation.next_rotation:%Y-%m-%d}"
            if rotation.next_rotation
            else "not reported by KMS"
        )
        return (
            f"Automatic rotation is ON, every {period} days; next rotation: "
            f"{next_date}.{created}",
            False,
        )
    period = model.state.values.rotation_period_days
    start = today or snapshot.read_at
    first = start + timedelta(days=period)
    return (
        f"Automatic rotation is OFF.{created} Enabled today with a {period}-day "
        f"period, the first rotation would be on {first:%Y-%m-%d} (one period "
        "after enabling, not after the key's creation).",
        True,
    )


def planned_text(model: Model) -> str:
    """What apply would do about rotation."""
    plan = plan_for(model.account, model.state.values)
    if plan is None:
        return ""
    change = plan.change("enable-rotation")
    if change is not None:
        return f"Apply (step 8) would: {change.will_write}"
    held = [h for h in (*plan.satisfied, *plan.blocked) if h.id == "enable-rotation"]
    return f"Apply: {held[0].reason}" if held else ""
