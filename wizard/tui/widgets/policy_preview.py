"""``PolicyPreview`` and ``PolicyDiff``: a key policy as coloured JSON or a diff.

Colours come from Textual's highlighter, which styles tokens with theme
variables, so the preview reads the same in the light and the dark theme.
Both widgets scroll on their own; a long ARN scrolls sideways instead of
wrapping, because a wrapped policy is hard to compare with the diff.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from textual.app import ComposeResult
from textual.containers import ScrollableContainer
from textual.content import Content
from textual.highlight import highlight
from textual.widgets import Static

_SELECTED = "on $accent 20%"


class CodeView(ScrollableContainer):
    """A scrollable block of highlighted text."""

    DEFAULT_CSS = """
    CodeView {
        height: 1fr;
        border: round $primary 50%;
        &:focus { border: round $primary; }
        & > Static { width: auto; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._code = Static("", markup=False)

    def compose(self) -> ComposeResult:
        """The text itself."""
        yield self._code

    def _show(self, content: Content | str) -> None:
        self._code.update(content)


class PolicyPreview(CodeView):
    """A key policy as syntax-coloured JSON, one statement optionally marked."""

    DEFAULT_CSS = """
    PolicyPreview { border-title-color: $text-primary; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "Policy preview"
        self.text = ""
        """The JSON shown, exactly as a file would hold it."""

    def show_policy(
        self, policy: Mapping[str, Any], selected_sid: str | None = None
    ) -> None:
        """Show ``policy``; mark and scroll to the statement ``selected_sid``."""
        self.text = json.dumps(policy, indent=2)
        content = highlight(self.text, language="json")
        lines = statement_lines(self.text, selected_sid)
        if lines is not None:
            start, end = _offsets(self.text, *lines)
            content = content.stylize(_SELECTED, start, end)
        self._show(content)
        if lines is not None:
            self.scroll_to(y=max(0, lines[0] - 1), animate=False)

    def show_message(self, message: str) -> None:
        """Show a sentence instead of a policy (no values yet, build error)."""
        self.text = ""
        self._show(message)


class PolicyDiff(CodeView):
    """A unified diff between the key's current policy and the proposed one."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "Diff: current -> proposed"

    def show_diff(self, diff: str, empty: str) -> None:
        """Show ``diff``, or ``empty`` when there is no difference to show."""
        self._show(highlight(diff, language="diff") if diff else empty)


def statement_lines(text: str, sid: str | None) -> tuple[int, int] | None:
    """First and last line (0-based) of the statement with ``sid`` in ``text``.

    ``text`` is ``json.dumps(policy, indent=2)``, where each statement opens
    with a line of four spaces and ``{`` and closes at the same indent.
    """
    if not sid:
        return None
    lines = text.splitlines()
    marker = f'"Sid": {json.dumps(sid)}'
    for index, line in enumerate(lines):
        if line.strip().rstrip(",") != marker:
            continue
        start = index
        while start > 0 and lines[start] != "    {":
            start -= 1
        end = index
        while end < len(lines) - 1 and not lines[end].startswith("    }"):
            end += 1
        return start, end
    return None


def _offsets(text: str, first: int, last: int) -> tuple[int, int]:
    """Character offsets of the start of line ``first`` and end of ``last``."""
    lines = text.splitlines(keepends=True)
    start = sum(len(line) for line in lines[:first])
    end = sum(len(line) for line in lines[: last + 1])
    return start, end
