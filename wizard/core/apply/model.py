"""What a plan is made of: steps (one AWS call each), changes, the plan.

A :class:`Step` is one API request with its exact parameters, what kind of write
it is (it creates something, replaces existing state, or modifies what an
earlier step created) and how it is undone. A :class:`Change` is what the user
picks: a list of steps with what it reads now, what it writes, why (the guide
section and checklist items) and how to undo it. Everything converts to and from
JSON, because the plan is the first record of the journal a rollback reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

from wizard.core.errors import InputError

ChangeId = Literal[
    "put-key-policy",
    "enable-rotation",
    "tag-key",
    "describe-key",
    "create-trail",
    "create-alarms",
    "create-event-rules",
    "create-config-rule",
    "create-dashboard",
]
CHANGE_IDS: tuple[ChangeId, ...] = get_args(ChangeId)
"""Every change id, in the order a plan applies them (key first, then monitoring)."""

StepKind = Literal["create", "replace", "modify"]
"""create: makes a new resource, undone by deleting it (only if this step made it);
replace: overwrites existing state, backed up first and restored from the backup;
modify: changes what an earlier step of the same change created."""

BackupWhat = Literal["key-policy", "rotation", "tags", "description"]


def output_ref(name: str) -> dict[str, str]:
    """A parameter value taken from the step's response (kept in the journal)."""
    return {"$output": name}


@dataclass(frozen=True)
class Step:
    """One AWS request with its exact parameters, and how it is undone."""

    service: str
    """boto3 client name: kms, s3, logs, iam, cloudtrail, sns, cloudwatch, ..."""
    operation: str
    """The API operation, e.g. PutKeyPolicy."""
    params: Mapping[str, Any]
    summary: str
    kind: StepKind = "create"
    backup: BackupWhat | None = None
    """For a replace: what is read and kept before the write."""
    undo: tuple[Step, ...] = ()
    """For create and modify: the calls that take it back, in order."""
    keep: tuple[str, ...] = ()
    """Response fields to record in the journal (for undo parameters)."""

    @property
    def api(self) -> str:
        """``service:Operation``, as IAM names the permission."""
        return f"{_IAM_PREFIX.get(self.service, self.service)}:{self.operation}"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "service": self.service,
            "operation": self.operation,
            "params": dict(self.params),
            "summary": self.summary,
            "kind": self.kind,
            "backup": self.backup,
            "undo": [s.to_json() for s in self.undo],
            "keep": list(self.keep),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Step:
        """The step :meth:`to_json` wrote."""
        return cls(
            service=str(data["service"]),
            operation=str(data["operation"]),
            params=dict(data.get("params", {})),
            summary=str(data.get("summary", "")),
            kind=data.get("kind", "create"),
            backup=data.get("backup"),
            undo=tuple(cls.from_json(s) for s in data.get("undo", ())),
            keep=tuple(data.get("keep", ())),
        )


# IAM's service prefixes where they differ from the boto3 client name.
_IAM_PREFIX = {"cloudwatch": "cloudwatch", "monitoring": "cloudwatch"}


@dataclass(frozen=True)
class Why:
    """Why a change exists: the guide section and the checklist items it serves."""

    guide_section: str
    checklist_items: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class Change:
    """One change the user can pick, with everything needed to judge it."""

    id: ChangeId
    title: str
    reads_now: str
    """What the snapshot shows for the target of this change."""
    will_write: str
    why: Why
    undo: str
    steps: tuple[Step, ...]
    missing: tuple[str, ...] = ()
    """Values the change needs that the config lacks (it cannot run without)."""
    diff: str = ""
    """For the key policy: unified diff of normalised JSON, current -> proposed."""
    notes: tuple[str, ...] = ()
    """Warnings the user should read (cost, prerequisites, uncertain behaviour)."""
    depends_on: tuple[ChangeId, ...] = ()
    """Changes in the same plan that must run first (e.g. the trail's log group)."""

    @property
    def ready(self) -> bool:
        """True when nothing is missing."""
        return not self.missing

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "id": self.id,
            "title": self.title,
            "reads_now": self.reads_now,
            "will_write": self.will_write,
            "why": {
                "guide_section": self.why.guide_section,
                "checklist_items": list(self.why.checklist_items),
                "reason": self.why.reason,
            },
            "undo": self.undo,
            "steps": [s.to_json() for s in self.steps],
            "missing": list(self.missing),
            "diff": self.diff,
            "notes": list(self.notes),
            "depends_on": list(self.depends_on),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Change:
        """The change :meth:`to_json` wrote."""
        why = data.get("why", {})
        return cls(
            id=data["id"],
            title=str(data.get("title", "")),
            reads_now=str(data.get("reads_now", "")),
            will_write=str(data.get("will_write", "")),
            why=Why(
                str(why.get("guide_section", "")),
                tuple(why.get("checklist_items", ())),
                str(why.get("reason", "")),
            ),
            undo=str(data.get("undo", "")),
            steps=tuple(Step.from_json(s) for s in data.get("steps", ())),
            missing=tuple(data.get("missing", ())),
            diff=str(data.get("diff", "")),
            notes=tuple(data.get("notes", ())),
            depends_on=tuple(data.get("depends_on", ())),
        )


