"""``ValueField``: one value of the guide, entered and checked as it is typed.

The field is built from a :class:`~wizard.core.steps.FieldSpec`, so its label,
help and validation are the ones the line mode and the config loader use. The
validator wraps ``FieldSpec.check``; the field reports a parsed value when the
text is valid and the text with its error when it is not, and never holds the
value itself.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Input, Label, Select, Static, Switch

from wizard.core.steps import FieldSpec
from wizard.tui.widgets.quiet import update


class SpecValidator(Validator):
    """A Textual validator that asks the field's core validator."""

    def __init__(self, spec: FieldSpec) -> None:
        super().__init__()
        self.spec = spec

    def validate(self, value: str) -> ValidationResult:
        """Valid when ``FieldSpec.check`` has nothing to say about ``value``."""
        message = self.spec.check(value)
        return self.success() if message is None else self.failure(message, value)


class ValueField(Vertical):
    """A label, an input (text, switch or choice) and a help-or-error line.

    The label sits above the input so that the form reads the same in a
    narrow column beside the preview as across the whole screen.

    Args:
        spec: The field's definition.
        text: The text to show (the current value, or a saved draft).
        pickable: Offer a "List" button that asks for values read from AWS.
    """

    DEFAULT_CSS = """
    ValueField {
        height: auto;
        margin-bottom: 1;
        & > .field-row { height: 1; }
        & .field-label { width: 1fr; text-style: bold; }
        & .field-pick { min-width: 6; width: auto; margin-left: 1; }
        & Input, & Select { width: 1fr; }
        & .field-help { color: $text-muted; }
        &.-invalid .field-help { color: $text-error; }
    }
    """

    class Changed(Message):
        """The field holds a valid value (parsed to the type Values stores)."""

        def __init__(self, field: ValueField, value: Any) -> None:
            super().__init__()
            self.field = field
            self.value = value

        @property
        def control(self) -> ValueField:
            """The field that changed."""
            return self.field

    class Invalid(Message):
        """The field's text does not validate; ``message`` says why."""

        def __init__(self, field: ValueField, text: str, message: str) -> None:
            super().__init__()
            self.field = field
            self.text = text
            self.message = message

        @property
        def control(self) -> ValueField:
            """The field whose text is invalid."""
            return self.field

    class PickRequested(Message):
        """The user asked to pick this field's value from a list read from AWS."""

        def __init__(self, field: ValueField) -> None:
            super().__init__()
            self.field = field

    def __init__(self, spec: FieldSpec, text: str, *, pickable: bool = False) -> None:
        super().__init__(id=f"field-{spec.name.replace('.', '-').replace('_', '-')}")
        self.spec = spec
        self._text = text
        self._pickable = pickable
        self._error = spec.check(text) if spec.kind not in ("bool",) else None

    def compose(self) -> ComposeResult:
        """Label and control side by side, help (or the error) underneath."""
        label = self.spec.label + (" *" if self.spec.required else "")
        with Horizontal(classes="field-row"):
            yield Label(label, classes="field-label")
            if self._pickable:
                yield Button("List…", classes="field-pick", compact=True)
        yield self._control()
        self._help = Static(
            self._error or self.spec.help, classes="field-help", markup=False
        )
        yield self._help
        self.set_class(self._error is not None, "-invalid")

    def _control(self) -> Input | Switch | Select[str]:
        spec = self.spec
        if spec.kind == "bool":
            return Switch(value=self._text == "yes")
        if spec.kind == "choice":
            options = [(choice, choice) for choice in spec.choices]
            return Select(options, value=self._text, allow_blank=False)
        return Input(
            self._text,
            placeholder=spec.placeholder,
            validators=[SpecValidator(spec)],
            validate_on=["changed", "submitted"],
        )

    @property
    def text(self) -> str:
        """The text the field shows ('yes'/'no' for a switch)."""
        return self._text

    @property
    def error(self) -> str | None:
        """Why the current text is invalid, or None."""
        return self._error

    def set_text(self, text: str) -> None:
        """Show ``text`` (a value set elsewhere) without reporting it back."""
        self._text = text
        control = self.children[1]
        if isinstance(control, Input):
            with control.prevent(Input.Changed):
                control.value = text
            self._show_error(self.spec.check(text))
        elif isinstance(control, Switch):
            with control.prevent(Switch.Changed):
                control.value = text == "yes"
        elif isinstance(control, Select):
            with control.prevent(Select.Changed):
                control.value = text

    def _show_error(self, message: str | None) -> None:
        self._error = message
        self.set_class(message is not None, "-invalid")
        update(self._help, message or self.spec.help)

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._text = event.value
        result = event.validation_result
        if result is None or result.is_valid:
            self._show_error(None)
            self.post_message(self.Changed(self, self.spec.parse(event.value)))
            return
        message = result.failure_descriptions[0]
        self._show_error(message)
        self.post_message(self.Invalid(self, event.value, message))

    @on(Input.Submitted)
    def _input_submitted(self, event: Input.Submitted) -> None:
        # Enter moves on to the next field, as in a paper form.
        event.stop()
        self.screen.focus_next()

    @on(Switch.Changed)
    def _switch_changed(self, event: Switch.Changed) -> None:
        event.stop()
        self._text = "yes" if event.value else "no"
        self.post_message(self.Changed(self, event.value))

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, str):
            self._text = event.value
            self.post_message(self.Changed(self, event.value))

    @on(Button.Pressed, ".field-pick")
    def _pick(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.PickRequested(self))
