"""The benchmark scripts still run and check what they claim to check.

Nothing here is timed: the numbers are the benchmarks' business. The fleet
benchmark raises when its bare boto3 floor did not make exactly the audit's
requests, or when the audit reported another number of keys than were seeded,
so a clean exit means its comparison is still like for like.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def run(script: str, *argv: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *argv],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize("emulator", ["process", "thread"])
def test_fleet_benchmark_compares_like_for_like(emulator: str) -> None:
    out = run(
        "audit_fleet.py", "--sizes", "1", "3", "--repeat", "1", "--emulator", emulator
    )
    # keys, audit s, floor s, audit/floor, verdict, calls, per key, in flight
    rows = [line.split() for line in out.splitlines()]
    calls = {row[0]: int(row[5]) for row in rows if len(row) == 8 and row[0].isdigit()}
    assert set(calls) == {"1", "3"}, out
    # 21 requests for the first key, then a handful per further key.
    assert calls["1"] == 21
    assert 21 < calls["3"] < 21 + 2 * 8
    assert "scaling: time(3) / time(1)" in out


def test_policy_benchmark_reports_decisions_and_cold_start() -> None:
    out = run("policy_core.py")
    assert out.count("decisions/s") == 2, out
    assert "heavy modules imported by policy lint: none" in out, out
