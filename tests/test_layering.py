"""The core and the headless commands stay free of UI and AWS SDK imports."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import wizard
import wizard.core

ROOT = Path(wizard.__file__).parent
HEAVY = ("textual", "questionary", "boto3", "botocore", "moto")


def _modules(package: str) -> list[str]:
    module = sys.modules[package]
    return [
        info.name
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}.")
    ]


def _imported_after(modules: list[str]) -> list[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{HEAVY!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def test_core_imports_no_ui_and_no_aws_sdk_in_a_fresh_interpreter() -> None:
    assert _imported_after(["wizard.core", *_modules("wizard.core")]) == []


def test_headless_commands_and_cli_start_without_ui_or_sdk() -> None:
    assert _imported_after(["wizard.cli", "wizard.commands.policy"]) == []


def test_boto3_is_imported_only_under_wizard_aws() -> None:
    offenders = []
    for path in ROOT.rglob("*.py"):
        if path.is_relative_to(ROOT / "aws"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] in ("boto3", "botocore", "moto") for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
