"""``AttestModal``: vouch for a checklist item no API can check, with a note.

The attestation is saved in the values file's ``[attestations]`` table (who,
when, the note), so the next run and the runbook show it.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class AttestModal(ModalScreen[tuple[str, str] | None]):
    """Who attests and the note; returns (by, note), or None when cancelled.

    Args:
        title: The item's title.
        guide_text: The guide's own wording of the item.
        by: Who attests, pre-filled (the AWS identity, or the OS user).
    """

    DEFAULT_CSS = """
    AttestModal { align: center middle; }
    AttestModal > Vertical {
        width: 80%;
        max-width: 100;
        height: auto;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    AttestModal #attest-title { text-style: bold; }
    AttestModal #attest-buttons { height: auto; align-horizontal: right; }
    AttestModal Button { margin-left: 1; }
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="attest-cancel")]

    def __init__(self, title: str, guide_text: str, by: str) -> None:
        super().__init__()
        self.item_title = title
        self.guide_text = guide_text
        self.by = by

    def compose(self) -> ComposeResult:
        """The item, two inputs, the buttons."""
        with Vertical():
            yield Static(f"Attest: {self.item_title}", id="attest-title", markup=False)
            if self.guide_text:
                yield Static(f"Guide: {self.guide_text}", markup=False)
            yield Label("Attested by")
            yield Input(self.by, id="attest-by")
            yield Label("Note (where the evidence is: a runbook link, a ticket)")
            yield Input(
                placeholder="https://wiki.example.com/harbor/kms", id="attest-note"
            )
            with Horizontal(id="attest-buttons"):
                yield Button("Cancel", id="attest-cancel")
                yield Button("Attest", id="attest-ok", variant="primary")

    def on_mount(self) -> None:
        """Start in the note: the name is usually right."""
        self.query_one("#attest-note", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#attest-ok")
    def _ok(self) -> None:
        by = self.query_one("#attest-by", Input).value.strip()
        if not by:
            self.notify("Say who attests.", severity="error")
            return
        self.dismiss((by, self.query_one("#attest-note", Input).value.strip()))

    @on(Button.Pressed, "#attest-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
