"""``harbor-kms apply`` and ``rollback`` over HTTP against the sandbox.

Each test seeds the account the guide leaves behind, runs the command line as a
user would (a values file, --endpoint-url), and checks AWS and the local files.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomlkit

from wizard import cli
from wizard.aws.apply_exec import BotoAdapter
from wizard.aws.readers import AccountReader
from wizard.aws.sandbox import Sandbox, SeedResult
from wizard.aws.session import AwsTarget, Clients
from wizard.commands.common import load_values
from wizard.core.apply.adapter import StepFailed
from wizard.core.apply.journal import read_journal
from wizard.core.apply.model import Step
from wizard.core.apply.plan import PlanOptions, make_plan
from wizard.core.checklist import engine
from wizard.core.policy.build import build_policy
from wizard.core.policy.diff import normalise
from wizard.core.values import Values

Seeder = Callable[..., SeedResult]
ClientFactory = Callable[..., Any]
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def account(
    seeded: Seeder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> SeedResult:
    """The guide-as-written account, and a values file for it in ``tmp_path``."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    result = seeded("guide-as-written")
    config = result.as_config_dict()
    config["monitoring"] = {"alarm_email": "ops@example.com"}
    (tmp_path / "harbor-kms.toml").write_text(tomlkit.dumps(config))
    return result


@pytest.fixture
def run(sandbox: Sandbox, tmp_path: Path) -> Run:
    """``run("apply", "--yes")``: the CLI on the sandbox; (exit code, out, err)."""

    def call(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        config = ["--config", str(tmp_path / "harbor-kms.toml")]
        endpoint = ["--endpoint-url", sandbox.endpoint_url]
        code = cli.main([*argv, *config, *endpoint], out, err)
        return code, out.getvalue(), err.getvalue()

    return call


def _policy(boto_client: ClientFactory, key_id: str) -> str:
    kms = boto_client("kms")
    return str(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])


def _rotation(boto_client: ClientFactory, key_id: str) -> bool:
    status = boto_client("kms").get_key_rotation_status(KeyId=key_id)
    return bool(status["KeyRotationEnabled"])


def _values(tmp_path: Path) -> Values:
    """The values apply used: the config file's (the seed's values() also names a
    break-glass role that its config layout leaves out)."""
    values = load_values(tmp_path / "harbor-kms.toml")
    assert values is not None
    return values


def _journals(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / ".harbor-kms" / "journals").glob("*.jsonl"))


def test_apply_fixes_every_item_it_can_and_a_second_apply_plans_nothing(
    account: SeedResult, run: Run, sandbox: Sandbox, tmp_path: Path
) -> None:
    code, out, err = run("apply", "--yes", "--event-rules", "--tag", "Owner=platform")
    assert code == 0, err
    assert "Done." in out

    values = _values(tmp_path)
    target = AwsTarget(region="us-east-1", endpoint_url=sandbox.endpoint_url)
    items = engine.load_items()
    fixable = [i.id for i in items if i.remediation.apply]

    def failing() -> dict[str, str]:
        snapshot = AccountReader(target).snapshot(values)
        verdicts = {v.item_id: v for v in engine.evaluate(items, snapshot, values)}
        return {i: verdicts[i].reason for i in fixable if verdicts[i].status != "pass"}

    # Until the recipient confirms the e-mail subscription, the alarms tell
    # no one: apply cannot click the link, and the audit says so.
    unheard = failing()
    assert unheard and all("nobody has confirmed" in r for r in unheard.values())
    assert sandbox.confirm_subscriptions() == 1
    assert len(fixable) > 20 and failing() == {}

    snapshot = AccountReader(target).snapshot(values)

    assert make_plan(snapshot, values, PlanOptions(event_rules=True)).empty
    code, out, _ = run("apply", "--yes", "--event-rules")
    assert code == 0
    assert "Nothing to change: every target state already holds." in out
    assert len(_journals(tmp_path)) == 1  # the second apply had nothing to record


