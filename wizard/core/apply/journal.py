"""The apply journal: an append-only record of each step, on disk as it happens.

Each apply (and each rollback) writes ``.harbor-kms/journals/<key-id>-<UTC
timestamp>.jsonl`` beside the config file, one JSON object a line: the plan
first, then every step as it starts and as it ends (with the backup it took and
what it created), then how the run ended. Each line is flushed and fsynced
before the next AWS call, so Ctrl-C, a crash or a lost connection leaves a
record of exactly what was and was not done; a crash in the middle of a line can
only tear the last line, which :func:`read_journal` ignores and reports.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from wizard.core.apply.backup import FILE_MODE, private_dir
from wizard.core.errors import WizardError

JOURNALS = "journals"
Command = Literal["apply", "rollback"]
StepStatus = Literal["started", "done", "failed", "skipped"]


class JournalError(WizardError):
    """A journal cannot be written or read."""

    title = "Journal"
    exit_code = 2


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Journal:
    """An open journal; every :meth:`append` is on disk when it returns."""

    def __init__(self, path: Path, handle: IO[str]) -> None:
        self.path = path
        self._handle = handle

    @classmethod
    def create(
        cls, base: Path, key_id: str, start: Mapping[str, Any], *, now: datetime | None
    ) -> Journal:
        """Open a new journal under ``base/journals`` and write its first record.

        Args:
            base: the state directory beside the config file.
            key_id: the bare key id, the first part of the name.
            start: the first record (command, key, plan).
            now: the time in the name; the current time when None.

        Raises:
            JournalError: the file cannot be created; nothing was changed in AWS.
        """
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        try:
            directory = private_dir(base / JOURNALS)
            stamp = moment.strftime("%Y%m%dT%H%M%S%fZ")
            path = directory / f"{key_id}-{stamp}.jsonl"
            # O_EXCL: two runs in the same microsecond must not share a file.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            handle = os.fdopen(fd, "a", encoding="utf-8", newline="\n")
            _fsync_dir(directory)
        except OSError as error:
            raise JournalError(
                f"The journal cannot be created in {base / JOURNALS} "
                f"({error.strerror}); nothing was changed in AWS."
            ) from None
        journal = cls(path, handle)
        journal.append({"type": "start", **start})
        return journal

    def append(self, record: Mapping[str, Any]) -> None:
        """Write one record and force it to disk.

        Raises:
            JournalError: the disk refused the write.
        """
        line = json.dumps({"at": _now(), **record}, sort_keys=True, default=str)
        try:
            self._handle.write(line + "\n")
            self._handle.flush()
            os.fsync(self._handle.fileno())
        except OSError as error:
            raise JournalError(
                f"The journal {self.path} cannot be written ({error.strerror})."
            ) from None

    def close(self) -> None:
        """Close the file (records are already on disk)."""
        with contextlib.suppress(OSError):
            self._handle.close()


def _fsync_dir(directory: Path) -> None:
    """Make the new file's name durable too (POSIX needs the directory synced)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass
class StepRecord:
    """What the journal says about one step of one change."""

    change: str
    index: int
    status: StepStatus
    created: bool = False
    outputs: dict[str, Any] = field(default_factory=dict)
    backup: dict[str, str] | None = None
    error: str | None = None


@dataclass
class JournalState:
    """A journal read back: what it was for, and what each step did."""

    path: Path
    command: str
    key_arn: str
    start: dict[str, Any]
    steps: list[StepRecord]
    outcome: str | None
    """How the run ended; None when it never wrote an end (a crash, Ctrl-C)."""
    torn: bool = False
    """The last line was cut off mid-write and was ignored."""

    @property
    def done(self) -> list[StepRecord]:
        """Steps that completed, in the order they ran."""
        return [s for s in self.steps if s.status == "done"]

    @property
    def unfinished(self) -> list[StepRecord]:
        """Steps that started but never reported an end: their effect is unknown."""
        return [s for s in self.steps if s.status == "started"]


