"""Audit results as JSON, a text table, Markdown tables or SARIF 2.1.0.

Pure rendering of :class:`KeyAudit` objects: the audit command writes what these
return, and the runbook reads the JSON form back (``items`` with ``id``,
``section``, ``title``, ``status``, ``evidence``, ``reason``, ``remediation``).
SARIF has one result per ``fail`` (level error) or ``unknown`` (level warning),
each naming the key as a logical location.
Spec: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wizard.core.checklist.engine import summary
from wizard.core.checklist.model import SECTIONS, STATUSES, Item, Verdict
from wizard.core.snapshot import AccountSnapshot, KeyInfo, Unknown
from wizard.core.values import Values

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
    "sarif-schema-2.1.0.json"
)
TOOL_URI = "https://pypi.org/project/harbor-kms-wizard/"
_MARKS = {
    "pass": "PASS",
    "fail": "FAIL",
    "unknown": "UNKNOWN",
    "attested": "ATTESTED",
    "not_attested": "NOT ATTESTED",
}


@dataclass(frozen=True)
class KeyAudit:
    """One key's audit: what was read about the key, and a verdict per item."""

    key: Mapping[str, Any]
    items: Sequence[Item]
    verdicts: Sequence[Verdict]

    @property
    def arn(self) -> str:
        return str(self.key.get("arn", ""))


def key_json(snapshot: AccountSnapshot, values: Values) -> dict[str, Any]:
    """The key's ARN and the metadata read, or why it could not be read."""
    key = snapshot.key
    found: dict[str, Any] = {"region": snapshot.region}
    caller = snapshot.caller
    if not isinstance(caller, Unknown):
        found["account"] = caller.account
    if isinstance(key, Unknown):
        return {"arn": values.key_arn, **found, "error": key.reason}
    found |= {
        "key_id": key.key_id,
        "description": key.description,
        "state": key.state,
        "manager": key.manager,
        "origin": key.origin,
        "spec": key.spec,
        "usage": key.usage,
        "created": key.created.isoformat() if key.created else None,
        "multi_region": key.multi_region,
        "deletion_date": key.deletion_date.isoformat() if key.deletion_date else None,
    }
    if not isinstance(snapshot.aliases, Unknown):
        found["aliases"] = list(snapshot.aliases)
    return {"arn": key.arn, **found}


def key_from_info(info: KeyInfo) -> dict[str, Any]:
    """A minimal key object for a key whose snapshot was not taken."""
    return {"arn": info.arn, "key_id": info.key_id, "state": info.state}


def verdict_json(item: Item, verdict: Verdict) -> dict[str, Any]:
    """One item's result in the JSON report."""
    fix = verdict.remediation
    return {
        "id": item.id,
        "section": item.section,
        "title": item.title,
        "status": verdict.status,
        "evidence": [
            {"api": e.api, "fields": dict(e.fields), "at": e.at.isoformat()}
            for e in verdict.evidence
        ],
        "reason": verdict.reason,
        "remediation": (
            {"console": fix.console, "cli": fix.cli, "apply": fix.apply}
            if fix is not None
            else None
        ),
    }


def audit_json(audit: KeyAudit) -> dict[str, Any]:
    """``{"key": ..., "items": [...], "summary": {status: count}}``."""
    return {
        "key": dict(audit.key),
        "items": [
            verdict_json(i, v) for i, v in zip(audit.items, audit.verdicts, strict=True)
        ],
        "summary": summary(audit.verdicts),
    }


def fleet_json(audits: Sequence[KeyAudit]) -> dict[str, Any]:
    """``{"keys": [audit_json per key], "summary": counts over all keys}``."""
    return {
        "keys": [audit_json(a) for a in audits],
        "summary": summary(v for a in audits for v in a.verdicts),
    }