def test_rollback_restores_the_policy_and_rotation_and_happens_once(
    account: SeedResult, run: Run, boto_client: ClientFactory, tmp_path: Path
) -> None:
    before = _policy(boto_client, account.key_id)
    code, _, err = run("apply", "--yes", "--only", "put-key-policy,enable-rotation")
    assert code == 0, err
    assert normalise(_policy(boto_client, account.key_id)) == normalise(
        build_policy(_values(tmp_path))
    )
    assert _rotation(boto_client, account.key_id)

    code, out, err = run("rollback", "--yes")

    assert code == 0, err
    assert "The key policy equals the backup (normalised JSON)." in out
    after = _policy(boto_client, account.key_id)
    assert normalise(after) == normalise(before) and after == before
    assert not _rotation(boto_client, account.key_id)
    # Both journals say who ran them, for the runbook's "by whom".
    for journal in _journals(tmp_path):
        caller = read_journal(journal).start["caller"]
        assert caller["account"] == account.account_id and caller["arn"]
    code, out, _ = run("rollback", "--yes")
    assert code == 0 and "was already rolled back" in out


def test_backups_are_private_and_named_by_the_hash_the_journal_records(
    account: SeedResult, run: Run, tmp_path: Path
) -> None:
    code, _, err = run("apply", "--yes", "--only", "put-key-policy,tag-key")
    assert code == 0, err

    (journal,) = _journals(tmp_path)
    state = read_journal(journal)
    recorded = [s.backup for s in state.steps if s.backup]
    assert len(recorded) == 2
    for backup in recorded:
        path = Path(backup["path"])
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest == backup["sha256"]
        assert path.name.endswith(f"-{digest[:12]}.json")
        assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(journal).st_mode & 0o777 == 0o600


def test_a_failed_third_write_leaves_a_journal_rollback_restores_the_start_from(
    account: SeedResult,
    run: Run,
    sandbox: Sandbox,
    boto_client: ClientFactory,
    tmp_path: Path,
) -> None:
    before = _policy(boto_client, account.key_id)
    sandbox.add_fault("kms", "TagResource", "AccessDeniedException", count=1)

    code, out, err = run("apply", "--yes")

    assert code == 2
    assert "kms:TagResource was denied" in err and "Grant kms:TagResource" in err
    assert "Traceback" not in err + out
    assert "Changed:\n  - replace the key policy" in out
    assert "create bucket harbor-kms-trail" in out.split("Not changed:")[1]
    (journal,) = _journals(tmp_path)
    state = read_journal(journal)
    assert state.outcome == "failed"
    assert [(s.change, s.status) for s in state.steps] == [
        ("put-key-policy", "done"),
        ("enable-rotation", "done"),
        ("tag-key", "failed"),
    ]
    assert boto_client("cloudtrail").describe_trails()["trailList"] == []

    code, _, err = run("apply", "--dry-run")
    assert (
        code == 0 and "the last apply" in err and "ended failed after 2 step(s)" in err
    )

    code, out, err = run("rollback", "--yes")

    assert code == 0, err
    assert _policy(boto_client, account.key_id) == before
    assert not _rotation(boto_client, account.key_id)


def test_a_policy_that_drops_the_administrators_is_refused(
    account: SeedResult, run: Run, boto_client: ClientFactory, tmp_path: Path
) -> None:
    before = _policy(boto_client, account.key_id)
    policy = build_policy(_values(tmp_path))
    keep = ("HarborUseThroughS3", "HarborDescribeKey", "DenyHarborDirectUse")
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] in keep]
    (tmp_path / "no-admins.json").write_text(json.dumps(policy))

    code, out, err = run("apply", "--yes", "--policy", str(tmp_path / "no-admins.json"))

    assert code == 3
    assert "refused, and nothing was changed" in err
    assert "KMSAdminRole" in err and "kms:PutKeyPolicy" in err
    assert "LOCKOUT: REFUSED: the new policy would lock someone out." in out
    assert _policy(boto_client, account.key_id) == before
    assert not (tmp_path / ".harbor-kms").exists()

    only = ("--only", "put-key-policy")
    code, out, err = run(
        "apply",
        "--yes",
        *only,
        "--allow-lockout-risk",
        "--policy",
        str(tmp_path / "no-admins.json"),
    )
    assert code == 0 and "WARNING: --allow-lockout-risk is set" in err
    assert "nobody but AWS Support can repair this key" in err


