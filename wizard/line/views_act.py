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


# Changes that subscribe an e-mail to the alarms' SNS topic.
_MAILING = frozenset({"create-alarms", "create-event-rules"})


def offer_demo_mail(session: Session, prompter: Prompter, console: Console) -> None:
    """In the demo, offer to play the recipient of SNS's confirmation e-mail.

    The sandbox sends no mail, so without this the alarm items fail for good.
    """
    question = (
        "Demo: the sandbox sends no mail. Confirm the alarm e-mail subscription "
        "now, as its recipient would by clicking SNS's link?"
    )
    if not session.demo:
        return
    if not prompter.confirm(question, True):
        console.para("Left pending: the alarm items fail until it is confirmed.", "  ")
        return
    confirmed = session.confirm_demo_mail() or 0
    console.para(f"Confirmed {confirmed} SNS subscription(s).", "  ")


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
    run_apply(session, prompter, plan, console)


def run_apply(
    session: Session, prompter: Prompter, plan: Any, console: Console
) -> None:
    """Run a confirmed plan: backups and journal first, as ``harbor-kms apply``."""
    from wizard.aws.apply_exec import BotoAdapter
    from wizard.aws.session import Clients
    from wizard.core.apply.backup import state_dir
    from wizard.core.apply.run import ApplyInterrupted, apply_plan, caller_record

    adapter = BotoAdapter(Clients(session.reader().target), session.values)
    try:
        result = apply_plan(
            plan,
            session.values,
            adapter,
            state_dir(session.config_path),
            progress=lambda line: console.para(line, "  "),
            confirm_rollback=lambda question: prompter.confirm(question, True),
            caller=caller_record(session.snapshot and session.snapshot.caller),
        )
    except ApplyInterrupted as stop:
        # Ctrl-C during the apply: say what the journal holds, then stop the
        # walk the same way as Ctrl-C at a prompt.
        console.para(stop.message, "  ")
        raise KeyboardInterrupt from None
    except WizardError as error:  # the lockout refusal, a backup or journal
        console.para(f"{error.title}: {error.message}", "  ")
        return
    for note in result.notes:
        console.para(note, "  ")
    console.para(
        f"Apply {result.outcome}: {len(result.changed)} step(s) changed. "
        f"{result.message}".strip(),
        "  ",
    )
    if any(c.id in _MAILING for c in plan.changes):
        offer_demo_mail(session, prompter, console)
    if result.journal is not None:
        console.para(f"Journal: {result.journal}", "  ")
    for backup in result.backups:
        console.para(f"Backup of the {backup.what}: {backup.path}", "  ")


def checklist(session: Session, prompter: Prompter, console: Console) -> None:
    """Every checklist item against the account, one line per verdict."""
    from wizard.core.checklist.engine import evaluate, parse_attestations, summary

    if not session.aws_problem:
        session.read()  # after an apply, the account has changed
    if _needs_snapshot(session, console, "The checklist"):
        return
    assert session.snapshot is not None
    items = load_catalog()
    record_attestations(session, items, prompter, console)
    attested = parse_attestations(
        session.extra.get("attestations"), items, str(session.config_path)
    )
    total = len(items)

    def progress(item: Any, verdict: Any) -> None:
        done = items.index(item) + 1
        word = console.paint(verdict.status.upper().ljust(12), verdict.status)
        console.write(f"  [{done:>2}/{total}] {word} {item.id}")

    verdicts = evaluate(
        items, session.snapshot, session.values, attested, progress=progress
    )
    counts = ", ".join(f"{n} {s}" for s, n in summary(verdicts).items())
    console.para(f"Checklist: {counts}.", "  ")
    session.verdicts = verdicts


def record_attestations(
    session: Session, items: list[Any], prompter: Prompter, console: Console
) -> None:
    """Offer to record the items only a person can confirm, then save them."""
    from wizard.core.checklist.engine import add_attestation

    table = session.extra.get("attestations") or {}
    open_items = [i for i in items if i.attested and i.id not in table]
    if not open_items:
        return
    question = (
        f"Record attestations for {len(open_items)} item(s) only a person can confirm?"
    )
    if not prompter.confirm(question, False):
        return
    who = session.identity.arn if session.identity else ""
    for item in open_items:
        console.para(item.title, "  ")
        if not prompter.confirm("Do you attest this item?", False):
            continue
        by = prompter.text("Attested by", who, _non_empty)
        note = prompter.text("Where is the evidence (link, ticket)", "", _any)
        table = add_attestation(table, item, by, note)
    session.extra["attestations"] = table
    if prompter.confirm(f"Save the attestations to {session.config_path}?", True):
        session.save("Attestations")


def _non_empty(raw: str) -> str | None:
    return None if raw.strip() else "Give a name."


def _any(raw: str) -> str | None:
    return None


def export(session: Session, prompter: Prompter, console: Console) -> None:
    """The best practices, then the runbook as ``harbor-kms runbook`` writes it."""
    from wizard.line.views_diagnose import best_practices

    best_practices(session, console)
    console.write()
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
    catalog = load_catalog()
    audit = None
    if session.verdicts is not None and session.snapshot is not None:
        from wizard.core.checklist.report import KeyAudit, audit_json, key_json

        key = key_json(session.snapshot, session.values)
        audit = audit_json(KeyAudit(key, catalog, session.verdicts))
    journals, warnings = read_journal_files(session.config_path, session.values)
    for warning in warnings:
        console.para(f"warning: {warning}", "  ")
    identity = {"Arn": session.identity.arn} if session.identity else None
    view = build_view(
        session.values,
        audit=audit,
        audit_source="this session's checklist" if audit else "",
        journal=journals,
        identity=identity,
        attestations=session.extra.get("attestations") or {},
        catalog=catalog,
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
