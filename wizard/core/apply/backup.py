"""Backups of the state a write replaces, taken before the write.

A backup is JSON in ``.harbor-kms/backups/`` beside the config file, named
``<key-id>-<what>-<sha256[:12]>.json``: written atomically (a crash leaves the
old file or the new, never half), readable by the owner only (a key policy names
the roles that can use the key), and named by the hash of its content, which the
journal records too, so a later rollback can prove the file is the one taken.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wizard.core.errors import WizardError
from wizard.core.fsutil import write_atomic

STATE_DIR = ".harbor-kms"
BACKUPS = "backups"
FILE_MODE = 0o600
DIR_MODE = 0o700


class BackupError(WizardError):
    """A backup cannot be written, is missing, or is not what was backed up."""

    title = "Backup"
    exit_code = 2


@dataclass(frozen=True)
class Backup:
    """Where a backup is and the SHA-256 of its bytes."""

    path: Path
    what: str
    sha256: str


def state_dir(config_path: Path) -> Path:
    """The tool's private directory beside the config file."""
    return Path(config_path).resolve().parent / STATE_DIR


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by the owner only; return it."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    return path


def backup_text(content: Mapping[str, Any]) -> str:
    """The exact text a backup of ``content`` holds (sorted keys, two spaces)."""
    return json.dumps(content, indent=2, sort_keys=True) + "\n"


def digest(text: str) -> str:
    """SHA-256 of ``text`` as UTF-8, in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_backup(
    base: Path, key_id: str, what: str, content: Mapping[str, Any]
) -> Backup:
    """Keep ``content`` under ``base/backups``; return where and its hash.

    Writing the same content twice gives the same file, so a re-run after an
    interruption does not pile up copies.

    Args:
        base: the state directory (:func:`state_dir`).
        key_id: the bare key id, the first part of the file name.
        what: what the backup holds (``key-policy``, ``rotation``, ...).
        content: JSON-ready data.

    Raises:
        BackupError: the file cannot be written; nothing was changed in AWS.
    """
    text = backup_text(content)
    sha = digest(text)
    path = base / BACKUPS / f"{key_id}-{what}-{sha[:12]}.json"
    try:
        private_dir(path.parent)
        if not (path.exists() and digest(path.read_text("utf-8")) == sha):
            write_atomic(path, text, FILE_MODE)
    except OSError as error:
        raise BackupError(
            f"The backup {path} cannot be written ({error.strerror}); nothing "
            "was changed in AWS."
        ) from None
    return Backup(path, what, sha)


def read_backup(path: Path, sha256: str) -> dict[str, Any]:
    """The content of a backup, after checking its hash against the journal's.

    Raises:
        BackupError: the file is missing, unreadable, or its bytes changed.
    """
    try:
        text = Path(path).read_text("utf-8")
    except OSError as error:
        raise BackupError(
            f"The backup {path} cannot be read ({error.strerror}); it is needed "
            "to restore what the apply replaced."
        ) from None
    if digest(text) != sha256:
        raise BackupError(
            f"The backup {path} does not match the hash the journal recorded "
            f"({sha256[:12]}...): it was changed after it was written, so it is "
            "not used."
        )
    data = json.loads(text)
    if not isinstance(data, dict):
        raise BackupError(f"The backup {path} does not hold a JSON object.")
    return data


def is_private(path: Path) -> bool:
    """True when only the owner may read or write ``path``."""
    return (os.stat(path).st_mode & 0o077) == 0
