"""apply's pure core: plans from hand-built snapshots, idempotence, lockout
refusals, journal and backups, and the run/rollback order with a fake adapter."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.factories import ACCOUNT, ADMIN_ROLE, KEY_ID, guide_values
from wizard.core.apply.adapter import StepFailed
from wizard.core.apply.backup import BackupError, read_backup, write_backup
from wizard.core.apply.journal import (
    Journal,
    JournalError,
    latest_journal,
    read_journal,
)
from wizard.core.apply.lockout import check_lockout
from wizard.core.apply.model import CHANGE_IDS, Plan, Step, select
from wizard.core.apply.plan import PlanOptions, make_plan
from wizard.core.apply.render import render_plan
from wizard.core.apply.rollback import RollbackInterrupted, rollback
from wizard.core.apply.run import (
    ApplyInterrupted,
    LockoutRefused,
    apply_plan,
    refuse_if_locked_out,
)
from wizard.core.errors import InputError
from wizard.core.policy.build import build_policy
from wizard.core.policy.diff import same_policy
from wizard.core.snapshot import (
    AccountSnapshot,
    Alarm,
    Bucket,
    CallerIdentity,
    ConfigRule,
    Dashboard,
    EventRule,
    KeyInfo,
    MetricFilter,
    Rotation,
    Trail,
    Unknown,
)
from wizard.core.values import Values

GUIDE_POLICY = Path(__file__).parents[2] / "examples" / "guide-policy.json"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
DEFAULT_IDS = tuple(i for i in CHANGE_IDS if i != "create-event-rules")


def values(**changes: Any) -> Values:
    return guide_values(alarm_email="ops@example.com", **changes)


def snapshot(v: Values, **changes: Any) -> AccountSnapshot:
    """An account as the guide leaves it: its policy, rotation off, no monitoring."""
    key = KeyInfo(
        v.key_arn,
        KEY_ID,
        "",
        "Enabled",
        "CUSTOMER",
        "AWS_KMS",
        "SYMMETRIC_DEFAULT",
        "ENCRYPT_DECRYPT",
        NOW,
        False,
    )
    base = AccountSnapshot(
        read_at=NOW,
        region=v.region,
        caller=CallerIdentity(ACCOUNT, ADMIN_ROLE, "AROAEXAMPLE"),
        key=key,
        key_policy=json.loads(GUIDE_POLICY.read_text()),
        rotation=Rotation(False),
        tags={},
        aliases=(),
        grants=(),
        bucket=Unknown("not_configured", "not read in these tests"),
        trails=(),
        metric_filters=(),
        alarms=(),
        event_rules=(),
        config_rules=(),
        dashboards=(),
        harbor_role=Unknown("not_configured", "not read in these tests"),
        oidc_providers=(),
        policy_users=(),
        key_events=(),
    )
    return replace(base, **changes)


def _known(read: Any) -> list[Any]:
    assert not isinstance(read, Unknown)
    return list(read)


def _key_state(snap: AccountSnapshot, step: Step) -> AccountSnapshot:
    """The snapshot after one KMS step."""
    p = step.params
    if step.operation == "PutKeyPolicy":
        return replace(snap, key_policy=json.loads(p["Policy"]))
    if step.operation == "EnableKeyRotation":
        return replace(snap, rotation=Rotation(True, p["RotationPeriodInDays"]))
    if step.operation == "TagResource":
        added = {t["TagKey"]: t["TagValue"] for t in p["Tags"]}
        assert not isinstance(snap.tags, Unknown)
        return replace(snap, tags={**snap.tags, **added})
    assert isinstance(snap.key, KeyInfo)
    return replace(snap, key=replace(snap.key, description=p["Description"]))


def applied(snap: AccountSnapshot, plan: Plan) -> AccountSnapshot:
    """The snapshot after every step of ``plan``, done in memory."""
    trails, filters = _known(snap.trails), _known(snap.metric_filters)
    alarms, rules = _known(snap.alarms), _known(snap.event_rules)
    configs, boards = _known(snap.config_rules), _known(snap.dashboards)
    blocks = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy")
    public_block = dict.fromkeys((*blocks, "RestrictPublicBuckets"), True)
    for step in (s for c in plan.changes for s in c.steps):
        p = step.params
        if step.service == "kms":
            snap = _key_state(snap, step)
        elif step.operation == "CreateTrail":
            bucket = Bucket(p["S3BucketName"], snap.region, None, public_block, None)
            arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{p['Name']}"
            group = p["CloudWatchLogsLogGroupArn"]
            trails.append(
                Trail(
                    p["Name"],
                    arn,
                    "us-east-1",
                    True,
                    True,
                    p["S3BucketName"],
                    group,
                    True,
                    True,
                    False,
                    bucket,
                )
            )
        elif step.operation == "PutMetricFilter":
            t = p["metricTransformations"][0]
            filters.append(
                MetricFilter(
                    p["logGroupName"],
                    p["filterName"],
                    p["filterPattern"],
                    t["metricNamespace"],
                    t["metricName"],
                )
            )
        elif step.operation == "PutMetricAlarm":
            actions = tuple(p["AlarmActions"])
            alarms.append(
                Alarm(p["AlarmName"], p["Namespace"], p["MetricName"], actions, "OK")
            )
        elif step.operation == "PutRule":
            pattern = json.loads(p["EventPattern"])
            rules.append(EventRule(p["Name"], pattern, p["State"], ()))
        elif step.operation == "PutTargets":
            arns = tuple(t["Arn"] for t in p["Targets"])
            rules = [
                replace(r, targets=arns) if r.name == p["Rule"] else r for r in rules
            ]
        elif step.operation == "PutConfigRule":
            rule = p["ConfigRule"]
            source = rule["Source"]["SourceIdentifier"]
            configs.append(
                ConfigRule(rule["ConfigRuleName"], source, "INSUFFICIENT_DATA")
            )
        elif step.operation == "PutDashboard":
            body = json.loads(p["DashboardBody"])
            boards.append(Dashboard(p["DashboardName"], body))
    return replace(
        snap,
        trails=tuple(trails),
        metric_filters=tuple(filters),
        alarms=tuple(alarms),
        event_rules=tuple(rules),
        config_rules=tuple(configs),
        dashboards=tuple(boards),
    )


# ---------------------------------------------------------------- planning


def test_guide_account_plans_every_change_in_order_with_its_reasons() -> None:
    v = values()
    plan = make_plan(
        snapshot(v), v, PlanOptions(checklist={"tag-key": ("key_tagged",)})
    )

    assert [c.id for c in plan.changes] == list(DEFAULT_IDS)
    assert [h.id for h in plan.satisfied] == []
    assert plan.blocked == ()
    for change in plan.changes:
        assert change.reads_now and change.will_write and change.undo
        assert change.why.guide_section and change.steps and change.ready
    tags = plan.change("tag-key")
    assert tags is not None and tags.why.checklist_items == ("key_tagged",)
    alarms = plan.change("create-alarms")
    assert alarms is not None and alarms.depends_on == ("create-trail",)


def test_policy_change_has_the_diff_the_lockout_proof_and_the_exact_request() -> None:
    v = values()
    plan = make_plan(snapshot(v), v)
    change = plan.change("put-key-policy")

    assert change is not None
    assert change.diff.startswith("--- current (in AWS)\n+++ proposed\n")
    assert '-      "Sid": "Allow S3 Service to Use Key"' in change.diff
    assert plan.lockout is not None and plan.lockout["ok"] is True
    (step,) = change.steps
    assert (step.api, step.kind, step.backup) == (
        "kms:PutKeyPolicy",
        "replace",
        "key-policy",
    )
    assert set(step.params) == {"KeyId", "PolicyName", "Policy"}
    requests = [s.to_json() for c in plan.changes for s in c.steps]
    assert "BypassPolicyLockoutSafetyCheck" not in json.dumps(requests)
    assert same_policy(step.params["Policy"], build_policy(v))


def test_a_second_plan_after_applying_the_first_plans_nothing() -> None:
    v = values()
    options = PlanOptions(event_rules=True, tags={"Owner": "platform"})
    first = make_plan(snapshot(v), v, options)
    assert len(first.changes) == len(CHANGE_IDS)

    second = make_plan(applied(snapshot(v), first), v, options)

    assert second.empty, render_plan(second)
    assert {h.id for h in second.satisfied} == set(CHANGE_IDS)
    assert "Nothing to change" in render_plan(second)


def test_unreadable_state_holds_its_changes_back_with_the_reason() -> None:
    v = values()
    denied = Unknown(
        "access_denied", "kms:GetKeyPolicy was denied.", "kms:GetKeyPolicy"
    )
    no_trails = Unknown("throttled", "cloudtrail:DescribeTrails was throttled.")
    plan = make_plan(snapshot(v, key_policy=denied, trails=no_trails), v)

    blocked = {h.id: h.reason for h in plan.blocked}
    assert "backed up before it is replaced" in blocked["put-key-policy"]
    assert "kms:GetKeyPolicy was denied" in blocked["put-key-policy"]
    assert "throttled" in blocked["create-trail"]
    assert "create-alarms" in blocked and plan.change("put-key-policy") is None


def test_missing_alarm_email_is_named_and_the_change_cannot_run() -> None:
    v = guide_values()
    change = make_plan(snapshot(v), v).change("create-alarms")

    assert change is not None and not change.ready
    assert any("alarm_email" in m for m in change.missing)
    assert "MISSING:" in render_plan(make_plan(snapshot(v), v))


def test_rotation_period_and_tags_are_compared_not_overwritten() -> None:
    v = values(rotation_period_days=180)
    snap = snapshot(v, rotation=Rotation(True, 365), tags={"Application": "registry"})
    plan = make_plan(snap, v, PlanOptions(tags={"Owner": "platform"}))

    rotation = plan.change("enable-rotation")
    assert rotation is not None
    assert rotation.steps[0].params["RotationPeriodInDays"] == 180
    tags = plan.change("tag-key")
    assert tags is not None
    assert tags.steps[0].params["Tags"] == [{"TagKey": "Owner", "TagValue": "platform"}]


def test_select_takes_only_and_skip_and_holds_dependants() -> None:
    v = values()
    plan = make_plan(snapshot(v), v)

    only = select(plan, only=("enable-rotation", "tag-key"))
    assert [c.id for c in only.changes] == ["enable-rotation", "tag-key"]
    skipped = select(plan, skip=("create-trail",))
    held = {h.id: h.reason for h in skipped.blocked}
    assert "create-trail" not in [c.id for c in skipped.changes]
    assert "needs create-trail" in held["create-alarms"]
    assert "needs create-alarms" in held["create-dashboard"]
    with pytest.raises(InputError, match="--only: unknown change id nope"):
        select(plan, only=("nope",))


# ------------------------------------------------------------------- lockout


def _policy_without(sids: set[str], v: Values) -> dict[str, Any]:
    policy = build_policy(v)
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] not in sids]
    return policy


def test_lockout_refuses_a_policy_without_the_administrators() -> None:
    v = values()
    policy = _policy_without({"EnableIAMPolicies", "KeyAdministration"}, v)

    report = check_lockout(policy, v)

    assert not report.ok
    assert any(
        "administrator KMSAdminRole" in p
        and "kms:PutKeyPolicy" in p
        and "no statement" in p
        for p in report.problems
    )
    plan = make_plan(snapshot(v), v, PlanOptions(policy=policy))
    with pytest.raises(LockoutRefused, match="KMSAdminRole"):
        refuse_if_locked_out(plan, allow_risk=False)
    warning = refuse_if_locked_out(plan, allow_risk=True)
    assert "nobody but AWS Support can repair" in warning[0]


def test_lockout_refuses_a_deny_of_put_key_policy_for_everyone() -> None:
    v = values()
    policy = build_policy(v)
    policy["Statement"].append(
        {
            "Sid": "FreezePolicy",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "kms:PutKeyPolicy",
            "Resource": "*",
        }
    )

    report = check_lockout(policy, v)

    assert not report.ok
    assert any("explicit Deny" in p and "FreezePolicy" in p for p in report.problems)


def test_lockout_refuses_a_policy_that_breaks_harbor_uploads() -> None:
    v = values()
    report = check_lockout(json.loads(GUIDE_POLICY.read_text()), v)

    assert not report.ok
    assert any(
        p.startswith(
            "Harbor would break: Harbor pushes a layer (PutObject) needs "
            "kms:GenerateDataKey to be allowed"
        )
        for p in report.problems
    )


def test_break_glass_alone_may_change_the_policy() -> None:
    glass = f"arn:aws:iam::{ACCOUNT}:role/BreakGlassRole"
    v = values(break_glass_principals=(glass,))

    report = check_lockout(build_policy(v), v)

    assert report.ok, report.problems
    assert any("break-glass role BreakGlassRole" in p for p in report.proven)
    without = _policy_without({"BreakGlassPolicyChange", "EnableIAMPolicies"}, v)
    assert not check_lockout(without, v).ok


# ------------------------------------------------------- journal and backups


def test_backups_are_private_named_by_their_hash_and_checked(tmp_path: Path) -> None:
    content = {"what": "key-policy", "state": {"policy": '{"Version": "2012-10-17"}'}}
    backup = write_backup(tmp_path, KEY_ID, "key-policy", content)

    assert backup.path.name == f"{KEY_ID}-key-policy-{backup.sha256[:12]}.json"
    assert os.stat(backup.path).st_mode & 0o777 == 0o600
    assert write_backup(tmp_path, KEY_ID, "key-policy", content) == backup
    assert read_backup(backup.path, backup.sha256) == content
    backup.path.write_text(backup.path.read_text().replace("2012", "2008"))
    with pytest.raises(BackupError, match="does not match the hash"):
        read_backup(backup.path, backup.sha256)


def test_journal_survives_a_torn_last_line_and_rejects_damage(tmp_path: Path) -> None:
    start = {"command": "apply", "key_arn": "arn:k", "plan": {}}
    journal = Journal.create(tmp_path, KEY_ID, start, now=NOW)
    journal.append(
        {"type": "step", "change": "tag-key", "index": 0, "status": "started"}
    )
    journal.append({"type": "step", "change": "tag-key", "index": 0, "status": "done"})
    journal.close()
    assert journal.path.name == f"{KEY_ID}-20260102T030405000000Z.jsonl"
    assert os.stat(journal.path).st_mode & 0o777 == 0o600
    with journal.path.open("a") as handle:
        handle.write('{"type": "end", "outc')

    state = read_journal(journal.path)

    assert state.torn and state.outcome is None
    assert [(s.change, s.status) for s in state.steps] == [("tag-key", "done")]
    assert latest_journal(tmp_path, KEY_ID, "apply") == journal.path
    assert latest_journal(tmp_path, KEY_ID, "rollback") is None
    lines = journal.path.read_text().splitlines()
    journal.path.write_text("\n".join([lines[0], "garbage", *lines[1:]]))
    with pytest.raises(JournalError, match="damaged at line 2"):
        read_journal(journal.path)


# ------------------------------------------------------ run with a fake AWS


class FakeAws:
    """Records calls; state for the key; fails or interrupts on request."""

    def __init__(self, v: Values) -> None:
        self.policy = GUIDE_POLICY.read_text()
        self.rotation: dict[str, Any] = {"enabled": False, "period_days": None}
        self.tags: dict[str, str] = {}
        self.existing: set[str] = set()
        self.calls: list[str] = []
        self.fail_on: str | None = None
        self.interrupt_on: str | None = None
        self.probe_ok = True

    def read_state(self, what: str, key_arn: str) -> dict[str, Any]:
        return {
            "key-policy": {"policy": self.policy},
            "rotation": dict(self.rotation),
            "tags": {"tags": dict(self.tags)},
            "description": {"description": ""},
        }[what]

    def exists(self, step: Step) -> bool:
        return step.operation in self.existing

    def call(self, step: Step) -> dict[str, Any]:
        if step.operation == self.interrupt_on:
            raise KeyboardInterrupt
        if step.operation == self.fail_on:
            raise StepFailed(f"{step.api} was denied (AccessDeniedException).")
        self.calls.append(step.operation)
        self._apply(step)
        return {"SubscriptionArn": "arn:sub"} if step.operation == "Subscribe" else {}

    def _apply(self, step: Step) -> None:
        p = step.params
        if step.operation == "PutKeyPolicy":
            self.policy = p["Policy"]
        elif step.operation == "EnableKeyRotation":
            self.rotation = {
                "enabled": True,
                "period_days": p.get("RotationPeriodInDays"),
            }
        elif step.operation == "DisableKeyRotation":
            self.rotation = {"enabled": False, "period_days": None}
        elif step.operation == "TagResource":
            self.tags.update({t["TagKey"]: t["TagValue"] for t in p["Tags"]})
        elif step.operation == "UntagResource":
            for key in p["TagKeys"]:
                self.tags.pop(key)

    def undo(self, step: Step) -> str:
        self.calls.append("undo:" + step.operation)
        self._apply(step)
        return "done"

    def policy_text(self, key_arn: str) -> str:
        return self.policy

    def probe(self) -> tuple[bool, str]:
        return self.probe_ok, "round trip ok" if self.probe_ok else "AccessDenied"


def _key_plan(v: Values) -> Plan:
    plan = make_plan(snapshot(v), v, PlanOptions(tags={"Owner": "platform"}))
    return select(
        plan,
        only=("put-key-policy", "enable-rotation", "tag-key", "create-config-rule"),
    )


def test_apply_backs_up_journals_and_stops_at_the_third_write(tmp_path: Path) -> None:
    v = values()
    aws = FakeAws(v)
    aws.fail_on = "TagResource"

    result = apply_plan(_key_plan(v), v, aws, tmp_path, now=NOW)

    assert result.outcome == "failed" and "TagResource was denied" in result.message
    assert aws.calls == ["PutKeyPolicy", "EnableKeyRotation"]
    assert [o.status for o in result.outcomes] == ["done", "done", "failed", "not run"]
    assert [b.what for b in result.backups] == ["key-policy", "rotation", "tags"]
    assert result.journal is not None
    state = read_journal(result.journal)
    assert state.outcome == "failed" and len(state.done) == 2
    assert state.steps[0].backup is not None
    assert state.steps[0].backup["sha256"] == result.backups[0].sha256

    undone = rollback(result.journal, aws, tmp_path)

    assert aws.calls[2:] == ["undo:DisableKeyRotation", "undo:PutKeyPolicy"]
    assert aws.policy == GUIDE_POLICY.read_text() and undone.policy_restored
    assert aws.rotation["enabled"] is False and undone.outcome == "complete"


def test_ctrl_c_leaves_a_journal_rollback_can_use(tmp_path: Path) -> None:
    v = values()
    aws = FakeAws(v)
    aws.interrupt_on = "EnableKeyRotation"

    with pytest.raises(ApplyInterrupted) as caught:
        apply_plan(_key_plan(v), v, aws, tmp_path, now=NOW)

    assert caught.value.exit_code == 130
    assert "records exactly what was and was not done" in caught.value.message
    assert caught.value.result.journal is not None
    state = read_journal(caught.value.result.journal)
    assert state.outcome == "interrupted"
    assert [(s.change, s.status) for s in state.steps] == [
        ("put-key-policy", "done"),
        ("enable-rotation", "started"),
    ]
    rollback(state.path, aws, tmp_path)
    assert aws.policy == GUIDE_POLICY.read_text()
    # The interrupted EnableKeyRotation may have landed: its backup is restored.
    assert aws.calls[-2:] == ["undo:DisableKeyRotation", "undo:PutKeyPolicy"]


def test_a_policy_changed_since_the_plan_is_not_replaced(tmp_path: Path) -> None:
    v = values()
    aws = FakeAws(v)
    aws.policy = json.dumps(build_policy(values(bucket_key_enabled=False)))

    result = apply_plan(_key_plan(v), v, aws, tmp_path, now=NOW)

    assert result.outcome == "failed" and aws.calls == []
    assert "changed since the plan was read" in result.message


def test_failed_canary_restores_the_old_policy_when_confirmed(tmp_path: Path) -> None:
    v = values()
    aws = FakeAws(v)
    aws.probe_ok = False
    asked: list[str] = []

    def confirm(detail: str) -> bool:
        asked.append(detail)
        return True

    result = apply_plan(
        _key_plan(v), v, aws, tmp_path, probe=True, confirm_rollback=confirm, now=NOW
    )

    assert result.outcome == "probe-failed" and asked == ["AccessDenied"]
    assert aws.calls == ["PutKeyPolicy", "undo:PutKeyPolicy"]
    assert result.rollback is not None and result.rollback.policy_restored


def test_undo_never_deletes_what_existed_and_skips_a_deleted_topics_subscription(
    tmp_path: Path,
) -> None:
    v = values()
    plan = select(make_plan(snapshot(v), v), only=("create-trail", "create-alarms"))
    aws = FakeAws(v)
    aws.existing = {"CreateBucket"}

    result = apply_plan(plan, v, aws, tmp_path, now=NOW)
    assert result.outcome == "complete" and result.journal is not None
    rollback(result.journal, aws, tmp_path)

    undone = [c for c in aws.calls if c.startswith("undo:")]
    assert "undo:DeleteBucket" not in undone
    assert "undo:Unsubscribe" not in undone and "undo:DeleteTopic" in undone
    assert undone[0] == "undo:DeleteAlarms" and undone[-1] == "undo:DeleteLogGroup"


def test_render_names_each_change_and_abbreviates_documents() -> None:
    v = values()
    snap = snapshot(v)
    assert isinstance(snap.key, KeyInfo)
    described = replace(snap.key, description="Harbor S3 encryption key")
    text = render_plan(make_plan(replace(snap, key=described), v))

    assert " 1. put-key-policy: Put the hardened key policy" in text
    assert "lockout: proven." in text
    assert "Policy: <JSON document," in text
    assert 'filterPattern: "{($.eventSource=kms.amazonaws.com) && ' in text
    assert "Already in place (not planned):\n  describe-key:" in text


def test_rollback_does_not_overwrite_a_policy_changed_after_the_apply(
    tmp_path: Path,
) -> None:
    v = values()
    aws = FakeAws(v)
    result = apply_plan(_key_plan(v), v, aws, tmp_path, now=NOW)
    assert result.outcome == "complete" and result.journal is not None
    later = json.dumps(build_policy(values(bucket_key_enabled=False)))
    aws.policy = later

    undone = rollback(result.journal, aws, tmp_path)

    assert undone.outcome == "incomplete" and aws.policy == later
    (failed,) = [o for o in undone.outcomes if o.status == "failed"]
    assert "changed after the apply" in failed.detail
    assert aws.rotation["enabled"] is False  # the other undo calls still ran


def test_an_interrupted_rollback_can_simply_be_run_again(tmp_path: Path) -> None:
    v = values()
    aws = FakeAws(v)
    result = apply_plan(_key_plan(v), v, aws, tmp_path, now=NOW)
    assert result.journal is not None
    real_undo = aws.undo

    def interrupted(step: Step) -> str:
        raise KeyboardInterrupt

    aws.undo = interrupted  # type: ignore[method-assign]
    with pytest.raises(RollbackInterrupted, match="safe to repeat") as caught:
        rollback(result.journal, aws, tmp_path)
    assert caught.value.exit_code == 130

    aws.undo = real_undo  # type: ignore[method-assign]
    assert rollback(result.journal, aws, tmp_path).outcome == "complete"
    assert aws.policy == GUIDE_POLICY.read_text()
