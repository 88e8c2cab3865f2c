"""Messages the app's workers and steps send up, named for what happened.

Workers run AWS calls on threads and report only through these messages
(``post_message`` is thread-safe); steps ask the app for work with the
``...Requested`` messages and never call AWS themselves. Payloads are core
objects, passed whole and never mutated.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.message import Message

from wizard.core.steps import FieldSpec
from wizard.core.values import Values


@dataclass
class StepSelected(Message):
    """The user chose a step (sidebar, palette, next/back)."""

    step_id: str


@dataclass
class StepCompleted(Message):
    """A step's work is done (values valid, plan applied, runbook written)."""

    step_id: str


@dataclass
class FieldEdited(Message):
    """A field of a form changed: a new valid value, or text that is invalid."""

    spec: FieldSpec
    value: Any
    """The parsed value when the text is valid; ignored when ``draft`` is set."""
    draft: str | None = None
    """The text typed, when it does not validate (kept and shown on resume)."""


@dataclass
class HelmImported(Message):
    """A Harbor values.yaml was read; its S3 block fills the empty values."""

    storage: Any
    """A :class:`wizard.core.helm.HarborStorage`."""
    path: Path


@dataclass
class PickRequested(Message):
    """The user wants to pick a field's value from a list read from AWS."""

    field_name: str


@dataclass
class AccountReadRequested(Message):
    """A step asks for the account to be read again (its data may be stale)."""


@dataclass
class SandboxReady(Message):
    """The demo sandbox runs and is seeded; values point at its account."""

    endpoint_url: str
    values: Values
    scenario: str


@dataclass
class IdentityRead(Message):
    """Who the session is in AWS, and which permissions the steps lack."""

    identity: Any
    """A CallerIdentity or an Unknown saying why it could not be read."""
    missing_permissions: tuple[str, ...] | None
    """None when the permissions could not be checked."""
    checked_permissions: tuple[str, ...]


@dataclass
class SnapshotRead(Message):
    """The account was read (an AccountSnapshot with Unknowns where denied)."""

    snapshot: Any


@dataclass
class ResourcesListed(Message):
    """Keys, roles or buckets read from the account, for a picker."""

    field_name: str
    items: tuple[str, ...]


@dataclass
class ChecklistProgress(Message):
    """The checklist run advanced: ``done`` of ``total`` items evaluated."""

    done: int
    total: int
    label: str


@dataclass
class ChecklistEvaluated(Message):
    """Every checklist item has a verdict."""

    run: Any
    """A :class:`wizard.tui.tasks.ChecklistRun`: the read, items and verdicts."""
    audit: dict[str, Any]
    """The same as ``audit --format json`` writes it, for the runbook."""


@dataclass
class ChecklistRequested(Message):
    """A step (or the palette) asks for the checklist to be run again."""


@dataclass
class ApplyRequested(Message):
    """The user confirmed applying these changes of the current plan."""

    change_ids: tuple[str, ...]


@dataclass
class RollbackRequested(Message):
    """The user asked to undo the last apply."""


@dataclass
class ExportRequested(Message):
    """Write the runbook to ``path`` and the policy in ``formats`` beside it."""

    path: Path
    formats: tuple[str, ...]


@dataclass
class Attested(Message):
    """The user attested a checklist item, with a note."""

    item_id: str
    by: str
    note: str


@dataclass
class PlanReady(Message):
    """The apply plan for the current values and account."""

    plan: Any


@dataclass
class ChangeProgress(Message):
    """One change of the plan was written (or failed)."""

    change_id: str
    status: str
    """'running', 'done', 'failed' or 'rolled back'."""
    detail: str = ""


@dataclass
class PolicyApplied(Message):
    """Every selected change was applied; the backup can roll them back."""

    result: Any
    """The core's ApplyResult: journal, backups, outcome of every step."""


@dataclass
class ApplyFailed(Message):
    """Applying stopped part-way; what was written is in ``result``."""

    title: str
    message: str
    result: Any = None


@dataclass
class RolledBack(Message):
    """A rollback finished (``result`` is the core's RollbackResult)."""

    result: Any


@dataclass
class Exported(Message):
    """Files were written by the export step."""

    paths: tuple[Path, ...]


@dataclass
class ProblemReported(Message):
    """Something failed that the user must read (shown in a modal to copy)."""

    title: str
    message: str
    step_id: str | None = None
