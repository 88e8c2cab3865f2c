"""``ErrorModal``: an error the user must read, in text they can copy.

AWS errors, lockout warnings and unreadable files end up here: the message is
in a read-only text area (select with the mouse or shift+arrows), and Copy
puts all of it on the clipboard, so it can go into a ticket unchanged.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea


class ErrorModal(ModalScreen[None]):
    """A titled message with Copy and Close.

    Args:
        title: What failed, in a few words.
        message: The whole message, as the user should read and copy it.
    """

    DEFAULT_CSS = """
    ErrorModal { align: center middle; }
    ErrorModal > Vertical {
        width: 80%;
        max-width: 100;
        height: auto;
        max-height: 80%;
        border: thick $error;
        background: $surface;
        padding: 0 1;
    }
    ErrorModal #error-title { text-style: bold; color: $text-error; }
    ErrorModal TextArea { height: auto; max-height: 16; }
    ErrorModal #error-buttons { height: auto; align-horizontal: right; }
    ErrorModal Button { margin-left: 1; }
    """

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="error-close"),
        Binding("c", "copy", "Copy", id="error-copy"),
    ]

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.title_text = title
        self.message = message

    def compose(self) -> ComposeResult:
        """Title, message, buttons."""
        with Vertical():
            yield Static(self.title_text, id="error-title")
            yield TextArea(self.message, read_only=True, soft_wrap=True)
            with Horizontal(id="error-buttons"):
                yield Button("Copy", id="copy")
                yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        """Focus Close, so Enter closes and Escape too."""
        self.query_one("#close", Button).focus()

    def action_copy(self) -> None:
        """Put the title and message on the clipboard."""
        self.app.copy_to_clipboard(f"{self.title_text}\n\n{self.message}")
        self.notify("Copied to the clipboard.")

    @on(Button.Pressed, "#copy")
    def _copy(self) -> None:
        self.action_copy()

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss()
