"""The app's state outside its widgets: values, progress and what they imply.

Widgets never own data: they render a :class:`WizardState` (what the user
entered and where they are) and a :class:`Derived` (the policy, simulation and
lint findings those values give), both immutable and replaced whole. The state
is saved to the values file on every change, so quitting at any moment keeps
what was entered and reopening resumes at the last step. This module imports no
Textual, so it is tested and reused without a terminal.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wizard.core.errors import ConfigError
from wizard.core.steps import STEP_IDS, STEPS, StepState, default_values, step_state
from wizard.core.values import Problem, Values

if TYPE_CHECKING:
    from wizard.core.policy.build import GeneratedStatement
    from wizard.core.policy.lint import Finding
    from wizard.core.policy.scenarios import Outcome

DEFAULT_THEME = "textual-dark"
THEMES = ("textual-dark", "textual-light")


@dataclass(frozen=True)
class WizardState:
    """What the user entered and how far they got; saved to the values file."""

    path: Path
    values: Values
    last_step: str = STEP_IDS[0]
    visited: frozenset[str] = frozenset()
    drafts: Mapping[str, str] = field(default_factory=dict)
    """Text of fields that does not validate yet, by field name: kept so that a
    resumed session shows the user what they typed and why it is wrong."""
    attestations: Mapping[str, Any] = field(default_factory=dict)
    """The ``[attestations]`` table as the file holds it (item id -> by, at,
    note); read and written by :mod:`wizard.core.checklist.attestations`."""
    theme: str = DEFAULT_THEME
    writable: bool = True
    """False when the file on disk could not be read: never overwrite it then."""
    problems: tuple[Problem, ...] = ()
    """What the loader reported about the file (unknown keys, wrong types)."""

    def visit(self, step_id: str) -> WizardState:
        """This state with ``step_id`` as the current and a visited step."""
        return replace(self, last_step=step_id, visited=self.visited | {step_id})

    def visited_map(self) -> dict[str, bool]:
        """Visited steps in the form :func:`wizard.core.steps.step_state` takes."""
        return dict.fromkeys(self.visited, True)


def load_state(path: Path) -> WizardState:
    """The saved state at ``path``, or a fresh one when the file does not exist.

    Raises:
        ConfigError: the file exists but is not valid TOML; the caller shows it
            and keeps the file untouched.
    """
    if not path.exists():
        return WizardState(path=path, values=default_values())
    # The store (and tomlkit behind it) loads only when there is a file: a
    # first run paints without it.
    from wizard.core import store

    loaded = store.load(path, check_values=False)
    session = loaded.extra.get("session", {})
    session = session if isinstance(session, dict) else {}
    last = session.get("last_step")
    visited = session.get("visited", [])
    drafts = session.get("drafts", {})
    theme = session.get("theme")
    return WizardState(
        path=path,
        values=loaded.values,
        last_step=last if last in STEP_IDS else STEP_IDS[0],
        visited=frozenset(s for s in visited if s in STEP_IDS)
        if isinstance(visited, list)
        else frozenset(),
        drafts={str(k): str(v) for k, v in drafts.items()}
        if isinstance(drafts, dict)
        else {},
        attestations=_table(loaded.extra.get("attestations")),
        theme=theme if theme in THEMES else DEFAULT_THEME,
        problems=tuple(loaded.problems),
    )


def unreadable_state(path: Path) -> WizardState:
    """A fresh state for a file that could not be read, marked not writable."""
    return WizardState(path=path, values=default_values(), writable=False)


def _table(table: Any) -> dict[str, Any]:
    # Kept as the file has it; the checklist engine checks it strictly.
    return dict(table) if isinstance(table, dict) else {}


def save_state(state: WizardState) -> None:
    """Write ``state`` to its file atomically, keeping comments and other sections.

    Raises:
        ConfigError: the file cannot be written, or must not be (it was
            unreadable at start and the user has not fixed it).
    """
    if not state.writable:
        raise ConfigError(
            f"{state.path} could not be read when the app started, so it is not "
            "overwritten; fix it or start with --config NEW_FILE."
        )
    session: dict[str, Any] = {
        "last_step": state.last_step,
        "visited": [s for s in STEP_IDS if s in state.visited],
        "theme": state.theme,
    }
    if state.drafts:
        session["drafts"] = dict(state.drafts)
    extra: dict[str, Any] = {"session": session}
    if state.attestations:
        extra["attestations"] = dict(state.attestations)
    state.path.parent.mkdir(parents=True, exist_ok=True)
    from wizard.core import store

    store.save(state.values, state.path, extra=extra)


def demo_config_path() -> Path:
    """Where ``--demo`` keeps its values: a per-user temporary directory.

    Never the user's own ``harbor-kms.toml``; stable across runs so that a demo
    session resumes like a real one.
    """
    user = os.getuid() if hasattr(os, "getuid") else os.getpid()
    return Path(tempfile.gettempdir()) / f"harbor-kms-demo-{user}" / "harbor-kms.toml"


def merge_seeded(saved: Values, seeded: Values, fresh: bool) -> Values:
    """Values for a demo session: the seeded account, keeping the user's entries.

    The sandbox starts empty on every run and its key id is random, so the key
    always comes from the seed; everything else the user entered in an earlier
    demo session is kept.
    """
    if fresh:
        return seeded
    return replace(saved, key_id=seeded.key_id)


@dataclass(frozen=True)
class Derived:
    """What the values imply: the hardened policy and how it behaves."""

    values: Values
    policy: dict[str, Any]
    statements: tuple[GeneratedStatement, ...]
    outcomes: tuple[Outcome, ...]
    error: str | None = None
    """Why the policy could not be built or simulated, if it could not."""

    @property
    def breaks_harbor(self) -> tuple[Outcome, ...]:
        """Harbor's own S3 requests that this policy would refuse."""
        return tuple(
            o for o in self.outcomes if o.scenario.group == "harbor-s3" and not o.ok
        )

    @property
    def failures(self) -> tuple[Outcome, ...]:
        """Every scenario whose decision differs from the hardened design."""
        return tuple(o for o in self.outcomes if not o.ok)


