"""The Troubleshooting step and the best practices, printed line by line.

Troubleshooting asks for one of the guide's symptoms, or a file holding a
CloudTrail event or Harbor's error text (or the error text itself), and prints
the report of :mod:`wizard.commands.troubleshoot`, the code behind
``harbor-kms diagnose``. Nothing is written. The best practices are the guide's
DO / DON'T list judged from this session's checklist and the lint of the key's
current policy (:mod:`wizard.core.best_practices`).
"""

from __future__ import annotations

from pathlib import Path

from wizard.commands.troubleshoot import (
    STATUS_WORDS,
    SYMPTOM_NAMES,
    Report,
    troubleshoot_request,
    troubleshoot_symptom,
)
from wizard.core.errors import WizardError
from wizard.core.snapshot import Unknown
from wizard.line.console import Console, Prompter
from wizard.line.session import Session

SKIP = "skip"
REQUEST = "a failed request"
_PAINT = {"found": "fail", "unknown": "unknown", "not_found": ""}


def troubleshoot(session: Session, prompter: Prompter, console: Console) -> None:
    """Diagnose symptoms or failed requests until the user moves on."""
    choices = (SKIP, *SYMPTOM_NAMES, REQUEST)
    while True:
        chosen = prompter.select("Troubleshoot", choices, SKIP)
        if chosen == SKIP:
            return
        if session.aws_problem or session.connect() is None:
            console.para(f"AWS cannot be read: {session.aws_problem}", "  ")
            return
        text = ""
        if chosen == REQUEST:
            text = _pasted(prompter.text(_ASK_REQUEST, "", _non_empty))
        try:
            if chosen == REQUEST:
                report = troubleshoot_request(session.reader(), session.values, text)
            else:
                report = troubleshoot_symptom(session.reader(), session.values, chosen)
        except WizardError as error:
            console.para(f"{error.title}: {error.message}", "  ")
            return
        print_report(report, console)


_ASK_REQUEST = "File with a CloudTrail event or Harbor's error text (or the text)"


def _pasted(answer: str) -> str:
    """The file's text when ``answer`` names a readable file, else the answer."""
    path = Path(answer).expanduser()
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else answer
    except (OSError, UnicodeDecodeError):
        return answer


def _non_empty(raw: str) -> str | None:
    return None if raw.strip() else "Give a file or the error text."


def print_report(report: Report, console: Console) -> None:
    """Every check with its evidence, then the cause, the fix, the apply change."""
    if report.error:
        console.para(f"Cannot diagnose: {report.error}", "  ")
        return
    console.para(report.heading, "  ")
    for check in report.checks:
        word = STATUS_WORDS[check.status]
        painted = console.paint(word.ljust(10), _PAINT[check.status])
        console.write(f"  {painted} {check.title}")
        console.para(check.evidence, " " * 13)
        if check.fix:
            console.para(f"fix: {check.fix}", " " * 13)
    for label, text in report.rows:
        console.para(f"{label}: {text}", "  ")
    if report.apply_command:
        console.para(
            f"Apply: {report.apply_command} (plans first; changes nothing until "
            "you confirm).",
            "  ",
        )
    console.para("Nothing was changed.", "  ")


def best_practices(session: Session, console: Console) -> None:
    """The guide's DO / DON'T list as the state of this key."""
    from wizard.core.best_practices import assess
    from wizard.core.policy.lint import PolicyInputError, lint_policy

    console.para("Best practices (the guide's DO / DON'T) for this key:", "  ")
    if session.verdicts is None:
        console.para(
            "The checklist has not run in this session: lines that rest on "
            "checklist items are not checkable.",
            "  ",
        )
    policy = session.snapshot.key_policy if session.snapshot else None
    findings = None
    if policy is None or isinstance(policy, Unknown):
        console.para(
            "The key policy was not read: lines that rest on lint rules are "
            "not checkable.",
            "  ",
        )
    else:
        try:
            findings = lint_policy(policy, session.values)
        except PolicyInputError as error:
            console.para(f"The key policy cannot be linted: {error}", "  ")
    assessed = assess(session.verdicts or [], findings)
    for kind, heading in (("do", "DO"), ("dont", "DON'T")):
        console.write(f"  {heading}")
        for line in (a for a in assessed if a.practice.kind == kind):
            word = _MARKS[line.state]
            painted = console.paint(word.ljust(13), _MARK_PAINT[line.state])
            console.write(f"  {painted} {line.practice.guide}")
            console.para(line.reason, " " * 16)
            links = [f"checklist {i}" for i in line.practice.items]
            links += [f"lint {r}" for r in line.practice.rules]
            if links:
                console.para("behind it: " + ", ".join(links), " " * 16)


_MARKS = {"met": "MET", "not_met": "NOT MET", "not_checkable": "NOT CHECKABLE"}
_MARK_PAINT = {"met": "pass", "not_met": "fail", "not_checkable": "unknown"}
