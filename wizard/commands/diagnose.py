"""``harbor-kms diagnose``: find the cause of a failed request or a symptom.

A failed request (``--event`` with a CloudTrail event, ``--error``/``--error-file``
with the AWS error text Harbor logged) is turned into the KMS request, evaluated
against the key policy (read from AWS, or ``--policy``), and explained: the
deciding statement and condition, the cause and the fix. A symptom
(``--symptom``) runs the guide's troubleshooting steps against the account.
Nothing is ever changed; where a fix is a ``harbor-kms apply`` change, the
command to plan it is printed.

Exit codes: 0 nothing found (the key policy allows the request; no cause of the
symptom is present, or only one that needs no fix, such as a first rotation not
yet due), 1 a cause was found, 2 usage, input and connection errors.
The AWS adapter is imported inside the handler, as in ``audit``.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from wizard.commands.common import aws_options, override_values, read_json_file
from wizard.core import store
from wizard.core.diagnose.errortext import parse_error_text
from wizard.core.diagnose.event import EventError, FailedRequest, Hints, parse_event
from wizard.core.diagnose.explain import Explanation, explain
from wizard.core.diagnose.symptoms import (
    SYMPTOMS,
    Diagnosis,
    diagnose_symptom,
    diagnosis_to_json,
)
from wizard.core.errors import ConfigError, InputError, WizardError
from wizard.core.policy.scenarios import harbor_session_arn
from wizard.core.policy.simulate import Evaluator, PolicyError
from wizard.core.values import Values

if TYPE_CHECKING:
    from wizard.aws.readers import AccountReader

_WIDTH = 88
_LABEL = 12


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register ``diagnose``."""
    diagnose = subparsers.add_parser(
        "diagnose",
        parents=[aws_options(common, key_id=False)],
        help="find the cause of a failed request or a symptom (changes nothing)",
    )
    what = diagnose.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--event", metavar="EVENT.json", help="a CloudTrail event ('-' for stdin)"
    )
    what.add_argument(
        "--error", metavar="TEXT", help="the AWS error text Harbor logged"
    )
    what.add_argument(
        "--error-file", metavar="FILE", help="the error text from a file ('-': stdin)"
    )
    what.add_argument("--symptom", choices=list(SYMPTOMS), help="a guide symptom")
    diagnose.add_argument(
        "--policy",
        metavar="POLICY.json",
        help="evaluate against this key policy instead of reading it from AWS",
    )
    diagnose.add_argument(
        "--object",
        metavar="KEY",
        help="with --symptom download-denied: the object key that fails",
    )
    diagnose.add_argument("--format", choices=("text", "json"), default="text")
    diagnose.set_defaults(handler=cmd_diagnose)


def cmd_diagnose(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Diagnose as the arguments ask; see the module docstring for exit codes."""
    values = _values(args)
    if args.symptom:
        return _symptom(args, values, out, err)
    if args.object:
        raise InputError("--object goes with --symptom download-denied.")
    return _request(args, values, out)


def _values(args: argparse.Namespace) -> Values:
    """The values file if there is one, with --region; nothing here is required."""
    path = args.config or store.DEFAULT_PATH
    values = Values()
    if args.config is not None or path.exists():
        loaded = store.load(path, check_values=False)
        errors = [p for p in loaded.problems if p.severity == "error"]
        if errors:
            raise ConfigError(
                "The values cannot be used:\n"
                + "\n".join(f"  {p.field}: {p.message}" for p in errors)
            )
        values = loaded.values
    return override_values(values, region=args.region)


def _reader(args: argparse.Namespace, region: str | None) -> AccountReader:
    from wizard.aws.readers import AccountReader
    from wizard.aws.session import AwsTarget

    target = AwsTarget.from_env_and_args(
        region=region, profile=args.profile, endpoint_url=args.endpoint_url
    )
    return AccountReader(target)


# --- a failed request --------------------------------------------------------


def hints_from_values(values: Values) -> Hints:
    """What the values file says, for what the input leaves out."""
    complete = values.key_id.startswith("arn:") or bool(
        values.key_id and values.region and values.account_id
    )
    bucket_keys: bool | None = values.bucket_key_enabled if values.bucket else None
    return Hints(
        region=values.region or None,
        account_id=values.account_id or None,
        key_arn=values.key_arn if complete else None,
        bucket=values.bucket or None,
        bucket_key_enabled=bucket_keys,
        principal=harbor_session_arn(values) if values.harbor_role_arn else None,
    )


def live_bucket_keys(reader: AccountReader, values: Values, region: str) -> bool | None:
    """The bucket's real Bucket Keys setting, when it can be read."""
    from wizard.aws import read_s3
    from wizard.core.snapshot import Bucket, BucketEncryption

    if not values.bucket or not region:
        return None
    bucket = read_s3.bucket(reader.api, region, values.bucket)
    encryption = bucket.encryption if isinstance(bucket, Bucket) else None
    if isinstance(encryption, BucketEncryption):
        return encryption.bucket_key_enabled
    return None


def _failed(args: argparse.Namespace, hints: Hints) -> FailedRequest:
    try:
        if args.event:
            return parse_event(read_json_file(args.event, "Event file"), hints)
        text = args.error
        if args.error_file:
            text = _read_text(args.error_file)
        return parse_error_text(text, hints)
    except EventError as error:
        raise InputError(str(error)) from None


def _read_text(path: str) -> str:
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"Error file {path} cannot be read: {error}.") from None


