"""``WizardScreen``: the sidebar of steps, the current step, and the Footer.

Step panes are imported and mounted the first time they are opened, so the
first screen paints without loading the policy engine or any step it does not
show. Step actions are bound here, in one table, and the Footer shows only the
current step's: ``check_action`` hides the others.
"""

from __future__ import annotations

import importlib

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer

from wizard.core.steps import STEP_IDS
from wizard.tui.messages import StepSelected
from wizard.tui.screens.base import StepPane
from wizard.tui.session import Model, sidebar_states
from wizard.tui.widgets.step_sidebar import StepSidebar

PANES: dict[str, str] = {
    "prerequisites": "prerequisites_step:PrerequisitesStep",
    "environment": "values_step:EnvironmentStep",
    "understand": "understand_step:UnderstandStep",
    "design": "design_step:DesignStep",
    "conditions": "conditions_step:ConditionsStep",
    "rotation": "rotation_step:RotationStep",
    "monitoring": "monitoring_step:MonitoringStep",
    "apply": "apply_step:ApplyStep",
    "checklist": "checklist_step:ChecklistStep",
    "troubleshoot": "troubleshoot_step:TroubleshootStep",
    "export": "export_step:ExportStep",
}
"""Step id -> module (under wizard.tui.screens) and class of its pane."""

# (step, key, action, description, tooltip)
STEP_ACTIONS: tuple[tuple[str, str, str, str, str], ...] = (
    ("prerequisites", "r", "recheck", "Re-check", "Read identity and permissions"),
    ("environment", "ctrl+o", "import_helm", "Import Helm", "Fill from values.yaml"),
    ("understand", "r", "reread", "Re-read", "Read the key policy again"),
    ("design", "v", "toggle_view", "Policy/Diff", "Switch preview and diff"),
    ("rotation", "r", "reread", "Re-read", "Read rotation status again"),
    ("monitoring", "r", "reread", "Re-read", "Read monitoring again"),
    ("apply", "p", "plan", "Plan", "Plan the changes again"),
    ("apply", "a", "apply", "Apply", "Apply the selected changes"),
    ("apply", "u", "rollback", "Roll back", "Restore from the backup"),
    ("checklist", "r", "rerun", "Re-run", "Check every item again"),
    ("checklist", "t", "attest", "Attest", "Attest the selected item"),
    ("troubleshoot", "ctrl+r", "diagnose", "Diagnose", "Find the cause (reads only)"),
    ("export", "ctrl+s", "export", "Write files", "Write runbook and policy"),
)
"""Every step action: the Footer shows those of the current step only."""


def _step_bindings() -> list[BindingType]:
    return [
        Binding(
            key,
            f"step_action('{step_id}', '{action}')",
            description,
            tooltip=tooltip,
            id=f"{step_id}-{action}",
        )
        for step_id, key, action, description, tooltip in STEP_ACTIONS
    ]


class WizardScreen(Screen[None]):
    """The wizard: steps on the left, the current step on the right."""

    BINDINGS = [
        Binding("ctrl+n", "next_step", "Next", tooltip="Open the next step", id="next"),
        Binding(
            "ctrl+b",
            "previous_step",
            "Back",
            tooltip="Open the previous step",
            id="back",
        ),
        *_step_bindings(),
    ]

    step: reactive[str] = reactive(STEP_IDS[0], init=False)
    """The id of the step on show."""

    def __init__(self, model: Model) -> None:
        super().__init__()
        self._ready = False
        self._panes: dict[str, StepPane] = {}
        self._sidebar = StepSidebar(id="sidebar")
        self._switcher = ContentSwitcher(id="steps")
        self.model = model
        self.step = model.state.last_step

    def compose(self) -> ComposeResult:
        """Sidebar and step area over the Footer.

        No Header: the sidebar's title names the app, and at 80x24 the row is
        worth more to the step than to a title bar.
        """
        with Horizontal(id="main"):
            yield self._sidebar
            yield self._switcher
        yield Footer()

    def on_mount(self) -> None:
        """Open the step the session was on."""
        self._ready = True
        self._open(self.step)

    def watch_step(self, step_id: str) -> None:
        """Open ``step_id`` when the step changes."""
        if self._ready:
            self._open(step_id)

    def _open(self, step_id: str) -> None:
        switcher = self._switcher
        pane = self.pane(step_id)
        if pane is None:
            pane = make_pane(step_id)
            self._panes[step_id] = pane
            pane.show_model(self.model)
            switcher.mount(pane)
        else:
            pane.show_model(self.model)
        switcher.current = pane.id
        self._draw_sidebar()
        self.refresh_bindings()
        self.call_after_refresh(pane.focus_first)

    def pane(self, step_id: str) -> StepPane | None:
        """The pane of ``step_id`` if it was opened before."""
        return self._panes.get(step_id)

    def go(self, step_id: str, model: Model) -> None:
        """Open ``step_id`` showing ``model``."""
        self.model = model
        if step_id == self.step:
            self.show_model(model)
        self.step = step_id

    def show_model(self, model: Model) -> None:
        """Draw ``model`` in the sidebar and the current step."""
        self.model = model
        if not self._ready:
            return
        self._draw_sidebar()
        pane = self.pane(self.step)
        if pane is not None:
            pane.show_model(model)
        self.refresh_bindings()

    def _draw_sidebar(self) -> None:
        self._sidebar.show_states(sidebar_states(self.model), self.step)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show and run step actions of the current step only."""
        if action == "step_action":
            step_id, name = str(parameters[0]), str(parameters[1])
            if step_id != self.step:
                return False
            pane = self.pane(step_id)
            return pane.can_run(name) if pane is not None else None
        if action == "next_step":
            return self.step != STEP_IDS[-1] or None
        if action == "previous_step":
            return self.step != STEP_IDS[0] or None
        return True

    def action_step_action(self, step_id: str, name: str) -> None:
        """Run the action ``name`` of the current step's pane."""
        pane = self.pane(step_id)
        if pane is not None and step_id == self.step:
            pane.run_step_action(name)

    def action_next_step(self) -> None:
        """Open the next step."""
        index = STEP_IDS.index(self.step)
        self.app.post_message(StepSelected(STEP_IDS[min(index + 1, len(STEP_IDS) - 1)]))

    def action_previous_step(self) -> None:
        """Open the previous step."""
        index = STEP_IDS.index(self.step)
        self.app.post_message(StepSelected(STEP_IDS[max(index - 1, 0)]))


def make_pane(step_id: str) -> StepPane:
    """Import and build the pane of ``step_id`` (first use only)."""
    module_name, class_name = PANES[step_id].split(":")
    module = importlib.import_module(f"wizard.tui.screens.{module_name}")
    pane_class: type[StepPane] = getattr(module, class_name)
    return pane_class()
