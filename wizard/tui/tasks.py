"""The blocking work behind the app's workers: sandbox, reads, lists.

Each function runs on a worker thread, calls the AWS adapter (``wizard.aws``)
or the core, and returns core objects; none touches a widget. The adapter is
imported inside each function, so the first screen paints before boto3 or the
emulator is loaded. This module imports no Textual.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wizard.core.values import Values

if TYPE_CHECKING:
    from wizard.aws.sandbox import Sandbox
    from wizard.aws.session import AwsTarget
    from wizard.core.policy.formats import Format

DEMO_SCENARIO = "guide-as-written"
DEMO_REGION = "us-east-1"
# The sandbox accepts any credentials; these keep real ones from being sent to
# it (and make a demo work on a machine with none).
_SANDBOX_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}
_CREDENTIAL_OVERRIDES = ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")


@dataclass(frozen=True)
class DemoAccount:
    """A running, seeded sandbox and the values that describe its account."""

    sandbox: Sandbox
    endpoint_url: str
    values: Values
    scenario: str


def start_demo(scenario: str = DEMO_SCENARIO, region: str = DEMO_REGION) -> DemoAccount:
    """Start the sandbox, seed ``scenario`` and point the SDK's credentials at it."""
    from wizard.aws.sandbox import Sandbox, seed

    for name in _CREDENTIAL_OVERRIDES:
        os.environ.pop(name, None)
    os.environ.update(_SANDBOX_CREDENTIALS)
    sandbox = Sandbox(region=region).start()
    try:
        # moto keeps its accounts per process: start from an empty one, so a
        # second demo in the same process (the tests) seeds without clashes.
        sandbox.reset()
        result = seed(sandbox.endpoint_url, scenario, region)
    except Exception:
        sandbox.stop()
        raise
    return DemoAccount(sandbox, sandbox.endpoint_url, result.values(), scenario)


def target_for(values: Values, endpoint_url: str | None) -> AwsTarget:
    """Where the calls for ``values`` go: their region, the sandbox in a demo."""
    from wizard.aws.session import AwsTarget

    return AwsTarget.from_env_and_args(
        region=values.region or None, endpoint_url=endpoint_url
    )


@dataclass(frozen=True)
class AccountRead:
    """One read of the account: the snapshot, who read it, what was denied."""

    snapshot: Any
    identity: Any
    missing_permissions: tuple[str, ...]
    checked_permissions: tuple[str, ...]
    step_permissions: Any = None
    """StepPermissions per coming step (IAM's simulator and the key policy),
    or None when the caller is not known."""


def read_account(values: Values, endpoint_url: str | None) -> AccountRead:
    """Read everything the steps show about ``values``' key, bucket and role.

    The adapter never raises for an AWS error: a denied or failed read is an
    Unknown in its field, and the denied actions are the missing permissions.
    """
    from wizard.aws.read_permissions import session_permissions
    from wizard.aws.readers import AccountReader, missing_permissions
    from wizard.core.snapshot import CallerIdentity

    reader = AccountReader(target_for(values, endpoint_url))
    snapshot = reader.snapshot(values)
    steps = None
    if isinstance(snapshot.caller, CallerIdentity):
        steps = session_permissions(
            reader.api, snapshot.region, snapshot.caller, values, snapshot.key_policy
        )
    # ApiCall.api is "service:Operation", which is also the IAM action for
    # every API the readers call; only answered calls prove a permission.
    checked = tuple(sorted({c.api for c in snapshot.calls if c.outcome == "ok"}))
    return AccountRead(
        snapshot=snapshot,
        identity=snapshot.caller,
        missing_permissions=tuple(missing_permissions(reader)),
        checked_permissions=checked,
        step_permissions=steps,
    )


def list_choices(field_name: str, values: Values, endpoint_url: str | None) -> Any:
    """Values the account offers for ``field_name`` (a tuple, or an Unknown).

    Keys come from the adapter's key listing; roles and buckets from its
    generic paginated call, one page set each.
    """
    from wizard.aws.readers import AccountReader
    from wizard.core.snapshot import Unknown

    reader = AccountReader(target_for(values, endpoint_url))
    region = values.region or reader.default_region() or ""
    if field_name == "key_id":
        keys = reader.list_customer_keys(region)
        return keys if isinstance(keys, Unknown) else tuple(keys)
    if field_name == "harbor_role_arn":
        pages = reader.api.pages("iam", "ListRoles", "roles", region=region)
        if isinstance(pages, Unknown):
            return pages
        return tuple(r["Arn"] for page in pages for r in page.get("Roles", ()))
    if field_name == "bucket":
        found = reader.api.call("s3", "ListBuckets", "buckets", region=region)
        if isinstance(found, Unknown):
            return found
        return tuple(b["Name"] for b in found.get("Buckets", ()))
    return Unknown("not_configured", f"There is no list for {field_name}.")


