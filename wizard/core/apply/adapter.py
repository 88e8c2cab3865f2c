"""What apply and rollback need from AWS, as a protocol the core can call.

``wizard.aws.apply_exec.BotoAdapter`` implements it with boto3; the core never
imports boto3, so the order of operations that makes an apply safe is written
once here and driven the same way by the command line, line mode and TUI.
"""

from __future__ import annotations

from typing import Any, Protocol

from wizard.core.apply.model import BackupWhat, Step


class StepFailed(Exception):
    """An AWS call failed; ``message`` says so in plain words, nothing more."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class Adapter(Protocol):
    """The AWS side of apply and rollback. Every method raises StepFailed."""

    def read_state(self, what: BackupWhat, key_arn: str) -> dict[str, Any]:
        """The current state a replace step would overwrite (for the backup)."""
        ...

    def exists(self, step: Step) -> bool:
        """Whether what a create step makes is there already."""
        ...

    def call(self, step: Step) -> dict[str, Any]:
        """Make the call; return the response fields the step keeps."""
        ...

    def undo(self, step: Step) -> str:
        """Make an undo call; return one sentence on what happened."""
        ...

    def policy_text(self, key_arn: str) -> str:
        """The key policy as KMS returns it now."""
        ...

    def probe(self) -> tuple[bool, str]:
        """The S3 round trip through SSE-KMS: ok, and what happened."""
        ...
