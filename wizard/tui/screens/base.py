"""What every step pane shares: its step, a heading, and drawing a model.

A step pane draws a :class:`~wizard.tui.session.Model` it is given (method
calls go down) and reports what the user did by message (messages go up). It
keeps no values of its own, so a pane can be rebuilt at any time.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from wizard.core.steps import step
from wizard.tui.session import Model


class StepPane(Vertical):
    """Base of the steps: a heading from the step model, then the body."""

    STEP_ID: ClassVar[str]
    """The id of the step this pane shows (see :data:`wizard.core.steps.STEPS`)."""

    DEFAULT_CSS = """
    StepPane {
        height: 1fr;
        padding: 0 1;
        & > .step-title { text-style: bold; color: $text-primary; }
        & > .step-summary { color: $text-muted; margin-bottom: 1; }
        & .notice { color: $text-warning; }
        & .problem { color: $text-error; }
    }
    """

    def __init__(self) -> None:
        super().__init__(id=f"step-{self.STEP_ID}")
        self.model: Model | None = None
        """The last model drawn; None before the first."""
        self._ready = False
        self._pending: list[str] = []

    def compose(self) -> ComposeResult:
        """The heading; subclasses add their body with ``compose_body``."""
        spec = step(self.STEP_ID)
        yield Static(spec.title, classes="step-title")
        yield Static(spec.summary, classes="step-summary")
        yield from self.compose_body()

    def compose_body(self) -> ComposeResult:
        """The step's own widgets."""
        yield from ()

    def on_mount(self) -> None:
        """Draw the model that arrived before the widgets existed."""
        self._ready = True
        if self.model is not None:
            self.render_model(self.model)
        for action in self._pending:
            self.run_step_action(action)
        self._pending.clear()

    def show_model(self, model: Model) -> None:
        """Remember ``model`` and draw it as soon as the pane is mounted."""
        self.model = model
        if self._ready:
            self.render_model(model)

    def render_model(self, model: Model) -> None:
        """Draw ``model``; every step overrides this."""

    def can_run(self, action: str) -> bool | None:
        """Whether the step action ``action`` is possible now.

        True runs it, None shows it greyed out in the Footer, False hides it.
        """
        return True

    def run_when_ready(self, action: str) -> None:
        """Run ``action`` now, or as soon as the pane's widgets exist."""
        if self._ready:
            self.run_step_action(action)
        else:
            self._pending.append(action)

    def run_step_action(self, action: str) -> None:
        """Run the step action ``action`` (bound in the wizard screen)."""
        method = getattr(self, f"action_{action}", None)
        if method is not None:
            method()

    def focus_first(self) -> None:
        """Put the focus on the step's first focusable widget."""
        for widget in self.query("*"):
            if widget.focusable:
                widget.focus()
                return
