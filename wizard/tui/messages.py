"""Messages the app's workers and steps send up, named for what happened.

Workers run AWS calls on threads and report only through these messages
(``post_message`` is thread-safe); steps ask the app for work with the
``...Requested`` messages and never call AWS themselves. Payloads are core
objects, passed whole and never mutated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.message import Message

from wizard.core.steps import FieldSpec
from wizard.core.values import Values


class StepSelected(Message):
    """The user chose a step (sidebar, palette, next/back)."""

    def __init__(self, step_id: str) -> None:
        super().__init__()
        self.step_id = step_id


class StepCompleted(Message):
    """A step's work is done (values valid, plan applied, runbook written)."""

    def __init__(self, step_id: str) -> None:
        super().__init__()
        self.step_id = step_id


class FieldEdited(Message):
    """A field of a form changed: a new valid value, or text that is invalid."""

    def __init__(self, spec: FieldSpec, value: Any, draft: str | None = None) -> None:
        super().__init__()
        self.spec = spec
        self.value = value
        """The parsed value when the text is valid; ignored when ``draft`` is set."""
        self.draft = draft
        """The text typed, when it does not validate (kept and shown on resume)."""


class HelmImported(Message):
    """A Harbor values.yaml was read; its S3 block fills the empty values."""

    def __init__(self, storage: Any, path: Path) -> None:
        super().__init__()
        self.storage = storage
        """A :class:`wizard.core.helm.HarborStorage`."""
        self.path = path


class PickRequested(Message):
    """The user wants to pick a field's value from a list read from AWS."""

    def __init__(self, field_name: str) -> None:
        super().__init__()
        self.field_name = field_name


class AccountReadRequested(Message):
    """A step asks for the account to be read again (its data may be stale)."""


class SandboxReady(Message):
    """The demo sandbox runs and is seeded; values point at its account."""

    def __init__(self, endpoint_url: str, values: Values, scenario: str) -> None:
        super().__init__()
        self.endpoint_url = endpoint_url
        self.values = values
        self.scenario = scenario


class IdentityRead(Message):
    """Who the session is in AWS, and which permissions the steps lack."""

    def __init__(
        self,
        identity: Any,
        missing_permissions: tuple[str, ...] | None,
        checked_permissions: tuple[str, ...],
        step_permissions: Any = None,
    ) -> None:
        super().__init__()
        self.identity = identity
        """A CallerIdentity or an Unknown saying why it could not be read."""
        self.missing_permissions = missing_permissions
        """None when the permissions could not be checked."""
        self.checked_permissions = checked_permissions
        self.step_permissions = step_permissions
        """StepPermissions per coming step, or None when not checked."""


class SnapshotRead(Message):
    """The account was read (an AccountSnapshot with Unknowns where denied)."""

    def __init__(self, snapshot: Any) -> None:
        super().__init__()
        self.snapshot = snapshot


class ResourcesListed(Message):
    """Keys, roles or buckets read from the account, for a picker."""

    def __init__(self, field_name: str, items: tuple[str, ...]) -> None:
        super().__init__()
        self.field_name = field_name
        self.items = items


class ChecklistProgress(Message):
    """The checklist run advanced: ``done`` of ``total`` items evaluated."""

    def __init__(self, done: int, total: int, label: str) -> None:
        super().__init__()
        self.done = done
        self.total = total
        self.label = label


class ChecklistEvaluated(Message):
    """Every checklist item has a verdict."""

    def __init__(self, run: Any, audit: dict[str, Any]) -> None:
        super().__init__()
        self.run = run
        """A :class:`wizard.tui.tasks.ChecklistRun`: the read, items and verdicts."""
        self.audit = audit
        """The same as ``audit --format json`` writes it, for the runbook."""


class ChecklistRequested(Message):
    """A step (or the palette) asks for the checklist to be run again."""


class TroubleshootRequested(Message):
    """Diagnose a guide symptom, or the failed request pasted as ``text``."""

    def __init__(self, symptom: str | None, text: str) -> None:
        super().__init__()
        self.symptom = symptom
        """A symptom's name; None to diagnose ``text`` instead."""
        self.text = text


class TroubleshootDiagnosed(Message):
    """A diagnosis is done (its report may hold an input error instead)."""

    def __init__(self, report: Any) -> None:
        super().__init__()
        self.report = report
        """A :class:`wizard.commands.troubleshoot.Report`."""


class ApplyRequested(Message):
    """The user confirmed applying these changes of the current plan."""

    def __init__(self, change_ids: tuple[str, ...]) -> None:
        super().__init__()
        self.change_ids = change_ids


class RollbackRequested(Message):
    """The user asked to undo the last apply."""


class ExportRequested(Message):
    """Write the runbook to ``path`` and the policy in ``formats`` beside it."""

    def __init__(self, path: Path, formats: tuple[str, ...]) -> None:
        super().__init__()
        self.path = path
        self.formats = formats


class Attested(Message):
    """The user attested a checklist item, with a note."""

    def __init__(self, item_id: str, by: str, note: str) -> None:
        super().__init__()
        self.item_id = item_id
        self.by = by
        self.note = note


class PlanReady(Message):
    """The apply plan for the current values and account."""

    def __init__(self, plan: Any) -> None:
        super().__init__()
        self.plan = plan


class ChangeProgress(Message):
    """One change of the plan was written (or failed)."""

    def __init__(self, change_id: str, status: str, detail: str = "") -> None:
        super().__init__()
        self.change_id = change_id
        self.status = status
        """'running', 'done', 'failed' or 'rolled back'."""
        self.detail = detail


class PolicyApplied(Message):
    """Every selected change was applied; the backup can roll them back."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result
        """The core's ApplyResult: journal, backups, outcome of every step."""


class ApplyFailed(Message):
    """Applying stopped part-way; what was written is in ``result``."""

    def __init__(self, title: str, message: str, result: Any = None) -> None:
        super().__init__()
        self.title = title
        self.message = message
        self.result = result


class RolledBack(Message):
    """A rollback finished (``result`` is the core's RollbackResult)."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result


class Exported(Message):
    """Files were written by the export step."""

    def __init__(self, paths: tuple[Path, ...]) -> None:
        super().__init__()
        self.paths = paths


class ProblemReported(Message):
    """Something failed that the user must read (shown in a modal to copy)."""

    def __init__(self, title: str, message: str, step_id: str | None = None) -> None:
        super().__init__()
        self.title = title
        self.message = message
        self.step_id = step_id
