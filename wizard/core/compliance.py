"""Checklist results grouped by compliance control (``audit --framework``).

The mapping is data (``checklists/mappings/compliance.toml``): per framework the
control ids with a short title and the document they come from, per checklist
item the controls its result is evidence for and why. :func:`load_mapping`
reads it strictly and :func:`validate` checks it against the checklist, so an
id that names no item, a control the framework does not define, or a control
nothing supports is an error instead of a silent gap.

:func:`group_by_control` says per control whether the audit fully, partly or
not evidences it: an item counts as evidence when it passed or was attested.
Every rendering carries the mapping's disclaimer: it supports an audit and
certifies nothing.
"""

from __future__ import annotations

import json
import textwrap
import tomllib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from wizard.core.checklist.model import Verdict
from wizard.core.checklist.report import KeyAudit
from wizard.core.errors import WizardError
from wizard.core.resources import data_dir

FRAMEWORKS = ("soc2", "pci-dss", "hipaa", "gdpr")
"""The frameworks ``--framework`` takes, as the mapping file names them."""

Coverage = Literal["full", "partial", "none"]
EVIDENCE = frozenset({"pass", "attested"})
"""Verdict statuses that evidence a control; anything else leaves it open."""

_WORDS: dict[Coverage, str] = {
    "full": "fully evidenced",
    "partial": "partly evidenced",
    "none": "not evidenced",
}


class ComplianceError(WizardError):
    """The mapping file cannot be used; the message names the file and entry."""

    title = "Compliance mapping"


@dataclass(frozen=True)
class Framework:
    """One framework: its controls (id -> title) and where they come from."""

    id: str
    name: str
    document: str
    url: str
    controls: Mapping[str, str]
    note: str = ""


@dataclass(frozen=True)
class ComplianceMapping:
    """The whole mapping file."""

    disclaimer: str
    frameworks: Mapping[str, Framework]
    items: Mapping[str, Mapping[str, tuple[str, ...]]]
    """item id -> framework id -> control ids."""
    basis: Mapping[str, str]
    """item id -> why it supports those controls."""


def mapping_path() -> Path:
    """The packaged mapping file."""
    return data_dir("checklists") / "mappings" / "compliance.toml"


@cache
def _load_default() -> ComplianceMapping:
    return load_mapping(mapping_path())


def load_mapping(path: Path | None = None) -> ComplianceMapping:
    """Read and shape-check the mapping (the packaged one by default).

    Raises:
        ComplianceError: The file is unreadable or an entry has the wrong shape.
    """
    if path is None:
        return _load_default()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ComplianceError(f"{path} cannot be read: {error}.") from None
    problems: list[str] = []
    frameworks = _frameworks(data.get("frameworks"), problems)
    items, basis = _items(data.get("items"), problems)
    disclaimer = data.get("disclaimer")
    if not isinstance(disclaimer, str) or "not certify" not in disclaimer:
        problems.append('disclaimer must say that the mapping does "not certify".')
    if problems:
        raise ComplianceError(f"{path} cannot be used:\n  " + "\n  ".join(problems))
    return ComplianceMapping(str(disclaimer), frameworks, items, basis)


def _frameworks(raw: Any, problems: list[str]) -> dict[str, Framework]:
    found: dict[str, Framework] = {}
    if not isinstance(raw, dict):
        problems.append("[frameworks] tables are missing.")
        return found
    for key in raw:
        if key not in FRAMEWORKS:
            problems.append(f"framework {key!r} is not one of {', '.join(FRAMEWORKS)}.")
    for key in FRAMEWORKS:
        table = raw.get(key)
        fields = ("name", "document", "url")
        if not isinstance(table, dict) or not all(
            isinstance(table.get(f), str) and table[f] for f in fields
        ):
            problems.append(f"[frameworks.{key}] needs name, document and url.")
            continue
        controls = table.get("controls")
        if not isinstance(controls, dict) or not controls:
            problems.append(f"[frameworks.{key}.controls] is missing or empty.")
            continue
        if not all(isinstance(t, str) and t for t in controls.values()):
            problems.append(f"[frameworks.{key}.controls]: every title is text.")
            continue
        found[key] = Framework(
            key,
            table["name"],
            table["document"],
            table["url"],
            dict(controls),
            str(table.get("note", "")),
        )
    return found


