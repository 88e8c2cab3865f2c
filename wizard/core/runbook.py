"""The runbook: a view model of everything done to the key, rendered by jinja2.

:func:`build_view` gathers the values, the generated policy with each
statement's reason, the apply journal, the audit and the attestations into one
immutable :class:`RunbookView`; :func:`render_runbook` renders it with the
templates in ``templates/`` as Markdown or as one self-contained HTML file. The
command line and the TUI's export both call these two functions.

Rendering is strict (``StrictUndefined``, and the escaping filters refuse
``None``), so a value missing from the view stops the export with a message
instead of leaving a blank line in a document people act on. Text that came from
files or user input is escaped for the output format, and anything that looks
like a credential is removed before it can be written (see :mod:`.runbook_text`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import jinja2

from wizard import __version__
from wizard.core import compliance
from wizard.core import runbook_inputs as inputs
from wizard.core import runbook_journal as journals
from wizard.core import runbook_text as text
from wizard.core.checklist.model import Item
from wizard.core.errors import WizardError
from wizard.core.fsutil import write_atomic
from wizard.core.policy.build import build_policy, build_statements
from wizard.core.policy.formats import to_json
from wizard.core.resources import data_dir
from wizard.core.runbook_inputs import (
    AttestedRow,
    ChecklistRow,
    Rewording,
    VerifyGroup,
)
from wizard.core.runbook_journal import (
    Change,
    JournalFile,
    RollbackStep,
    RotationPlan,
)
from wizard.core.steps import STEPS
from wizard.core.values import Values

RunbookFormat = Literal["markdown", "html"]
FORMATS: tuple[RunbookFormat, ...] = ("markdown", "html")
_TEMPLATES: dict[RunbookFormat, str] = {
    "markdown": "runbook.md.j2",
    "html": "runbook.html.j2",
}


class RunbookError(WizardError):
    """The runbook cannot be built or rendered; nothing was written."""

    title = "Runbook"


@dataclass(frozen=True)
class Row:
    """One labelled value of the environment table."""

    label: str
    value: str


@dataclass(frozen=True)
class StatementNote:
    """A statement of the final policy and why it is there."""

    number: int
    sid: str
    effect: str
    reason: str
    guide_section: str
    corrections: tuple[int, ...]


@dataclass(frozen=True)
class Correction:
    """A place where the guide is wrong and what this runbook does instead."""

    number: int
    guide_place: str
    difference: str


@dataclass(frozen=True)
class RunbookView:
    """Everything the templates show; built once, never changed."""

    generated_at: str
    tool_version: str
    generated_by: str
    key_arn: str
    region: str
    bucket: str
    environment: tuple[Row, ...]
    policy_json: str
    policy_state: str
    statements: tuple[StatementNote, ...]
    journal_source: str
    changes: tuple[Change, ...]
    backups: tuple[str, ...]
    audit_source: str
    audited_at: str
    checklist: tuple[ChecklistRow, ...]
    summary: tuple[Row, ...]
    attestations: tuple[AttestedRow, ...]
    audit_command: str
    verify: tuple[VerifyGroup, ...]
    rollback: tuple[RollbackStep, ...]
    rotation: RotationPlan
    corrections: tuple[Correction, ...]
    rewordings: tuple[Rewording, ...]
    compliance: Mapping[str, Any] | None = None
    """The framework's control table (``--framework``), or None."""

    def with_generated_at(self, stamp: str) -> RunbookView:
        """A copy with another generation time (golden tests fix it)."""
        return replace(self, generated_at=stamp)