def _request(args: argparse.Namespace, values: Values, out: TextIO) -> int:
    hints = hints_from_values(values)
    failed = _failed(args, hints)
    if args.policy is not None:
        policy = read_json_file(args.policy, "Policy file")
        source = args.policy
    else:
        # The key the input names tells the region when the values do not.
        key = failed.request.resource
        region = values.region or (key.split(":")[3] if key.startswith("arn:") else "")
        reader = _reader(args, region or None)
        reader.connect()
        # S3's context form follows the bucket's real Bucket Keys setting.
        live = live_bucket_keys(reader, values, region)
        if live is not None and live != hints.bucket_key_enabled:
            failed = _failed(args, replace(hints, bucket_key_enabled=live))
        policy, source = live_policy(reader, failed, values), "AWS (kms:GetKeyPolicy)"
    try:
        result = Evaluator(policy).evaluate(failed.request)
    except PolicyError as error:
        raise InputError(
            f"The key policy from {source} cannot be used: {error}"
        ) from None
    found = explain(
        policy,
        failed.request,
        result,
        error_code=failed.error_code,
        aws_reason=failed.aws_reason,
    )
    if args.format == "json":
        document = request_json(failed, found, source)
        out.write(json.dumps(document, indent=2) + "\n")
    else:
        out.write(request_text(failed, found, source))
    return 0 if found.decision == "allow" else 1


def live_policy(
    reader: AccountReader, failed: FailedRequest, values: Values
) -> dict[str, Any]:
    from wizard.aws import read_kms
    from wizard.core.snapshot import Unknown

    key = failed.request.resource
    if key == "*":
        if not values.key_id:
            raise InputError(
                "The input does not name the key: set aws.key_id in the values "
                "file, or give --policy."
            )
        key = values.key_arn if values.account_id else values.key_id
    region = key.split(":")[3] if key.startswith("arn:") else values.region
    policy = read_kms.key_policy(reader.api, region, key)
    if isinstance(policy, Unknown):
        raise WizardError(
            f"The key policy cannot be read: {policy.reason} Give --policy to "
            "diagnose against a saved copy.",
            title="AWS",
        )
    return dict(policy)


def _apply_command(change: str | None) -> str | None:
    return f"harbor-kms apply --only {change}" if change else None


def request_json(
    failed: FailedRequest, found: Explanation, source: str
) -> dict[str, Any]:
    """The JSON form of a request's diagnosis (``--format json``)."""
    request = failed.request
    return {
        "input": failed.source,
        "request": {
            "principal": request.principal,
            "action": request.action,
            "resource": request.resource,
            "context": dict(request.context),
        },
        "error": {
            "code": failed.error_code,
            "message": failed.error_message,
            "aws_reason": failed.aws_reason,
            "operation": failed.operation,
            "event_id": failed.event_id,
            "event_time": failed.event_time,
        },
        "policy_source": source,
        "decision": found.decision,
        "statements": list(found.statements),
        "statement": found.statement,
        "condition": found.condition,
        "cause": found.cause,
        "fix": found.fix,
        "correction": found.correction,
        "apply_change": found.apply_change,
        "apply_command": _apply_command(found.apply_change),
        "notes": list(failed.notes),
        "details": list(found.details),
        "changed": False,
    }


def _row(label: str, text: str) -> str:
    return textwrap.fill(
        text,
        _WIDTH,
        initial_indent=f"{label:<{_LABEL}}",
        subsequent_indent=" " * _LABEL,
        break_on_hyphens=False,
        break_long_words=False,
    )


def _how(failed: FailedRequest) -> str:
    """How the call was made: for an S3 operation, or by a service for the caller."""
    if failed.operation and failed.operation != failed.request.action:
        return f" (for {failed.operation})"
    if failed.via_service:
        return f" (made by {failed.via_service} for the caller)"
    return " (called directly)"


