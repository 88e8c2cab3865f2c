"""``ApplyConfirmModal``: the last look before anything is written to AWS.

It names every call that will be made, on which key, in which account and
region, where the backups and the journal go, and what the lockout proof says.
Cancel has the focus, so Enter alone never writes anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ApplyConfirmModal(ModalScreen[bool]):
    """Apply (True) or cancel (False) the listed changes.

    Args:
        plan: The plan narrowed to the chosen changes.
        backup_dir: Where backups and journals are written.
        rollback: Confirm a rollback of the last apply instead.
    """

    DEFAULT_CSS = """
    ApplyConfirmModal { align: center middle; }
    ApplyConfirmModal > Vertical {
        width: 90%;
        max-width: 110;
        height: auto;
        max-height: 90%;
        border: thick $warning;
        background: $surface;
        padding: 0 1;
    }
    ApplyConfirmModal #confirm-title { text-style: bold; }
    ApplyConfirmModal VerticalScroll { height: auto; max-height: 20; }
    ApplyConfirmModal .lockout-failed { color: $text-error; text-style: bold; }
    ApplyConfirmModal #confirm-buttons { height: auto; align-horizontal: right; }
    ApplyConfirmModal Button { margin-left: 1; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="confirm-cancel")]

    def __init__(self, plan: Any, backup_dir: Path, *, rollback: bool = False) -> None:
        super().__init__()
        self.plan = plan
        self.backup_dir = backup_dir
        self.rollback = rollback

    def compose(self) -> ComposeResult:
        """What, where, the backup, the lockout proof, and the two buttons."""
        verb = "Roll back" if self.rollback else "Apply"
        with Vertical():
            yield Static(
                f"{verb} on key {self.plan.key_arn} (account "
                f"{self.plan.account_id}, {self.plan.region})?",
                id="confirm-title",
            )
            with VerticalScroll():
                yield Static(self._what(), markup=False)
                yield Static(self._where(), markup=False)
                lockout = _lockout_lines(self.plan.lockout, self.rollback)
                if lockout:
                    failed = not (self.plan.lockout or {}).get("ok", True)
                    classes = "lockout-failed" if failed else ""
                    yield Static(lockout, classes=classes, markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button(verb, id="confirm", variant="error")

    def on_mount(self) -> None:
        """Cancel has the focus: writing needs a deliberate choice."""
        self.query_one("#cancel", Button).focus()

    def _what(self) -> str:
        if self.rollback:
            return (
                "Every call the last apply made is undone, last first, from its "
                "journal; replaced state (the key policy, rotation, tags) is put "
                "back from the backups, which are checked against their hashes."
            )
        lines = ["These calls will be made, in this order:"]
        for change in self.plan.changes:
            if not change.ready:
                continue
            lines.append(f"• {change.id}: {change.will_write}")
            lines.extend(f"    {step.api}: {step.summary}" for step in change.steps)
        held = [c for c in self.plan.changes if not c.ready]
        lines.extend(
            f"Not applied: {c.id} (needs {'; '.join(c.missing)})" for c in held
        )
        lines.extend(f"Not applied: {h.id} ({h.reason})" for h in self.plan.blocked)
        return "\n".join(lines)

    def _where(self) -> str:
        return (
            f"Backups of everything replaced go to {self.backup_dir / 'backups'} "
            f"(owner-only files), and every call is journaled in "
            f"{self.backup_dir / 'journals'} before the next is made, so a "
            "rollback is possible from here (u) or from the command line."
        )

    def action_cancel(self) -> None:
        """Write nothing."""
        self.dismiss(False)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        self.dismiss(True)


def _lockout_lines(lockout: Any, rollback: bool) -> str:
    """The lockout proof of the new key policy, in the modal's words."""
    if rollback or not lockout:
        return ""
    proven: Sequence[str] = lockout.get("proven", ())
    problems: Sequence[str] = lockout.get("problems", ())
    if lockout.get("ok"):
        return "Lockout check passed:\n" + "\n".join(f"  ✓ {p}" for p in proven)
    return (
        "Lockout check FAILED; the key policy will be refused and nothing "
        "written:\n" + "\n".join(f"  ✗ {p}" for p in problems)
    )