def read_records(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """The records of a journal and whether its last line was torn.

    Raises:
        JournalError: the file cannot be read, or a line before the last is
            not JSON (the file was edited or damaged).
    """
    try:
        lines = Path(path).read_text("utf-8").splitlines()
    except OSError as error:
        raise JournalError(
            f"The journal {path} cannot be read ({error.strerror})."
        ) from None
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                return records, True
            raise JournalError(
                f"The journal {path} is damaged at line {number}; it cannot be "
                "trusted for a rollback."
            ) from None
        if isinstance(record, dict):
            records.append(record)
    return records, False


def read_journal(path: Path) -> JournalState:
    """Read a journal into the state of each step (last record of a step wins).

    Raises:
        JournalError: unreadable, damaged, or not a harbor-kms journal.
    """
    records, torn = read_records(path)
    if not records or records[0].get("type") != "start":
        raise JournalError(f"{path} is not a harbor-kms journal.")
    start = records[0]
    steps: dict[tuple[str, int], StepRecord] = {}
    outcome = None
    for record in records[1:]:
        kind = record.get("type")
        if kind == "end":
            outcome = str(record.get("outcome"))
        elif kind == "step":
            _merge_step(steps, record)
    return JournalState(
        path=Path(path),
        command=str(start.get("command", "")),
        key_arn=str(start.get("key_arn", "")),
        start=start,
        steps=list(steps.values()),
        outcome=outcome,
        torn=torn,
    )


def _merge_step(
    steps: dict[tuple[str, int], StepRecord], record: dict[str, Any]
) -> None:
    key = (str(record.get("change")), int(record.get("index", 0)))
    step = steps.setdefault(key, StepRecord(key[0], key[1], "started"))
    step.status = record.get("status", step.status)
    if "created" in record:
        step.created = bool(record["created"])
    if isinstance(record.get("outputs"), dict):
        step.outputs = dict(record["outputs"])
    if isinstance(record.get("backup"), dict):
        step.backup = {str(k): str(v) for k, v in record["backup"].items()}
    if record.get("error"):
        step.error = str(record["error"])


def journal_paths(base: Path, key_id: str) -> Iterator[Path]:
    """Journals of ``key_id`` under ``base``, oldest first (names sort by time)."""
    directory = base / JOURNALS
    if directory.is_dir():
        yield from sorted(directory.glob(f"{key_id}-*.jsonl"))


def latest_journal(base: Path, key_id: str, command: Command) -> Path | None:
    """The most recent journal of ``command`` for the key, if any."""
    found = None
    for path in journal_paths(base, key_id):
        with contextlib.suppress(JournalError):
            records, _ = read_records(path)
            if records and records[0].get("command") == command:
                found = path
    return found


def rollbacks_of(base: Path, key_id: str, apply_journal: Path) -> list[JournalState]:
    """Rollback journals that name ``apply_journal`` as what they undid."""
    target = str(Path(apply_journal).resolve())
    states = []
    for path in journal_paths(base, key_id):
        with contextlib.suppress(JournalError):
            state = read_journal(path)
            if state.command == "rollback" and state.start.get("of") == target:
                states.append(state)
    return states


def unfinished_apply(base: Path, key_id: str) -> str | None:
    """A warning when the key's last apply did not finish and was not undone.

    A later apply reads the journal so it can say so before planning again.
    """
    last = latest_journal(base, key_id, "apply")
    if last is None:
        return None
    try:
        state = read_journal(last)
    except JournalError as error:
        return error.message
    undone = any(
        r.outcome in ("complete", "nothing") for r in rollbacks_of(base, key_id, last)
    )
    if state.outcome == "complete" or undone:
        return None
    return (
        f"the last apply ({last}) ended {state.outcome or 'without an end'} after "
        f"{len(state.done)} step(s). This apply plans from the current state; run "
        "`harbor-kms rollback` first to undo that one instead."
    )
