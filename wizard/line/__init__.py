"""The line mode: the wizard's steps as questions, one line at a time.

``harbor-kms line`` walks ``wizard.core.steps`` with questionary prompts when a
person is at a terminal, and reads piped answers line by line otherwise (the
same validators either way). questionary is imported only here, inside
:func:`run_line`, so headless commands never load it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from wizard.line.console import Console, colour_allowed, make_prompter
from wizard.line.flow import walk
from wizard.line.session import Session

INTERRUPTED = 130
"""The shell's exit code for Ctrl-C (128 + SIGINT)."""


def run_line(
    config_path: Path | None,
    demo: bool,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Walk every step; return 0 when done, 130 when interrupted.

    Ctrl-C at any prompt, or the end of piped answers, stops the walk here, in
    one place, with a sentence saying what was saved: the values file is only
    written when a step's answers are confirmed, and always atomically.

    Args:
        config_path: the values file (``harbor-kms.toml`` by default, or
            ``harbor-kms-demo.toml`` with ``demo``).
        demo: run against a local sandbox seeded as the guide leaves an account.
        stdin: where answers come from (standard input by default).
        stdout: where questions and results go (standard output by default).

    Returns:
        The exit code.
    """
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    console = Console(stdout, colour=colour_allowed(stdout))
    prompter = make_prompter(stdin, console)
    session = Session.open(config_path, demo=demo)
    try:
        if demo:
            console.para(
                f"Demo: a local AWS sandbox at {session.endpoint_url}, seeded as "
                "the guide leaves an account. Nothing reaches AWS itself."
            )
        for problem in session.config_problems:
            console.para(f"warning: {problem}")
        walk(session, prompter, console)
    except (KeyboardInterrupt, EOFError) as stop:
        console.write()
        what = (
            "Interrupted."
            if isinstance(stop, KeyboardInterrupt)
            else ("The answers ended before the last step.")
        )
        console.para(f"{what} {session.saved_words()}")
        return INTERRUPTED
    finally:
        session.close()
    console.write()
    console.para(f"Done. {session.saved_words()}")
    return 0
