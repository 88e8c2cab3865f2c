"""The steps that act: apply (plan, confirm, run), checklist, runbook export.

The plan comes from ``wizard.core.apply.plan.make_plan`` and is printed with the
core's own renderer; nothing is written to AWS unless the user confirms, and the
default answer is no. The checklist and the export call the same core functions
as ``harbor-kms audit`` and ``harbor-kms runbook``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wizard.core.errors import WizardError
from wizard.core.runbook import (
    FORMATS,
    RunbookFormat,
    build_view,
    load_catalog,
    read_journal_files,
    write_runbook,
)
from wizard.line.console import Console, Prompter
from wizard.line.session import Session


def _needs_snapshot(session: Session, console: Console, what: str) -> bool:
    if session.snapshot is not None:
        return False
    console.para(
        f"{what} needs the account as read from AWS, which is not available: "
        f"{session.aws_problem or 'the key was not read'}",
        "  ",
    )
    return True


def apply(session: Session, prompter: Prompter, console: Console) -> None:
    """The plan, the lockout proof, and the apply once confirmed."""
    from wizard.core.apply.plan import make_plan
    from wizard.core.apply.render import render_plan

    if not session.aws_problem:
        session.read()  # the plan must rest on the account as it is now
    if _needs_snapshot(session, console, "The plan"):
        return
    assert session.snapshot is not None
    plan = make_plan(session.snapshot, session.values)
    console.write(render_plan(plan).rstrip())
    if plan.empty:
        return
    question = f"Apply these {len(plan.changes)} change(s) to the account now?"
    if not prompter.confirm(question, False):
        console.para("Nothing was applied.", "  ")
        return
    run_apply(session, plan, console)


def run_apply(session: Session, plan: Any, console: Console) -> None:
    """Run a confirmed plan through the AWS executor, journal and backups first."""
    try:
        from wizard.aws import apply_exec  # type: ignore[attr-defined]
    except ImportError:
        console.para(
            "Not applied: this build has no apply executor yet "
            "(wizard.aws.apply_exec). Nothing was changed.",
            "  ",
        )
        return
    apply_exec.run(session, plan, console)


def checklist(session: Session, prompter: Prompter, console: Console) -> None:
    """Every checklist item against the account, with progress."""
    if session.snapshot is None:
        session.read()
    if _needs_snapshot(session, console, "The checklist"):
        return
    try:
        from wizard.core.checklist import evaluate  # type: ignore[attr-defined]
    except ImportError:
        console.para(
            "The checklist engine (wizard.core.checklist.evaluate) is not in "
            "this build yet; the runbook will list every item as not checked.",
            "  ",
        )
        return
    session.audit = evaluate(session.snapshot, session.values)


def export(session: Session, prompter: Prompter, console: Console) -> None:
    """Write the runbook with the same functions as ``harbor-kms runbook``."""
    if not prompter.confirm("Write the runbook now?", True):
        console.para("No runbook written.", "  ")
        return
    fmt: RunbookFormat = (
        "html"
        if prompter.select("Format", FORMATS, "markdown") == "html"
        else "markdown"
    )
    suffix = ".html" if fmt == "html" else ".md"
    default = session.config_path.resolve().parent / f"harbor-kms-runbook{suffix}"
    target = Path(prompter.text("Write it to", str(default), _writable))
    journals, warnings = read_journal_files(session.config_path, session.values)
    for warning in warnings:
        console.para(f"warning: {warning}", "  ")
    identity = {"Arn": session.identity.arn} if session.identity else None
    view = build_view(
        session.values,
        audit=session.audit,
        audit_source="this session's checklist" if session.audit else "",
        journal=journals,
        identity=identity,
        attestations=session.extra.get("attestations") or {},
        catalog=load_catalog(),
        config_path=session.config_path,
    )
    try:
        write_runbook(view, target, fmt)
    except WizardError as error:
        console.para(f"Not written: {error.message}", "  ")
        return
    console.para(f"Runbook written to {target}.", "  ")


def _writable(raw: str) -> str | None:
    path = Path(raw).expanduser()
    if not raw:
        return "Give a file name."
    if not path.resolve().parent.is_dir():
        return f"The folder {path.parent} does not exist."
    if path.is_dir():
        return f"{path} is a folder; give a file name."
    return None