def _sectioned(audit: KeyAudit) -> list[tuple[str, list[tuple[Item, Verdict]]]]:
    rows = list(zip(audit.items, audit.verdicts, strict=True))
    order = [*SECTIONS, *sorted({i.section for i in audit.items} - set(SECTIONS))]
    return [
        (section, [(i, v) for i, v in rows if i.section == section])
        for section in order
        if any(i.section == section for i, _ in rows)
    ]


def summary_line(counts: Mapping[str, int]) -> str:
    """``12 pass, 3 fail, ...`` in status order."""
    return ", ".join(f"{counts.get(s, 0)} {s.replace('_', ' ')}" for s in STATUSES)


def to_text(audits: Sequence[KeyAudit], width: int = 100) -> str:
    """A plain-text table per key and section; reasons under non-passing rows."""
    lines: list[str] = []
    for audit in audits:
        state = audit.key.get("state") or audit.key.get("error", "")
        lines += [f"Key {audit.arn}" + (f" ({state})" if state else ""), ""]
        for section, rows in _sectioned(audit):
            lines.append(section)
            for item, verdict in rows:
                lines.append(
                    f"  {_MARKS[verdict.status]:<13} {item.id:<44} {item.title}"
                )
                if verdict.status != "pass":
                    lines += textwrap.wrap(
                        verdict.reason,
                        width,
                        initial_indent=" " * 16,
                        subsequent_indent=" " * 16,
                        break_long_words=False,
                        break_on_hyphens=False,
                    )
            lines.append("")
        lines += [f"Summary: {summary_line(summary(audit.verdicts))}", ""]
    if len(audits) > 1:
        total = summary(v for a in audits for v in a.verdicts)
        lines.append(f"All {len(audits)} keys: {summary_line(total)}")
    return "\n".join(lines).rstrip() + "\n"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(audits: Sequence[KeyAudit]) -> str:
    """A Markdown report: a table per section for each key."""
    out: list[str] = ["# KMS key audit", ""]
    for audit in audits:
        out += [f"## `{audit.arn}`", "", summary_line(summary(audit.verdicts)), ""]
        for section, rows in _sectioned(audit):
            out += [
                f"### {section}",
                "",
                "| Status | Item | Reason |",
                "| --- | --- | --- |",
            ]
            out += [
                f"| {_MARKS[v.status]} | {_cell(i.title)} (`{i.id}`) "
                f"| {_cell(v.reason)} |"
                for i, v in rows
            ]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _rule(item: Item) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": item.id,
        "name": item.id,
        "shortDescription": {"text": item.title},
        "fullDescription": {
            "text": " ".join(
                part
                for part in (
                    f"Guide: {item.guide_text}" if item.guide_text else "",
                    item.correction,
                )
                if part
            )
            or item.title
        },
        "properties": {"section": item.section},
    }
    if item.references:
        rule["helpUri"] = item.references[0]
    return rule


def to_sarif(audits: Sequence[KeyAudit]) -> dict[str, Any]:
    """A SARIF 2.1.0 log: one result per fail (error) or unknown (warning)."""
    items = list(audits[0].items) if audits else []
    index = {item.id: n for n, item in enumerate(items)}
    results = []
    for audit in audits:
        for item, verdict in zip(audit.items, audit.verdicts, strict=True):
            if verdict.status not in ("fail", "unknown"):
                continue
            text = verdict.reason
            if verdict.remediation is not None and verdict.remediation.cli:
                text += f" Fix: {verdict.remediation.cli}"
            results.append(
                {
                    "ruleId": item.id,
                    "ruleIndex": index[item.id],
                    "level": "error" if verdict.status == "fail" else "warning",
                    "message": {"text": text},
                    "locations": [
                        {
                            "logicalLocations": [
                                {
                                    "name": audit.arn.rsplit("/", 1)[-1],
                                    "fullyQualifiedName": audit.arn,
                                    "kind": "resource",
                                }
                            ]
                        }
                    ],
                }
            )
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "harbor-kms",
                        "informationUri": TOOL_URI,
                        "rules": [_rule(i) for i in items],
                    }
                },
                "results": results,
            }
        ],
    }
