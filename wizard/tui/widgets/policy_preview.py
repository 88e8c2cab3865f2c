"""``PolicyPreview`` and ``PolicyDiff``: a key policy as coloured JSON or a diff.

Colours come from Textual's highlighter, which styles tokens with theme
variables, so the preview reads the same in the light and the dark theme.
Both draw only the lines in view (Textual's line API): the policy is rebuilt
on every keystroke in a value field, and a frame must not re-render a hundred
lines to show twenty. Long ARNs scroll sideways instead of wrapping, because a
wrapped policy is hard to compare with the diff.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping
from typing import Any

from rich.segment import Segment
from textual.content import Content
from textual.geometry import Size
from textual.highlight import highlight
from textual.scroll_view import ScrollView
from textual.strip import Strip

_SELECTED = "on $accent 20%"


class CodeView(ScrollView, can_focus=True):
    """Scrollable highlighted text that renders only its visible lines."""

    DEFAULT_CSS = """
    CodeView {
        height: 1fr;
        border: round $primary 50%;
        border-title-color: $text-primary;
        &:focus { border: round $primary; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: list[Content] = []
        self._strips: dict[int, Strip] = {}

    def _show(self, content: Content) -> None:
        self._lines = content.split("\n", allow_blank=True)
        width = max((line.cell_length for line in self._lines), default=0)
        self._strips.clear()
        size = Size(width, len(self._lines))
        if self.virtual_size != size:  # a new size re-lays out the screen
            self.virtual_size = size
        self.refresh()

    def _show_words(self, message: str) -> None:
        """A sentence, wrapped to the view instead of scrolled."""
        width = max(20, self.scrollable_content_region.width or 60)
        self._show(Content("\n".join(textwrap.wrap(message, width))))

    def render_line(self, y: int) -> Strip:
        """One visible line, from a cache of rendered lines."""
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= len(self._lines):
            return Strip.blank(width, base)
        strip = self._strips.get(index)
        if strip is None:
            strip = self._render_strip(self._lines[index])
            self._strips[index] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _render_strip(self, line: Content) -> Strip:
        style = self.visual_style
        segments = [
            Segment(text, (style + part).rich_style)
            for text, part in line.render(style, end="", parse_style=self._get_style)
        ]
        return Strip(segments, line.cell_length)

    def notify_style_update(self) -> None:
        """Colours changed (a theme switch): render the lines again."""
        super().notify_style_update()
        self._strips.clear()


class PolicyPreview(CodeView):
    """A key policy as syntax-coloured JSON, one statement optionally marked."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "Policy preview"
        self.text = ""
        """The JSON shown, exactly as a file would hold it."""
        self._selected: str | None = None

    def show_policy(
        self, policy: Mapping[str, Any], selected_sid: str | None = None
    ) -> None:
        """Show ``policy``; mark and scroll to the statement ``selected_sid``.

        Nothing is redrawn when neither the policy nor the mark changed, which
        is most keystrokes that do not change a value.
        """
        text = json.dumps(policy, indent=2)
        if text == self.text and selected_sid == self._selected:
            return
        self.text, self._selected = text, selected_sid
        content = highlight(text, language="json")
        lines = statement_lines(text, selected_sid)
        if lines is not None:
            start, end = _offsets(text, *lines)
            content = content.stylize(_SELECTED, start, end)
        self._show(content)
        if lines is not None:
            self.scroll_to(y=max(0, lines[0] - 1), animate=False)

    def show_message(self, message: str) -> None:
        """Show a sentence instead of a policy (no values yet, build error)."""
        self.text, self._selected = "", None
        self._show_words(message)


class PolicyDiff(CodeView):
    """A unified diff between the key's current policy and the proposed one."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "Diff: current -> proposed"
        self._diff: str | None = None

    def show_diff(self, diff: str, empty: str) -> None:
        """Show ``diff``, or ``empty`` when there is no difference to show."""
        key = diff or f"\0{empty}"
        if key == self._diff:
            return
        self._diff = key
        if diff:
            self._show(highlight(diff, language="diff"))
        else:
            self._show_words(empty)


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