def test_dry_run_and_no_terminal_write_nothing(
    account: SeedResult, run: Run, boto_client: ClientFactory, tmp_path: Path
) -> None:
    before = _policy(boto_client, account.key_id)

    for argv in (("apply", "--dry-run"), ("apply",), ("apply", "--dry-run", "--yes")):
        code, out, err = run(*argv)
        assert code == 0, err
        assert " 1. put-key-policy: Put the hardened key policy" in out
        assert "nothing was changed" in out

    assert _policy(boto_client, account.key_id) == before
    assert not _rotation(boto_client, account.key_id)
    assert boto_client("cloudtrail").describe_trails()["trailList"] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["harbor-kms.toml"]


def test_a_failed_canary_rolls_the_policy_back_at_once(
    account: SeedResult,
    run: Run,
    sandbox: Sandbox,
    boto_client: ClientFactory,
) -> None:
    before = _policy(boto_client, account.key_id)
    sandbox.add_fault("s3", "PutObject", "AccessDenied", status=403, count=1)

    code, out, err = run(
        "apply",
        "--yes",
        "--probe",
        "--auto-rollback",
        "--only",
        "put-key-policy,enable-rotation",
    )

    assert code == 2
    assert "The S3 round trip failed" in err and "s3:PutObject was denied" in out
    assert "restored and reads back equal to the backup" in out
    assert _policy(boto_client, account.key_id) == before
    assert not _rotation(boto_client, account.key_id)  # never reached


def test_aws_refusing_the_policy_is_explained_without_a_traceback(
    account: SeedResult, run: Run, sandbox: Sandbox
) -> None:
    message = (
        "The new key policy will not allow you to update the key policy in the future."
    )
    sandbox.add_fault(
        "kms", "PutKeyPolicy", "MalformedPolicyDocumentException", message=message
    )

    code, out, err = run("apply", "--yes", "--only", "put-key-policy")

    assert code == 2 and "Traceback" not in err
    assert "AWS's lockout safety check" in err and "never bypasses" in err
    assert "Not changed:\n  - replace the key policy" in out
    assert "(failed: AWS refused the key policy" in out


def test_at_the_prompt_the_user_gives_missing_values_and_picks_changes(
    account: SeedResult,
    run: Run,
    boto_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = _policy(boto_client, account.key_id)
    answers = iter(["platform", "tag-key, enable-rotation", "y"])
    monkeypatch.setattr("wizard.commands.apply._interactive", lambda: True)
    monkeypatch.setattr("builtins.input", lambda: next(answers))

    code, out, err = run("apply")

    assert code == 0, err
    assert "Owner tag for the key" in out and "Apply which changes?" in out
    assert "Apply enable-rotation, tag-key to arn:aws:kms:" in out
    tags = boto_client("kms").list_resource_tags(KeyId=account.key_id)["Tags"]
    assert {t["TagKey"]: t["TagValue"] for t in tags} == {
        "Application": "harbor",
        "Owner": "platform",
    }
    assert _rotation(boto_client, account.key_id)
    assert _policy(boto_client, account.key_id) == before

    answers = iter(["", "none"])
    code, out, _ = run("apply")
    assert code == 0 and out.endswith("Nothing was changed.\n")


def test_a_lost_connection_is_reported_as_maybe_done(account: SeedResult) -> None:
    target = AwsTarget(
        region="us-east-1", endpoint_url="http://127.0.0.1:9", max_attempts=1
    )
    adapter = BotoAdapter(Clients(target), account.values())
    step = Step("kms", "TagResource", {"KeyId": account.key_arn, "Tags": []}, "tag")

    with pytest.raises(StepFailed) as caught:
        adapter.call(step)

    assert "did not answer" in caught.value.message
    assert "AWS may or may not have made it" in caught.value.message
    assert "rollback handles either case" in caught.value.message
