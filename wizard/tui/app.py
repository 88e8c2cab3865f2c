"""``WizardApp``: wires the wizard screen, the state, the workers and errors.

The app owns the two state objects (:class:`~wizard.tui.session.WizardState`,
saved on every change, and :class:`~wizard.tui.session.AccountView`, this run's
AWS view), replaces them whole when a message reports a change, and hands the
new model down to the screen. Every AWS call runs in a thread worker
(``exclusive``, a named group, ``exit_on_error=False``) that reports by
message; a failed worker becomes an :class:`ErrorModal` and a problem noted on
its step, never a crash.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from wizard.core.errors import ConfigError, WizardError
from wizard.core.steps import STEPS
from wizard.core.values import Values
from wizard.tui import messages as msg
from wizard.tui.screens.wizard_screen import WizardScreen
from wizard.tui.session import (
    THEMES,
    AccountView,
    Model,
    WizardState,
    demo_config_path,
    load_state,
    save_state,
    unreadable_state,
)
from wizard.tui.workers import AccountWorkers

if TYPE_CHECKING:
    from wizard.tui.tasks import Backend

# Worker group -> the step its result and its problems belong to.
GROUP_STEPS = {
    "sandbox": "prerequisites",
    "snapshot": "prerequisites",
    "pick": "environment",
    "checklist": "checklist",
    "apply": "apply",
    "troubleshoot": "troubleshoot",
    "export": "export",
}
# Steps that show what was read from the account: opening one reads it first.
READS_ACCOUNT = frozenset(
    {"prerequisites", "understand", "design", "rotation", "monitoring", "apply"}
)
_HELM_FIELDS = ("account_id", "region", "key_id", "bucket")
"""Values a Harbor chart can fill (see :func:`wizard.core.helm.prefill`)."""
SAVE_DELAY = 0.3
"""Seconds of quiet after a change before the values file is written."""


class WizardApp(AccountWorkers, App[int]):
    """The full-screen wizard.

    Args:
        config_path: The values file; may be None with ``demo``.
        demo: Run against the built-in sandbox seeded with the guide's account.
        demo_config: Where a demo keeps its values (a per-user temp dir by
            default; never the user's own file).
        backend: What the workers call (AWS by default; tests give a canned
            account).
    """

    CSS_PATH = "wizard.tcss"
    TITLE = "harbor-kms"
    SUB_TITLE = "Harden the KMS key behind Harbor's S3 storage"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (90, "-normal"), (130, "-wide")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+q",
            "quit",
            "Quit",
            priority=True,
            id="quit",
            tooltip="Quit; everything entered is already saved.",
        ),
        Binding(
            "ctrl+t",
            "toggle_theme",
            "Theme",
            show=False,
            id="theme",
            tooltip="Switch between the light and the dark theme.",
        ),
    ]

    def __init__(
        self,
        config_path: Path | None,
        *,
        demo: bool = False,
        demo_config: Path | None = None,
        backend: Backend | None = None,
    ) -> None:
        super().__init__()
        self.demo = demo
        if backend is None:
            # The AWS adapter itself loads only when a worker first calls it.
            from wizard.tui.tasks import Backend

            backend = Backend()
        self.backend = backend
        path = (demo_config or demo_config_path()) if demo else config_path
        if path is None:
            raise ValueError("WizardApp needs a values file unless demo is set.")
        self.state = WizardState(path=path, values=Values())
        self.account = AccountView(demo=demo, connected=not demo)
        self._sandbox: Any = None
        self._save_timer: Timer | None = None
        self._read_for: Values | None = None
        self._fresh = True

    @property
    def model(self) -> Model:
        """The state and the AWS view, as the steps draw them."""
        return Model(self.state, self.account)

    def get_default_screen(self) -> Screen[Any]:
        """The wizard at the step the saved session was on."""
        self._fresh = not self.state.path.exists()
        try:
            self.state = load_state(self.state.path)
        except ConfigError as error:
            self.state = unreadable_state(self.state.path)
            self.call_later(self.show_error, error.title, error.message)
        self.state = self.state.visit(self.state.last_step)
        return WizardScreen(self.model)

    def on_mount(self) -> None:
        """Apply the saved theme and start what the first step needs."""
        self.theme = self.state.theme
        if self.state.problems:
            listed = "\n".join(f"{p.field}: {p.message}" for p in self.state.problems)
            self.call_later(self.show_error, "Values file", listed)
        # After the first frame: the emulator's (or boto3's) import holds the
        # GIL for a while, and the user should see the app meanwhile.
        if self.demo:
            self.call_after_refresh(self.start_demo)
        else:
            self.call_after_refresh(self._on_step_opened, self.state.last_step)

    @property
    def wizard(self) -> WizardScreen:
        """The wizard screen (under any modal)."""
        screen = self.screen_stack[0]
        assert isinstance(screen, WizardScreen)
        return screen

    def update(
        self,
        state: WizardState | None = None,
        account: AccountView | None = None,
        *,
        save: bool = False,
    ) -> None:
        """Replace the state and/or the AWS view, redraw, and save if asked."""
        self.state = state or self.state
        self.account = account or self.account
        self.wizard.show_model(self.model)
        if save and self.state.writable:
            if self._save_timer is not None:
                self._save_timer.stop()
            self._save_timer = self.set_timer(SAVE_DELAY, self.save_now)

    def save_now(self) -> None:
        """Write the values file now (after a pause, and on quit)."""
        self._save_timer = None
        if not self.state.writable:
            return
        try:
            save_state(self.state)
        except ConfigError as error:
            self.state = replace(self.state, writable=False)
            self.show_error(error.title, error.message)

    def show_error(self, title: str, message: str) -> None:
        """Show ``message`` in a modal the user can copy from."""
        # Imported on first use: the text area behind it is not needed to paint.
        from wizard.tui.screens.error_modal import ErrorModal

        self.push_screen(ErrorModal(title, message))

    def go(self, step_id: str) -> None:
        """Open ``step_id`` and remember it as the step to resume at."""
        self.state = self.state.visit(step_id)
        self.wizard.go(step_id, self.model)
        self.update(save=True)
        self._on_step_opened(step_id)

    def _on_step_opened(self, step_id: str) -> None:
        """Start the reads the step shows, unless they are fresh."""
        account = self.account
        if not account.connected:
            return
        if step_id == "checklist":
            stale = account.checklist_stale or not account.verdicts
            if stale and "checklist" not in account.busy:
                self.run_checklist()
            return
        if step_id not in READS_ACCOUNT:
            return
        if self._read_for is None or _stale(self._read_for, self.state.values):
            self.read_account()

    # Messages from the steps.

    @on(msg.StepSelected)
    def _step_selected(self, event: msg.StepSelected) -> None:
        self.go(event.step_id)

    @on(msg.FieldEdited)
    def _field_edited(self, event: msg.FieldEdited) -> None:
        drafts = dict(self.state.drafts)
        values = self.state.values
        if event.draft is None:
            drafts.pop(event.spec.name, None)
            values = event.spec.set(values, event.value)
        else:
            drafts[event.spec.name] = event.draft
        self.update(replace(self.state, values=values, drafts=drafts), save=True)

    @on(msg.HelmImported)
    def _helm_imported(self, event: msg.HelmImported) -> None:
        from wizard.core.helm import prefill

        # A field the user emptied counts as empty, though the values still
        # hold its last valid text; what the chart does not fill stays as was.
        drafts = dict(self.state.drafts)
        emptied: dict[str, Any] = {
            n: "" for n in _HELM_FIELDS if drafts.get(n, "x").strip() == ""
        }
        filled = prefill(replace(self.state.values, **emptied), event.storage)
        taken: dict[str, Any] = {
            n: getattr(filled, n) for n in _HELM_FIELDS if getattr(filled, n)
        }
        for name in emptied.keys() & taken.keys():
            drafts.pop(name)
        values = replace(self.state.values, **taken)
        self.update(replace(self.state, values=values, drafts=drafts), save=True)
        notes = " ".join(event.storage.notes)
        self.notify(
            f"Filled empty values from {event.path}. {notes}".strip(),
            title="Helm values",
            severity="warning" if notes else "information",
        )

    @on(msg.ProblemReported)
    def _problem(self, event: msg.ProblemReported) -> None:
        self.show_error(event.title, event.message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Track busy groups; turn a failed worker into a modal and a problem."""
        group = event.worker.group
        busy = set(self.account.busy)
        if event.state == WorkerState.RUNNING:
            busy.add(group)
        else:
            busy.discard(group)
        problems = dict(self.account.problems)
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            title, message = _describe(error, group)
            problems[GROUP_STEPS.get(group, self.wizard.step)] = message
            self.show_error(title, message)
        self.update(
            account=replace(self.account, busy=frozenset(busy), problems=problems)
        )

    # Commands, theme, quitting.

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette: go to each step, re-run, export, switch theme."""
        for number, spec in enumerate(STEPS, start=1):
            yield SystemCommand(
                f"Step: go to {number} {spec.title}",
                spec.summary,
                lambda step_id=spec.id: self.go(step_id),
            )
        yield SystemCommand(
            "Checklist: re-run",
            "Read the account and check every item again",
            self._rerun_checklist,
        )
        if self._sandbox is not None:
            yield SystemCommand(
                "Sandbox: confirm the alarm e-mail",
                "Play the recipient who clicks SNS's confirmation link (demo only)",
                self._confirm_alarm_mail,
            )
        yield SystemCommand(
            "Runbook: export",
            "Write the runbook and the policy files (the Export step has the path)",
            self._export_runbook,
        )
        yield SystemCommand(
            "Theme: switch light/dark",
            "Switch between the light and the dark theme",
            self.action_toggle_theme,
        )
        yield from super().get_system_commands(screen)

    def _export_runbook(self) -> None:
        self.go("export")
        pane = self.wizard.pane("export")
        if pane is not None:
            pane.run_when_ready("export")

    def _confirm_alarm_mail(self) -> None:
        # The sandbox has no mail: SNS subscriptions stay pending until this.
        confirmed = self._sandbox.confirm_subscriptions()
        if not confirmed:
            self.notify("No SNS subscription is waiting for confirmation.")
            return
        self.notify(
            f"Confirmed {confirmed} SNS subscription(s), as the recipient would "
            "by clicking the link in SNS's e-mail. The checklist runs again."
        )
        self._rerun_checklist()

    def _rerun_checklist(self) -> None:
        self.account = replace(self.account, checklist_stale=True)
        self.go("checklist")

    def action_toggle_theme(self) -> None:
        """Switch light/dark and remember the choice."""
        theme = THEMES[1] if self.theme == THEMES[0] else THEMES[0]
        self.theme = theme
        self.update(replace(self.state, theme=theme), save=True)

    async def action_quit(self) -> None:
        """Save what was entered, stop the sandbox, and leave."""
        if self._save_timer is not None:
            self._save_timer.stop()
            self.save_now()
        self.exit(0)

    def on_unmount(self) -> None:
        """Stop the demo sandbox with the app."""
        if self._sandbox is not None:
            self._sandbox.stop()


def _stale(read_for: Values, values: Values) -> bool:
    """Whether a read made for ``read_for`` no longer describes ``values``."""
    fields = ("account_id", "region", "key_id", "harbor_role_arn", "bucket")
    return any(getattr(read_for, f) != getattr(values, f) for f in fields)


def _describe(error: BaseException | None, group: str) -> tuple[str, str]:
    """A title and a message for a worker's exception, without a traceback."""
    if isinstance(error, WizardError):
        return error.title, error.message
    what = {"sandbox": "Starting the sandbox", "snapshot": "Reading the account"}
    title = what.get(group, f"Task {group}")
    return title, f"{title} failed: {type(error).__name__}: {error}"
