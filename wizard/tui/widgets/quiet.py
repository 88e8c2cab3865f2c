"""Updates that do nothing when nothing changed.

Every keystroke in a value field redraws the steps from the model; Textual
re-lays out the screen for any ``Static.update`` and refreshes a widget for any
border title assignment, even with the same text. These helpers compare first,
so a keystroke costs only the widgets whose content really changed.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static


def update(static: Static, content: str | Content) -> None:
    """``static.update(content)`` unless it already shows exactly that."""
    if static.content != content:
        static.update(content)


def subtitle(widget: Widget, text: str) -> None:
    """Set ``widget``'s border subtitle unless it already reads ``text``."""
    if widget.border_subtitle != text:
        widget.border_subtitle = text
