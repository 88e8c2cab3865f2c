"""Walk the core's steps in order, asking fields and showing what AWS shows.

The order, titles, summaries and fields all come from ``wizard.core.steps``; a
step's extra work (reading AWS, rendering the policy, the plan, the checklist,
the export) is one function in :mod:`wizard.line.views` that calls the core and
prints the result. Nothing here decides what a value may be or what a policy
holds.
"""

from __future__ import annotations

from collections.abc import Callable

from wizard.core.steps import STEPS, Step
from wizard.line import views, views_diagnose
from wizard.line.console import Console, Prompter
from wizard.line.fields import ask_step_fields, show_fields, step_problems
from wizard.line.session import Session

Show = Callable[[Session, Prompter, Console], None]

# What each step shows before its fields (``before``) and after them (``after``).
BEFORE: dict[str, Show] = {
    "prerequisites": views.prerequisites,
    "understand": views.understand,
    "design": views.design,
    "rotation": views.rotation_status,
    "monitoring": views.monitoring_status,
}
AFTER: dict[str, Show] = {
    "conditions": views.conditions_changed,
    "apply": views.apply,
    "checklist": views.checklist,
    "troubleshoot": views_diagnose.troubleshoot,
    "export": views.export,
}


def walk(session: Session, prompter: Prompter, console: Console) -> None:
    """Every step, first to last."""
    for number, step in enumerate(STEPS, start=1):
        console.heading(f"Step {number} of {len(STEPS)}: {step.title}")
        console.para(f"{step.summary} (Guide: {step.guide_section}.)")
        if step.id in BEFORE:
            BEFORE[step.id](session, prompter, console)
        if step.fields:
            ask_and_save(step, session, prompter, console)
        if step.id in AFTER:
            AFTER[step.id](session, prompter, console)


def ask_and_save(
    step: Step, session: Session, prompter: Prompter, console: Console
) -> None:
    """Ask the step's fields until they are valid, then save them if confirmed."""
    values = session.values
    while True:
        values = ask_step_fields(step, values, prompter, console)
        problems = step_problems(step, values)
        for problem in problems:
            console.para(f"{problem.severity}: {problem.message}", "  ")
        if not any(p.severity == "error" for p in problems):
            break
        console.para("Please correct the values above.")
    session.values = values
    console.write()
    show_fields(step, values, console)
    if prompter.confirm(f"Save these values to {session.config_path}?", True):
        session.save(step.title)
        console.para(f"Saved to {session.config_path}.")
    else:
        console.para("Not saved: the values are used for the rest of this run only.")
