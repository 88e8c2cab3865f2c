"""The cause and the fix of one decided request, in plain words.

Given the key policy, the request and the evaluator's :class:`Result`,
:func:`explain` names the statement and the condition that decided it:

- an explicit deny: the Deny that applied, and why its conditions held;
- an implicit deny: the Allow meant for the caller that came closest (it names
  the caller and the action) and the condition that failed; else the statement
  that names the caller but not the action; else that only the account
  statement (IAM delegation) or nothing covers the caller;
- an allow: the key policy is not what denied the request, and where else to
  look (IAM, SCPs, VPC endpoint policies, the key's state), which the tool does
  not evaluate.

An error code that says the key itself is unusable (disabled, pending deletion,
not found) is the cause whatever the policy says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wizard.core.diagnose.analysis import Analysis, StatementCheck, analyse
from wizard.core.diagnose.wording import (
    APPLY_COMMAND,
    APPLY_POLICY,
    Cause,
    condition_cause,
    deny_cause,
)
from wizard.core.policy.simulate import Decision, Request, Result

# Error codes that mean the key cannot be used at all (S3 prefixes them "KMS.").
# https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
_KEY_STATE = {
    "DisabledException": "the key is disabled",
    "KMSInvalidStateException": "the key is not usable in its state (disabled, "
    "pending deletion or pending import)",
    "NotFoundException": "the key does not exist in this account and region",
}


@dataclass(frozen=True)
class Explanation:
    """The decision and what to say about it."""

    decision: Decision
    statements: tuple[str, ...]
    """The labels of the statements that decided it (the evaluator's)."""
    statement: str | None
    """The statement the cause is about (may be a near miss of an implicit deny)."""
    condition: str | None
    """``OPERATOR KEY`` of the deciding condition, when one decided."""
    cause: str
    fix: str
    correction: int | None = None
    apply_change: str | None = None
    details: tuple[str, ...] = ()


def explain(
    policy: Mapping[str, Any],
    request: Request,
    result: Result,
    *,
    error_code: str | None = None,
    aws_reason: str | None = None,
) -> Explanation:
    """Say why ``result`` came out as it did, and what fixes it.

    Args:
        policy: The key policy the request was evaluated against.
        request: The request.
        result: The evaluator's answer for it.
        error_code: AWS's error code, when the request came from a failure.
        aws_reason: AWS's own verdict from the error message, when it has one.

    Returns:
        The explanation; its ``details`` hold the evaluator's reasons and any
        disagreement between AWS's verdict and the policy's.
    """
    analysis = analyse(policy, request)
    via = str(analysis.context.get("aws:viaawsservice", "")) == "true"
    if result.decision == "explicit_deny":
        found = _explicit(analysis, result, request.action, via)
    elif result.decision == "allow":
        found = _allowed(result)
    else:
        found = _implicit(analysis, result, request, aws_reason)
    details = [*result.reasons, *_disagreement(result.decision, aws_reason)]
    state = _key_state(error_code)
    if state is not None:
        details.insert(0, f"Key policy: {found.cause}")
        found = Explanation(
            result.decision, found.statements, None, None, *state, None, None
        )
    return Explanation(
        found.decision,
        found.statements,
        found.statement,
        found.condition,
        found.cause,
        found.fix,
        found.correction,
        found.apply_change,
        tuple(details),
    )


def _labels(result: Result) -> tuple[str, ...]:
    return tuple(ref.label() for ref in result.statements)


def _quote(label: str) -> str:
    return f"'{label}'" if not label.startswith("#") else f"{label}"


def _with(
    result: Result, stmt: StatementCheck | None, cause: Cause, text: str, cond: str
) -> Explanation:
    return Explanation(
        result.decision,
        _labels(result),
        stmt.label if stmt else None,
        cond or None,
        text,
        cause.fix,
        cause.correction,
        cause.apply_change,
    )


def _explicit(
    analysis: Analysis, result: Result, action: str, via: bool
) -> Explanation:
    own = [ref for ref in result.statements if ref.source == "key_policy"]
    if not own:
        labels = ", ".join(_labels(result))
        cause = Cause(
            "",
            "Change or remove the Deny in the caller's IAM policy; a Deny wins "
            "over every Allow in the key policy.",
        )
        text = f"An IAM policy of the caller explicitly denies {action} ({labels})."
        return _with(result, None, cause, text, "")
    stmt = analysis.by_label(own[0].label())
    checks = stmt.conditions if stmt else ()
    cause = deny_cause(checks, action, via)
    label = _quote(own[0].label())
    held = [c for c in checks if c.holds]
    cond = f"{held[0].operator} {held[0].key}" if held else ""
    text = f"Statement {label} explicitly denies {action}: {cause.clause}."
    return _with(result, stmt, cause, text, cond)


def _allowed(result: Result) -> Explanation:
    labels = ", ".join(_quote(label) for label in _labels(result))
    return Explanation(
        "allow",
        _labels(result),
        _labels(result)[0] if result.statements else None,
        None,
        f"The key policy allows this request (statement {labels}), so it was not "
        "the key policy that denied it.",
        "Look where harbor-kms does not: an explicit Deny in the caller's IAM "
        "policies or permissions boundary, an SCP or RCP of the organization, a "
        "VPC endpoint policy, the bucket policy, and the key's state (enabled, "
        "not pending deletion).",
    )


def _implicit(
    analysis: Analysis, result: Result, request: Request, aws_reason: str | None
) -> Explanation:
    misses = analysis.near_misses()
    via = str(analysis.context.get("aws:viaawsservice", "")) == "true"
    if misses and (misses[0].principal == "explicit" or not result.statements):
        stmt = misses[0]
        failed = stmt.failed[0]
        cause = condition_cause(failed, via)
        more = len(stmt.failed) - 1
        extra = f" (and {more} more condition{'s' * (more > 1)})" if more else ""
        text = f"Statement {_quote(stmt.label)} did not match: {cause.clause}{extra}."
        return _with(result, stmt, cause, text, f"{failed.operator} {failed.key}")
    who = _who(analysis)
    action = request.action
    lacking = [s for s in analysis.naming_caller() if not s.action and s.resource]
    if lacking:
        stmt = lacking[0]
        cause = Cause(
            "",
            f"Add {action} to statement {_quote(stmt.label)} (S3 needs "
            "kms:GenerateDataKey to write and kms:Decrypt to read, correction 2): "
            f"{APPLY_COMMAND}.",
            2,
            APPLY_POLICY,
        )
        text = (
            f"Statement {_quote(stmt.label)} names {who} but does not allow "
            f"{action}, and no other statement does."
        )
        return _with(result, stmt, cause, text, "")
    grant = (
        f"Name {who} in the key policy, allowing {action} through S3 for "
        f"Harbor's bucket as the generated policy does ({APPLY_COMMAND})"
    )
    if result.statements:
        label = _quote(_labels(result)[0])
        confirmed = (
            " AWS confirms that no identity-based policy allows it."
            if aws_reason and "identity-based" in aws_reason
            else " The caller's IAM policies were not read for this diagnosis."
        )
        text = (
            f"No statement names {who}; only the account statement {label} covers "
            f"it, which lets IAM policies grant {action} (correction 6), so the "
            f"role's own IAM policy must allow it.{confirmed}"
        )
        fix = f"{grant}, or allow {action} on this key in the role's IAM policy."
        return _with(result, None, Cause("", fix, 6, APPLY_POLICY), text, "")
    text = (
        f"No statement of the key policy allows {action} for {who}: none names "
        "it or its account."
    )
    return _with(result, None, Cause("", grant + ".", None, APPLY_POLICY), text, "")


def _who(analysis: Analysis) -> str:
    caller = analysis.caller
    if caller.kind == "session" and caller.role_arn:
        return f"the role {caller.role_arn}"
    return caller.text


def _key_state(code: str | None) -> tuple[str, str] | None:
    name = (code or "").removeprefix("KMS.")
    if name not in _KEY_STATE:
        return None
    cause = f"AWS reports {code}: {_KEY_STATE[name]}; no policy change helps."
    if name == "NotFoundException":
        fix = (
            "Check the key id and region Harbor uses (s3.keyid in its values.yaml) "
            "and the bucket's default encryption key."
        )
    else:
        fix = (
            "Enable the key (aws kms enable-key) or cancel its deletion "
            "(aws kms cancel-key-deletion, then enable-key); deleting the key "
            "deletes every object's data key with it."
        )
    return cause, fix


def _disagreement(decision: Decision, aws_reason: str | None) -> list[str]:
    """A note when AWS's message and the key policy tell different stories."""
    if not aws_reason:
        return []
    explicit = "explicit deny" in aws_reason
    if explicit and decision != "explicit_deny":
        return [
            f"AWS reports an explicit deny ({aws_reason}), which the key policy as "
            "read does not produce: the Deny is elsewhere (IAM, an SCP, a VPC "
            "endpoint policy) or the key policy changed since."
        ]
    if not explicit and decision == "allow":
        return [
            f"AWS reports {aws_reason}, yet the key policy allows the request: an "
            "IAM policy, SCP or the key's state decided, or the key policy changed."
        ]
    return []
