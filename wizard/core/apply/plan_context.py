"""What planning needs besides the snapshot: options, names, what was learned.

:class:`PlanContext` carries what planning one change finds out that a later
change needs (the log group the alarms go to, whether a trail is planned).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wizard.core.apply.documents import Names
from wizard.core.apply.model import Change, ChangeId, Why
from wizard.core.apply.targets import Assessment
from wizard.core.snapshot import AccountSnapshot
from wizard.core.values import Values

DEFAULT_TAGS: Mapping[str, str] = {"Application": "harbor"}
"""Tags apply adds when the key lacks them; ``--tag`` adds more (and Owner)."""
OWNER_NOTE = (
    "No Owner tag: add one with --tag Owner=TEAM (asked for at the prompt); the "
    "person answering an alarm looks for it."
)

GUIDE: Mapping[str, str] = {
    "put-key-policy": "Least-Privilege Key Policy Design: Hardened Key Policy Template",
    "enable-rotation": "Key Rotation Configuration: Enable Automatic Key Rotation",
    "tag-key": "Best Practices Summary: DO (tag keys appropriately)",
    "describe-key": "Security Checklist: Compliance and Documentation",
    "create-trail": "Monitoring and Auditing: CloudTrail Logging",
    "create-alarms": "Monitoring and Auditing: Set Up Alerts",
    "create-event-rules": "Monitoring and Auditing: Set Up Alerts",
    "create-config-rule": "Monitoring and Auditing: AWS Config Rules",
    "create-dashboard": "Monitoring and Auditing: CloudWatch Metrics",
}
"""The guide section each change carries out."""


@dataclass(frozen=True)
class PlanOptions:
    """Choices beyond the values file."""

    event_rules: bool = False
    """Also plan EventBridge rules (optional in the issue; off by default)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags to add (``--tag``), over :data:`DEFAULT_TAGS`."""
    description: str | None = None
    """The key description; a sentence naming the bucket by default."""
    policy: Mapping[str, Any] | None = None
    """A key policy to apply instead of the generated one (``--policy``)."""
    checklist: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Checklist item ids by change id (see :func:`checklist_ids`)."""


def checklist_ids(items: Iterable[Any]) -> dict[str, tuple[str, ...]]:
    """Item ids by the change id in their ``remediation.apply``."""
    found: dict[str, list[str]] = {}
    for item in items:
        change = item.remediation.apply
        if change:
            found.setdefault(change, []).append(item.id)
    return {k: tuple(v) for k, v in found.items()}


@dataclass
class PlanContext:
    """What planning one change learns that later changes need."""

    snapshot: AccountSnapshot
    values: Values
    options: PlanOptions
    names: Names
    log_group: tuple[str, str] | None = None
    trail_logging: bool = False
    trail_planned: bool = False
    trail_reason: str = ""
    alarm_names: tuple[str, ...] = ()
    alarms_planned: bool = False
    lockout: dict[str, Any] | None = None
    policy: Mapping[str, Any] | None = None
    current_policy: Mapping[str, Any] | None = None

    def why(self, change: ChangeId, reason: str) -> Why:
        """The guide section, the checklist items served, and ``reason``."""
        items = self.options.checklist.get(change, ())
        return Why(GUIDE[change], items, reason)


Outcome = Change | tuple[str, str]
"""A planned change, or (satisfied | blocked, the reason)."""


def held(assessment: Assessment) -> tuple[str, str]:
    """The status and reason of an assessment that plans nothing."""
    return assessment.status, assessment.reason
