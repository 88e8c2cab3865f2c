"""``harbor-kms apply`` and ``harbor-kms rollback``: change AWS, safely.

apply reads the account, prints the plan, and (after a confirmation, or with
--yes) applies the chosen changes with a backup before every write that replaces
state and a journal written as it goes. With no terminal and no --yes it is a
dry run. rollback undoes the most recent apply of the configured key (or the
journal given) and proves the key policy is the backed-up one.

Exit codes: 0 done (or nothing to do, or a dry run); 2 an error, with what was
and was not changed; 3 refused by the lockout check (nothing changed); 130
interrupted (the journal says what was done).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from wizard.commands.common import (
    aws_options,
    load_values,
    override_values,
    read_json_file,
)
from wizard.core import store
from wizard.core.apply import journal as journals
from wizard.core.apply.backup import state_dir
from wizard.core.apply.model import CHANGE_IDS, Plan, select
from wizard.core.apply.plan import PlanOptions, checklist_ids, make_plan
from wizard.core.apply.render import render_plan, render_result
from wizard.core.apply.run import ApplyResult, caller_record, refuse_if_locked_out
from wizard.core.errors import InputError, WizardError
from wizard.core.values import Values, check_rotation_days

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class ApplyFailed(WizardError):
    """An AWS call failed partway; the message says what was and was not changed."""

    title = "Apply"
    exit_code = 2


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register ``apply`` and ``rollback``."""
    aws = argparse.ArgumentParser(add_help=False, parents=[aws_options(common)])
    aws.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    apply = subparsers.add_parser(
        "apply", parents=[aws], help="plan and apply the hardening (dry run first)"
    )
    ids = ", ".join(CHANGE_IDS)
    apply.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="IDS",
        help=f"apply only these change ids (comma-separated): {ids}",
    )
    apply.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="IDS",
        help="leave these change ids out",
    )
    apply.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan and change nothing (the default "
        "without a terminal and without --yes)",
    )
    apply.add_argument(
        "--probe",
        action="store_true",
        help="after the key policy, write and read back an object "
        "through SSE-KMS (the canary)",
    )
    apply.add_argument(
        "--auto-rollback",
        action="store_true",
        help="if the canary fails, restore the old key policy at once",
    )
    apply.add_argument(
        "--alarm-email",
        metavar="ADDRESS",
        help="who the alarms notify (overrides the config)",
    )
    apply.add_argument(
        "--rotation-days",
        metavar="DAYS",
        help="rotation period, 90 to 2560 (overrides the config)",
    )
    apply.add_argument(
        "--event-rules",
        action="store_true",
        help="also plan EventBridge rules for the same events",
    )
    apply.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a tag to add to the key (e.g. Owner=platform)",
    )
    apply.add_argument(
        "--policy",
        metavar="POLICY.json",
        help="put this key policy instead of the generated one",
    )
    apply.add_argument(
        "--full",
        action="store_true",
        help="print every request parameter, documents included",
    )
    apply.add_argument(
        "--allow-lockout-risk",
        action="store_true",
        help="DANGEROUS: put a key policy even though the lockout "
        "check shows the administrators, the break-glass role or "
        "Harbor would lose access; the key may become unmanageable",
    )
    apply.set_defaults(handler=cmd_apply)

    rollback = subparsers.add_parser(
        "rollback", parents=[aws], help="undo the most recent apply of the key"
    )
    rollback.add_argument(
        "--journal",
        type=Path,
        metavar="PATH",
        help="the apply journal to undo (default: the latest)",
    )
    rollback.set_defaults(handler=cmd_rollback)


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _ask(question: str, out: TextIO) -> str:
    out.write(question)
    out.flush()
    return input().strip()


def _values(args: argparse.Namespace, err: TextIO) -> Values:
    values = load_values(args.config, err=err)
    assert values is not None  # required=True raises instead
    values = override_values(values, key_id=args.key_id)
    if args.region and values.region and args.region != values.region:
        raise InputError(
            f"--region {args.region} differs from the config's region "
            f"{values.region}, where the key and the bucket are."
        )
    if getattr(args, "rotation_days", None):
        problem = check_rotation_days(args.rotation_days)
        if problem:
            raise InputError(f"--rotation-days: {problem}")
        values = replace(values, rotation_period_days=int(args.rotation_days))
    if getattr(args, "alarm_email", None):
        values = replace(values, alarm_email=_email(args.alarm_email, "--alarm-email"))
    return values