def build_view(
    values: Values,
    *,
    audit: Mapping[str, Any] | None = None,
    audit_source: str = "",
    journal: Sequence[JournalFile] = (),
    identity: Mapping[str, Any] | None = None,
    attestations: Mapping[str, Any] | None = None,
    catalog: Sequence[Item] = (),
    config_path: Path | None = None,
    now: datetime | None = None,
    framework: str | None = None,
) -> RunbookView:
    """The runbook's content for ``values`` and whatever has been recorded.

    Args:
        values: the checked values (the policy is generated from them).
        audit: the parsed ``harbor-kms audit --format json`` document, if any.
        audit_source: where the audit came from, shown to the reader.
        journal: the apply and rollback journals, oldest first.
        identity: the STS caller identity of whoever exports the runbook.
        attestations: the config file's ``[attestations]`` table.
        catalog: the checklist's items, so items missing from the audit still
            appear ("not checked").
        config_path: the values file, for the commands that re-run the tool.
        now: the generation time (UTC now by default).
        framework: a compliance framework (soc2, pci-dss, hipaa, gdpr) whose
            control table the runbook adds, from the audit's verdicts.

    Returns:
        The view the templates render.

    Raises:
        RunbookError: an input is unusable or belongs to another key.
    """
    try:
        view = _build(
            values,
            audit=audit,
            audit_source=audit_source,
            journal=journal,
            identity=identity,
            attestations=attestations or {},
            catalog=catalog,
            config_path=config_path,
            now=now or datetime.now(UTC),
        )
    except inputs.InputProblem as problem:
        raise RunbookError(str(problem)) from None
    if framework is None:
        return view
    if audit is None:
        raise RunbookError(
            f"A {framework} control table needs an audit: pass --audit AUDIT.json."
        )
    return replace(view, compliance=_compliance(audit, framework))


def _compliance(audit: Mapping[str, Any], framework: str) -> Mapping[str, Any]:
    """The control table from an audit document's item statuses."""
    items = audit.get("items")
    statuses = (
        [
            compliance.StatusOnly(str(i.get("id")), str(i.get("status")))
            for i in items
            if isinstance(i, Mapping)
        ]
        if isinstance(items, list)
        else []
    )
    return compliance.section(statuses, framework)


def _build(
    values: Values,
    *,
    audit: Mapping[str, Any] | None,
    audit_source: str,
    journal: Sequence[JournalFile],
    identity: Mapping[str, Any] | None,
    attestations: Mapping[str, Any],
    catalog: Sequence[Item],
    config_path: Path | None,
    now: datetime,
) -> RunbookView:
    fill = text.Placeholders.from_values(values)
    if audit is not None:
        inputs.check_audit_key(audit, values)
    changes = journals.read_changes(journal)
    checklist = inputs.checklist_rows(audit, catalog, attestations, fill)
    config_arg = f" --config {fill.quote(str(config_path))}" if config_path else ""
    return RunbookView(
        generated_at=text.stamp(now),
        tool_version=__version__,
        generated_by=inputs.identity_words(identity),
        key_arn=values.key_arn,
        region=values.region,
        bucket=values.bucket,
        environment=_environment(values),
        # The same builder and format as ``policy render``: the fenced JSON
        # in the runbook is byte for byte what that command prints.
        policy_json=to_json(build_policy(values)),
        policy_state=journals.policy_state(changes),
        statements=_statements(values),
        journal_source=", ".join(j.path for j in journal) or "none",
        changes=changes,
        backups=tuple(dict.fromkeys(c.backup for c in changes if c.backup)),
        audit_source=audit_source or ("in-session audit" if audit else "none"),
        audited_at=inputs.audit_time(audit),
        checklist=checklist,
        summary=tuple(Row(k, str(n)) for k, n in inputs.count(checklist).items()),
        attestations=inputs.attested(checklist),
        audit_command=f"harbor-kms audit{config_arg} --format json",
        verify=inputs.verify_groups(checklist),
        rollback=journals.rollback_steps(changes, fill, config_arg),
        rotation=journals.rotation_plan(values, audit, changes),
        corrections=_corrections(values),
        rewordings=inputs.rewordings(catalog),
    )


def _environment(values: Values) -> tuple[Row, ...]:
    """Every field the steps ask for, under the step model's own labels."""
    rows = [
        Row(spec.label, spec.format(values) or "not set")
        for step in STEPS
        for spec in step.fields
    ]
    rows += [
        Row("Key ARN", values.key_arn),
        Row("kms:ViaService", values.via_service),
        Row("aws:s3:arn form matched", values.context_form),
    ]
    return tuple(rows)


