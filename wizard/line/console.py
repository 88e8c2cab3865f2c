"""What the line mode prints and how it asks: two prompters, one console.

:class:`QuestionaryPrompter` asks with questionary when a person sits at a
terminal; :class:`PlainPrompter` reads one answer per line from standard input,
printing each question first, for piped answers, ``TERM=dumb`` and scripts.
Both check every answer with the same validator (a core ``FieldSpec.check``)
and ask again on a bad one, so the rules cannot differ between them.

:class:`Console` writes the rest: headings, wrapped paragraphs, verdict words.
It colours only a terminal, and never when ``NO_COLOR`` is set
(https://no-color.org) or ``TERM`` is ``dumb``.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TextIO

Check = Callable[[str], str | None]

_SGR = {"pass": "32", "fail": "31", "unknown": "33", "attested": "36", "bold": "1"}
_YES = ("y", "yes", "true", "on", "1")
_NO = ("n", "no", "false", "off", "0")


def colour_allowed(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Whether colour may be written to ``stream``: a terminal, NO_COLOR unset."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    return stream.isatty()


class Console:
    """Plain text out, wrapped to the terminal (80 columns at most)."""

    def __init__(self, out: TextIO, *, colour: bool) -> None:
        """Write to ``out``; colour only when ``colour`` is true."""
        self.out = out
        self.colour = colour
        columns = shutil.get_terminal_size((80, 24)).columns
        self.width = max(40, min(80, columns))

    def paint(self, text: str, style: str) -> str:
        """``text`` in ``style`` (a verdict status or 'bold') when colour is on."""
        code = _SGR.get(style)
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour and code else text

    def write(self, text: str = "") -> None:
        """Print ``text`` as is (policies, diffs, commands keep their layout)."""
        self.out.write(text + "\n")
        self.out.flush()

    def para(self, text: str, indent: str = "") -> None:
        """Print ``text`` wrapped to the console's width."""
        self.write(
            textwrap.fill(
                text,
                self.width,
                initial_indent=indent,
                subsequent_indent=indent,
                break_on_hyphens=False,
                break_long_words=False,
            )
        )

    def heading(self, text: str) -> None:
        """A step's title, with a rule under it."""
        self.write()
        self.write(self.paint(text, "bold"))
        self.write("-" * min(len(text), self.width))


class Prompter(Protocol):
    """Asks one question at a time; Ctrl-C raises KeyboardInterrupt."""

    def text(self, message: str, default: str, check: Check) -> str:
        """A line of text that ``check`` accepts."""
        ...

    def confirm(self, message: str, default: bool) -> bool:
        """Yes or no."""
        ...

    def select(self, message: str, choices: Sequence[str], default: str) -> str:
        """One of ``choices``."""
        ...


class PlainPrompter:
    """Questions printed, answers read line by line (pipes, scripts, dumb tty)."""

    def __init__(self, stdin: TextIO, console: Console) -> None:
        """Read answers from ``stdin``; print questions and errors to ``console``."""
        self.stdin = stdin
        self.console = console

    def _ask(self, prompt: str) -> str:
        self.console.out.write(prompt)
        self.console.out.flush()
        line = self.stdin.readline()
        if not line:
            # End of input: the caller treats it like Ctrl-C, keeping what
            # was saved and saying so.
            self.console.write()
            raise EOFError
        answer = line.rstrip("\r\n")
        if not self.stdin.isatty():
            # Echo piped answers, so a transcript reads like a session.
            self.console.write(answer)
        return answer

    def text(self, message: str, default: str, check: Check) -> str:
        """Ask until ``check`` accepts; an empty answer takes the default."""
        shown = f" [{default}]" if default else ""
        while True:
            answer = self._ask(f"? {message}{shown}: ").strip() or default
            problem = check(answer)
            if problem is None:
                return answer
            self.console.para(problem, "  ! ")

    def confirm(self, message: str, default: bool) -> bool:
        """Ask until the answer is yes or no; empty takes the default."""
        hint = "Y/n" if default else "y/N"
        while True:
            answer = self._ask(f"? {message} [{hint}]: ").strip().lower()
            if not answer:
                return default
            if answer in _YES or answer in _NO:
                return answer in _YES
            self.console.write("  ! Answer yes or no.")

    def select(self, message: str, choices: Sequence[str], default: str) -> str:
        """Ask for a choice by number or by name."""
        for number, choice in enumerate(choices, start=1):
            self.console.write(f"  {number}) {choice}")
        while True:
            answer = self._ask(f"? {message} [{default}]: ").strip() or default
            if answer.isdigit() and 1 <= int(answer) <= len(choices):
                return choices[int(answer) - 1]
            if answer in choices:
                return answer
            self.console.write(f"  ! Answer 1 to {len(choices)} or a name listed.")


class QuestionaryPrompter:
    """questionary prompts; ``unsafe_ask`` so Ctrl-C reaches the one handler."""

    def __init__(self, *, colour: bool) -> None:
        """Import questionary now: only the interactive line mode needs it."""
        import questionary

        self._q: Any = questionary
        # Without colour, an empty style: prompt_toolkit also drops colour by
        # itself when NO_COLOR is set, and this keeps questionary's defaults out.
        self._style = None if colour else questionary.Style([])

    def text(self, message: str, default: str, check: Check) -> str:
        """questionary.text with ``check`` as its validator."""
        answer = self._q.text(
            message,
            default=default,
            validate=lambda raw: check(raw.strip()) or True,
            style=self._style,
        ).unsafe_ask()
        return str(answer).strip()

    def confirm(self, message: str, default: bool) -> bool:
        """questionary.confirm."""
        return bool(
            self._q.confirm(message, default=default, style=self._style).unsafe_ask()
        )

    def select(self, message: str, choices: Sequence[str], default: str) -> str:
        """questionary.select over ``choices``."""
        answer = self._q.select(
            message, choices=list(choices), default=default, style=self._style
        ).unsafe_ask()
        return str(answer)


def make_prompter(stdin: TextIO, console: Console) -> Prompter:
    """questionary for a person at a terminal, plain lines for everything else."""
    if stdin.isatty() and console.out.isatty() and os.environ.get("TERM") != "dumb":
        return QuestionaryPrompter(colour=console.colour)
    return PlainPrompter(stdin, console)


def standard_streams() -> tuple[TextIO, TextIO]:
    """(stdin, stdout): the streams the line mode uses by default."""
    return sys.stdin, sys.stdout