def troubleshoot(
    values: Values, endpoint_url: str | None, symptom: str | None, text: str
) -> Any:
    """Diagnose a guide symptom, or the failed request pasted as ``text``.

    Returns:
        A :class:`wizard.commands.troubleshoot.Report` (bad input in its
        ``error``); nothing is changed in the account.
    """
    from wizard.aws.readers import AccountReader
    from wizard.commands.troubleshoot import troubleshoot_request, troubleshoot_symptom

    reader = AccountReader(target_for(values, endpoint_url))
    if symptom:
        return troubleshoot_symptom(reader, values, symptom)
    return troubleshoot_request(reader, values, text)


Report = Callable[[int, int, str], None]
"""Progress callback: done, total (0 while unknown), what is happening."""


@dataclass(frozen=True)
class ChecklistRun:
    """A checklist run: the fresh read it rests on and a verdict per item."""

    read: AccountRead
    items: tuple[Any, ...]
    verdicts: tuple[Any, ...]


def run_checklist(
    values: Values,
    endpoint_url: str | None,
    attestations: Mapping[str, Any],
    source: str,
    report: Report,
    read: Callable[[Values, str | None], AccountRead] | None = None,
) -> ChecklistRun:
    """Read the account afresh and evaluate every checklist item against it.

    Raises:
        ChecklistError: the checklist files or the attestations are invalid.
    """
    from wizard.core.checklist.engine import evaluate, load_items, parse_attestations

    report(0, 0, "Reading the account")
    items = load_items()
    attested = parse_attestations(attestations or None, items, source)
    read_result = (read or read_account)(values, endpoint_url)
    total = len(items)
    done = 0

    def step(item: Any, verdict: Any) -> None:
        nonlocal done
        done += 1
        report(done, total, item.title)

    snapshot = read_result.snapshot
    verdicts = evaluate(items, snapshot, values, attested, progress=step)
    return ChecklistRun(read_result, tuple(items), tuple(verdicts))


def audit_document(run: ChecklistRun, values: Values) -> dict[str, Any]:
    """The run as ``audit --format json`` writes it (the runbook reads that)."""
    from wizard.core.checklist.report import KeyAudit, audit_json, key_json

    key = key_json(run.read.snapshot, values)
    return audit_json(KeyAudit(key, run.items, run.verdicts))


class _Reporting:
    """The boto3 apply adapter, telling the UI which change each call serves."""

    def __init__(self, inner: Any, changes: Mapping[int, str], report: Report):
        self._inner = inner
        self._changes = changes
        self._report = report

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def call(self, step: Any) -> dict[str, Any]:
        """Make the call, saying before and after which change it serves."""
        change = self._changes.get(id(step), "")
        self._report(0, 0, f"{change}\trunning\t{step.summary}")
        outputs: dict[str, Any] = self._inner.call(step)
        self._report(0, 0, f"{change}\tdone\t{step.summary}")
        return outputs


def apply_changes(
    plan: Any,
    values: Values,
    endpoint_url: str | None,
    config_path: Path,
    report: Report,
) -> Any:
    """Apply ``plan`` (already narrowed to the chosen changes), journaled.

    Returns:
        The core's ApplyResult (journal, backups, outcome per step).

    Raises:
        LockoutRefused: the new key policy fails the lockout proof.
        WizardError: a journal or backup cannot be written.
    """
    from wizard.aws.apply_exec import BotoAdapter
    from wizard.aws.readers import AccountReader
    from wizard.aws.session import Clients
    from wizard.core.apply.backup import state_dir
    from wizard.core.apply.run import apply_plan, caller_record

    target = target_for(values, endpoint_url)
    clients = Clients(target)
    by_step = {id(s): c.id for c in plan.changes for s in c.steps}
    adapter = _Reporting(BotoAdapter(clients, values), by_step, report)
    # Who applied goes into the journal, for the runbook's "by whom".
    caller = caller_record(AccountReader(target).caller_identity())
    return apply_plan(plan, values, adapter, state_dir(config_path), caller=caller)