@lru_cache(maxsize=16)
def derive(values: Values) -> Derived:
    """The policy, statements and simulation for ``values`` (cached by value)."""
    # Imported here: the first screen needs none of the policy engine.
    from wizard.core.policy.build import build_policy, build_statements
    from wizard.core.policy.scenarios import run_scenarios

    try:
        statements = tuple(build_statements(values))
        policy = build_policy(values)
        outcomes = tuple(run_scenarios(policy, values))
    except (ValueError, KeyError, TypeError) as error:
        # Values arrive here only after field validation, but a combination the
        # builder cannot express must show as a message, not crash the screen.
        return Derived(values, {}, (), (), error=str(error))
    return Derived(values, policy, statements, outcomes)


@lru_cache(maxsize=16)
def lint_generated(values: Values) -> tuple[Finding, ...]:
    """Lint findings on the hardened policy for ``values``."""
    from wizard.core.policy.lint import lint_policy

    derived = derive(values)
    if derived.error:
        return ()
    return tuple(lint_policy(derived.policy, values))


@dataclass(frozen=True)
class AccountView:
    """What this run learnt from AWS; never saved, read again on the next run."""

    demo: bool = False
    endpoint_url: str | None = None
    """The sandbox's endpoint in demo mode; None for boto3's own resolution."""
    connected: bool = False
    """True once the AWS target is known (always, except while the demo
    sandbox is starting)."""
    identity: Any = None
    """CallerIdentity, an Unknown saying why not, or None before the read."""
    missing_permissions: tuple[str, ...] | None = None
    checked_permissions: tuple[str, ...] = ()
    step_permissions: Any = None
    """StepPermissions per coming step, checked with IAM and the key policy;
    None before the check."""
    snapshot: Any = None
    """The AccountSnapshot of the last read, or None."""
    items: tuple[Any, ...] = ()
    """Checklist items, as loaded by the checklist engine."""
    verdicts: tuple[Any, ...] = ()
    previous_verdicts: tuple[Any, ...] = ()
    """The verdicts of the run before the last, to show what changed."""
    checklist_progress: tuple[int, int, str] = (0, 0, "")
    """Items done, items in all (0 while reading), what is being checked."""
    checklist_stale: bool = True
    """True until a run reflects the current values and account."""
    audit: Mapping[str, Any] | None = None
    """The last run as ``audit --format json`` writes it (for the runbook)."""
    change_status: Mapping[str, str] = field(default_factory=dict)
    """Change id -> running, done, failed or rolled back (this run)."""
    applied: Any = None
    """The core's ApplyResult of the last apply (journal, backups)."""
    rolled_back: Any = None
    exported: tuple[Path, ...] = ()
    troubleshoot: Any = None
    """The last Troubleshooting report (``wizard.commands.troubleshoot.Report``)."""
    busy: frozenset[str] = frozenset()
    """Worker groups running now (identity, snapshot, checklist, apply, ...)."""
    problems: Mapping[str, str] = field(default_factory=dict)
    """Step id -> one sentence (connection lost, permission missing)."""
    completed: frozenset[str] = frozenset()
    """Steps whose work was done in this run (identity read, plan applied)."""


