"""Step 5, Advanced conditions: organisation, networks, grants, context keys.

Every change rebuilds the policy and replays the scenarios before the next key
is drawn, so the preview and the simulation follow the form at once. A choice
that would make S3 refuse Harbor's own uploads or downloads is shown as such
here, long before anything is applied.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from wizard.core.steps import step
from wizard.tui.screens.base import StepPane
from wizard.tui.session import Derived, Model
from wizard.tui.widgets.field_form import FieldForm
from wizard.tui.widgets.policy_preview import PolicyPreview
from wizard.tui.widgets.quiet import update
from wizard.tui.widgets.scenario_table import ScenarioTable


class ConditionsStep(StepPane):
    """The condition fields beside the live preview and simulation."""

    STEP_ID = "conditions"

    DEFAULT_CSS = """
    ConditionsStep {
        & #breaks-harbor { height: auto; color: $text-success; }
        & #breaks-harbor.problem { color: $text-error; text-style: bold; }
        & #conditions-body { height: 1fr; }
        & #conditions-form { width: 1fr; }
        & #conditions-live { width: 1fr; height: 1fr; }
    }
    """

    def compose_body(self) -> ComposeResult:
        """A warning line, then the form beside preview and simulation."""
        assert self.model is not None  # the screen shows the model first
        # Kept as attributes: this pane redraws on every keystroke, and
        # querying the DOM for each widget each time would cost more.
        self._banner = Static("", id="breaks-harbor", markup=False)
        self._form = FieldForm(
            step(self.STEP_ID).fields,
            self.model.state.values,
            self.model.state.drafts,
            id="conditions-form",
        )
        self._preview = PolicyPreview(id="conditions-preview")
        self._table = ScenarioTable(id="conditions-scenarios")
        yield self._banner
        with Horizontal(id="conditions-body"):
            yield self._form
            with Vertical(id="conditions-live"):
                yield self._preview
                yield self._table

    def render_model(self, model: Model) -> None:
        """Sync the form, then redraw the preview, simulation and warning."""
        self._form.sync(model.state.values, model.state.drafts)
        derived = model.derived
        if derived.error:
            self._preview.show_message(f"The policy cannot be built: {derived.error}")
        else:
            self._preview.show_policy(derived.policy)
        self._table.show(derived.outcomes)
        self._warn(derived)

    def _warn(self, derived: Derived) -> None:
        banner = self._banner
        broken = derived.breaks_harbor
        banner.set_class(bool(broken), "problem")
        if broken:
            titles = "; ".join(o.scenario.title for o in broken[:3])
            update(
                banner,
                f"These choices would break Harbor's S3 access ({len(broken)} "
                f"request(s) refused): {titles}. Fix them before applying.",
            )
        elif derived.failures:
            update(
                banner,
                f"{len(derived.failures)} scenario(s) differ from the design; "
                "see the simulation.",
            )
        else:
            update(banner, "Harbor's S3 access works with these choices.")

    def focus_first(self) -> None:
        """Start in the first condition field."""
        for widget in self._form.query("*"):
            if widget.focusable:
                widget.focus()
                return
