"""The app driven by Pilot through the whole demo, as a first-time user would.

Each test runs its Pilot session with ``asyncio.run``: the project has no async
pytest plugin, and needs none for this.

``test_demo_flow`` runs ``harbor-kms --demo``'s app against the sandbox seeded
with the guide's account: it enters values, sees a validation error and fixes
it, toggles an advanced condition and watches the preview and the simulation
change, applies with confirmation, watches the checklist go from failing to
passing for the items apply fixes, exports the runbook, quits and resumes. The
other tests cover errors and the keyboard on the canned account (no AWS).
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Input, Select, Switch

from tests.tui.canned import TOP, CannedBackend
from wizard.core.values import Values
from wizard.tui import messages as msg
from wizard.tui.app import WizardApp
from wizard.tui.screens.apply_confirm_modal import ApplyConfirmModal
from wizard.tui.screens.error_modal import ErrorModal
from wizard.tui.tasks import AccountRead
from wizard.tui.widgets.policy_preview import PolicyPreview
from wizard.tui.widgets.scenario_table import ScenarioTable
from wizard.tui.widgets.step_sidebar import StepSidebar
from wizard.tui.widgets.value_field import ValueField

SIZE = (100, 32)
EMAIL = "ops@example.com"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sandbox credentials only; nothing from ~/.aws, no instance metadata."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/harbor-kms/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/harbor-kms/creds")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


async def settle(pilot: Pilot[int]) -> None:
    """Wait for every worker and for the messages they posted."""
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def until(pilot: Pilot[int], done: Any, what: str, timeout: float = 90) -> None:
    """Pause until ``done()`` is true; fail naming ``what`` after ``timeout``."""
    start = time.monotonic()
    while not done():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def app_of(pilot: Pilot[int]) -> WizardApp:
    """The pilot's app, typed."""
    assert isinstance(pilot.app, WizardApp)
    return pilot.app


def field(pilot: Pilot[int], name: str) -> ValueField:
    """The form field of ``name`` on the current step."""
    css_id = "field-" + name.replace(".", "-").replace("_", "-")
    return pilot.app.screen.query_one(f"#{css_id}", ValueField)


def sidebar_state(pilot: Pilot[int], step_id: str) -> str:
    """The state the sidebar shows for ``step_id``."""
    return pilot.app.screen.query_one(StepSidebar).states[step_id]


async def open_step(pilot: Pilot[int], step_id: str) -> None:
    """Open a step the way a user does, from the command palette."""
    from wizard.core.steps import STEP_IDS, step

    number = STEP_IDS.index(step_id) + 1
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*f"go to {number} {step(step_id).title}")
    await pilot.pause(0.3)
    await pilot.press("enter")
    await settle(pilot)
    assert app_of(pilot).wizard.step == step_id


