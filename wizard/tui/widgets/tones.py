"""Theme colours for Rich text in tables, read from the running theme.

``DataTable`` renders Rich text, which cannot resolve Textual's ``$variables``;
the colours are therefore looked up in the app's current theme, never written
as literals, and tables re-render when the theme changes.
"""

from __future__ import annotations

from textual.dom import DOMNode

STATUS_TONES = {
    "pass": "text-success",
    "ok": "text-success",
    "allow": "text-success",
    "done": "text-success",
    "attested": "text-primary",
    "fail": "text-error",
    "failed": "text-error",
    "explicit_deny": "text-warning",
    "implicit_deny": "text-warning",
    "unknown": "text-warning",
    "running": "text-accent",
}


def tone(node: DOMNode, variable: str) -> str:
    """A Rich style string for the theme variable ``variable`` (e.g. 'text-error')."""
    colour = node.app.theme_variables.get(variable, "")
    # Variables such as 'text-muted' are 'auto 60%', which Rich cannot parse.
    return colour if colour.startswith("#") else ""


def status_tone(node: DOMNode, status: str) -> str:
    """The Rich style of a status word (pass, fail, allow, unknown, ...)."""
    return tone(node, STATUS_TONES.get(status, "foreground"))
