"""Fault injection for the sandbox: which calls fail or stall, and how.

Tests add :class:`Fault` rules through ``Sandbox.add_fault``, other processes
through ``POST /_sandbox/faults``; the WSGI layer (:mod:`.server`) asks the
:class:`FaultInjector` about every AWS call before moto or a handler sees it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any

_MAX_DELAY = 600.0


@dataclass(frozen=True)
class Fault:
    """One injected failure: match a service and operation, then fail or stall.

    ``service`` is the SigV4 signing name (``kms``, ``s3``, ``monitoring``) and
    ``operation`` the API name (``GetKeyPolicy``); either may be ``*``. An empty
    ``error_code`` with a ``delay`` only slows the call down.
    """

    service: str
    operation: str
    error_code: str
    status: int = 400
    count: int | None = None
    delay: float = 0.0
    message: str = ""

    def matches(self, service: str, operation: str) -> bool:
        return self.service in ("*", service) and self.operation in ("*", operation)


def make_fault(data: dict[str, Any]) -> Fault:
    """Build a :class:`Fault` from untrusted input, checking every field.

    Raises:
        ValueError: a field is missing, of the wrong type or out of range.
    """
    try:
        fault = Fault(
            service=str(data["service"]).lower(),
            operation=str(data["operation"]),
            error_code=str(data.get("error_code", "")),
            status=int(data.get("status", 400)),
            count=None if data.get("count") is None else int(data["count"]),
            delay=float(data.get("delay", 0.0)),
            message=str(data.get("message", "")),
        )
    except (KeyError, TypeError) as error:
        raise ValueError(f"A fault needs service and operation: {error}") from error
    if fault.error_code and not 400 <= fault.status <= 599:
        raise ValueError(f"Fault status {fault.status} is not an HTTP error.")
    if fault.count is not None and fault.count < 1:
        raise ValueError("Fault count must be at least 1, or null for always.")
    if not 0 <= fault.delay <= _MAX_DELAY:
        raise ValueError(f"Fault delay must be 0 to {_MAX_DELAY:.0f} seconds.")
    if not fault.error_code and not fault.delay:
        raise ValueError("A fault needs an error_code, a delay, or both.")
    return fault


class FaultInjector:
    """The active faults, first match wins; safe to use from request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._rules.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[Fault]:
        with self._lock:
            return list(self._rules)

    def take(self, service: str, operation: str) -> Fault | None:
        """The first matching fault, spending one of its uses."""
        with self._lock:
            for i, rule in enumerate(self._rules):
                if not rule.matches(service, operation):
                    continue
                if rule.count is not None and rule.count <= 1:
                    del self._rules[i]
                elif rule.count is not None:
                    self._rules[i] = replace(rule, count=rule.count - 1)
                return rule
        return None