async def run_command(pilot: Pilot[int], title: str) -> None:
    """Run a palette command by typing its title, as a user does."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*title)
    await pilot.pause(0.3)
    await pilot.press("enter")
    await settle(pilot)


async def type_into(pilot: Pilot[int], name: str, text: str) -> None:
    """Replace the text of field ``name`` by typing ``text``."""
    box = field(pilot, name).query_one(Input)
    box.focus()
    await pilot.press("ctrl+u", "end", "ctrl+u")
    await pilot.press(*text)
    await pilot.pause()


async def enter_values_with_a_mistake(pilot: Pilot[int]) -> None:
    """Step 2: a bucket name AWS would refuse is flagged as typed, then fixed."""
    app = app_of(pilot)
    await pilot.press("ctrl+n")
    await settle(pilot)
    assert app.wizard.step == "environment"
    good = app.state.values.bucket
    box = field(pilot, "bucket").query_one(Input)
    box.focus()
    await pilot.press("end", "_", "X")
    await pilot.pause()
    bucket = field(pilot, "bucket")
    assert bucket.has_class("-invalid")
    assert bucket.error is not None and "Bucket name" in bucket.error
    assert app.state.drafts["bucket"] == good + "_X"
    assert app.state.values.bucket == good  # the policy keeps the last good one
    assert sidebar_state(pilot, "environment") == "needs_attention"
    await pilot.press("backspace", "backspace")
    await pilot.pause()
    assert not field(pilot, "bucket").has_class("-invalid")
    assert "bucket" not in app.state.drafts
    assert sidebar_state(pilot, "environment") == "done"


async def toggle_conditions(pilot: Pilot[int]) -> None:
    """Step 5: a toggle changes the preview; a bad choice shows Harbor breaking."""
    app = app_of(pilot)
    await open_step(pilot, "conditions")
    preview = app.screen.query_one("#conditions-preview", PolicyPreview)
    table = app.screen.query_one("#conditions-scenarios", ScenarioTable)
    before = preview.text
    assert "ForAllValues:StringEquals" not in before
    switch = field(pilot, "options.restrict_encryption_context_keys").query_one(Switch)
    switch.focus()
    await pilot.press("space")
    await pilot.pause()
    assert app.state.values.options.restrict_encryption_context_keys
    assert "ForAllValues:StringEquals" in preview.text
    assert '"kms:EncryptionContextKeys": "false"' in preview.text  # the Null pair

    # The object-ARN form with Bucket Keys on: S3 sends the bucket ARN.
    assert "as designed" in str(table.border_subtitle)
    choice = field(pilot, "options.encryption_context").query_one(Select)
    choice.focus()
    await pilot.press("enter", "down", "enter")
    await pilot.pause()
    assert context_form(app) == "object"
    banner = app.screen.query_one("#breaks-harbor")
    assert banner.has_class("problem")
    assert "break Harbor" in str(banner.render())
    assert app.model.derived.breaks_harbor
    assert str(table.border_subtitle).split("/")[0] != str(len(table.rows))
    await pilot.press("enter", "up", "enter")
    await pilot.pause()
    assert context_form(app) == "auto"
    assert not banner.has_class("problem")


def context_form(app: WizardApp) -> str:
    """The encryption context form the values hold now."""
    return str(app.state.values.options.encryption_context)


async def apply_with_confirmation(pilot: Pilot[int]) -> tuple[str, ...]:
    """Step 8: the plan, the confirmation modal, the changes applied."""
    app = app_of(pilot)
    await open_step(pilot, "apply")
    await until(pilot, lambda: app.screen.query("#changes"), "the plan")
    await pilot.press("a")
    await pilot.pause()
    assert isinstance(app.screen, ApplyConfirmModal)
    modal_text = " ".join(str(s.render()) for s in app.screen.query("Static"))
    assert "kms:PutKeyPolicy" in modal_text and "backups" in modal_text
    await pilot.press("tab", "enter")  # from Cancel (focused) to Apply
    await until(pilot, lambda: app.account.applied is not None, "the apply")
    await settle(pilot)
    applied = app.account.applied
    assert applied.outcome == "complete", applied.message
    done = tuple(c for c, s in app.account.change_status.items() if s == "done")
    assert "put-key-policy" in done and "enable-rotation" in done
    assert sidebar_state(pilot, "apply") == "done"
    return done


def verdicts(app: WizardApp) -> dict[str, str]:
    """Item id -> status of the last checklist run."""
    return {v.item_id: v.status for v in app.account.verdicts}


@pytest.mark.usefixtures("aws_env")
def test_demo_flow(tmp_path: Path) -> None:
    """The README's demo, start to finish, then a resume."""
    asyncio.run(_demo_flow(tmp_path))


