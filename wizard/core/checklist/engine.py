"""The checklist engine: load the items, evaluate them against a snapshot, count.

Pure: no AWS calls, no UI. The audit command, the TUI and the line mode all call
:func:`evaluate` with an :class:`AccountSnapshot` the adapter read, and render the
verdicts their own way. The key policy is linted and replayed once per call and
shared by every item (:func:`wizard.core.checklist.context.analyse_policy`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from wizard.core.checklist.attestations import add_attestation, parse_attestations
from wizard.core.checklist.context import EvalContext, analyse_policy
from wizard.core.checklist.evaluators import registry
from wizard.core.checklist.loader import load_files
from wizard.core.checklist.model import (
    STATUSES,
    Attestation,
    ChecklistError,
    Item,
    Verdict,
)
from wizard.core.resources import data_dir
from wizard.core.snapshot import AccountSnapshot
from wizard.core.values import Values

__all__ = [
    "add_attestation",
    "evaluate",
    "failed",
    "iter_verdicts",
    "load_items",
    "parse_attestations",
    "summary",
]

log = logging.getLogger(__name__)


def load_items(path: Path | None = None) -> list[Item]:
    """The checklist items of ``path`` (a file or folder of ``*.toml``).

    Args:
        path: a checklist file or folder; the packaged ``checklists/`` by default.

    Returns:
        The items, in file order.

    Raises:
        ChecklistError: a file is invalid; the message names file and item.
        WizardError: the packaged folder is missing (a broken installation).
    """
    folder_or_file = Path(path) if path is not None else data_dir("checklists")
    files = (
        sorted(folder_or_file.glob("*.toml"))
        if folder_or_file.is_dir()
        else [folder_or_file]
    )
    if not files:
        raise ChecklistError(f"{folder_or_file} holds no checklist (*.toml) file.")
    return load_files(files, registry())


def iter_verdicts(
    items: Sequence[Item],
    snapshot: AccountSnapshot,
    values: Values,
    attestations: Mapping[str, Attestation] | None = None,
    *,
    now: datetime | None = None,
) -> Iterator[Verdict]:
    """Verdicts one by one, in item order, so a caller can show progress.

    An evaluator that raises is a bug, but one item must not sink the audit:
    its verdict is ``unknown`` naming the error, and the error is logged.
    """
    evaluators = registry()
    policy = analyse_policy(snapshot.key_policy, values)
    moment = now or datetime.now(UTC)
    for item in items:
        ctx = EvalContext(snapshot, values, item, attestations or {}, policy, moment)
        try:
            yield evaluators[item.evaluator](ctx)
        except Exception as error:  # reported as unknown and logged, not raised
            log.exception("evaluator %s failed on %s", item.evaluator, item.id)
            yield ctx.unknown(
                f"The check itself failed ({type(error).__name__}: {error}); "
                "this is a bug in harbor-kms, please report it."
            )


def evaluate(
    items: Sequence[Item],
    snapshot: AccountSnapshot,
    values: Values,
    attestations: Mapping[str, Attestation] | None = None,
    *,
    now: datetime | None = None,
    progress: Callable[[Item, Verdict], None] | None = None,
) -> list[Verdict]:
    """Evaluate every item against ``snapshot``.

    Args:
        items: from :func:`load_items`.
        snapshot: what the AWS adapter read.
        values: the user's values (key, region, Harbor's role, bucket...).
        attestations: from :func:`parse_attestations`.
        now: the time stamped on each verdict (UTC now by default).
        progress: called after each item, for a progress line.

    Returns:
        One verdict per item, in item order.
    """
    verdicts = []
    for item, verdict in zip(
        items,
        iter_verdicts(items, snapshot, values, attestations, now=now),
        strict=True,
    ):
        verdicts.append(verdict)
        if progress is not None:
            progress(item, verdict)
    return verdicts


def summary(verdicts: Iterable[Verdict]) -> dict[str, int]:
    """How many verdicts have each status (every status listed, zeros included)."""
    counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
    for verdict in verdicts:
        counts[verdict.status] += 1
    return counts


def failed(
    verdicts: Iterable[Verdict], fail_on: Literal["fail", "unknown"] = "fail"
) -> bool:
    """Whether any verdict fails the run: ``fail``, or also ``unknown``."""
    bad: set[str] = {"fail", "unknown"} if fail_on == "unknown" else {"fail"}
    return any(v.status in bad for v in verdicts)
