"""The line mode in a real pseudo-terminal, against the sandbox.

Each test runs ``harbor-kms line`` as a child process in a pty (pexpect, 80x24)
with questionary's real prompts, pointed at a sandbox seeded as the guide
leaves an account; one test pipes its answers instead. Cursor-position requests
are turned off (``PROMPT_TOOLKIT_NO_CPR``) because pexpect does not answer them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pexpect
import pytest

from wizard.aws.sandbox import Sandbox, SeedResult, seed
from wizard.core import store
from wizard.core.policy.build import build_policy
from wizard.core.policy.diff import same_policy
from wizard.core.runbook import load_catalog

ROOT = Path(__file__).parents[2]
CTRL_U = "\x15"  # clears the text prompt's line (its default value)
CTRL_C = "\x03"
ENTER = "\r"
COMMENT = "# kept by every save\n"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


@pytest.fixture
def seeded(sandbox: Sandbox, tmp_path: Path) -> tuple[SeedResult, Path]:
    """guide-as-written in a fresh sandbox, and a values file for it."""
    sandbox.reset()
    result = seed(sandbox.endpoint_url, "guide-as-written", sandbox.region)
    config = tmp_path / "harbor-kms.toml"
    config.write_text(COMMENT, encoding="utf-8")
    store.save(result.values(), config)
    return result, config


def child_env(sandbox: Sandbox, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(sandbox.environment())
    env.update(
        PYTHONPATH=str(ROOT),
        PROMPT_TOOLKIT_NO_CPR="1",
        TERM="xterm",
        AWS_MAX_ATTEMPTS="2",
    )
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


def spawn(cwd: Path, env: dict[str, str], *args: str) -> pexpect.spawn:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "wizard.cli", "line", *args],
        cwd=str(cwd),
        env=env,
        dimensions=(24, 80),
        encoding="utf-8",
        timeout=60,
    )
    return child


def answer(child: pexpect.spawn, prompt: str, keys: str = ENTER) -> None:
    child.expect_exact(prompt)
    child.send(keys)


def environment_step(child: pexpect.spawn, account: str) -> None:
    """Answer the environment step with a typo first, then the seeded values."""
    answer(child, "AWS account id", CTRL_U + "12345" + ENTER)
    child.expect_exact("must be exactly 12 digits")
    child.send(CTRL_U + account + ENTER)
    for label in ("Region", "KMS key", "Harbor role ARN", "Bucket"):
        answer(child, label)
    answer(child, "S3 Bucket Keys")
    answer(child, "Key administrators")
    answer(child, "Break-glass roles")
    answer(child, "Save these values", "y")


def words(text: str) -> str:
    """A pattern for ``text`` however the console wrapped it."""
    return r"\s+".join(re.escape(word) for word in text.split())


def flat(text: str) -> str:
    """``text`` with every run of whitespace (wrapping) as one space."""
    return " ".join(text.split())


def finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus is not None
    return int(child.exitstatus)


def key_policy(sandbox: Sandbox, key_arn: str) -> str:
    kms = boto3.client(
        "kms",
        endpoint_url=sandbox.endpoint_url,
        region_name=sandbox.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return str(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])


def test_whole_flow_applies_checks_and_exports(
    sandbox: Sandbox, seeded: tuple[SeedResult, Path]
) -> None:
    result, config = seeded
    child = spawn(config.parent, child_env(sandbox), "--config", str(config))
    child.expect_exact("You are arn:aws:")
    environment_step(child, result.account_id)
    child.expect_exact("Lint findings")
    child.expect_exact("Simulated")
    for label in ("Organization id", "VPC endpoints", "Source CIDRs"):
        answer(child, label)
    for label in ("Grants only", "Only aws:s3:arn", "Encryption context form"):
        answer(child, label)
    for label in ("Blanket Decrypt deny", "S3 service principal"):
        answer(child, label)
    answer(child, "Save these values", "y")
    child.expect_exact("Rotation is off")
    answer(child, "Rotation period")
    answer(child, "Save these values", "y")
    answer(child, "Alarm e-mail")
    answer(child, "Save these values", "y")
    child.expect_exact("Plan for")
    answer(child, "to the account now?", "y")
    child.expect_exact("Apply complete")
    answer(child, "Record attestations", "n")
    total = len(load_catalog())
    child.expect_exact(f"[{total}/{total}]")
    answer(child, "Troubleshoot")  # the default: skip
    child.expect_exact("Best practices")
    child.expect_exact("DON'T")
    answer(child, "Write the runbook now?", "y")
    answer(child, "Format")
    answer(child, "Write it to")
    child.expect_exact("Runbook written")
    child.expect_exact("Done.")
    assert finish(child) == 0

    values = result.values()
    assert same_policy(key_policy(sandbox, result.key_arn), build_policy(values))
    runbook = (config.parent / "harbor-kms-runbook.md").read_text(encoding="utf-8")
    assert "Applied on" in runbook
    assert runbook.count("| **") == total
    assert store.load(config).values == values
    assert config.read_text(encoding="utf-8").startswith(COMMENT)


def test_ctrl_c_keeps_what_was_saved_and_says_so(
    sandbox: Sandbox, seeded: tuple[SeedResult, Path]
) -> None:
    result, config = seeded
    child = spawn(config.parent, child_env(sandbox), "--config", str(config))
    environment_step(child, result.account_id)
    child.expect_exact("Organization id")
    child.send(CTRL_C)
    child.expect_exact("Interrupted.")
    child.expect(words("Your answers to Environment values are saved in"))
    assert finish(child) == 130

    assert store.load(config).values == result.values()
    assert config.read_text(encoding="utf-8").startswith(COMMENT)
    assert [p.name for p in config.parent.iterdir()] == [config.name]


def test_ctrl_c_before_any_save_writes_nothing(
    sandbox: Sandbox, seeded: tuple[SeedResult, Path]
) -> None:
    _, config = seeded
    before = config.read_bytes()
    child = spawn(config.parent, child_env(sandbox), "--config", str(config))
    child.expect_exact("AWS account id")
    child.send(CTRL_C)
    child.expect(words("Interrupted. Nothing was written"))
    assert finish(child) == 130
    assert config.read_bytes() == before


def test_piped_answers_with_a_validation_error(
    sandbox: Sandbox, seeded: tuple[SeedResult, Path]
) -> None:
    result, config = seeded
    bad_event = config.parent / "event.json"
    bad_event.write_text('{"a": 1}', encoding="utf-8")
    answers = [
        "not-an-account",  # rejected, asked again
        result.account_id,
        *[""] * 7,  # the rest of the environment: the saved values
        "yes",  # save
        *[""] * 8,  # conditions
        "y",
        "",  # rotation period
        "y",
        "ops@example.com",
        "y",
        "n",  # do not apply
        "n",  # no attestations
        "rotation-not-working",  # troubleshoot: the guide leaves rotation off
        "a failed request",
        str(bad_event),  # JSON with no CloudTrail record in it
        "skip",
        "y",  # write the runbook
        "2",  # html
        "",  # default path
    ]
    done = subprocess.run(
        [sys.executable, "-m", "wizard.cli", "line", "--config", str(config)],
        input="\n".join(answers) + "\n",
        capture_output=True,
        text=True,
        cwd=config.parent,
        env=child_env(sandbox),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    out = flat(done.stdout)
    assert "is not valid: it must be exactly 12 digits" in out
    assert "Nothing was applied." in out
    assert "FOUND Automatic rotation disabled" in out
    assert "Apply: harbor-kms apply --only enable-rotation" in out
    assert "Cannot diagnose: No CloudTrail record found" in out
    assert "NOT MET Enable automatic key rotation for all CMKs" in out
    assert "behind it: checklist rotation_enabled" in out
    assert "\x1b" not in done.stdout
    assert store.load(config).values.alarm_email == "ops@example.com"
    page = (config.parent / "harbor-kms-runbook.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "No apply by this tool is recorded" in page


def test_piped_answers_ending_early_keep_the_saved_steps(
    sandbox: Sandbox, seeded: tuple[SeedResult, Path]
) -> None:
    result, config = seeded
    answers = [result.account_id, *[""] * 7, "y", "o-bad"]
    done = subprocess.run(
        [sys.executable, "-m", "wizard.cli", "line", "--config", str(config)],
        input="\n".join(answers) + "\n",
        capture_output=True,
        text=True,
        cwd=config.parent,
        env=child_env(sandbox),
        timeout=120,
        check=False,
    )
    assert done.returncode == 130
    out = flat(done.stdout)
    assert "Organization id 'o-bad' is not valid" in out
    assert "The answers ended before the last step." in out
    assert "Environment values are saved in" in out


SGR = re.compile(r"\x1b\[([0-9;]*)m")


def colour_codes(text: str) -> list[str]:
    """SGR parameters that set a colour (30-37, 38;..., 40-47, 48;..., 90-107)."""
    found = []
    for params in SGR.findall(text):
        for code in filter(None, params.split(";")):
            if 30 <= int(code) <= 49 or 90 <= int(code) <= 107:
                found.append(params)
    return found


def run_until_second_step(child: pexpect.spawn) -> str:
    child.expect_exact("AWS account id")
    child.send(CTRL_C)
    child.expect(pexpect.EOF)
    child.close()
    return str(child.before)


def test_no_color_output_has_no_colour_codes(
    sandbox: Sandbox, seeded: tuple[SeedResult, Path]
) -> None:
    _, config = seeded
    coloured = spawn(config.parent, child_env(sandbox), "--config", str(config))
    coloured.expect_exact("AWS account id")
    assert colour_codes(str(coloured.before) + str(coloured.after) + "")
    coloured.send(CTRL_C)
    coloured.expect(pexpect.EOF)

    env = child_env(sandbox, NO_COLOR="1")
    child = spawn(config.parent, env, "--config", str(config))
    log: list[str] = []
    child.logfile_read = _Collect(log)
    run_until_second_step(child)
    assert colour_codes("".join(log)) == []


def test_dumb_terminal_gets_plain_prompts_without_escapes(
    sandbox: Sandbox, seeded: tuple[SeedResult, Path]
) -> None:
    _, config = seeded
    env = child_env(sandbox, TERM="dumb")
    child = spawn(config.parent, env, "--config", str(config))
    log: list[str] = []
    child.logfile_read = _Collect(log)
    child.expect_exact("? AWS account id [")
    child.sendline("")
    child.expect_exact("? Region [us-east-1]: ")
    child.sendcontrol("c")
    child.expect_exact("Interrupted.")
    child.expect(pexpect.EOF)
    text = "".join(log)
    assert "\x1b" not in text
    # Prose wraps at 80 columns; only a single word longer than that (a deep
    # temporary path) may exceed it.
    lines = text.replace("\r", "").splitlines()
    assert [ln for ln in lines if len(ln) > 80 and " " in ln.strip()] == []


def test_demo_runs_its_own_sandbox_and_a_separate_values_file(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    env = child_env(sandbox)
    env.pop("AWS_ENDPOINT_URL")
    child = spawn(tmp_path, env, "--demo")
    child.expect_exact("Demo: a local AWS sandbox")
    child.expect_exact("You are arn:aws:")
    child.expect_exact("AWS account id")
    child.send(CTRL_C)
    child.expect(words("harbor-kms-demo.toml was not created"))
    assert finish(child) == 130
    assert list(tmp_path.iterdir()) == []


class _Collect:
    """A file-like sink for pexpect's log, kept as a list of strings."""

    def __init__(self, into: list[str]) -> None:
        self.into = into

    def write(self, data: str) -> None:
        self.into.append(data)

    def flush(self) -> None:
        pass