async def _demo_flow(tmp_path: Path) -> None:
    config = tmp_path / "demo" / "harbor-kms.toml"
    seen: list[Message] = []
    app = WizardApp(Path("never-written.toml"), demo=True, demo_config=config)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await until(pilot, lambda: app.account.connected, "the sandbox")
        await settle(pilot)
        assert app.account.identity.account == "123456789012"
        assert sidebar_state(pilot, "prerequisites") == "done"

        await enter_values_with_a_mistake(pilot)
        await toggle_conditions(pilot)
        await open_step(pilot, "monitoring")
        await type_into(pilot, "alarm_email", EMAIL)
        assert app.state.values.alarm_email == EMAIL

        await open_step(pilot, "checklist")
        before = verdicts(app)
        assert before["rotation_enabled"] == "fail"
        applied = await apply_with_confirmation(pilot)
        assert any(isinstance(m, msg.PolicyApplied) for m in seen)

        await open_step(pilot, "checklist")  # stale after apply: it runs again
        await until(pilot, lambda: not app.account.checklist_stale, "the re-run")
        after = verdicts(app)
        fixed = {
            item.id
            for item in app.account.items
            if before[item.id] == "fail" and item.remediation.apply in applied
        }
        # The alarms' e-mail is pending until someone clicks SNS's link, so
        # their items fail saying so; everything else apply did now passes.
        reasons = {v.item_id: v.reason for v in app.account.verdicts}
        unheard = {i for i in fixed if after[i] != "pass"}
        assert "alarm_key_deletion" in unheard and fixed - unheard
        assert all("nobody has confirmed" in reasons[i] for i in unheard)

        # The demo has no mail: the palette plays the recipient.
        await run_command(pilot, "Sandbox: confirm the alarm e-mail")
        await until(pilot, lambda: not app.account.checklist_stale, "the re-run")
        confirmed = verdicts(app)
        assert all(confirmed[item_id] == "pass" for item_id in fixed)
        assert any(isinstance(m, msg.ChecklistEvaluated) for m in seen)

        await open_step(pilot, "export")
        runbook = tmp_path / "out" / "runbook.md"
        runbook.parent.mkdir()
        path_box = app.screen.query_one("#export-path", Input)
        path_box.focus()
        await pilot.press("ctrl+u", "end", "ctrl+u", *str(runbook))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.account.exported, "the export")
        assert runbook.exists() and app.state.values.key_arn in runbook.read_text()
        assert (tmp_path / "out" / "runbook.policy.json").exists()
        assert (tmp_path / "out" / "runbook.tf").exists()
        assert (tmp_path / "out" / "runbook.cfn.json").exists()
        await pilot.press("ctrl+q")
    assert app.return_code == 0

    saved = config.read_text()
    assert 'last_step = "export"' in saved and EMAIL in saved

    again = WizardApp(Path("never-written.toml"), demo=True, demo_config=config)
    async with again.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: again.account.connected, "the sandbox")
        await settle(pilot)
        assert again.wizard.step == "export"
        assert again.state.values.alarm_email == EMAIL
        assert again.state.values.options.restrict_encryption_context_keys
        assert {"environment", "conditions", "apply"} <= again.state.visited
        await pilot.press("ctrl+q")


# The tests below use the canned account: no sandbox, no clock.


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """The guide's example values in a file of their own."""
    path = tmp_path / "harbor-kms.toml"
    shutil.copy(TOP / "examples" / "harbor-kms.toml", path)
    return path


class FailingBackend(CannedBackend):
    """Reads fail the way a bug or an unexpected SDK error would."""

    def read_account(self, values: Values, endpoint_url: str | None) -> AccountRead:
        raise RuntimeError("connection reset by peer")


def test_worker_error_is_a_modal_not_a_crash(config: Path) -> None:
    """A failing read shows a copyable modal and a problem on its step."""
    asyncio.run(_worker_error_is_a_modal_not_a_crash(config))


async def _worker_error_is_a_modal_not_a_crash(config: Path) -> None:
    app = WizardApp(config, backend=FailingBackend())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorModal)
        assert "connection reset by peer" in app.screen.message
        await pilot.press("c")  # copy
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ErrorModal)
        assert "prerequisites" in app.account.problems
        assert sidebar_state(pilot, "prerequisites") == "needs_attention"


def test_missing_permission_is_shown_on_its_step(config: Path) -> None:
    """A denied action is listed on step 1, and the app carries on."""
    asyncio.run(_missing_permission_is_shown_on_its_step(config))


async def _missing_permission_is_shown_on_its_step(config: Path) -> None:
    backend = CannedBackend(denied=("kms:GetKeyRotationStatus",))
    app = WizardApp(config, backend=backend)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = str(app.screen.query_one("#prereq-report").render())
        assert "1 of" in text and "kms:GetKeyRotationStatus" in text
        assert app.screen.query_one("#step-prerequisites").has_class("-problem")


def test_keyboard_walk_and_footer(config: Path) -> None:
    """ctrl+n walks the steps in the guide's order; the Footer follows."""
    asyncio.run(_keyboard_walk_and_footer(config))


