"""What the runbook reads about the checklist, as plain rows.

The audit document (``harbor-kms audit --format json``), the checklist catalog
and the config file's ``[attestations]`` become small frozen rows the templates
show (the journals are read by :mod:`wizard.core.runbook_journal`).
Every text taken from a file goes through :func:`runbook_text.clean`, which
drops credential-named fields and redacts credential-like strings; escaping for
Markdown or HTML happens at render time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wizard.core import runbook_text as text
from wizard.core.checklist.model import Item
from wizard.core.runbook_text import Placeholders, clean
from wizard.core.values import Values

STATUSES = ("pass", "fail", "unknown", "attested", "not_attested", "not_checked")
"""The checklist's verdicts, and ``not_checked`` for items no audit covered."""


class InputProblem(ValueError):
    """An input file has the wrong shape or belongs to another key."""


@dataclass(frozen=True)
class ChecklistRow:
    """One checklist item with its verdict, evidence and how to check it again."""

    id: str
    section: str
    title: str
    status: str
    evidence: str
    reason: str
    checked_at: str
    remediation: str
    """How to fix it, in words (console steps, the apply change)."""
    fix_command: str
    """The fix as a command to paste ('' when the audit gave none)."""
    verify: tuple[str, ...]
    attested_by: str
    attested_at: str
    attestation_note: str


@dataclass(frozen=True)
class AttestedRow:
    """An item a person vouched for, and who did."""

    item_id: str
    title: str
    by: str
    at: str
    note: str


@dataclass(frozen=True)
class Rewording:
    """A checklist line the tool words differently from the guide, and why."""

    item_id: str
    guide_text: str
    title: str
    correction: str


def rewordings(catalog: Sequence[Item]) -> tuple[Rewording, ...]:
    """The catalog's items whose title corrects the guide's wording."""
    return tuple(
        Rewording(item.id, item.guide_text, item.title, item.correction)
        for item in catalog
        if item.correction
    )


def when(value: Any) -> str:
    """A time from a file as the runbook prints it (as given when unparsable)."""
    # TOML gives datetimes (attestations), JSON gives ISO 8601 strings.
    moment = value if isinstance(value, datetime) else text.parse_time(value)
    return text.stamp(moment) if moment else clean(value)


def check_audit_key(audit: Mapping[str, Any], values: Values) -> None:
    """Refuse an audit of another key: its verdicts would describe the wrong key."""
    key = audit.get("key")
    arn = key.get("arn") or key.get("key_arn") if isinstance(key, Mapping) else key
    if not isinstance(audit.get("items"), list):
        raise InputProblem("The audit has no 'items' list; is it audit --format json?")
    if isinstance(arn, str) and arn.startswith("arn:") and arn != values.key_arn:
        raise InputProblem(
            f"The audit is of key {clean(arn)}, but the values name key "
            f"{values.key_arn}; run the audit with the same config."
        )


def audit_time(audit: Mapping[str, Any] | None) -> str:
    """When the audit read the account: its own time, else its latest evidence."""
    if audit is None:
        return "not audited"
    for name in ("read_at", "generated_at", "at"):
        if audit.get(name):
            return when(audit[name])
    times = [t for item in audit.get("items", []) if (t := _evidence_time(item))]
    return text.stamp(max(times)) if times else "not recorded in the audit"


def _evidence_time(item: Any) -> datetime | None:
    """The latest evidence time of an audit item (when its reads were made)."""
    if not isinstance(item, Mapping):
        return None
    if item.get("checked_at"):
        return text.parse_time(item["checked_at"])
    evidence = item.get("evidence")
    stamps = [
        moment
        for entry in (evidence if isinstance(evidence, list) else [])
        if isinstance(entry, Mapping) and (moment := text.parse_time(entry.get("at")))
    ]
    return max(stamps, default=None)


def checklist_rows(
    audit: Mapping[str, Any] | None,
    catalog: Sequence[Item],
    attestations: Mapping[str, Any],
    fill: Placeholders,
) -> tuple[ChecklistRow, ...]:
    """Audit verdicts in catalog order; catalog items the audit lacks: not checked."""
    by_id = {item.id: item for item in catalog}
    found = _audit_items(audit)
    ids = list(dict.fromkeys([*by_id, *found]))
    default_time = audit_time(audit)
    rows = []
    for item_id in ids:
        verdict = found.get(item_id, {})
        info = by_id.get(item_id)
        claim = _attestation(attestations.get(item_id))
        rows.append(
            ChecklistRow(
                id=item_id,
                section=clean(verdict.get("section") or _attr(info, "section")),
                title=clean(verdict.get("title") or _attr(info, "title")) or item_id,
                status=_status(verdict.get("status", "not_checked"), item_id),
                evidence=_evidence(verdict.get("evidence")) or "none recorded",
                reason=clean(verdict.get("reason")) or "none given",
                checked_at=_checked(verdict, default_time),
                remediation=_remediation(verdict.get("remediation"), fill),
                fix_command=_fix_command(verdict.get("remediation"), fill),
                verify=_verify(info, fill),
                attested_by=claim[0],
                attested_at=claim[1],
                attestation_note=claim[2],
            )
        )
    return tuple(rows)