def _statements(values: Values) -> tuple[StatementNote, ...]:
    return tuple(
        StatementNote(
            number,
            stmt.sid,
            str(stmt.body["Effect"]),
            stmt.reason,
            stmt.guide_section,
            stmt.corrections,
        )
        for number, stmt in enumerate(build_statements(values), start=1)
    )


def _corrections(values: Values) -> tuple[Correction, ...]:
    used = {n for stmt in build_statements(values) for n in stmt.corrections}
    # Corrections behind the runbook's other sections apply whatever the options:
    # 7 (how KMS decides), 10 (lockout check), 11 (simulator), 12-13 (monitoring),
    # 15-16 (rotation and deletion).
    used |= {7, 10, 11, 12, 13, 15, 16}
    return tuple(
        Correction(number, *text.correction(number)) for number in sorted(used)
    )


def render_runbook(view: RunbookView, fmt: RunbookFormat = "markdown") -> str:
    """The runbook as Markdown or as one self-contained HTML document.

    Raises:
        RunbookError: a template refers to a value the view does not have, or a
            template is missing or broken.
    """
    if fmt not in _TEMPLATES:
        raise RunbookError(f"Unknown runbook format {fmt!r}: use markdown or html.")
    environment = _environment_for(fmt)
    try:
        rendered = environment.get_template(_TEMPLATES[fmt]).render(view=view)
    except (jinja2.UndefinedError, ValueError) as error:
        # UndefinedError: StrictUndefined; ValueError: an escaping filter got None.
        raise RunbookError(
            f"The runbook template refers to a value that is missing: {error}. "
            "Nothing was written."
        ) from None
    except jinja2.TemplateError as error:
        raise RunbookError(
            f"The runbook template {getattr(error, 'name', '')} cannot be "
            f"rendered: {error}."
        ) from None
    return text.redact(rendered)


def _environment_for(fmt: RunbookFormat) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(data_dir("templates")),
        undefined=jinja2.StrictUndefined,
        # HTML escapes every value; Markdown has no autoescape, so its templates
        # pass each value through the ``md`` filter instead.
        autoescape=fmt == "html",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["md"] = text.md_escape
    environment.filters["code"] = text.code
    environment.filters["fence"] = text.fence
    environment.filters["status_word"] = text.status_word
    return environment


def write_runbook(view: RunbookView, path: Path, fmt: RunbookFormat) -> None:
    """Render and write atomically: a failed render leaves any old file as it was.

    Raises:
        RunbookError: rendering failed or the file cannot be written.
    """
    rendered = render_runbook(view, fmt)
    try:
        write_atomic(Path(path), rendered)
    except OSError as error:
        raise RunbookError(
            f"The runbook {path} cannot be written: {error.strerror}."
        ) from None


def read_journal_files(
    config_path: Path, values: Values, given: Path | None = None
) -> tuple[list[JournalFile], list[str]]:
    """The journals to report, and warnings about them.

    ``given`` may be one journal or a folder of them; without it, the journals
    of this key beside the config file are used when they exist, so a runbook
    never leaves out an apply the tool recorded.

    Raises:
        RunbookError: ``given`` does not exist.
        JournalError: a journal is unreadable or damaged before its last line.
    """
    from wizard.core.apply.backup import state_dir
    from wizard.core.apply.journal import JOURNALS, read_records

    if given is not None and not given.exists():
        raise RunbookError(f"Journal {given} does not exist.")
    folder = given if given is not None else state_dir(config_path) / JOURNALS
    if folder.is_dir():
        paths = sorted(folder.glob(f"{values.bare_key_id}-*.jsonl"))
    else:
        paths = [folder] if given is not None else []
    journals, warnings = [], []
    for path in paths:
        records, torn = read_records(path)
        if torn:
            warnings.append(
                f"{path}: the last line was cut off mid-write and is left out."
            )
        journals.append(JournalFile(str(path), tuple(records)))
    return journals, warnings


def load_catalog() -> list[Item]:
    """The checklist's items, so the runbook lists every one of them."""
    from wizard.core.checklist.engine import load_items

    return load_items()