async def _keyboard_walk_and_footer(config: Path) -> None:
    from wizard.core.steps import STEP_IDS

    app = WizardApp(config, backend=CannedBackend())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for step_id in STEP_IDS[1:]:
            await pilot.press("ctrl+n")
            await settle(pilot)
            assert app.wizard.step == step_id
        keys = {b.binding.description for b in app.screen.active_bindings.values()}
        assert "Write files" in keys and "Re-run" not in keys
        await pilot.press("ctrl+b")
        await settle(pilot)
        keys = {b.binding.description for b in app.screen.active_bindings.values()}
        assert "Diagnose" in keys and "Write files" not in keys
        await pilot.press("ctrl+b")
        await settle(pilot)
        keys = {b.binding.description for b in app.screen.active_bindings.values()}
        assert "Re-run" in keys and "Attest" in keys


def test_palette_offers_the_commands(config: Path) -> None:
    """Go to step, re-run checklist, export runbook, switch theme."""
    asyncio.run(_palette_offers_the_commands(config))


async def _palette_offers_the_commands(config: Path) -> None:
    app = WizardApp(config, backend=CannedBackend())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Step: go to 4 Least-privilege design" in titles
        assert {"Checklist: re-run", "Runbook: export"} <= set(titles)
        assert "Theme: switch light/dark" in titles
        assert not any(t.startswith("Sandbox:") for t in titles)  # demo only
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert app.theme == "textual-light"
        await pilot.press("ctrl+q")
    assert 'theme = "textual-light"' in config.read_text()


def test_attestation_is_remembered(config: Path) -> None:
    """An attested item is saved in the values file and shows as attested."""
    asyncio.run(_attestation_is_remembered(config))


async def _attestation_is_remembered(config: Path) -> None:
    app = WizardApp(config, backend=CannedBackend())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.go("checklist")
        await settle(pilot)
        manual = next(i for i in app.account.items if i.attested)
        table = app.screen.query_one("#checklist-table")
        table.focus()
        row = [i.id for i in app.account.items].index(manual.id)
        await pilot.press(*["down"] * row)
        await pilot.press("t")
        await pilot.pause()
        await pilot.press(*"https://wiki.example.com/kms", "enter")
        await settle(pilot)
        assert verdicts(app)[manual.id] == "attested"
        await pilot.press("ctrl+q")
    text = config.read_text()
    assert f"[attestations.{manual.id}]" in text
    assert "https://wiki.example.com/kms" in text


def test_quit_keeps_an_invalid_draft(config: Path) -> None:
    """Text that does not validate yet is kept, shown again, with its error."""
    asyncio.run(_quit_keeps_an_invalid_draft(config))


async def _quit_keeps_an_invalid_draft(config: Path) -> None:
    app = WizardApp(config, backend=CannedBackend())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.go("environment")
        await settle(pilot)
        await type_into(pilot, "account_id", "12345")
        await pilot.press("ctrl+q")
    again = WizardApp(config, backend=CannedBackend())
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert again.wizard.step == "environment"
        account = field(pilot, "account_id")
        assert account.query_one(Input).value == "12345"
        assert account.has_class("-invalid")
        assert again.state.values.account_id == "111122223333"


def test_run_app_is_wired_to_the_cli() -> None:
    """No command and a terminal open the app; without one, the help."""
    import io

    from wizard.cli import _app_invocation, main

    assert _app_invocation(["--demo"]) is not None
    assert _app_invocation(["policy", "render"]) is None
    assert _app_invocation(["-h"]) is None
    out = io.StringIO()
    assert main([], out=out) == 0
    assert "usage: harbor-kms" in out.getvalue()


