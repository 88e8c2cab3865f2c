"""Snapshots of every step of the app at 100x32 (pytest-textual-snapshot).

The app runs against the canned account of ``tests/tui/canned.py`` (no AWS, no
clock) with the guide's example values in a file given by a relative path, so
nothing on screen changes between runs. Cursors do not blink. Update after a
deliberate change with ``pytest tests/snapshots --snapshot-update`` and review
the SVGs.
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.canned import TOP, CannedBackend
from wizard.core.steps import CONDITION_FIELDS, STEP_IDS
from wizard.tui.app import WizardApp
from wizard.tui.messages import FieldEdited

SIZE = (100, 32)
SnapCompare = Callable[..., bool]


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WizardApp:
    """The app on the example values, in a directory of its own."""
    shutil.copy(TOP / "examples" / "harbor-kms.toml", tmp_path / "harbor-kms.toml")
    monkeypatch.chdir(tmp_path)
    return WizardApp(Path("harbor-kms.toml"), backend=CannedBackend())


async def settle(pilot: Pilot[int]) -> None:
    """Let the step's workers finish and the screen redraw, cursors still."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def open_step(step_id: str) -> Callable[[Pilot[int]], Awaitable[None]]:
    """A ``run_before`` that opens ``step_id`` and waits for it to settle."""

    async def run_before(pilot: Pilot[int]) -> None:
        assert isinstance(pilot.app, WizardApp)
        await settle(pilot)
        pilot.app.go(step_id)
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("step_id", STEP_IDS)
def test_step(step_id: str, app: WizardApp, snap_compare: SnapCompare) -> None:
    """Each step as a first-time user sees it on the example account."""
    assert snap_compare(app, terminal_size=SIZE, run_before=open_step(step_id))


def test_conditions_that_break_harbor(
    app: WizardApp, snap_compare: SnapCompare
) -> None:
    """The warning when the encryption context form would refuse Harbor."""

    async def run_before(pilot: Pilot[int]) -> None:
        await open_step("conditions")(pilot)
        assert isinstance(pilot.app, WizardApp)
        assert pilot.app.state.values.options.encryption_context == "auto"
        spec = next(
            f for f in CONDITION_FIELDS if f.name == "options.encryption_context"
        )
        pilot.app.post_message(FieldEdited(spec, "object"))
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_light_theme_design(app: WizardApp, snap_compare: SnapCompare) -> None:
    """The design step in the light theme."""

    async def run_before(pilot: Pilot[int]) -> None:
        await open_step("design")(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_design_at_80x24(app: WizardApp, snap_compare: SnapCompare) -> None:
    """The densest step still reads at the smallest supported terminal."""
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_step("design"))
