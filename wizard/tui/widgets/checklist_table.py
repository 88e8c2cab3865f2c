"""``ChecklistTable``: one row per checklist item, with its verdict.

Each row shows the status (pass, fail, unknown, attested, not attested), what
it was in the run before when that differs (so the items an apply fixed stand
out), the section and the title. Highlighting a row asks the step to show the
evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from wizard.tui.widgets.tones import status_tone

STATUS_MARKS = {
    "pass": "✓",
    "fail": "✗",
    "unknown": "?",
    "attested": "✓",
    "not_attested": "…",
}
"""A symbol per status, so the table reads without colour too."""


class ChecklistTable(DataTable[Text]):
    """Verdicts of the last run, replaced whole after every run."""

    DEFAULT_CSS = """
    ChecklistTable { height: 1fr; border: round $primary 50%; }
    ChecklistTable:focus { border: round $primary; }
    """

    class Chosen(Message):
        """An item was highlighted: show its verdict's evidence."""

        def __init__(self, item: Any, verdict: Any) -> None:
            super().__init__()
            self.item = item
            self.verdict = verdict

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.border_title = "Security checklist"
        self._items: tuple[Any, ...] = ()
        self._verdicts: dict[str, Any] = {}
        self._before: dict[str, str] = {}

    def on_mount(self) -> None:
        """Re-colour when the theme changes."""
        self.app.theme_changed_signal.subscribe(self, lambda _: self._render_rows())

    def show(
        self,
        items: Sequence[Any],
        verdicts: Sequence[Any],
        previous: Sequence[Any] = (),
    ) -> None:
        """Show ``verdicts`` for ``items``, marking changes since ``previous``."""
        self._items = tuple(items)
        self._verdicts = {v.item_id: v for v in verdicts}
        self._before = {v.item_id: v.status for v in previous}
        self._render_rows()

    @property
    def highlighted_item(self) -> Any:
        """The item under the cursor, or None."""
        if not self._items or self.cursor_row >= len(self._items):
            return None
        return self._items[self.cursor_row]

    def _render_rows(self) -> None:
        row = self.cursor_row
        self.clear(columns=True)
        # "Was" only after a second run: it marks what changed since.
        self.add_columns("Status", *(["Was"] if self._before else []), "Item")
        for item in self._items:
            verdict = self._verdicts.get(item.id)
            status = verdict.status if verdict is not None else "unknown"
            before = self._before.get(item.id)
            was = before.replace("_", " ") if before and before != status else ""
            word = f"{STATUS_MARKS.get(status, '?')} {status.replace('_', ' ')}"
            cells = [Text(word, status_tone(self, status))]
            if self._before:
                cells.append(Text(was, status_tone(self, before or "")))
            self.add_row(*cells, Text(item.title), key=item.id)
        if self._items:
            self.move_cursor(row=min(row, len(self._items) - 1), animate=False)
        self.border_subtitle = summary_words(self._verdicts)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Tell the step which item is under the cursor."""
        event.stop()
        key = event.row_key.value
        item = next((i for i in self._items if i.id == key), None)
        if item is not None:
            self.post_message(self.Chosen(item, self._verdicts.get(item.id)))


def summary_words(verdicts: Mapping[str, Any]) -> str:
    """'12 pass, 3 fail, 2 unknown, ...' for the statuses present."""
    counts: dict[str, int] = {}
    for verdict in verdicts.values():
        counts[verdict.status] = counts.get(verdict.status, 0) + 1
    order = ("pass", "fail", "unknown", "attested", "not_attested")
    return ", ".join(
        f"{counts[s]} {s.replace('_', ' ')}" for s in order if counts.get(s)
    )
