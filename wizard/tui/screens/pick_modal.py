"""``PickModal``: choose a key, role or bucket from a list read from AWS."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static


class PickModal(ModalScreen[str | None]):
    """A list to pick one value from; Escape picks nothing.

    Args:
        label: The field the value is for.
        items: The values read from the account.
    """

    DEFAULT_CSS = """
    PickModal { align: center middle; }
    PickModal > Vertical {
        width: 80%;
        max-width: 110;
        height: auto;
        max-height: 80%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    PickModal OptionList { height: auto; max-height: 20; }
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="pick-cancel")]

    def __init__(self, label: str, items: tuple[str, ...]) -> None:
        super().__init__()
        self.label = label
        self.items = items

    def compose(self) -> ComposeResult:
        """A heading and the list (or why it is empty)."""
        with Vertical():
            yield Static(f"Pick the {self.label} (Enter), or Escape to keep yours.")
            if self.items:
                yield OptionList(*self.items)
            else:
                yield Static(f"The account has no {self.label} to offer.")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.items[event.option_index])
