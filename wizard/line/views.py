"""What each step shows: core results printed for a line-by-line terminal.

Every function takes the session, the prompter and the console, calls the core
(or the AWS adapter through the session) and prints. Missing data is printed
with its reason, never skipped: a step that cannot read AWS says why.
"""

from __future__ import annotations

from typing import Any

from wizard.core.policy import lint
from wizard.core.policy.build import build_policy
from wizard.core.policy.diff import same_policy, unified_diff
from wizard.core.policy.formats import to_json
from wizard.core.policy.scenarios import run_scenarios
from wizard.core.snapshot import Unknown
from wizard.line.console import Console, Prompter
from wizard.line.session import Session
from wizard.line.views_act import apply, checklist, export

__all__ = [
    "apply",
    "checklist",
    "conditions_changed",
    "design",
    "export",
    "monitoring_status",
    "prerequisites",
    "rotation_status",
    "understand",
]


def prerequisites(session: Session, prompter: Prompter, console: Console) -> None:
    """Who the credentials belong to, and where the calls go."""
    identity = session.connect()
    if identity is None:
        console.para(f"AWS cannot be read: {session.aws_problem}", "  ")
        console.para(
            "The steps that read AWS will say so; the policy, the checks of "
            "your values and the runbook work without it.",
            "  ",
        )
        return
    where = session.endpoint_url or "AWS"
    console.para(f"You are {identity.arn} in account {identity.account}.", "  ")
    console.para(f"Calls go to {where}.", "  ")
    _coming_permissions(session, identity, console)


def _coming_permissions(session: Session, identity: Any, console: Console) -> None:
    """The coming steps' calls, checked with IAM's simulator and the key policy."""
    from wizard.aws.read_kms import key_policy
    from wizard.aws.read_permissions import session_permissions
    from wizard.core.permissions_check import permission_lines

    values, reader = session.values, session.reader()
    region = values.region or reader.default_region() or ""
    if not values.key_id:
        policy: Any = Unknown("not_configured", "no key is set in the values yet")
    else:
        arn_known = values.key_id.startswith("arn:") or values.account_id
        key = values.key_arn if arn_known else values.key_id
        policy = key_policy(reader.api, region, key)
    steps = session_permissions(reader.api, region, identity, values, policy)
    console.para("Permissions for the coming steps (IAM and the key policy):", "  ")
    for line in permission_lines(steps):
        indent = "      " if line.startswith(" ") else "    "
        console.para(line.strip(), indent)


def understand(session: Session, prompter: Prompter, console: Console) -> None:
    """The key's current policy and its lint findings; denied reads."""
    snapshot = session.read()
    if snapshot is None:
        console.para(f"Not read: {session.aws_problem}", "  ")
        return
    policy = snapshot.key_policy
    if isinstance(policy, Unknown):
        console.para(f"The key policy could not be read: {policy.reason}", "  ")
    else:
        statements = policy.get("Statement", [])
        count = len(statements) if isinstance(statements, list) else 1
        console.para(f"The key policy has {count} statement(s). Lint findings:", "  ")
        _lint(policy, session, console)
    from wizard.aws.readers import missing_permissions

    denied = missing_permissions(session.reader())
    if denied:
        console.para("Denied, so unknown until granted: " + ", ".join(denied), "  ")


def _lint(policy: Any, session: Session, console: Console) -> None:
    try:
        findings = lint.lint_policy(policy, session.values)
    except lint.PolicyInputError as error:
        console.para(f"It cannot be linted: {error}", "    ")
        return
    for finding in findings:
        where = f" [{finding.statement}]" if finding.statement else ""
        console.para(f"{finding.severity}{where}: {finding.message}", "    ")
    if not findings:
        console.para("none", "    ")


def design(session: Session, prompter: Prompter, console: Console) -> None:
    """The hardened policy, its diff against the key's, and the scenarios."""
    proposed = build_policy(session.values)
    console.write(to_json(proposed).rstrip())
    _diff(session, proposed, console)
    outcomes = run_scenarios(proposed, session.values)
    failed = [o for o in outcomes if not o.ok]
    console.para(
        f"Simulated {len(outcomes)} requests (Harbor through S3, direct use, "
        f"strangers, administrators): {len(outcomes) - len(failed)} as the "
        "design expects.",
        "  ",
    )
    for outcome in failed:
        console.para(
            f"{console.paint('FAIL', 'fail')} {outcome.scenario.title}: "
            f"{outcome.result.decision} ({outcome.scenario.why})",
            "    ",
        )
    session.shown_policy = proposed


def _diff(session: Session, proposed: dict[str, Any], console: Console) -> None:
    current = session.snapshot.key_policy if session.snapshot else None
    if current is None or isinstance(current, Unknown):
        console.para("No current policy was read, so there is no diff.", "  ")
        return
    if same_policy(current, proposed):
        console.para("The key already has exactly this policy.", "  ")
        return
    console.para("Changes from the key's current policy:", "  ")
    console.write(unified_diff(current, proposed, "current", "hardened").rstrip())


def conditions_changed(session: Session, prompter: Prompter, console: Console) -> None:
    """The new diff, when the conditions changed the policy."""
    proposed = build_policy(session.values)
    if session.shown_policy is not None and same_policy(session.shown_policy, proposed):
        console.para("The conditions leave the policy as shown above.", "  ")
        return
    console.para("With these conditions the policy becomes:", "  ")
    console.write(to_json(proposed).rstrip())
    _diff(session, proposed, console)
    session.shown_policy = proposed


def rotation_status(session: Session, prompter: Prompter, console: Console) -> None:
    """The key's rotation as read (correction 15 on when rotation happens)."""
    rotation = session.snapshot.rotation if session.snapshot else None
    if rotation is None:
        console.para("Rotation status not read (AWS not available).", "  ")
    elif isinstance(rotation, Unknown):
        console.para(f"Rotation status unknown: {rotation.reason}", "  ")
    elif rotation.enabled:
        nxt = rotation.next_rotation.date() if rotation.next_rotation else "not given"
        console.para(
            f"Rotation is on, every {rotation.period_days or '?'} days; "
            f"next rotation {nxt}.",
            "  ",
        )
    else:
        console.para(
            "Rotation is off. Once enabled, the first rotation comes one period "
            "after enabling, not after the key was created.",
            "  ",
        )


def monitoring_status(session: Session, prompter: Prompter, console: Console) -> None:
    """Trails and alarms as read; the checklist judges them in detail."""
    snapshot = session.snapshot
    if snapshot is None:
        console.para("Monitoring not read (AWS not available).", "  ")
        return
    for label, read in (("Trails", snapshot.trails), ("Alarms", snapshot.alarms)):
        if isinstance(read, Unknown):
            console.para(f"{label}: unknown ({read.reason})", "  ")
        else:
            console.para(f"{label}: {len(read)} found in {snapshot.region}.", "  ")