def _items(
    raw: Any, problems: list[str]
) -> tuple[dict[str, dict[str, tuple[str, ...]]], dict[str, str]]:
    items: dict[str, dict[str, tuple[str, ...]]] = {}
    basis: dict[str, str] = {}
    if not isinstance(raw, dict):
        problems.append("[items] tables are missing.")
        return items, basis
    for item_id, table in raw.items():
        if not isinstance(table, dict):
            problems.append(f"items.{item_id} must be a table.")
            continue
        unknown = sorted(set(table) - {*FRAMEWORKS, "basis"})
        if unknown:
            problems.append(f"items.{item_id}: unknown keys {', '.join(unknown)}.")
        if not isinstance(table.get("basis"), str) or not table["basis"].strip():
            problems.append(f"items.{item_id}: basis (why it applies) is missing.")
        lists = {k: v for k, v in table.items() if k in FRAMEWORKS}
        if not lists:
            problems.append(f"items.{item_id}: names no framework.")
        for name, controls in lists.items():
            if (
                not isinstance(controls, list)
                or not controls
                or not all(isinstance(c, str) for c in controls)
            ):
                problems.append(
                    f"items.{item_id}.{name} must be a non-empty list of ids."
                )
        items[item_id] = {k: tuple(v) for k, v in lists.items() if isinstance(v, list)}
        basis[item_id] = str(table.get("basis", ""))
    return items, basis


def validate(mapping: ComplianceMapping, item_ids: Collection[str]) -> list[str]:
    """Every way the mapping and the checklist disagree, one sentence each.

    Args:
        mapping: From :func:`load_mapping`.
        item_ids: The ids of the checklist's items.

    Returns:
        Problems: a mapped id that is no item, an item not mapped, a control id
        its framework does not define, a control no item supports. Empty when
        the two agree.
    """
    problems = [
        f"items.{item}: no such checklist item."
        for item in mapping.items
        if item not in item_ids
    ]
    problems += [
        f"checklist item {item} has no entry in the mapping."
        for item in item_ids
        if item not in mapping.items
    ]
    used: dict[str, set[str]] = {name: set() for name in mapping.frameworks}
    for item, lists in mapping.items.items():
        for name, controls in lists.items():
            known = mapping.frameworks[name].controls
            for control in controls:
                used[name].add(control)
                if control not in known:
                    problems.append(
                        f"items.{item}.{name}: {control!r} is not a control of "
                        f"{mapping.frameworks[name].name}."
                    )
    for name, framework in mapping.frameworks.items():
        problems += [
            f"frameworks.{name}: control {control!r} is supported by no item."
            for control in framework.controls
            if control not in used[name]
        ]
    return problems


@dataclass(frozen=True)
class ControlResult:
    """One control and the checklist results behind it."""

    control: str
    title: str
    coverage: Coverage
    verdicts: tuple[Verdict, ...]
    missing: tuple[str, ...]
    """Items mapped to the control that have no verdict in this audit."""


def group_by_control(
    verdicts: Sequence[Verdict],
    framework: str,
    mapping: ComplianceMapping | None = None,
) -> list[ControlResult]:
    """Per control of ``framework``, in the mapping's order, its coverage.

    Args:
        verdicts: One audit's verdicts.
        framework: One of :data:`FRAMEWORKS`.
        mapping: The mapping; the packaged one by default.

    Returns:
        Every control of the framework: ``full`` when all its items passed or
        were attested, ``partial`` when some did, ``none`` when none did.

    Raises:
        KeyError: ``framework`` is not in the mapping.
    """
    mapping = mapping or load_mapping()
    spec = mapping.frameworks[framework]
    by_item = {v.item_id: v for v in verdicts}
    results = []
    for control, title in spec.controls.items():
        items = [i for i, m in mapping.items.items() if control in m.get(framework, ())]
        found = tuple(by_item[i] for i in items if i in by_item)
        missing = tuple(i for i in items if i not in by_item)
        good = sum(v.status in EVIDENCE for v in found)
        total = len(found) + len(missing)
        coverage: Coverage = (
            "full" if total and good == total else "partial" if good else "none"
        )
        results.append(ControlResult(control, title, coverage, found, missing))
    return results


def framework_json(
    verdicts: Sequence[Verdict],
    framework: str,
    mapping: ComplianceMapping | None = None,
) -> dict[str, Any]:
    """The grouping as JSON, with the source and the disclaimer."""
    mapping = mapping or load_mapping()
    spec = mapping.frameworks[framework]
    results = group_by_control(verdicts, framework, mapping)
    return {
        "framework": framework,
        "name": spec.name,
        "source": {"document": spec.document, "url": spec.url, "note": spec.note},
        "disclaimer": mapping.disclaimer,
        "summary": {c: sum(r.coverage == c for r in results) for c in _WORDS},
        "controls": [
            {
                "control": r.control,
                "title": r.title,
                "coverage": r.coverage,
                "items": [{"id": v.item_id, "status": v.status} for v in r.verdicts]
                + [{"id": i, "status": "not_evaluated"} for i in r.missing],
            }
            for r in results
        ],
    }


