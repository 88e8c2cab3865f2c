"""Step 7, Monitoring and auditing: what exists, and what apply would create.

"Exists" is read from the account (trails, CloudWatch Logs metric filters,
alarms, EventBridge rules, Config rules, dashboards); "would create" is the
monitoring part of the apply plan, with what is already in place and what
cannot be planned, each with the plan's own reason. The alarms need an e-mail
address, entered here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, LoadingIndicator

from wizard.core.snapshot import AccountSnapshot, Unknown
from wizard.core.steps import step
from wizard.tui.messages import AccountReadRequested
from wizard.tui.screens.base import StepPane
from wizard.tui.session import Model, plan_for
from wizard.tui.widgets.field_form import FieldForm
from wizard.tui.widgets.tones import status_tone

MONITORING_CHANGES = (
    "create-trail",
    "create-alarms",
    "create-event-rules",
    "create-config-rule",
    "create-dashboard",
)


class MonitoringStep(StepPane):
    """Two tables (exists, planned) and the alarm e-mail field."""

    STEP_ID = "monitoring"

    DEFAULT_CSS = """
    MonitoringStep {
        & LoadingIndicator { height: 1; }
        & DataTable { height: 1fr; border: round $primary 50%; }
        & DataTable:focus { border: round $primary; }
        & #monitoring-form { height: 6; }
        & #monitoring-tables { height: 1fr; }
    }
    """

    def compose_body(self) -> ComposeResult:
        """Exists beside planned, e-mail field underneath."""
        yield LoadingIndicator(id="monitoring-busy")
        with Vertical(id="monitoring-tables"):
            exists: DataTable[Text] = DataTable(id="monitoring-exists")
            exists.border_title = "Exists in the account"
            yield exists
            planned: DataTable[Text] = DataTable(id="monitoring-planned")
            planned.border_title = "Apply would"
            yield planned
        if self.model is not None:
            yield FieldForm(
                step(self.STEP_ID).fields,
                self.model.state.values,
                self.model.state.drafts,
                id="monitoring-form",
            )

    def on_mount(self) -> None:
        """Table columns."""
        self.query_one("#monitoring-exists", DataTable).add_columns(
            "Kind", "Name", "State"
        )
        self.query_one("#monitoring-planned", DataTable).add_columns("Change", "What")
        super().on_mount()

    def render_model(self, model: Model) -> None:
        """Refill both tables and the field."""
        self.query_one("#monitoring-busy").display = "snapshot" in model.account.busy
        self.query_one(FieldForm).sync(model.state.values, model.state.drafts)
        exists = self.query_one("#monitoring-exists", DataTable)
        exists.clear()
        snapshot = model.account.snapshot
        if snapshot is None:
            exists.add_row(Text("-"), Text("Not read yet."), Text(""))
        else:
            for kind, name, state in existing(snapshot):
                exists.add_row(Text(kind), Text(name), self._state(state))
        planned = self.query_one("#monitoring-planned", DataTable)
        planned.clear()
        for change_id, what in planned_rows(model):
            planned.add_row(Text(change_id), Text(what))

    def _state(self, state: str) -> Text:
        word = state.split(":", 1)[0]
        return Text(state, status_tone(self, word))

    def action_reread(self) -> None:
        """Read the monitoring set-up again."""
        self.post_message(AccountReadRequested())


def existing(snapshot: AccountSnapshot) -> Iterator[tuple[str, str, str]]:
    """Rows of (kind, name, state) for every monitoring resource read."""
    reads: tuple[tuple[str, Any], ...] = (
        ("Trail", snapshot.trails),
        ("Metric filter", snapshot.metric_filters),
        ("Alarm", snapshot.alarms),
        ("Event rule", snapshot.event_rules),
        ("Config rule", snapshot.config_rules),
        ("Dashboard", snapshot.dashboards),
    )
    for kind, found in reads:
        if isinstance(found, Unknown):
            yield kind, "?", f"unknown: {found.reason}"
        elif not found:
            yield kind, "(none)", "fail: none exists"
        else:
            for item in found:
                yield kind, item.name, _describe(item)


def _describe(item: Any) -> str:
    if hasattr(item, "multi_region"):
        logging = item.logging if not isinstance(item.logging, Unknown) else None
        return (
            f"{'ok' if logging else 'fail'}: "
            f"{'multi-region' if item.multi_region else 'single region'}, "
            f"{'logging' if logging else 'not logging'}"
        )
    if hasattr(item, "metric_name") and hasattr(item, "actions"):
        return f"ok: {item.state}, {item.metric_name or '-'}"
    if hasattr(item, "compliance"):
        compliance = item.compliance
        text = compliance.reason if isinstance(compliance, Unknown) else compliance
        return f"ok: {item.source_identifier}, {text}"
    if hasattr(item, "pattern") and isinstance(item.pattern, str):
        return f"ok: {item.metric_name}"
    return "ok"


def planned_rows(model: Model) -> Iterator[tuple[str, str]]:
    """Rows of (change id, what) for the monitoring part of the plan."""
    plan = plan_for(model.account, model.state.values)
    if plan is None:
        yield "-", "The plan is made once the account has been read."
        return
    for change in plan.changes:
        if change.id in MONITORING_CHANGES:
            missing = f" (needs {'; '.join(change.missing)})" if change.missing else ""
            yield change.id, f"create: {change.title}{missing}"
    for held in plan.satisfied:
        if held.id in MONITORING_CHANGES:
            yield held.id, f"in place: {held.reason}"
    for held in plan.blocked:
        if held.id in MONITORING_CHANGES:
            yield held.id, f"not planned: {held.reason}"
