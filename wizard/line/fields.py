"""Asking a step's fields: each ``FieldSpec`` kind becomes one prompt.

text and int become a text prompt checked by ``FieldSpec.check``; bool a
yes/no; choice a selection; list a text prompt whose items are each checked.
The answer is parsed and stored with the spec's own ``parse`` and ``set``, so
the line mode holds no rule of its own about any value.
"""

from __future__ import annotations

from wizard.core.steps import FieldSpec, Step
from wizard.core.values import Problem, Values, validate
from wizard.line.console import Console, Prompter

CLEAR = "-"
"""Typed for an optional field: no value (an empty answer keeps the default)."""


def ask_field(spec: FieldSpec, values: Values, prompter: Prompter) -> Values:
    """Ask one field, with its current value as the default; return new values."""
    if spec.kind == "bool":
        return spec.set(values, prompter.confirm(spec.label, bool(spec.get(values))))
    if spec.kind == "choice":
        current = spec.format(values) or spec.choices[0]
        return spec.set(values, prompter.select(spec.label, spec.choices, current))

    def check(raw: str) -> str | None:
        if raw == CLEAR and not spec.required:
            return None
        return spec.check(raw)

    label = f"{spec.label} (comma-separated)" if spec.kind == "list" else spec.label
    answer = prompter.text(label, spec.format(values), check)
    return spec.set(values, spec.parse("" if answer == CLEAR else answer))


def ask_step_fields(
    step: Step, values: Values, prompter: Prompter, console: Console
) -> Values:
    """Ask every field of ``step`` in order, showing each field's help first."""
    for spec in step.fields:
        hint = (
            "" if spec.required or spec.kind in ("bool", "choice") else " (- for none)"
        )
        console.para(spec.help + hint, "  ")
        values = ask_field(spec, values, prompter)
    return values


def step_problems(step: Step, values: Values) -> list[Problem]:
    """Problems of ``values`` that concern this step's fields (cross-field too)."""
    names = {spec.name.removeprefix("options.") for spec in step.fields}
    return [p for p in validate(values) if p.field.split("[")[0] in names]


def show_fields(step: Step, values: Values, console: Console) -> None:
    """The step's answers as a short table, before asking to save them."""
    width = max(len(spec.label) for spec in step.fields)
    for spec in step.fields:
        console.write(f"  {spec.label:<{width}}  {spec.format(values) or '(none)'}")
