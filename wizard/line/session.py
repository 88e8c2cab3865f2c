"""One line-mode run: the values, what was saved, and what AWS showed.

The session writes the values file only when the user confirms a step's answers
(:meth:`Session.save`), and remembers which steps it saved, so that Ctrl-C or
the end of piped answers can say exactly what is on disk.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard.core import store
from wizard.core.errors import WizardError
from wizard.core.snapshot import AccountSnapshot, CallerIdentity
from wizard.core.steps import default_values
from wizard.core.values import Values

log = logging.getLogger(__name__)

DEMO_CONFIG = Path("harbor-kms-demo.toml")
"""The demo's values file: a demo must never overwrite a real harbor-kms.toml."""


@dataclass
class Session:
    """State of one walk through the steps; replaced values, never mutated ones."""

    config_path: Path
    values: Values
    extra: dict[str, Any] = field(default_factory=dict)
    existed: bool = False
    saved: list[str] = field(default_factory=list)
    endpoint_url: str | None = None
    identity: CallerIdentity | None = None
    snapshot: AccountSnapshot | None = None
    shown_policy: dict[str, Any] | None = None
    """The policy last printed, so a later step prints only a changed one."""
    verdicts: list[Any] | None = None
    """This session's checklist verdicts (``wizard.core.checklist`` Verdicts)."""
    aws_problem: str = ""
    """Why AWS cannot be read in this session ('' while it can)."""
    config_problems: list[str] = field(default_factory=list)
    """What the values file got wrong, as '<file>: <key>: <message>' lines."""
    _reader: Any = None
    _reader_region: str | None = None
    _sandbox: Any = None
    _failed_region: str | None = None

    @classmethod
    def open(cls, config_path: Path | None, *, demo: bool) -> Session:
        """Start from the values file if it exists, or from the demo sandbox."""
        path = Path(config_path or (DEMO_CONFIG if demo else store.DEFAULT_PATH))
        session = cls(path, default_values(), existed=path.exists())
        if session.existed:
            loaded = store.load(path, check_values=False)
            session.values, session.extra = loaded.values, dict(loaded.extra)
            session.config_problems = [
                f"{p.field}: {p.message}" for p in loaded.problems
            ]
        if demo:
            session._start_demo()
        return session

    def _start_demo(self) -> None:
        """Run the sandbox in this process, seeded as the guide leaves an account."""
        # moto is heavy and only the demo needs it.
        from wizard.aws.sandbox import Sandbox, seed

        sandbox = Sandbox().start()
        self._sandbox = sandbox
        self.endpoint_url = sandbox.endpoint_url
        # The sandbox accepts its own test credentials only; real ones in the
        # environment must never be sent anywhere by a demo.
        for name, value in sandbox.environment().items():
            if name != "AWS_ENDPOINT_URL":
                os.environ[name] = value
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.pop("AWS_PROFILE", None)
        # moto keeps its accounts per process: start from an empty one, so a
        # second demo in the same process seeds without clashes.
        sandbox.reset()
        seeded = seed(sandbox.endpoint_url, "guide-as-written", sandbox.region)
        self.values = seeded.values()

    @property
    def demo(self) -> bool:
        """Whether this session runs against its own demo sandbox."""
        return self._sandbox is not None

    def confirm_demo_mail(self) -> int | None:
        """Confirm the sandbox's pending SNS subscriptions, as their recipient
        would; None outside the demo (only the recipient can, in AWS)."""
        if self._sandbox is None:
            return None
        confirmed: int = self._sandbox.confirm_subscriptions()
        return confirmed

    def close(self) -> None:
        """Stop the demo sandbox, if one runs."""
        if self._sandbox is not None:
            self._sandbox.stop()
            self._sandbox = None

    def save(self, step_title: str) -> None:
        """Write the values (and the sections other parts own) atomically."""
        store.save(self.values, self.config_path, self.extra)
        if step_title not in self.saved:
            self.saved.append(step_title)
        self.existed = True

    def saved_words(self) -> str:
        """What is on disk after this run, in one or two sentences."""
        path = self.config_path
        if self.saved:
            return (
                f"Your answers to {', '.join(self.saved)} are saved in {path}; "
                f"run 'harbor-kms line --config {path}' to start from them."
            )
        if self.existed:
            return f"Nothing was written: {path} is as it was."
        return f"Nothing was written: {path} was not created."

    def reader(self) -> Any:
        """The AWS reader for the current region (a new one if it changed).

        Raises:
            WizardError: the target settings are invalid.
        """
        region = self.values.region or None
        if self._reader is None or region != self._reader_region:
            from wizard.aws.readers import AccountReader
            from wizard.aws.session import AwsTarget

            try:
                target = AwsTarget.from_env_and_args(
                    region=region, endpoint_url=self.endpoint_url
                )
            except ValueError as error:
                raise WizardError(str(error), "AWS settings") from None
            self._reader, self._reader_region = AccountReader(target), region
            self.snapshot = None
        return self._reader

    def connect(self) -> CallerIdentity | None:
        """Who the credentials belong to; None (with ``aws_problem``) if unusable."""
        from wizard.aws.errors import AwsError

        try:
            self.identity = self.reader().connect()
            self.aws_problem = ""
        except AwsError as error:
            self.identity, self.aws_problem = None, error.message
            self._failed_region = self.values.region or None
        return self.identity

    def read(self) -> AccountSnapshot | None:
        """A fresh snapshot of the key, bucket and role; None if AWS is unusable."""
        if self.aws_problem and self._failed_region == (self.values.region or None):
            # Each retry of an unreachable endpoint costs its timeouts again;
            # only a new region (a new endpoint) is worth another try.
            return None
        if self.identity is None and self.connect() is None:
            return None
        log.info("reading a snapshot for %s", self.values.key_arn)
        # A reader memoizes every call for its run; a new one reads the account
        # as it is now (after an apply, for instance).
        self._reader = None
        self.snapshot = self.reader().snapshot(self.values)
        return self.snapshot