@dataclass(frozen=True)
class Model:
    """Everything a step draws: the saved state and this run's AWS view."""

    state: WizardState
    account: AccountView

    @property
    def derived(self) -> Derived:
        """The policy and simulation for the current values."""
        return derive(self.state.values)


# Steps that are done only when their work is done, not merely when visited.
_WORK_STEPS = frozenset({"prerequisites", "apply", "checklist", "export"})


def sidebar_states(model: Model) -> dict[str, StepState]:
    """The state the sidebar shows for each step.

    The core's :func:`~wizard.core.steps.step_state` decides from values and
    visits; on top of it a step needs attention while one of its fields holds
    text that does not validate or AWS reported a problem for it, and a step
    whose point is an action (apply, checklist, export) is in progress until
    the action is done.
    """
    state, account = model.state, model.account
    visited = state.visited_map()
    states: dict[str, StepState] = {}
    for spec in STEPS:
        own_drafts = any(f.name in state.drafts for f in spec.fields)
        current = step_state(spec.id, state.values, visited)
        if current == "not_started" and not own_drafts:
            states[spec.id] = current
        elif own_drafts or spec.id in account.problems:
            states[spec.id] = "needs_attention"
        elif current == "done" and spec.id in _WORK_STEPS:
            states[spec.id] = "done" if spec.id in account.completed else "in_progress"
        else:
            states[spec.id] = current
    return states


def current_policy(account: AccountView) -> tuple[Mapping[str, Any] | None, str]:
    """The key's current policy as read, or None and the sentence saying why not."""
    from wizard.core.snapshot import Unknown

    snapshot = account.snapshot
    if snapshot is None:
        reason = (
            "The key's current policy has not been read yet; it is read when "
            "the account is (step 3, or r to re-read)."
        )
        return None, reason
    policy = snapshot.key_policy
    if isinstance(policy, Unknown):
        return None, f"The key's current policy could not be read: {policy.reason}"
    return policy, ""


def simulate_current(
    policy: Mapping[str, Any], values: Values
) -> tuple[tuple[Outcome, ...], str | None]:
    """The scenarios decided against the key's current policy, or why they can't be."""
    import json

    return _simulate_text(json.dumps(policy, sort_keys=True), values)


@lru_cache(maxsize=8)
def _simulate_text(
    policy_text: str, values: Values
) -> tuple[tuple[Outcome, ...], str | None]:
    import json

    from wizard.core.policy.scenarios import run_scenarios
    from wizard.core.policy.simulate import PolicyError

    try:
        return tuple(run_scenarios(json.loads(policy_text), values)), None
    except PolicyError as error:
        return (), f"The current policy cannot be simulated: {error}"


_PLANS: dict[tuple[int, Values], tuple[Any, Any]] = {}


def plan_for(account: AccountView, values: Values) -> Any:
    """The apply plan for ``values`` against the last snapshot (None before one).

    Planning is pure and quick, but the steps that show it redraw on every
    keystroke, so plans are kept by snapshot and values.
    """
    snapshot = account.snapshot
    if snapshot is None:
        return None
    key = (id(snapshot), values)
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is snapshot:
        return hit[1]
    from wizard.core.apply.plan import PlanOptions, checklist_ids, make_plan

    options = PlanOptions(checklist=checklist_ids(account.items))
    plan = make_plan(snapshot, values, options)
    if len(_PLANS) >= 8:
        _PLANS.pop(next(iter(_PLANS)))
    _PLANS[key] = (snapshot, plan)
    return plan