def _email(text: str, where: str) -> str:
    if not _EMAIL.fullmatch(text):
        raise InputError(f"{where}: {text!r} is not an e-mail address.")
    return text


def _target(args: argparse.Namespace, values: Values) -> Any:
    from wizard.aws.session import AwsTarget

    try:
        return AwsTarget.from_env_and_args(
            region=values.region, profile=args.profile, endpoint_url=args.endpoint_url
        )
    except ValueError as error:
        raise InputError(str(error)) from None


def _base(args: argparse.Namespace) -> Path:
    return state_dir(args.config or store.DEFAULT_PATH)


def _ids(raw: list[str]) -> tuple[str, ...]:
    return tuple(i.strip() for chunk in raw for i in chunk.split(",") if i.strip())


def _options(args: argparse.Namespace) -> PlanOptions:
    tags: dict[str, str] = {}
    for item in args.tag:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(f"--tag {item!r}: write it as KEY=VALUE.")
        tags[key.strip()] = value.strip()
    policy = read_json_file(args.policy, "Policy") if args.policy else None
    if policy is not None and not isinstance(policy, dict):
        raise InputError(f"Policy {args.policy} is not a JSON object.")
    from wizard.core.checklist import engine

    return PlanOptions(
        event_rules=args.event_rules or "create-event-rules" in _ids(args.only),
        tags=tags,
        policy=policy,
        checklist=checklist_ids(engine.load_items()),
    )