def _decided(found: Explanation) -> str:
    labels = ", ".join(f"'{s}'" for s in found.statements)
    if found.decision != "implicit_deny":
        return labels
    if labels:
        return (
            f"no Allow applies on its own ({labels} only lets IAM policies grant "
            "it, and none was shown to)"
        )
    return "no statement applies"


def request_text(failed: FailedRequest, found: Explanation, source: str) -> str:
    """The text form of a request's diagnosis."""
    request = failed.request
    origin = "CloudTrail event" if failed.source == "cloudtrail" else "error text"
    if failed.event_id:
        origin += f" {failed.event_id}"
    lines = [f"Request (from the {origin})"]
    lines.append(_row("  principal", request.principal))
    lines.append(_row("  action", request.action + _how(failed)))
    lines.append(_row("  key", request.resource))
    for number, (key, value) in enumerate(request.context.items()):
        shown = ", ".join(value) if isinstance(value, list) else str(value)
        lines.append(_row("  context" if number == 0 else "", f"{key} = {shown}"))
    if failed.error_code:
        lines.append(_row("  AWS said", f"{failed.error_code}: {failed.error_message}"))
    lines.append(_row("Key policy", f"from {source}"))
    lines.append(_row("Decision", found.decision.replace("_", " ")))
    lines.append(_row("Decided by", _decided(found)))
    lines.append(_row("Cause", found.cause))
    lines.append(_row("Fix", found.fix))
    command = _apply_command(found.apply_change)
    if command:
        lines.append(
            _row("Apply", f"{command} (plans first; changes nothing until you confirm)")
        )
    for number, note in enumerate([*failed.notes, *found.details]):
        lines.append(_row("Notes" if number == 0 else "", note))
    lines.append("Nothing was changed.")
    return "\n".join(lines) + "\n"


# --- a symptom -----------------------------------------------------------------


def _symptom(args: argparse.Namespace, values: Values, out: TextIO, err: TextIO) -> int:
    if args.policy is not None:
        raise InputError("--policy goes with --event or --error; symptoms read AWS.")
    if not values.key_id:
        raise InputError(
            "No key to diagnose: set aws.key_id in the values file (--config)."
        )
    reader = _reader(args, values.region or None)
    caller = reader.connect()
    region = values.region or reader.default_region() or ""
    if not region:
        raise InputError("No region: give --region, set aws.region, or AWS_REGION.")
    values = replace(values, region=region, account_id=caller.account)
    if args.format == "text":
        err.write(f"Reading account {caller.account} in {region} as {caller.arn}\n")
    snapshot = reader.snapshot(values)
    encryption = None
    if args.object:
        if args.symptom != "download-denied":
            raise InputError("--object goes with --symptom download-denied.")
        if not values.bucket:
            raise InputError("--object needs harbor.bucket in the values file.")
        from wizard.aws.read_object import object_encryption

        encryption = object_encryption(reader.api, region, values.bucket, args.object)
    diagnosis = diagnose_symptom(
        args.symptom, snapshot, values, object_encryption=encryption
    )
    if args.format == "json":
        document = {**diagnosis_to_json(diagnosis), "changed": False}
        best = diagnosis.most_likely
        document["apply_command"] = _apply_command(best.apply_change if best else None)
        out.write(json.dumps(document, indent=2) + "\n")
    else:
        out.write(symptom_text(diagnosis))
    return 1 if diagnosis.faults else 0


_STATUS = {"found": "FOUND", "unknown": "UNKNOWN", "not_found": "ruled out"}


def symptom_text(diagnosis: Diagnosis) -> str:
    """The text form of a symptom's diagnosis."""
    symptom = diagnosis.symptom
    lines = [f"Symptom: {symptom.title} (guide: {symptom.guide_section})", ""]
    for check in diagnosis.checks:
        lines.append(_row(_STATUS[check.status], check.title))
        lines.append(_row("", check.evidence))
        if check.status != "not_found" and check.remediation:
            lines.append(_row("", f"fix: {check.remediation}"))
    lines.append("")
    best = diagnosis.most_likely
    if best is None:
        lines.append("No cause the guide lists is present.")
    else:
        lines.append(_row("Most likely", f"{best.title}: {best.evidence}"))
        lines.append(_row("Remediation", best.remediation))
        command = _apply_command(best.apply_change)
        if command:
            lines.append(_row("Apply", f"{command} (plans first)"))
    lines.append("Nothing was changed.")
    return "\n".join(lines) + "\n"
