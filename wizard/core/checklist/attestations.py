"""Attestations: a person's word for items no API can check, kept in the values file.

The format, in ``harbor-kms.toml``::

    [attestations.rotation_documented]
    by = "alice@example.com"
    at = 2026-12-03T10:00:00Z
    note = "https://wiki.example.com/harbor/kms-runbook"

``by`` and ``at`` are required (``at`` a TOML offset date-time, or the same as an
ISO 8601 string with a UTC offset); ``note`` is optional. The table is checked
strictly: an unknown item, an item the tool checks itself or an unknown key is an
error naming the file and the item, because a typo would otherwise leave an item
"not attested" while its owner believes it recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from wizard.core.checklist.model import Attestation, ChecklistError, Item

# TODO: attestations never expire; a "Regular review" or "DR tested" from years
# ago still counts. A per-item maximum age would make them fall due again.
_KEYS = ("by", "at", "note")


def parse_attestations(
    table: Any, items: Sequence[Item], source: str = "the values file"
) -> dict[str, Attestation]:
    """The attestations of a config file's ``[attestations]`` table.

    Args:
        table: ``LoadedConfig.extra.get("attestations")`` (None when absent).
        items: the checklist, to know which ids exist and which are attested.
        source: the file, for messages.

    Returns:
        Attestations by item id.

    Raises:
        ChecklistError: the table is malformed; every problem is listed.
    """
    if table is None:
        return {}
    if not isinstance(table, Mapping):
        raise ChecklistError(f"{source}: [attestations] must be a table of items.")
    by_id = {item.id: item for item in items}
    found: dict[str, Attestation] = {}
    problems: list[str] = []
    for item_id, entry in table.items():
        where = f"{source}: attestations.{item_id}"
        item = by_id.get(item_id)
        if item is None:
            problems.append(f"{where}: no checklist item has this id.")
            continue
        if not item.attested:
            problems.append(
                f"{where}: this item is checked against AWS "
                f"({item.evaluator}); only attested items take an attestation."
            )
            continue
        attestation, entry_problems = _entry(item_id, entry)
        problems += [f"{where}: {p}" for p in entry_problems]
        if attestation is not None:
            found[item_id] = attestation
    if problems:
        raise ChecklistError(
            "The attestations cannot be used:\n  " + "\n  ".join(problems)
        )
    return found


def _entry(item_id: str, entry: Any) -> tuple[Attestation | None, list[str]]:
    if not isinstance(entry, Mapping):
        return None, ["must be a table with by, at and note."]
    problems = [
        f"unknown key {key!r} (use by, at, note)." for key in entry if key not in _KEYS
    ]
    by, at, note = entry.get("by"), _moment(entry.get("at")), entry.get("note", "")
    if not isinstance(by, str) or not by.strip():
        problems.append("by must name who attests (a non-empty string).")
    if at is None:
        problems.append(
            "at must be a date-time with a UTC offset, e.g. 2026-12-03T10:00:00Z."
        )
    if not isinstance(note, str):
        problems.append("note must be a string.")
    if problems or at is None or not isinstance(by, str) or not isinstance(note, str):
        return None, problems
    return Attestation(item_id, by.strip(), at, note), []


def _moment(value: Any) -> datetime | None:
    """A timezone-aware datetime from a TOML date-time or an ISO 8601 string."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    return None


def add_attestation(
    table: Mapping[str, Any] | None,
    item: Item,
    by: str,
    note: str = "",
    at: datetime | None = None,
) -> dict[str, Any]:
    """A new ``[attestations]`` table with ``item`` attested (replacing any before).

    The TUI and the line mode save the result with
    ``store.save(values, path, extra={"attestations": ...})``.

    Args:
        table: the current table (None when the file has none).
        item: the item attested; it must be an attested item.
        by: who attests.
        note: where the evidence is (a runbook link, a ticket).
        at: when; now (UTC) by default.

    Returns:
        A copy of ``table`` with the entry added.

    Raises:
        ChecklistError: the item is checked automatically, or ``by`` is empty.
    """
    if not item.attested:
        raise ChecklistError(
            f"{item.id} is checked against AWS ({item.evaluator}); it cannot be "
            "attested."
        )
    if not by.strip():
        raise ChecklistError(f"Attesting {item.id} needs the name of who attests.")
    moment = (at or datetime.now(UTC)).replace(microsecond=0)
    if moment.tzinfo is None:
        raise ChecklistError("An attestation time needs a UTC offset.")
    new = {
        key: dict(value) if isinstance(value, Mapping) else value
        for key, value in (table or {}).items()
    }
    new[item.id] = {"by": by.strip(), "at": moment, "note": note}
    return new