def cmd_apply(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Plan, show, confirm, apply; see the module docstring for exit codes."""
    from wizard.aws.apply_exec import BotoAdapter
    from wizard.aws.readers import AccountReader
    from wizard.aws.session import Clients
    from wizard.core.apply.run import apply_plan

    values = _values(args, err)
    options, target = _options(args), _target(args, values)
    interactive = _interactive() and not args.yes
    dry = args.dry_run or (not args.yes and not interactive)
    reader = AccountReader(target)
    caller = reader.connect()
    if values.account_id and caller.account != values.account_id:
        raise InputError(
            f"The credentials are for account {caller.account}, but the values "
            f"name {values.account_id}; apply changes only the account the values "
            "name. Use the right --profile."
        )
    plan = select(
        make_plan(reader.snapshot(values), values, options),
        _ids(args.only),
        _ids(args.skip),
    )
    if interactive:
        values, plan = _ask_missing(values, plan, reader, options, args, out)
    unfinished = journals.unfinished_apply(_base(args), values.bare_key_id)
    if unfinished:
        err.write(f"warning: {unfinished}\n")
    out.write(render_plan(plan, full=args.full))
    if dry:
        why = "--dry-run" if args.dry_run else "no terminal and no --yes"
        out.write(f"\nDry run ({why}): nothing was changed.\n")
        return 0
    ready = [c for c in plan.changes if c.ready]
    if not ready:
        out.write("\nNothing to apply.\n")
        return 0
    if interactive:
        picked = _pick(plan, out)
        if picked is None:
            out.write("Nothing was changed.\n")
            return 0
        plan = picked
    # Judged on the changes chosen: skipping put-key-policy needs no proof.
    for line in refuse_if_locked_out(plan, args.allow_lockout_risk):
        err.write(line + "\n")
    adapter = BotoAdapter(Clients(target), values)
    result = apply_plan(
        plan,
        values,
        adapter,
        _base(args),
        allow_lockout_risk=args.allow_lockout_risk,
        probe=args.probe,
        confirm_rollback=lambda detail: (
            args.auto_rollback
            or (
                interactive
                and _ask("Restore the previous key policy now? [Y/n] ", out).lower()
                in ("", "y", "yes")
            )
        ),
        progress=_printer(out),
        caller={"arn": caller.arn, "account": caller.account},
    )
    return _report(result, out)


def _ask_missing(
    values: Values,
    plan: Plan,
    reader: Any,
    options: PlanOptions,
    args: argparse.Namespace,
    out: TextIO,
) -> tuple[Values, Plan]:
    """Ask for the values planned changes lack; plan again with the answers."""
    asked = False
    if any(c.missing for c in plan.changes) and not values.alarm_email:
        answer = _ask("E-mail address the alarms notify (empty to skip them): ", out)
        if answer:
            values, asked = replace(values, alarm_email=_email(answer, "e-mail")), True
    tag = plan.change("tag-key")
    if tag is not None and any("Owner" in note for note in tag.notes):
        owner = _ask("Owner tag for the key (team or person; empty to skip): ", out)
        if owner:
            options = replace(options, tags={**options.tags, "Owner": owner})
            asked = True
    if not asked:
        return values, plan
    fresh = make_plan(reader.snapshot(values), values, options)
    return values, select(fresh, _ids(args.only), _ids(args.skip))


def _pick(plan: Plan, out: TextIO) -> Plan | None:
    ready = [c.id for c in plan.changes if c.ready]
    answer = _ask(
        f"\nApply which changes? [all = {', '.join(ready)}; or ids, comma-separated;"
        " 'none' to stop] ",
        out,
    )
    if answer.lower() in ("none", "n", "no"):
        return None
    chosen = select(plan, only=_ids([answer])) if answer and answer != "all" else plan
    shown = ", ".join(c.id for c in chosen.changes if c.ready)
    confirm = _ask(f"Apply {shown} to {plan.key_arn}? [y/N] ", out)
    return chosen if confirm.lower() in ("y", "yes") else None


def _report(result: ApplyResult, out: TextIO) -> int:
    """Print the outcome; raise ApplyFailed (exit 2) unless it completed."""
    out.write(render_result(result))
    if result.outcome == "complete":
        return 0
    raise ApplyFailed(
        result.message + " See Changed / Not changed above; "
        "`harbor-kms rollback` undoes what was done."
    )


def cmd_rollback(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Undo the latest (or given) apply; exit 0 when done, 2 when incomplete."""
    from wizard.aws.apply_exec import BotoAdapter
    from wizard.aws.readers import AccountReader
    from wizard.aws.session import Clients
    from wizard.core.apply.model import Plan as PlanModel
    from wizard.core.apply.rollback import rollback
    from wizard.core.apply.undo import undo_plan

    values = _values(args, err)
    base = _base(args)
    path = args.journal or journals.latest_journal(base, values.bare_key_id, "apply")
    if path is None:
        out.write(
            f"No apply is recorded for key {values.bare_key_id} in "
            f"{base / journals.JOURNALS}; nothing to roll back.\n"
        )
        return 0
    state = journals.read_journal(path)
    if state.key_arn and state.key_arn != values.key_arn:
        raise InputError(
            f"The journal {path} is for {state.key_arn}, but the "
            f"config names {values.key_arn}; use --key-id."
        )
    done = [
        r
        for r in journals.rollbacks_of(base, values.bare_key_id, path)
        if r.outcome in ("complete", "nothing")
    ]
    if done:
        out.write(f"The apply {path} was already rolled back ({done[-1].path}).\n")
        return 0
    undo = undo_plan(PlanModel.from_json(state.start.get("plan", {})), state)
    out.write(
        f"Rollback of {path} (apply {state.outcome or 'interrupted'}, "
        f"{len(state.done)} step(s) done):\n"
    )
    if not args.yes:  # with --yes the progress lines list the same calls
        for call in undo.calls:
            out.write(f"  - {call.step.summary}  [{call.step.api}]\n")
    for note in undo.notes:
        out.write(f"note: {note}\n")
    if not undo.calls:
        out.write("Nothing to undo.\n")
    interactive = _interactive() and not args.yes
    if not args.yes and not interactive:
        out.write("Nothing was changed: run with --yes to roll back.\n")
        return 0
    if interactive and _ask("Roll back? [y/N] ", out).lower() not in ("y", "yes"):
        out.write("Nothing was changed.\n")
        return 0
    target = _target(args, values)
    adapter = BotoAdapter(Clients(target), values)
    caller = caller_record(AccountReader(target).caller_identity())
    result = rollback(path, adapter, base, progress=_printer(out), caller=caller)
    for outcome in result.outcomes:
        if outcome.status == "failed":
            err.write(f"failed: {outcome.summary}: {outcome.detail}\n")
    if result.policy_restored:
        out.write("The key policy equals the backup (normalised JSON).\n")
    out.write(f"Journal: {result.journal}\n")
    if result.outcome == "incomplete":
        raise ApplyFailed(
            "The rollback is incomplete (see above); run it again "
            "once the cause is fixed: each step is safe to repeat."
        )
    return 0


def _printer(out: TextIO) -> Callable[[str], None]:
    def say(line: str) -> None:
        out.write(line + "\n")

    return say
