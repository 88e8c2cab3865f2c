"""The checklist's types: items (from ``checklists/*.toml``), evidence, verdicts.

A verdict is one of five statuses. ``pass`` and ``fail`` come from evidence read
from AWS (or the key policy, evaluated locally); ``unknown`` always says exactly
why the evidence is missing (the permission denied, the throttle, the endpoint,
the option not configured), because missing data never passes;
``attested``/``not_attested`` are for what no API can answer and a person
vouches for in the values file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from wizard.core.errors import WizardError
from wizard.core.values import Values

Status = Literal["pass", "fail", "unknown", "attested", "not_attested"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "unknown", "attested", "not_attested")

SECTIONS = (
    "Key Policy Configuration",
    "Key Rotation",
    "Monitoring and Auditing",
    "Access Control",
    "Compliance and Documentation",
    "Testing and Validation",
    "Cross-resource",
)
"""The checklist's sections, in report order (the guide's six, then ours)."""

ATTESTED = "attested"
"""The evaluator name of items only a person can answer."""

PLACEHOLDERS = ("key_id", "key_arn", "region", "bucket", "role_arn", "account_id")
"""What remediation text may name in braces; filled from the values."""

PLACEHOLDER_PATTERN = re.compile(r"\{([a-z_]+)\}")
"""A placeholder: lower-case letters and underscores in braces. JSON braces in
commands (``'{"Rules": ...}'``) never match, because they hold quotes."""


class ChecklistError(WizardError):
    """A checklist file or an attestation cannot be used; names file and item."""

    title = "Checklist"


@dataclass(frozen=True)
class Remediation:
    """How to fix a failed item: in the console, with the AWS CLI, or by apply."""

    console: str
    cli: str
    apply: str
    """The change id ``harbor-kms apply`` would use, or ""."""

    def render(self, values: Values) -> Remediation:
        """This remediation with its placeholders filled from ``values``.

        A placeholder whose value is not known (an empty field) stays as it is,
        so the reader sees what to fill in instead of a blank.
        """
        fill = placeholder_values(values)
        return Remediation(_fill(self.console, fill), _fill(self.cli, fill), self.apply)


def placeholder_values(values: Values) -> dict[str, str]:
    """The text each placeholder stands for, for the values given."""
    complete = values.key_id.startswith("arn:") or bool(
        values.key_id and values.region and values.account_id
    )
    return {
        "key_id": values.bare_key_id,
        "key_arn": values.key_arn if complete else "",
        "region": values.region,
        "bucket": values.bucket,
        "role_arn": values.harbor_role_arn,
        "account_id": values.account_id,
    }


def _fill(text: str, fill: Mapping[str, str]) -> str:
    return PLACEHOLDER_PATTERN.sub(lambda m: fill.get(m.group(1)) or m.group(0), text)


@dataclass(frozen=True)
class Item:
    """One checklist item, as the TOML file declares it."""

    id: str
    section: str
    title: str
    guide_section: str
    guide_text: str
    """The guide's own wording of the item ("" for items beyond the guide)."""
    correction: str
    """Why the title differs from the guide's wording ("" when it does not)."""
    evaluator: str
    permissions: tuple[str, ...]
    requires_probe: bool
    remediation: Remediation
    references: tuple[str, ...] = ()

    @property
    def attested(self) -> bool:
        """Whether only a person can answer this item."""
        return self.evaluator == ATTESTED


@dataclass(frozen=True)
class Evidence:
    """What a verdict rests on: one API call's relevant fields, and when."""

    api: str
    """The call, e.g. ``kms:GetKeyRotationStatus``, or ``attestation``."""
    fields: Mapping[str, Any]
    at: datetime


@dataclass(frozen=True)
class Verdict:
    """The answer for one item."""

    item_id: str
    status: Status
    reason: str
    """One or two sentences; for ``unknown`` it names what was missing."""
    evidence: tuple[Evidence, ...]
    remediation: Remediation | None
    """Rendered with the values; set for ``fail`` and ``not_attested``."""
    checked_at: datetime


@dataclass(frozen=True)
class Attestation:
    """A person's word for an item no API can check."""

    item_id: str
    by: str
    at: datetime
    note: str = ""