def _items_line(result: ControlResult) -> str:
    parts = [f"{v.item_id} {v.status.replace('_', ' ')}" for v in result.verdicts]
    return ", ".join(parts + [f"{i} not evaluated" for i in result.missing])


def _summary(results: Sequence[ControlResult]) -> str:
    return ", ".join(
        f"{sum(r.coverage == c for r in results)} {_WORDS[c]}" for c in _WORDS
    )


def to_text(
    verdicts: Sequence[Verdict],
    framework: str,
    mapping: ComplianceMapping | None = None,
    width: int = 88,
) -> str:
    """A plain-text table: control, coverage, title and the items behind it."""
    mapping = mapping or load_mapping()
    spec = mapping.frameworks[framework]
    results = group_by_control(verdicts, framework, mapping)
    wrap = textwrap.TextWrapper(
        width,
        initial_indent=" " * 6,
        subsequent_indent=" " * 6,
        break_long_words=False,
        break_on_hyphens=False,
    )
    lines = [f"{spec.name}: controls this key's checklist supports", ""]
    for result in results:
        lines.append(f"  {result.control:<22} {_WORDS[result.coverage]}")
        lines += wrap.wrap(result.title) + wrap.wrap(_items_line(result))
    lines += ["", f"Summary: {_summary(results)}."]
    lines += textwrap.wrap(
        f"Source: {spec.document} {spec.url}", width, break_long_words=False
    )
    lines += textwrap.wrap(mapping.disclaimer, width)
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(
    verdicts: Sequence[Verdict],
    framework: str,
    mapping: ComplianceMapping | None = None,
) -> str:
    """A Markdown section with one table row per control (for reports, runbooks)."""
    mapping = mapping or load_mapping()
    spec = mapping.frameworks[framework]
    results = group_by_control(verdicts, framework, mapping)
    out = [
        f"## {spec.name} controls",
        "",
        f"> {_cell(mapping.disclaimer)}",
        "",
        "| Control | Evidence | What it asks | Checklist items |",
        "| --- | --- | --- | --- |",
    ]
    out += [
        f"| {_cell(r.control)} | {_WORDS[r.coverage]} | {_cell(r.title)} "
        f"| {_cell(_items_line(r))} |"
        for r in results
    ]
    out += ["", f"{_summary(results)}.", "", f"Source: {spec.document} <{spec.url}>"]
    if spec.note:
        out += ["", spec.note]
    return "\n".join(out) + "\n"


def add_to_report(
    rendered: str, audits: Sequence[KeyAudit], framework: str, fmt: str
) -> str:
    """``rendered`` (an audit report) with the framework's table for each key.

    JSON reports get a ``compliance`` object (per key in a fleet report); text
    and Markdown get the table appended; SARIF is returned unchanged, because
    SARIF has no place for a control table.
    """
    if fmt == "json":
        document = json.loads(rendered)
        if "keys" in document:
            for entry, audit in zip(document["keys"], audits, strict=True):
                entry["compliance"] = framework_json(audit.verdicts, framework)
        else:
            document["compliance"] = framework_json(audits[0].verdicts, framework)
        return json.dumps(document, indent=2) + "\n"
    if fmt not in ("text", "markdown"):
        return rendered
    parts = [rendered.rstrip("\n"), ""]
    for audit in audits:
        if len(audits) > 1:
            parts.append(f"Key {audit.arn}" if fmt == "text" else f"# `{audit.arn}`")
        render = to_text if fmt == "text" else to_markdown
        parts.append(render(audit.verdicts, framework))
    return "\n".join(parts).rstrip("\n") + "\n"


@dataclass(frozen=True)
class StatusOnly:
    """The part of a verdict the grouping reads, for verdicts read from JSON."""

    item_id: str
    status: str


def section(
    verdicts: Sequence[Any],
    framework: str,
    mapping: ComplianceMapping | None = None,
) -> dict[str, Any]:
    """The grouping as plain strings, for the runbook's templates.

    ``verdicts`` need only ``item_id`` and ``status`` (see :class:`StatusOnly`).
    """
    mapping = mapping or load_mapping()
    spec = mapping.frameworks[framework]
    results = group_by_control(verdicts, framework, mapping)
    return {
        "name": spec.name,
        "disclaimer": mapping.disclaimer,
        "document": spec.document,
        "url": spec.url,
        "note": spec.note,
        "summary": _summary(results),
        "rows": [
            {
                "control": r.control,
                "evidence": _WORDS[r.coverage],
                "title": r.title,
                "items": _items_line(r),
            }
            for r in results
        ],
    }
