"""``ScenarioTable``: the requests that matter, decided against the policies.

One row per scenario of :mod:`wizard.core.policy.scenarios`: what the hardened
design expects, what the proposed policy decides and, when the key's current
policy was read, what that one decides. A row is marked when a decision differs
from the expectation; selecting it tells why.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from wizard.core.policy.scenarios import Outcome
from wizard.tui.widgets.quiet import subtitle
from wizard.tui.widgets.tones import status_tone

# Explicit and implicit denies read the same in the table; the line under it
# says which statement decided.
_DECISION_WORDS = {"allow": "allow", "explicit_deny": "deny", "implicit_deny": "deny"}


class ScenarioTable(DataTable[Text]):
    """The simulation as a table that is replaced whole on every change."""

    DEFAULT_CSS = """
    ScenarioTable { height: 1fr; border: round $primary 50%; }
    ScenarioTable:focus { border: round $primary; }
    """

    class Chosen(Message):
        """A scenario row was highlighted: show its explanation."""

        def __init__(self, outcome: Outcome, current: Outcome | None) -> None:
            super().__init__()
            self.outcome = outcome
            self.current = current

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.border_title = "Simulation"
        self._outcomes: tuple[Outcome, ...] = ()
        self._current: dict[str, Outcome] = {}

    def on_mount(self) -> None:
        """Re-render when the theme changes the colours."""
        self.app.theme_changed_signal.subscribe(self, lambda _: self._render_rows())

    def show(
        self, outcomes: Sequence[Outcome], current: Sequence[Outcome] | None = None
    ) -> None:
        """Show ``outcomes`` for the proposed policy (and the current one's).

        When the same scenarios come back (most keystrokes), only the cells
        whose decision changed are redrawn.
        """
        before = [o.scenario.id for o in self._outcomes], bool(self._current)
        self._outcomes = tuple(outcomes)
        self._current = {o.scenario.id: o for o in current or ()}
        after = [o.scenario.id for o in self._outcomes], bool(self._current)
        if before == after and self.row_count:
            self._update_cells()
        else:
            self._render_rows()

    def _update_cells(self) -> None:
        columns = list(self.columns)
        for outcome in self._outcomes:
            key = outcome.scenario.id
            cells = self._cells(outcome, self._current.get(key))
            for column, old, new in zip(columns, self.get_row(key), cells, strict=True):
                if old != new:
                    self.update_cell(key, column, new)
        self._subtitle()

    def _render_rows(self) -> None:
        row = self.cursor_row
        # The request's title goes last: it is long, and the verdicts must
        # stay in view in a narrow column. "Current" only once it was read.
        self.clear(columns=True)
        columns = ["", "Expect", "Proposed"] + (["Current"] if self._current else [])
        self.add_columns(*columns, "Request")
        for outcome in self._outcomes:
            current = self._current.get(outcome.scenario.id)
            self.add_row(*self._cells(outcome, current), key=outcome.scenario.id)
        if self._outcomes:
            self.move_cursor(row=min(row, len(self._outcomes) - 1), animate=False)
        self._subtitle()

    def _subtitle(self) -> None:
        failures = sum(not o.ok for o in self._outcomes)
        total = len(self._outcomes)
        subtitle(
            self,
            f"{total - failures}/{total} as designed"
            if total
            else "no scenarios: enter the values first",
        )

    def _cells(self, outcome: Outcome, current: Outcome | None) -> list[Text]:
        mark = Text("✓", status_tone(self, "ok")) if outcome.ok else None
        mark = mark or Text("✗", status_tone(self, "fail"))
        expect = outcome.scenario.expect
        cells = [mark, Text(expect), self._decision(outcome)]
        if self._current:
            cells.append(self._decision(current) if current else Text("-"))
        return [*cells, Text(outcome.scenario.title)]

    def _decision(self, outcome: Outcome) -> Text:
        decision = outcome.result.decision
        word = _DECISION_WORDS.get(decision, decision)
        style = status_tone(self, "ok" if outcome.ok else "fail")
        return Text(word, style)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Tell the step which scenario is under the cursor."""
        event.stop()
        key = event.row_key.value
        for outcome in self._outcomes:
            if outcome.scenario.id == key:
                self.post_message(self.Chosen(outcome, self._current.get(key)))
                return