def roll_back(
    journal: Path, values: Values, endpoint_url: str | None, config_path: Path
) -> Any:
    """Undo what the apply journal ``journal`` records, last step first."""
    from wizard.aws.apply_exec import BotoAdapter
    from wizard.aws.readers import AccountReader
    from wizard.aws.session import Clients
    from wizard.core.apply.backup import state_dir
    from wizard.core.apply.rollback import rollback
    from wizard.core.apply.run import caller_record

    clients = Clients(target_for(values, endpoint_url))
    caller = caller_record(AccountReader(clients.target).caller_identity())
    return rollback(
        journal,
        BotoAdapter(clients, values),
        state_dir(config_path),
        caller=caller,
    )


def backup_dir(config_path: Path) -> Path:
    """Where apply keeps its backups and journals (beside the values file)."""
    from wizard.core.apply.backup import state_dir

    return state_dir(config_path)


def export_files(
    values: Values,
    config_path: Path,
    runbook_path: Path,
    formats: tuple[Format, ...],
    audit: Mapping[str, Any] | None,
    attestations: Mapping[str, Any],
    identity: Any,
) -> tuple[Path, ...]:
    """Write the runbook (Markdown, or HTML for ``.html``) and the policy files.

    The policy goes beside the runbook as ``<name>.policy.json``,
    ``<name>.tf`` and ``<name>.cfn.json`` for the formats asked for.
    """
    from wizard.core.fsutil import write_atomic
    from wizard.core.policy.build import build_policy
    from wizard.core.policy.formats import render
    from wizard.core.runbook import (
        build_view,
        load_catalog,
        read_journal_files,
        write_runbook,
    )

    journals, _ = read_journal_files(config_path, values)
    caller = {"Arn": identity.arn} if hasattr(identity, "arn") else None
    view = build_view(
        values,
        audit=audit,
        audit_source="the checklist run of this session" if audit else "",
        journal=journals,
        identity=caller,
        attestations=attestations,
        catalog=load_catalog(),
        config_path=config_path,
    )
    html = runbook_path.suffix.lower() in (".html", ".htm")
    write_runbook(view, runbook_path, "html" if html else "markdown")
    written = [runbook_path]
    policy = build_policy(values)
    for name in formats:
        target = runbook_path.with_name(runbook_path.stem + POLICY_SUFFIXES[name])
        write_atomic(target, render(policy, values, name))
        written.append(target)
    return tuple(written)


POLICY_SUFFIXES = {
    "json": ".policy.json",
    "terraform": ".tf",
    "cloudformation": ".cfn.json",
}
"""File name endings of the policy formats written beside the runbook."""


class Backend:
    """What the app's workers call: AWS (or the demo sandbox) by default.

    One object, so a test (or a snapshot) can give the app a backend that
    answers from a canned account instead; every method blocks and runs on a
    worker thread.
    """

    def start_demo(self) -> DemoAccount:
        """Start and seed the sandbox."""
        return start_demo()

    def read_account(self, values: Values, endpoint_url: str | None) -> AccountRead:
        """Read the account for ``values``."""
        return read_account(values, endpoint_url)

    def list_choices(
        self, field_name: str, values: Values, endpoint_url: str | None
    ) -> Any:
        """Keys, roles or buckets to pick from."""
        return list_choices(field_name, values, endpoint_url)

    def run_checklist(
        self,
        values: Values,
        endpoint_url: str | None,
        attestations: Mapping[str, Any],
        source: str,
        report: Report,
    ) -> ChecklistRun:
        """A fresh read and every checklist item (reads through this backend)."""
        return run_checklist(
            values, endpoint_url, attestations, source, report, self.read_account
        )

    def troubleshoot(
        self, values: Values, endpoint_url: str | None, symptom: str | None, text: str
    ) -> Any:
        """Diagnose a symptom or a pasted failed request (reads only)."""
        return troubleshoot(values, endpoint_url, symptom, text)

    def apply_changes(
        self,
        plan: Any,
        values: Values,
        endpoint_url: str | None,
        config_path: Path,
        report: Report,
    ) -> Any:
        """Apply the chosen changes."""
        return apply_changes(plan, values, endpoint_url, config_path, report)

    def roll_back(
        self, journal: Path, values: Values, endpoint_url: str | None, config_path: Path
    ) -> Any:
        """Undo the last apply."""
        return roll_back(journal, values, endpoint_url, config_path)
