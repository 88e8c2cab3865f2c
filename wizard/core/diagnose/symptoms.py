"""The guide's five troubleshooting symptoms, each a list of checks run for real.

``shared/guide/kms-key-policy-hardening.md``, "Troubleshooting", Issues 1-5. For
each symptom the guide's possible causes and diagnosis commands become checks
(:mod:`~wizard.core.diagnose.checks_policy`,
:mod:`~wizard.core.diagnose.checks_account`) over the snapshot the adapter read,
plus causes the guide misses (the key's state, a Deny, Bucket Keys, grants). The
report lists found causes first, most likely first, then what could not be
checked, then what was ruled out; nothing is changed, and each found cause
carries its remediation and, where one exists, the ``harbor-kms apply`` change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wizard.core.diagnose import checks_account as account
from wizard.core.diagnose import checks_direct as direct
from wizard.core.diagnose import checks_policy as policy
from wizard.core.diagnose.checks_policy import CheckFn
from wizard.core.diagnose.facts import Check, Facts, ObjectEncryption
from wizard.core.snapshot import AccountSnapshot, Read
from wizard.core.values import Values

__all__ = [
    "SYMPTOMS",
    "Check",
    "Diagnosis",
    "ObjectEncryption",
    "Symptom",
    "diagnose_symptom",
    "diagnosis_to_json",
]


@dataclass(frozen=True)
class Symptom:
    """One of the guide's troubleshooting issues and the checks behind it."""

    name: str
    title: str
    guide_section: str
    checks: tuple[CheckFn, ...]


_UPLOAD = "kms:GenerateDataKey"
_DOWNLOAD = "kms:Decrypt"

SYMPTOMS: dict[str, Symptom] = {
    symptom.name: symptom
    for symptom in (
        Symptom(
            "upload-denied",
            "Access Denied when uploading to S3 (PutObject)",
            "Troubleshooting: Issue 1",
            (
                account.key_state,
                policy.role_named(_UPLOAD),
                policy.action_allowed(_UPLOAD),
                policy.context_form(_UPLOAD),
                policy.via_service_region(_UPLOAD),
                policy.explicit_deny(_UPLOAD),
                account.bucket_default_key,
            ),
        ),
        Symptom(
            "download-denied",
            "Access Denied when downloading from S3 (GetObject)",
            "Troubleshooting: Issue 2",
            (
                account.key_state,
                policy.role_named(_DOWNLOAD),
                policy.action_allowed(_DOWNLOAD),
                policy.context_form(_DOWNLOAD),
                account.object_key,
                policy.via_service_region(_DOWNLOAD),
                policy.explicit_deny(_DOWNLOAD),
            ),
        ),
        Symptom(
            "direct-kms-allowed",
            "Direct KMS API calls by Harbor's role succeed (should fail)",
            "Troubleshooting: Issue 3",
            (
                direct.direct_use_allowed,
                direct.via_service_missing,
                direct.no_direct_deny,
                direct.iam_delegation,
                direct.grants_to_role,
            ),
        ),
        Symptom(
            "rotation-not-working",
            "Key rotation shows disabled or has not happened",
            "Troubleshooting: Issue 4",
            (
                account.rotation_off,
                account.rotation_unsupported,
                account.rotation_key_state,
                account.rotation_pending,
            ),
        ),
        Symptom(
            "cloudtrail-not-logging",
            "No KMS events appear in CloudTrail",
            "Troubleshooting: Issue 5",
            (
                account.no_trail,
                account.trail_stopped,
                account.management_events,
                account.kms_excluded,
                account.event_history,
            ),
        ),
    )
}
"""The symptoms by the name ``diagnose --symptom`` takes."""

_RANK = {"found": 0, "unknown": 2, "not_found": 3}


@dataclass(frozen=True)
class Diagnosis:
    """Every check of one symptom, most likely cause first."""

    symptom: Symptom
    checks: tuple[Check, ...]

    @property
    def found(self) -> tuple[Check, ...]:
        """The causes present, most likely first."""
        return tuple(c for c in self.checks if c.status == "found")

    @property
    def faults(self) -> tuple[Check, ...]:
        """The causes present that are something to fix (not benign)."""
        return tuple(c for c in self.found if not c.benign)

    @property
    def most_likely(self) -> Check | None:
        """The first found cause, or None when nothing was found."""
        return self.found[0] if self.found else None


def order(checks: Sequence[Check]) -> tuple[Check, ...]:
    """Faults (heaviest first), benign causes, unknown, ruled out; else stable."""
    return tuple(sorted(checks, key=lambda c: (_RANK[c.status] + c.benign, -c.weight)))


def diagnose_symptom(
    name: str,
    snapshot: AccountSnapshot,
    values: Values,
    *,
    object_encryption: Read[ObjectEncryption] | None = None,
    now: datetime | None = None,
) -> Diagnosis:
    """Run every check of the symptom ``name``.

    Args:
        name: A key of :data:`SYMPTOMS`.
        snapshot: What the adapter read (key, policy, bucket, rotation, trails).
        values: The values file's key, bucket and Harbor role.
        object_encryption: HeadObject of the object named with ``--object``.
        now: The time rotation dates are compared with (UTC now by default).

    Returns:
        The checks, ordered.

    Raises:
        KeyError: ``name`` is not a symptom (the CLI offers only the names).
    """
    symptom = SYMPTOMS[name]
    facts = Facts(snapshot, values, now or datetime.now(UTC), object_encryption)
    return Diagnosis(symptom, order([check(facts) for check in symptom.checks]))


def diagnosis_to_json(diagnosis: Diagnosis) -> dict[str, Any]:
    """The JSON form: the symptom, the most likely cause and every check."""
    best = diagnosis.most_likely
    return {
        "symptom": diagnosis.symptom.name,
        "title": diagnosis.symptom.title,
        "guide_section": diagnosis.symptom.guide_section,
        "most_likely": best.id if best else None,
        "remediation": best.remediation if best else None,
        "apply_change": best.apply_change if best else None,
        "checks": [
            {
                "id": c.id,
                "title": c.title,
                "status": c.status,
                "benign": c.benign,
                "evidence": c.evidence,
                "remediation": c.remediation if c.status != "not_found" else "",
                "apply_change": c.apply_change if c.status == "found" else None,
            }
            for c in diagnosis.checks
        ],
    }
