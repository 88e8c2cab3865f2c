"""Step 3, Understanding key policies: the key's policy as it is, in words.

The policy is the one read from AWS (kms:GetKeyPolicy). Each statement is put
into a plain sentence (who, may or may not, do what, under which conditions)
next to its JSON, and the lint findings on the whole policy are listed with
their fixes, checked against the values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, LoadingIndicator, OptionList, Static
from textual.widgets.option_list import Option

from wizard.core.arn import parse_arn
from wizard.core.policy.lint import Finding, PolicyInputError, lint_policy
from wizard.tui.messages import AccountReadRequested
from wizard.tui.screens.base import StepPane
from wizard.tui.screens.design_step import effect_mark
from wizard.tui.session import Model, current_policy
from wizard.tui.widgets.policy_preview import PolicyPreview
from wizard.tui.widgets.tones import tone

_SEVERITY_TONES = {
    "error": "text-error",
    "warning": "text-warning",
    "info": "text-primary",
}


class UnderstandStep(StepPane):
    """Statements of the current policy, each explained; lint findings below."""

    STEP_ID = "understand"

    DEFAULT_CSS = """
    UnderstandStep {
        & #understand-busy { height: 1; }
        & #understand-top { height: 1fr; }
        & #current-statements {
            width: 30;
            height: 1fr;
            border: round $primary 50%;
        }
        & #current-statements:focus { border: round $primary; }
        & #understand-detail { width: 1fr; height: 1fr; }
        & #statement-words { height: auto; max-height: 6; }
        & #findings { height: 1fr; border: round $primary 50%; }
        & #findings:focus { border: round $primary; }
        & #finding-fix { height: auto; max-height: 4; color: $text-muted; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._policy: Mapping[str, Any] | None = None
        self._findings: list[Finding] = []

    def compose_body(self) -> ComposeResult:
        """Statement list and explanation over the findings table."""
        yield LoadingIndicator(id="understand-busy")
        yield Static("", id="understand-status", markup=False)
        with Horizontal(id="understand-top"):
            statements = OptionList(id="current-statements")
            statements.border_title = "Statements"
            yield statements
            with Vertical(id="understand-detail"):
                yield Static("", id="statement-words", markup=False)
                yield PolicyPreview(id="current-statement")
        findings: DataTable[Text] = DataTable(id="findings", cursor_type="row")
        findings.border_title = "Lint findings"
        yield findings
        yield Static("", id="finding-fix", markup=False)

    def on_mount(self) -> None:
        """Columns of the findings table."""
        self.query_one("#findings", DataTable).add_columns(
            "Severity", "Rule", "Statement"
        )
        super().on_mount()

    def render_model(self, model: Model) -> None:
        """Show the current policy, or why it is not there."""
        self.query_one("#understand-busy").display = "snapshot" in model.account.busy
        policy, reason = current_policy(model.account)
        status = self.query_one("#understand-status", Static)
        status.update(reason)
        status.display = bool(reason)
        self._policy = policy
        statements = _statements(policy) if policy is not None else []
        option_list = self.query_one("#current-statements", OptionList)
        option_list.clear_options()
        option_list.add_options(
            Option(effect_mark(str(s.get("Effect"))) + _label(i, s), id=str(i))
            for i, s in enumerate(statements)
        )
        if statements:
            option_list.highlighted = 0
        self._findings = self._lint(policy, model)
        self._show_findings()

    def _lint(self, policy: Mapping[str, Any] | None, model: Model) -> list[Finding]:
        if policy is None:
            return []
        try:
            return lint_policy(policy, model.state.values)
        except PolicyInputError as error:
            self.query_one("#finding-fix", Static).update(str(error))
            return []

    def _show_findings(self) -> None:
        table = self.query_one("#findings", DataTable)
        table.clear()
        for index, finding in enumerate(self._findings):
            colour = tone(self, _SEVERITY_TONES.get(finding.severity, "foreground"))
            table.add_row(
                Text(finding.severity, colour),
                Text(finding.rule),
                Text(finding.statement or "(whole policy)"),
                key=str(index),
            )
        errors = sum(f.severity == "error" for f in self._findings)
        table.border_subtitle = f"{len(self._findings)} finding(s), {errors} error(s)"

    @on(OptionList.OptionHighlighted, "#current-statements")
    def _statement(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        statements = _statements(self._policy) if self._policy else []
        index = int(event.option.id or 0)
        if index >= len(statements):
            return
        statement = statements[index]
        self.query_one("#statement-words", Static).update(describe_statement(statement))
        self.query_one("#current-statement", PolicyPreview).show_policy(statement)

    @on(DataTable.RowHighlighted, "#findings")
    def _finding(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        index = int(event.row_key.value or 0)
        if index < len(self._findings):
            finding = self._findings[index]
            self.query_one("#finding-fix", Static).update(
                f"{finding.rule}: {finding.message}\nFix: {finding.fix}"
            )

    def action_reread(self) -> None:
        """Read the key policy (and the rest of the account) again."""
        self.post_message(AccountReadRequested())


def _statements(policy: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    raw = (policy or {}).get("Statement", [])
    items = raw if isinstance(raw, list) else [raw]
    return [s for s in items if isinstance(s, Mapping)]


def _label(index: int, statement: Mapping[str, Any]) -> str:
    sid = statement.get("Sid")
    return str(sid) if sid else f"Statement {index + 1}"


def describe_statement(statement: Mapping[str, Any]) -> str:
    """One statement of a key policy in plain words."""
    effect = "allows" if statement.get("Effect") == "Allow" else "denies"
    if "NotPrincipal" in statement:
        who = f"everyone except {_principals(statement['NotPrincipal'])}"
    else:
        who = _principals(statement.get("Principal"))
    if "NotAction" in statement:
        what = f"every action except {_actions(statement['NotAction'])}"
    else:
        what = _actions(statement.get("Action"))
    sentence = f"This statement {effect} {who} to call {what} on this key"
    conditions = _conditions(statement.get("Condition"))
    if conditions:
        sentence += ", only when " + "; and ".join(conditions)
    return sentence + "."


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principals(value: Any) -> str:
    if value == "*" or value == {"AWS": "*"}:
        return "anyone (any principal of any account)"
    if not isinstance(value, Mapping):
        return "no principal (missing)"
    parts = []
    for kind, names in value.items():
        for name in _as_list(names):
            parts.append(_principal(str(kind), str(name)))
    return ", ".join(parts)


def _principal(kind: str, name: str) -> str:
    if kind == "Service":
        return f"the AWS service {name}"
    arn = parse_arn(name)
    if arn is None:
        return f"{kind} {name}"
    if arn.resource_type == "root":
        return (
            f"IAM policies of account {arn.account} (the account principal, "
            "which grants nobody by itself)"
        )
    return f"the IAM {arn.resource_type} {arn.resource_name} of account {arn.account}"


def _actions(value: Any) -> str:
    actions = [str(a) for a in _as_list(value)]
    if "kms:*" in actions or "*" in actions:
        return "every KMS action"
    return ", ".join(actions)


_OPERATORS = {
    "StringEquals": "is",
    "StringNotEquals": "is not",
    "StringLike": "matches",
    "StringNotLike": "does not match",
    "ArnEquals": "is",
    "ArnLike": "matches",
    "ArnNotEquals": "is not",
    "ArnNotLike": "does not match",
    "Bool": "is",
    "IpAddress": "is in",
    "NotIpAddress": "is not in",
    "NumericEquals": "equals",
}


def _conditions(block: Any) -> list[str]:
    if not isinstance(block, Mapping):
        return []
    words = []
    for operator, pairs in block.items():
        if not isinstance(pairs, Mapping):
            continue
        for key, value in pairs.items():
            words.append(_condition(str(operator), str(key), _as_list(value)))
    return words


def _condition(operator: str, key: str, values: Sequence[Any]) -> str:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    shown = " or ".join(str(v) for v in values)
    if base == "Null":
        present = str(values[0]).lower() == "false"
        return f"{key} is {'present' if present else 'absent'}"
    verb = _OPERATORS.get(base, base)
    subject = {
        "ForAllValues": f"every value of {key}",
        "ForAnyValue": f"some value of {key}",
    }.get(qualifier, key)
    text = f"{subject} {verb} {shown}"
    return f"{text} (or {key} is absent)" if if_exists else text
