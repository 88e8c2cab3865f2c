"""The wheel carries the data folders; the console script is declared."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

TOP = Path(__file__).parents[1]


def test_console_script_points_at_cli_main() -> None:
    project = tomllib.loads((TOP / "pyproject.toml").read_text())["project"]
    assert project["name"] == "harbor-kms-wizard"
    assert project["scripts"]["harbor-kms"] == "wizard.cli:main"
    assert project["requires-python"] == ">=3.11"


def test_wheel_ships_templates_and_checklists(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path),
            str(TOP),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("harbor_kms_wizard-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for folder in ("templates", "checklists"):
        shipped = [n for n in names if n.startswith(f"wizard/_data/{folder}/")]
        on_disk = [p for p in (TOP / folder).rglob("*") if p.is_file()]
        assert len(shipped) == len(on_disk) > 0, folder
    assert "wizard/cli.py" in names