def test_first_frame_needs_no_policy_engine() -> None:
    """Importing the app (what paints the first screen) loads no AWS SDK."""
    import subprocess
    import sys

    code = (
        "import sys, wizard.tui.app, wizard.tui.screens.prerequisites_step\n"
        "heavy = {'boto3', 'botocore', 'moto', 'jinja2', 'questionary'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


class OfflineBackend(CannedBackend):
    """AWS stops answering: every read is an Unknown of kind 'endpoint'."""

    def read_account(self, values: Values, endpoint_url: str | None) -> AccountRead:
        from dataclasses import replace

        from wizard.core.snapshot import Unknown

        down = Unknown("endpoint", "Could not connect to kms.us-east-1.amazonaws.com.")
        read = super().read_account(values, endpoint_url)
        snapshot = replace(read.snapshot, caller=down, key_policy=down, rotation=down)
        return AccountRead(snapshot, down, (), ())


def test_lost_connection_is_shown_where_it_matters(config: Path) -> None:
    """No crash and no modal: each step says what it could not read, and why."""
    asyncio.run(_lost_connection_is_shown_where_it_matters(config))


async def _lost_connection_is_shown_where_it_matters(config: Path) -> None:
    app = WizardApp(config, backend=OfflineBackend())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not isinstance(app.screen, ErrorModal)
        report = str(app.screen.query_one("#prereq-report").render())
        assert "Could not connect" in report
        assert sidebar_state(pilot, "prerequisites") == "needs_attention"
        app.go("understand")
        await settle(pilot)
        status = str(app.screen.query_one("#understand-status").render())
        assert "could not be read" in status and "Could not connect" in status
        app.go("rotation")
        await settle(pilot)
        rotation = str(app.screen.query_one("#rotation-status").render())
        assert "unknown" in rotation and "Could not connect" in rotation


def test_pick_from_a_list_and_import_helm_values(config: Path, tmp_path: Path) -> None:
    """Values come from a list read from AWS and from Harbor's values.yaml."""
    asyncio.run(_pick_and_import(config, tmp_path))


async def _pick_and_import(config: Path, tmp_path: Path) -> None:
    from textual.widgets import Button

    from wizard.tui.screens.pick_modal import PickModal

    helm = tmp_path / "values.yaml"
    helm.write_text(
        "persistence:\n  imageChartStorage:\n    type: s3\n    s3:\n"
        "      region: eu-west-1\n      bucket: harbor-from-helm\n"
        "      encrypt: true\n      keyid: alias/harbor\n"
    )
    app = WizardApp(config, backend=CannedBackend())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.go("environment")
        await settle(pilot)
        field(pilot, "bucket").query_one(Button).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PickModal)
        await pilot.press("enter")
        await settle(pilot)
        assert (
            app.state.values.bucket == "harbor-registry-storage-111122223333-us-east-1"
        )

        await type_into(pilot, "bucket", "")
        assert "bucket" in app.state.drafts  # required: empty is an error
        path_box = app.screen.query_one("#helm-path", Input)
        path_box.focus()
        await pilot.press(*str(helm), "enter")
        await settle(pilot)
        # Harbor's chart fills what is empty and keeps what the user set.
        assert app.state.values.bucket == "harbor-from-helm"
        assert app.state.values.region == "us-east-1"
        assert field(pilot, "bucket").query_one(Input).value == "harbor-from-helm"


def test_palette_export_writes_the_runbook(config: Path) -> None:
    """'Runbook: export' writes the runbook and policy files where Export says."""
    asyncio.run(_palette_export(config))


async def _palette_export(config: Path) -> None:
    app = WizardApp(config, backend=CannedBackend())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        command = next(
            c for c in app.get_system_commands(app.screen) if "export" in c.title
        )
        command.callback()
        await until(pilot, lambda: app.account.exported, "the export")
        await settle(pilot)
        written = app.account.exported
        assert written[0] == config.parent / "harbor-kms-runbook.md"
        assert all(path.exists() for path in written)
        assert sidebar_state(pilot, "export") == "done"


def test_wide_terminal(config: Path) -> None:
    """At 160x50 the steps use the room: the sidebar keeps its width."""
    asyncio.run(_wide_terminal(config))


async def _wide_terminal(config: Path) -> None:
    app = WizardApp(config, backend=CannedBackend())
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        app.go("design")
        await settle(pilot)
        assert app.screen.has_class("-wide")
        sidebar = app.screen.query_one(StepSidebar)
        preview = app.screen.query_one("#preview", PolicyPreview)
        assert sidebar.outer_size.width == 23
        assert preview.size.width > 80


def test_unreadable_values_file_is_shown_and_kept(tmp_path: Path) -> None:
    """A values file that is not TOML is reported and never overwritten."""
    asyncio.run(_unreadable(tmp_path))


