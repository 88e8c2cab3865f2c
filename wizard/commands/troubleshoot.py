"""The Troubleshooting step of both front ends: ``diagnose`` as a report model.

The TUI and the line mode diagnose exactly as ``harbor-kms diagnose`` does (a
guide symptom against the account, or a pasted CloudTrail event or Harbor's
error text against the key policy) and draw the same :class:`Report`: a heading,
one row per check (found, unknown, ruled out, with evidence) most likely cause
first, then the cause, the fix and the ``harbor-kms apply`` change if one
exists. Nothing is ever changed. Input that cannot be read (not JSON, no KMS
event, not an AWS error) is a :class:`Report` with ``error`` set, so a front
end shows it inline; only AWS being unusable raises.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from wizard.commands.diagnose import (
    hints_from_values,
    live_bucket_keys,
    live_policy,
)
from wizard.core.diagnose.errortext import parse_error_text
from wizard.core.diagnose.event import EventError, FailedRequest, Hints, parse_event
from wizard.core.diagnose.explain import explain
from wizard.core.diagnose.symptoms import SYMPTOMS, Diagnosis, diagnose_symptom
from wizard.core.errors import InputError
from wizard.core.policy.simulate import Evaluator, PolicyError
from wizard.core.values import Values

if TYPE_CHECKING:
    from wizard.aws.readers import AccountReader

Status = Literal["found", "unknown", "not_found"]
STATUS_WORDS: dict[str, str] = {
    "found": "FOUND",
    "unknown": "UNKNOWN",
    "not_found": "ruled out",
}
SYMPTOM_NAMES = tuple(SYMPTOMS)
"""The guide's five symptoms, by the name ``diagnose --symptom`` takes."""


@dataclass(frozen=True)
class CheckRow:
    """One check of a symptom: its status, title, evidence and fix."""

    status: Status
    title: str
    evidence: str
    fix: str = ""


@dataclass(frozen=True)
class Report:
    """What a Troubleshooting step shows; ``error`` set when the input is bad."""

    heading: str
    checks: tuple[CheckRow, ...] = ()
    rows: tuple[tuple[str, str], ...] = ()
    """(label, text): the request, the cause, the fix, the notes."""
    apply_change: str | None = None
    found: bool = False
    """A cause is present (a symptom's fault, or a request the policy denies)."""
    error: str = ""

    @property
    def apply_command(self) -> str | None:
        """The command that plans the matching change (it changes nothing)."""
        change = self.apply_change
        return f"harbor-kms apply --only {change}" if change else None


def symptom_choices() -> tuple[tuple[str, str], ...]:
    """(title, name) of each symptom, in the guide's order."""
    return tuple((s.title, s.name) for s in SYMPTOMS.values())


def troubleshoot_symptom(reader: AccountReader, values: Values, name: str) -> Report:
    """Run the symptom ``name``'s checks against the account ``reader`` reads.

    Raises:
        AwsError: AWS cannot be used at all (credentials, endpoint).
    """
    if not values.key_id:
        return Report(SYMPTOMS[name].title, error="No key: set the KMS key first.")
    caller = reader.connect()
    region = values.region or reader.default_region() or ""
    if not region:
        return Report(SYMPTOMS[name].title, error="No region: set the region first.")
    values = replace(values, region=region, account_id=caller.account)
    diagnosis = diagnose_symptom(name, reader.snapshot(values), values)
    return symptom_report(diagnosis)


def symptom_report(diagnosis: Diagnosis) -> Report:
    """A symptom's diagnosis as a report: found first, then unknown, ruled out."""
    symptom = diagnosis.symptom
    checks = tuple(
        CheckRow(
            c.status,
            c.title,
            c.evidence,
            c.remediation if c.status != "not_found" else "",
        )
        for c in diagnosis.checks
    )
    best = diagnosis.most_likely
    rows: tuple[tuple[str, str], ...]
    if best is None:
        rows = (("Most likely", "No cause the guide lists is present."),)
    else:
        rows = (
            ("Most likely", f"{best.title}: {best.evidence}"),
            ("Remediation", best.remediation),
        )
    return Report(
        f"{symptom.title} (guide: {symptom.guide_section})",
        checks,
        rows,
        best.apply_change if best else None,
        found=bool(diagnosis.faults),
    )


def parse_pasted(text: str, hints: Hints) -> FailedRequest:
    """A pasted CloudTrail event (JSON) or Harbor's logged error text.

    Raises:
        InputError: The text is empty, broken JSON, holds no KMS or S3 event,
            or is not an AWS access error.
    """
    text = text.strip()
    if not text:
        raise InputError("Paste a CloudTrail event (JSON) or Harbor's error text.")
    try:
        if text[0] in "{[":
            try:
                document = json.loads(text)
            except json.JSONDecodeError as error:
                raise InputError(
                    f"This is not valid JSON (line {error.lineno}, column "
                    f"{error.colno}: {error.msg}). Paste the whole event."
                ) from None
            return parse_event(document, hints)
        return parse_error_text(text, hints)
    except EventError as error:
        raise InputError(str(error)) from None


def troubleshoot_request(reader: AccountReader, values: Values, text: str) -> Report:
    """Find why the request in ``text`` failed, against the key's live policy.

    Raises:
        AwsError: AWS cannot be used at all (credentials, endpoint).
    """
    hints = hints_from_values(values)
    try:
        failed = parse_pasted(text, hints)
        key = failed.request.resource
        region = values.region or (key.split(":")[3] if key.startswith("arn:") else "")
        reader.connect()
        # S3's context form follows the bucket's real Bucket Keys setting.
        live = live_bucket_keys(reader, values, region)
        if live is not None and live != hints.bucket_key_enabled:
            failed = parse_pasted(text, replace(hints, bucket_key_enabled=live))
        policy = live_policy(reader, failed, values)
        result = Evaluator(policy).evaluate(failed.request)
    except InputError as error:
        return Report("A failed request", error=error.message)
    except PolicyError as error:
        why = f"The key policy cannot be used: {error}"
        return Report("A failed request", error=why)
    found = explain(
        policy,
        failed.request,
        result,
        error_code=failed.error_code,
        aws_reason=failed.aws_reason,
    )
    return Report(
        _request_heading(failed),
        rows=_request_rows(failed, found.decision, found.cause, found.fix)
        + tuple(("Note", n) for n in (*failed.notes, *found.details)),
        apply_change=found.apply_change,
        found=found.decision != "allow",
    )


def _request_heading(failed: FailedRequest) -> str:
    origin = "CloudTrail event" if failed.source == "cloudtrail" else "error text"
    return f"Request from the {origin} {failed.event_id or ''}".rstrip()


def _request_rows(
    failed: FailedRequest, decision: str, cause: str, fix: str
) -> tuple[tuple[str, str], ...]:
    request = failed.request
    rows = [
        ("Principal", request.principal),
        ("Action", request.action),
        ("Key", request.resource),
    ]
    rows += [("Context", f"{k} = {v}") for k, v in request.context.items()]
    if failed.error_code:
        rows.append(("AWS said", f"{failed.error_code}: {failed.error_message}"))
    rows += [
        ("Key policy", "from AWS (kms:GetKeyPolicy)"),
        ("Decision", decision.replace("_", " ")),
        ("Cause", cause),
        ("Fix", fix),
    ]
    return tuple(rows)