def _audit_items(audit: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    items: dict[str, Mapping[str, Any]] = {}
    for index, item in enumerate((audit or {}).get("items", [])):
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            raise InputProblem(f"Audit item {index} has no 'id'.")
        if "status" not in item:
            raise InputProblem(f"Audit item {item['id']!r} has no 'status'.")
        items[item["id"]] = item
    return items


def _checked(verdict: Mapping[str, Any], default_time: str) -> str:
    if not verdict:
        return "not checked"
    moment = _evidence_time(verdict)
    return text.stamp(moment) if moment else default_time


def _evidence(value: Any) -> str:
    """Evidence as 'api: field value, ...' per call; empty fields left out.

    The time of each call is left out too: the row shows when it was checked.
    """
    if not isinstance(value, list):
        return clean(value)
    parts = []
    for entry in value:
        if not isinstance(entry, Mapping):
            parts.append(clean(entry))
            continue
        # The audit nests the call's fields under "fields"; older shapes do not.
        flat = (
            {**entry, **entry["fields"]}
            if isinstance(entry.get("fields"), Mapping)
            else entry
        )
        fields = [
            f"{k} {clean(v)}"
            for k, v in flat.items()
            if k not in ("api", "at", "fields")
            and not text.is_secret_name(str(k))
            and clean(v)
        ]
        api = clean(entry.get("api")) or "evidence"
        parts.append(f"{api}: {', '.join(fields)}" if fields else api)
    return "; ".join(parts)


def _status(value: Any, item_id: str) -> str:
    status = str(value).lower().replace(" ", "_")
    if status not in STATUSES:
        raise InputProblem(
            f"Audit item {item_id!r} has status {clean(value)!r}; expected one "
            f"of {', '.join(STATUSES)}."
        )
    return status


def _remediation(value: Any, fill: Placeholders) -> str:
    """The fix in words, as the audit gave it: console steps, the apply change."""
    if not value:
        return "none needed"
    if not isinstance(value, Mapping):
        return fill.fill(clean(value))
    parts = [clean(value.get(k)) for k in ("console", "text") if value.get(k)]
    if value.get("apply"):
        parts.append(
            f"Or let harbor-kms apply make the change {clean(value['apply'])}."
        )
    if not parts:
        return "see the command below" if value.get("cli") else "none needed"
    return fill.fill(" ".join(parts))


def _fix_command(value: Any, fill: Placeholders) -> str:
    """The audit's CLI fix, placeholders filled with shell-safe values."""
    if isinstance(value, Mapping) and value.get("cli"):
        return fill.fill(clean(value["cli"]))
    return ""


def _attr(item: Item | None, name: str) -> str:
    return str(getattr(item, name)) if item is not None else ""


def _verify(item: Item | None, fill: Placeholders) -> tuple[str, ...]:
    """Read-only commands for the permissions the item's evaluator needs.

    Permissions that write (the probe's s3:PutObject, kms:Decrypt) have no
    entry in :data:`READ_COMMANDS`, so nothing here changes the account.
    """
    if item is None:
        return ()
    table = text.READ_COMMANDS
    if "cloudtrail:DescribeTrails" in item.permissions:
        # An item that reads trails reads the trails' buckets, not Harbor's.
        table = {**text.READ_COMMANDS, **text.TRAIL_BUCKET_COMMANDS}
    commands = [table[p] for p in item.permissions if p in table]
    return tuple(fill.fill(c) for c in dict.fromkeys(commands))


def _attestation(value: Any) -> tuple[str, str, str]:
    """(by, at, note) of a config attestation; empty strings when there is none."""
    if value is None:
        return "", "", ""
    if isinstance(value, str):
        return clean(value), "", ""
    if not isinstance(value, Mapping):
        raise InputProblem("An [attestations] entry must be a table or a name.")
    by = clean(value.get("by") or value.get("attested_by")) or "not recorded"
    at = when(value.get("at")) if value.get("at") else "not recorded"
    return by, at, clean(value.get("note"))


def attested(rows: Sequence[ChecklistRow]) -> tuple[AttestedRow, ...]:
    """Items vouched for by a person, with who and when."""
    return tuple(
        AttestedRow(
            row.id,
            row.title,
            row.attested_by or "not recorded",
            row.attested_at or row.checked_at,
            row.attestation_note or row.evidence,
        )
        for row in rows
        if row.attested_by or row.status == "attested"
    )


@dataclass(frozen=True)
class VerifyGroup:
    """Items re-checked by the same read-only commands."""

    items: tuple[tuple[str, str], ...]
    """(id, title) of each item."""
    commands: tuple[str, ...]


def verify_groups(rows: Sequence[ChecklistRow]) -> tuple[VerifyGroup, ...]:
    """Items grouped by their commands, in checklist order; no commands last."""
    groups: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for row in rows:
        groups.setdefault(row.verify, []).append((row.id, row.title))
    ordered = sorted(groups.items(), key=lambda pair: not pair[0])
    return tuple(VerifyGroup(tuple(items), cmds) for cmds, items in ordered)


def count(rows: Sequence[ChecklistRow]) -> dict[str, int]:
    """How many items have each status (every status listed, zeros too)."""
    counts = {text.status_word(s): 0 for s in STATUSES}
    for row in rows:
        counts[text.status_word(row.status)] += 1
    return counts


def identity_words(identity: Mapping[str, Any] | None) -> str:
    """Who: the STS caller's ARN, from GetCallerIdentity or a journal record."""
    if not identity:
        return "not recorded"
    for name in ("Arn", "arn", "caller_arn"):
        if isinstance(identity.get(name), str):
            return clean(identity[name])
    return "not recorded"