@dataclass(frozen=True)
class Held:
    """A change that is not planned, and why: in place already, or not plannable."""

    id: ChangeId
    reason: str


@dataclass(frozen=True)
class Plan:
    """The changes for one key, and what is not planned with the reason."""

    key_arn: str
    region: str
    account_id: str
    read_at: str
    changes: tuple[Change, ...]
    satisfied: tuple[Held, ...] = ()
    """Target state already holds: nothing to do (the evidence in ``reason``)."""
    blocked: tuple[Held, ...] = ()
    """Cannot be planned safely: something could not be read, or is in the way."""
    lockout: Mapping[str, Any] | None = None
    """The lockout proof of the proposed key policy (see :mod:`.lockout`)."""
    policy: Mapping[str, Any] | None = None
    """The proposed key policy, when put-key-policy is planned."""
    current_policy: Mapping[str, Any] | None = None
    """The key policy the plan was made against (to notice a change since)."""

    @property
    def empty(self) -> bool:
        """True when there is nothing to apply."""
        return not self.changes

    def change(self, change_id: str) -> Change | None:
        """The planned change with ``change_id``, if any."""
        return next((c for c in self.changes if c.id == change_id), None)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready copy (the first record of every journal)."""
        return {
            "key_arn": self.key_arn,
            "region": self.region,
            "account_id": self.account_id,
            "read_at": self.read_at,
            "changes": [c.to_json() for c in self.changes],
            "satisfied": [{"id": h.id, "reason": h.reason} for h in self.satisfied],
            "blocked": [{"id": h.id, "reason": h.reason} for h in self.blocked],
            "lockout": dict(self.lockout) if self.lockout is not None else None,
            "policy": dict(self.policy) if self.policy is not None else None,
            "current_policy": (
                dict(self.current_policy) if self.current_policy is not None else None
            ),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        """The plan :meth:`to_json` wrote."""
        return cls(
            key_arn=str(data.get("key_arn", "")),
            region=str(data.get("region", "")),
            account_id=str(data.get("account_id", "")),
            read_at=str(data.get("read_at", "")),
            changes=tuple(Change.from_json(c) for c in data.get("changes", ())),
            satisfied=tuple(
                Held(h["id"], h["reason"]) for h in data.get("satisfied", ())
            ),
            blocked=tuple(Held(h["id"], h["reason"]) for h in data.get("blocked", ())),
            lockout=data.get("lockout"),
            policy=data.get("policy"),
            current_policy=data.get("current_policy"),
        )


def check_ids(ids: tuple[str, ...], flag: str) -> tuple[ChangeId, ...]:
    """``ids`` as change ids; InputError naming the flag for an unknown one."""
    unknown = [i for i in ids if i not in CHANGE_IDS]
    if unknown:
        raise InputError(
            f"{flag}: unknown change id {', '.join(unknown)}; the ids are "
            f"{', '.join(CHANGE_IDS)}."
        )
    return tuple(i for i in CHANGE_IDS if i in ids)


def select(plan: Plan, only: tuple[str, ...] = (), skip: tuple[str, ...] = ()) -> Plan:
    """The plan with only the chosen changes; dependants of dropped ones held.

    A change whose prerequisite (``depends_on``) is dropped cannot run either:
    it moves to ``blocked`` with the reason, rather than failing halfway.

    Raises:
        InputError: an id in ``only`` or ``skip`` is not a change id.
    """
    wanted = set(check_ids(only, "--only")) if only else set(CHANGE_IDS)
    wanted -= set(check_ids(skip, "--skip"))
    kept: list[Change] = []
    held = list(plan.blocked)
    for change in plan.changes:
        if change.id not in wanted:
            continue
        gone = [d for d in change.depends_on if d not in {c.id for c in kept}]
        if gone:
            held.append(
                Held(
                    change.id,
                    f"needs {', '.join(gone)} in the same apply (it creates what "
                    "this change writes to), and that was not selected.",
                )
            )
            continue
        kept.append(change)
    return replace(plan, changes=tuple(kept), blocked=tuple(held))
