"""Read checklist files strictly: every mistake is reported with file and item.

A checklist file is reviewed by people and read by the tool, so an unknown key,
a duplicate id, an evaluator nobody registered or a placeholder the renderer
cannot fill is an error that names the file and the item, never a silent skip.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

from wizard.core.checklist.model import (
    ATTESTED,
    PLACEHOLDER_PATTERN,
    PLACEHOLDERS,
    SECTIONS,
    ChecklistError,
    Item,
    Remediation,
)

APPLY_CHANGES = (
    "put-key-policy",
    "enable-rotation",
    "create-trail",
    "create-alarms",
    "create-event-rules",
    "create-config-rule",
    "create-dashboard",
    "tag-key",
    "describe-key",
)
"""The change ids ``harbor-kms apply`` knows; remediation.apply is one or ""."""

_ID = re.compile(r"[a-z][a-z0-9_]{2,63}")
_PERMISSION = re.compile(r"[a-z0-9-]+:[A-Za-z0-9*]+")
_TEXT_KEYS = ("id", "section", "title", "guide_section", "guide_text", "correction")
_REQUIRED = (*_TEXT_KEYS, "evaluator", "permissions", "requires_probe", "remediation")
_ITEM_KEYS = frozenset((*_REQUIRED, "references"))
_REMEDIATION_KEYS = ("console", "cli", "apply")


def load_files(paths: Iterable[Path], evaluators: Collection[str]) -> list[Item]:
    """Every item of ``paths``, in file order; ids must be unique across files.

    Args:
        paths: checklist TOML files.
        evaluators: the registered evaluator names ("attested" is always known).

    Returns:
        The items.

    Raises:
        ChecklistError: any file is unreadable or invalid; the message lists
            every problem found, each with its file and item.
    """
    items: list[Item] = []
    problems: list[str] = []
    seen: dict[str, Path] = {}
    for path in paths:
        found, file_problems = _load_file(Path(path), evaluators)
        problems += file_problems
        for item in found:
            if item.id in seen:
                problems.append(
                    f"{path}: item {item.id}: duplicate id (also in {seen[item.id]})."
                )
                continue
            seen[item.id] = Path(path)
            items.append(item)
    if problems:
        raise ChecklistError(
            "The checklist cannot be used:\n  " + "\n  ".join(problems)
        )
    return items


def _load_file(path: Path, evaluators: Collection[str]) -> tuple[list[Item], list[str]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        return [], [f"{path}: cannot be read: {error.strerror}."]
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        return [], [f"{path}: not valid TOML: {error}."]
    problems = [
        f"{path}: unknown top-level key {key!r}; items are [[item]] tables."
        for key in data
        if key != "item"
    ]
    raw_items = data.get("item", [])
    if isinstance(raw_items, dict):
        return [], [*problems, f"{path}: items must be [[item]] tables, not [item]."]
    if not isinstance(raw_items, list) or not raw_items:
        return [], [*problems, f"{path}: no [[item]] tables."]
    items = []
    for index, raw in enumerate(raw_items, start=1):
        if not isinstance(raw, dict):
            problems.append(f"{path}: item #{index}: must be an [[item]] table.")
            continue
        where = f"{path}: item {raw.get('id') or f'#{index}'}"
        item, item_problems = _item(raw, evaluators)
        problems += [f"{where}: {p}" for p in item_problems]
        if item is not None:
            items.append(item)
    return items, problems


def _item(
    raw: Mapping[str, Any], known: Collection[str]
) -> tuple[Item | None, list[str]]:
    problems = [f"unknown key {key!r}." for key in raw if key not in _ITEM_KEYS]
    problems += [f"missing key {key!r}." for key in _REQUIRED if key not in raw]
    if problems:
        return None, problems
    for key in _TEXT_KEYS:
        if not isinstance(raw[key], str):
            problems.append(f"{key} must be a string.")
    if problems:
        return None, problems
    problems += _check_fields(raw, known)
    remediation, remediation_problems = _remediation(raw["remediation"])
    problems += remediation_problems
    references = raw.get("references", [])
    if not _strings(references):
        problems.append("references must be a list of strings (URLs).")
    if problems or remediation is None:
        return None, problems
    return (
        Item(
            id=raw["id"],
            section=raw["section"],
            title=raw["title"],
            guide_section=raw["guide_section"],
            guide_text=raw["guide_text"],
            correction=raw["correction"],
            evaluator=raw["evaluator"],
            permissions=tuple(raw["permissions"]),
            requires_probe=raw["requires_probe"],
            remediation=remediation,
            references=tuple(references),
        ),
        [],
    )


def _check_fields(raw: Mapping[str, Any], known: Collection[str]) -> list[str]:
    problems = []
    if not _ID.fullmatch(raw["id"]):
        problems.append("id must be 3-64 lower-case letters, digits and underscores.")
    if raw["section"] not in SECTIONS:
        problems.append(
            f"section {raw['section']!r} is not one of: {', '.join(SECTIONS)}."
        )
    if not raw["title"].strip():
        problems.append("title must not be empty.")
    evaluator = raw["evaluator"]
    if not isinstance(evaluator, str) or (
        evaluator not in known and evaluator != ATTESTED
    ):
        problems.append(
            f"evaluator {evaluator!r} is not registered (use a name from "
            'wizard.core.checklist.evaluators, or "attested").'
        )
    permissions = raw["permissions"]
    if not _strings(permissions):
        problems.append("permissions must be a list of IAM actions.")
    else:
        problems += [
            f"permission {p!r} is not an IAM action (service:Action)."
            for p in permissions
            if not _PERMISSION.fullmatch(p)
        ]
    if not isinstance(raw["requires_probe"], bool):
        problems.append("requires_probe must be true or false.")
    return problems


def _remediation(raw: Any) -> tuple[Remediation | None, list[str]]:
    if not isinstance(raw, dict):
        return None, ["remediation must be a table with console, cli and apply."]
    problems = [
        f"unknown key 'remediation.{k}'." for k in raw if k not in _REMEDIATION_KEYS
    ]
    problems += [
        f"remediation.{k} must be a string."
        for k in _REMEDIATION_KEYS
        if not isinstance(raw.get(k), str)
    ]
    if problems:
        return None, problems
    if raw["apply"] and raw["apply"] not in APPLY_CHANGES:
        problems.append(
            f"remediation.apply {raw['apply']!r} is not a change id "
            f'({", ".join(APPLY_CHANGES)}) or "".'
        )
    for key in ("console", "cli"):
        for name in PLACEHOLDER_PATTERN.findall(raw[key]):
            if name not in PLACEHOLDERS:
                problems.append(
                    f"remediation.{key} uses {{{name}}}; placeholders are "
                    + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
                    + "."
                )
    if problems:
        return None, problems
    return Remediation(raw["console"], raw["cli"], raw["apply"]), []


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
