"""``FieldForm``: the fields of one step, built from its FieldSpecs.

The form turns each field's report into a :class:`~wizard.tui.messages.FieldEdited`
for the app, which owns the values; when the values change elsewhere (a Helm
import, a pick from a list, the demo seed) the form is told and updates the
fields whose text no longer says the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll

from wizard.core.steps import FieldSpec
from wizard.core.values import Values
from wizard.tui.messages import FieldEdited, PickRequested
from wizard.tui.widgets.value_field import ValueField


class FieldForm(VerticalScroll):
    """A scrolling column of :class:`ValueField` widgets.

    Args:
        specs: The fields, in the order the guide asks for them.
        values: The values to show first.
        drafts: Invalid text saved for some fields, by field name.
        pickable: Names of fields that offer a list read from AWS.
    """

    DEFAULT_CSS = """
    FieldForm { height: 1fr; padding-right: 1; }
    """

    def __init__(
        self,
        specs: tuple[FieldSpec, ...],
        values: Values,
        drafts: Mapping[str, str],
        *,
        pickable: frozenset[str] = frozenset(),
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.specs = specs
        self._values = values
        self._drafts = dict(drafts)
        self._pickable = pickable

    def compose(self) -> ComposeResult:
        """One field per spec, showing the draft where there is one."""
        for spec in self.specs:
            text = self._drafts.get(spec.name, spec.format(self._values))
            yield ValueField(spec, text, pickable=spec.name in self._pickable)

    def sync(self, values: Values, drafts: Mapping[str, str]) -> None:
        """Show ``values``, leaving alone fields that already say the same.

        A field being typed into keeps its text (and cursor) as long as what
        it parses to is what the values hold, or it is the saved draft.
        """
        for field in self._fields():
            spec = field.spec
            if spec.name in drafts:
                continue
            current = spec.get(values)
            if field.error is None and _parses_to(spec, field.text, current):
                continue
            field.set_text(spec.format(values))

    @property
    def problems(self) -> dict[str, str]:
        """Field name -> error message, for fields whose text is invalid."""
        return {f.spec.name: f.error for f in self._fields() if f.error is not None}

    def _fields(self) -> list[ValueField]:
        # Direct children: no DOM query on every keystroke.
        return [c for c in self.children if isinstance(c, ValueField)]

    @on(ValueField.Changed)
    def _changed(self, event: ValueField.Changed) -> None:
        event.stop()
        self.post_message(FieldEdited(event.field.spec, event.value))

    @on(ValueField.Invalid)
    def _invalid(self, event: ValueField.Invalid) -> None:
        event.stop()
        self.post_message(FieldEdited(event.field.spec, None, draft=event.text))

    @on(ValueField.PickRequested)
    def _pick(self, event: ValueField.PickRequested) -> None:
        event.stop()
        self.post_message(PickRequested(event.field.spec.name))


def _parses_to(spec: FieldSpec, text: str, value: object) -> bool:
    if spec.kind == "bool":
        return (text == "yes") == value
    if spec.check(text) is not None:
        return False
    return bool(spec.parse(text) == value)
