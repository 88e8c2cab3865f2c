"""Benchmark of the policy core: evaluator throughput and lint cold start.

Run: ``.venv/bin/python bench/policy_core.py``. Every number is printed with a
baseline measured in the same run on the same machine, so ratios compare across
machines while absolute numbers do not:

- evaluator: decisions per second over 10,000 requests (the scenario requests of
  the example values, cycled) against the generated policy and the guide's
  policy; the baseline is the same loop calling a function that only reads the
  request's fields. Target: at least 20,000 decisions per second on one core.
- cold start: ``harbor-kms policy lint`` in a fresh interpreter against a bare
  ``python -c pass``, median of several runs; and the heavy modules (textual,
  boto3) that the command imported, which must be none.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOP))

from wizard.core import store  # noqa: E402
from wizard.core.policy.build import build_policy  # noqa: E402
from wizard.core.policy.scenarios import scenario_set  # noqa: E402
from wizard.core.policy.simulate import Evaluator, Request  # noqa: E402

REQUESTS = 10_000
RUNS = 7


def _requests() -> tuple[list[Request], dict[str, object], dict[str, object]]:
    values = store.load(TOP / "examples" / "harbor-kms.toml").values
    base = [s.request for s in scenario_set(values)]
    requests = [base[i % len(base)] for i in range(REQUESTS)]
    guide = json.loads((TOP / "examples" / "guide-policy.json").read_text())
    return requests, build_policy(values), guide


def _floor(requests: list[Request]) -> float:
    def touch(request: Request) -> tuple[str, str]:
        return request.principal, request.action

    start = time.perf_counter()
    for request in requests:
        touch(request)
    return time.perf_counter() - start


def _throughput(policy: dict[str, object], requests: list[Request]) -> float:
    evaluator = Evaluator(policy)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for request in requests:
            evaluator.evaluate(request)
        best = min(best, time.perf_counter() - start)
    return best


def _median_seconds(command: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, check=False, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    requests, generated, guide = _requests()
    floor = _floor(requests)
    print(f"evaluator: {REQUESTS} requests, floor loop {floor * 1e3:.1f} ms")
    for name, policy in (("generated", generated), ("guide", guide)):
        seconds = _throughput(policy, requests)
        rate = REQUESTS / seconds
        verdict = "meets" if rate >= 20_000 else "MISSES"
        print(
            f"  {name:9} policy: {rate:,.0f} decisions/s "
            f"({seconds / floor:.0f}x the floor loop; {verdict} 20,000/s)"
        )

    with tempfile.TemporaryDirectory() as tmp:
        policy_file = Path(tmp) / "policy.json"
        policy_file.write_text(json.dumps(guide))
        probe = (
            "import sys; from wizard.cli import main; "
            f"main(['policy', 'lint', {str(policy_file)!r}], "
            "out=open('/dev/null', 'w')); "
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
            "{'textual', 'boto3', 'botocore', 'questionary', 'moto'}); "
            "sys.stderr.write(','.join(heavy))"
        )
        bare = _median_seconds([sys.executable, "-c", "pass"])
        lint = _median_seconds([sys.executable, "-c", probe])
        heavy = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, cwd=TOP
        ).stderr.strip()
    print(
        f"cold start: python -c pass {bare * 1e3:.0f} ms, policy lint "
        f"{lint * 1e3:.0f} ms, ratio {lint / bare:.2f}"
    )
    print(f"  heavy modules imported by policy lint: {heavy or 'none'}")


if __name__ == "__main__":
    main()
