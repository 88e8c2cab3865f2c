"""Step 4, Least-privilege design: the hardened policy, why, and how it behaves.

The policy is built from the values on every change (see
:func:`wizard.tui.session.derive`) and shown as coloured JSON or as a diff
against the key's current policy; each statement can be selected to read why
it exists and which correction of the guide it carries; the simulation replays
the requests that matter against the proposed and the current policy.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from wizard.core.policy.build import GeneratedStatement
from wizard.core.policy.diff import unified_diff
from wizard.core.policy.explain import CORRECTIONS
from wizard.core.policy.scenarios import Outcome
from wizard.tui.screens.base import StepPane
from wizard.tui.session import Model, current_policy, simulate_current
from wizard.tui.widgets.policy_preview import PolicyDiff, PolicyPreview
from wizard.tui.widgets.scenario_table import ScenarioTable


class DesignStep(StepPane):
    """Statements and their reasons, preview or diff, and the simulation."""

    STEP_ID = "design"

    DEFAULT_CSS = """
    DesignStep {
        & #design-top { height: 3fr; }
        & #design-left { width: 34; height: 1fr; }
        & #statements { height: 1fr; border: round $primary 50%; }
        & #statements:focus { border: round $primary; }
        & #statement-why { height: auto; max-height: 8; color: $text-muted; }
        & #design-tabs { width: 1fr; height: 1fr; }
        & #design-tabs ContentSwitcher { height: 1fr; }
        & #design-tabs TabPane { height: 1fr; padding: 0; }
        & #scenarios { height: 2fr; }
        & #scenario-why { height: auto; max-height: 3; color: $text-muted; }
    }
    """

    selected_sid: reactive[str | None] = reactive(None, init=False)
    """The statement the user selected; marked in the preview."""

    def compose_body(self) -> ComposeResult:
        """Statements beside the preview and diff, simulation underneath."""
        with Horizontal(id="design-top"):
            with Vertical(id="design-left"):
                statements = OptionList(id="statements")
                statements.border_title = "Statements"
                yield statements
                yield Static("", id="statement-why", markup=False)
            with TabbedContent(id="design-tabs"):
                with TabPane("Policy", id="tab-policy"):
                    yield PolicyPreview(id="preview")
                with TabPane("Diff", id="tab-diff"):
                    yield PolicyDiff(id="diff")
        yield ScenarioTable(id="scenarios")
        yield Static("", id="scenario-why", markup=False)

    def render_model(self, model: Model) -> None:
        """Redraw statements, preview, diff and simulation for ``model``."""
        derived = model.derived
        preview = self.query_one(PolicyPreview)
        if derived.error:
            preview.show_message(f"The policy cannot be built: {derived.error}")
            return
        self._show_statements(derived.statements)
        preview.show_policy(derived.policy, self.selected_sid)
        current, reason = current_policy(model.account)
        diff = self.query_one(PolicyDiff)
        if current is None:
            diff.show_diff("", reason)
            self.query_one(ScenarioTable).show(derived.outcomes)
            return
        text = unified_diff(current, derived.policy, "current (AWS)", "proposed")
        diff.show_diff(text, "The current policy already is the proposed one.")
        outcomes, problem = simulate_current(current, model.state.values)
        self.query_one(ScenarioTable).show(derived.outcomes, outcomes or None)
        if problem:
            self.query_one("#scenario-why", Static).update(problem)

    def _show_statements(self, statements: tuple[GeneratedStatement, ...]) -> None:
        option_list = self.query_one("#statements", OptionList)
        wanted = [s.sid for s in statements]
        shown = [
            option_list.get_option_at_index(i).id
            for i in range(option_list.option_count)
        ]
        if wanted == shown:
            return
        option_list.clear_options()
        option_list.add_options(
            Option(effect_mark(s.body["Effect"]) + s.sid, id=s.sid) for s in statements
        )
        if self.selected_sid in wanted:
            option_list.highlighted = wanted.index(self.selected_sid)

    @on(OptionList.OptionHighlighted, "#statements")
    def _statement_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self.selected_sid = event.option.id

    def watch_selected_sid(self, sid: str | None) -> None:
        """Mark the statement in the preview and say why it exists."""
        if self.model is None:
            return
        derived = self.model.derived
        self.query_one(PolicyPreview).show_policy(derived.policy, sid)
        found = next((s for s in derived.statements if s.sid == sid), None)
        self.query_one("#statement-why", Static).update(
            explain_statement(found) if found else ""
        )

    @on(ScenarioTable.Chosen)
    def _scenario_chosen(self, event: ScenarioTable.Chosen) -> None:
        event.stop()
        self.query_one("#scenario-why", Static).update(
            explain_outcome(event.outcome, event.current)
        )

    def action_toggle_view(self) -> None:
        """Switch between the policy preview and the diff."""
        tabs = self.query_one(TabbedContent)
        tabs.active = "tab-diff" if tabs.active == "tab-policy" else "tab-policy"


def effect_mark(effect: str) -> Content:
    """A coloured + (Allow) or − (Deny) in front of a statement's name."""
    if effect == "Deny":
        return Content.styled("− ", "$text-error")
    return Content.styled("+ ", "$text-success")


def explain_statement(statement: GeneratedStatement) -> str:
    """Why a generated statement exists, with the corrections it carries."""
    lines = [statement.reason, f"Guide: {statement.guide_section}."]
    for number in statement.corrections:
        if number in CORRECTIONS:
            lines.append(f"Correction {number}: {CORRECTIONS[number]}")
    return "\n".join(lines)


def explain_outcome(outcome: Outcome, current: Outcome | None) -> str:
    """One scenario in words: what was asked, what is expected and why."""
    scenario = outcome.scenario
    decided = outcome.result.decision.replace("_", " ")
    verdict = "as designed" if outcome.ok else "NOT as designed"
    text = (
        f"{scenario.title}: expect {scenario.expect}, proposed policy says "
        f"{decided} ({verdict}). {scenario.why}"
    )
    if current is not None:
        text += f" Current policy: {current.result.decision.replace('_', ' ')}."
    return text
