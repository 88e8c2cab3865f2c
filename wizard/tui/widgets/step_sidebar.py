"""``StepSidebar``: the guide's sections as steps, each with its state.

The states come from the app (which asks :func:`wizard.core.steps.step_state`
and adds what it learnt from AWS); the sidebar only draws them and reports the
step the user picks.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from wizard.core.steps import STEPS, StepState
from wizard.tui.messages import StepSelected
from wizard.tui.widgets.quiet import subtitle

MARKS: Mapping[StepState, tuple[str, str]] = {
    "not_started": ("○", "$text-muted"),
    "in_progress": ("◐", "$text-accent"),
    "done": ("●", "$text-success"),
    "needs_attention": ("!", "$text-error"),
}
"""Symbol and colour of each state; the symbol alone tells the state, so the
sidebar reads without colour too."""

SHORT_TITLES: Mapping[str, str] = {
    "prerequisites": "Prerequisites",
    "environment": "Environment",
    "understand": "Key policies",
    "design": "Least privilege",
    "conditions": "Conditions",
    "rotation": "Key rotation",
    "monitoring": "Monitoring",
    "apply": "Apply",
    "checklist": "Checklist",
    "troubleshoot": "Troubleshooting",
    "export": "Export",
}
"""Sidebar names that fit 80 columns; each step's pane shows its full title."""

STATE_WORDS: Mapping[StepState, str] = {
    "not_started": "not started",
    "in_progress": "in progress",
    "done": "done",
    "needs_attention": "needs attention",
}


class StepSidebar(OptionList):
    """The steps; Enter or a click opens one."""

    DEFAULT_CSS = """
    StepSidebar {
        width: 23;
        height: 1fr;
        border: round $primary 50%;
        padding: 0;
        &:focus { border: round $primary; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        options = [
            Option(self._prompt(i, SHORT_TITLES[s.id], "not_started"), id=s.id)
            for i, s in enumerate(STEPS, start=1)
        ]
        super().__init__(*options, id=id)
        self.border_title = "harbor-kms"
        self.states: dict[str, StepState] = dict.fromkeys(
            (s.id for s in STEPS), "not_started"
        )
        """The state drawn for each step, by step id."""

    @staticmethod
    def _prompt(number: int, title: str, state: StepState) -> Content:
        mark, colour = MARKS[state]
        return Content.assemble((f"{mark} ", colour), f"{number:>2} ", (title, ""))

    def show_states(self, states: Mapping[str, StepState], current: str) -> None:
        """Draw ``states`` and put the cursor on the ``current`` step."""
        for number, spec in enumerate(STEPS, start=1):
            state = states.get(spec.id, "not_started")
            if self.states.get(spec.id) != state:
                self.replace_option_prompt(
                    spec.id, self._prompt(number, SHORT_TITLES[spec.id], state)
                )
            self.states[spec.id] = state
        index = self.get_option_index(current)
        if self.highlighted != index:
            self.highlighted = index
        subtitle(self, _summary(self.states))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Open the chosen step."""
        event.stop()
        if event.option.id is not None:
            self.post_message(StepSelected(event.option.id))


def _summary(states: Mapping[str, StepState]) -> str:
    done = sum(state == "done" for state in states.values())
    return f"{done}/{len(states)} done"