async def _unreadable(tmp_path: Path) -> None:
    broken = tmp_path / "harbor-kms.toml"
    broken.write_text("version = 1\n[aws\nregion = 'eu-west-1'\n")
    before = broken.read_text()
    app = WizardApp(broken, backend=CannedBackend())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorModal)
        assert "not valid TOML" in app.screen.message
        await pilot.press("escape")
        app.go("environment")
        await settle(pilot)
        await type_into(pilot, "account_id", "111122223333")
        await pilot.press("ctrl+q")
    assert broken.read_text() == before


def test_design_switches_between_preview_and_diff(config: Path) -> None:
    """v on the design step shows the diff against the key's current policy."""
    asyncio.run(_design_toggle(config))


async def _design_toggle(config: Path) -> None:
    from textual.widgets import TabbedContent

    app = WizardApp(config, backend=CannedBackend())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.go("design")
        await settle(pilot)
        tabs = app.screen.query_one(TabbedContent)
        assert tabs.active == "tab-policy"
        await pilot.press("v")
        await settle(pilot)
        assert tabs.active == "tab-diff"
        diff = app.screen.query_one("#diff")
        assert diff.virtual_size.height > 20  # the guide's policy differs a lot


@pytest.mark.usefixtures("aws_env")
def test_troubleshooting_in_the_demo(tmp_path: Path) -> None:
    """A symptom whose cause the guide's account has; a bad paste stays inline."""
    asyncio.run(_troubleshooting(tmp_path))


async def _troubleshooting(tmp_path: Path) -> None:
    from textual.widgets import Static, TextArea

    config = tmp_path / "demo" / "harbor-kms.toml"
    app = WizardApp(Path("never-written.toml"), demo=True, demo_config=config)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.account.connected, "the sandbox")
        await settle(pilot)
        await open_step(pilot, "troubleshoot")
        app.screen.query_one(
            "#troubleshoot-symptom", Select
        ).value = "rotation-not-working"
        await pilot.press("ctrl+r")
        await until(pilot, lambda: app.account.troubleshoot is not None, "diagnose")
        await settle(pilot)
        report = app.account.troubleshoot
        assert report.error == "" and report.found
        assert report.checks[0].status == "found"
        assert "rotation" in report.checks[0].title.lower()
        assert report.apply_change == "enable-rotation"
        shown = str(app.screen.query_one("#troubleshoot-report", Static).render())
        assert "FOUND" in shown and "harbor-kms apply --only enable-rotation" in shown
        assert app.screen.query_one("#troubleshoot-apply").display
        assert not isinstance(app.screen, ErrorModal)

        # Nothing is the symptom: the pasted text; broken JSON is said inline.
        app.screen.query_one("#troubleshoot-symptom", Select).clear()
        app.screen.query_one("#troubleshoot-input", TextArea).text = '{"Records": ['
        await pilot.press("ctrl+r")
        await until(pilot, lambda: app.account.troubleshoot.error, "the input error")
        await settle(pilot)
        error = app.screen.query_one("#troubleshoot-error", Static)
        assert error.display and "not valid JSON" in str(error.render())
        assert not isinstance(app.screen, ErrorModal)

        # JSON with no KMS event in it.
        app.screen.query_one("#troubleshoot-input", TextArea).text = '{"a": 1}'
        await pilot.press("ctrl+r")
        await until(
            pilot,
            lambda: "CloudTrail record" in app.account.troubleshoot.error,
            "the no-event error",
        )
        await pilot.press("ctrl+q")


def test_best_practices_in_export(config: Path) -> None:
    """The DO / DON'T lines, first waiting on the checklist, then decided by it."""
    asyncio.run(_best_practices(config))


async def _best_practices(config: Path) -> None:
    from textual.widgets import Static

    app = WizardApp(config, backend=CannedBackend())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.go("export")
        await settle(pilot)
        panel = app.screen.query_one("#practices", Static)
        before = str(panel.render())
        assert "checklist has not run" in before
        assert "rotation_enabled not evaluated" in before
        assert "DON'T" in before

        app.go("checklist")
        await settle(pilot)
        assert app.account.verdicts
        app.go("export")
        await settle(pilot)
        after = " ".join(str(panel.render()).split())
        assert "checklist has not run" not in after
        # The canned account leaves rotation off: that DO line is not met.
        assert "NOT MET Enable automatic key rotation" in after
        assert "rotation_enabled fail" in after
        assert "behind it: checklist rotation_enabled" in after
        assert "lint " in after  # lines resting on lint rules name them
