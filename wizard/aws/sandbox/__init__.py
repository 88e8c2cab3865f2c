"""A local AWS for demos and tests: moto's server, a thin layer, seeded accounts.

``harbor-kms sandbox`` calls :func:`run_sandbox`; tests use :class:`Sandbox` and
:func:`seed` directly. Everything is in memory: nothing is written to disk, and
AWS itself is never contacted.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from typing import TextIO

from wizard.aws.sandbox.seed import SCENARIOS, SeedResult, parse_scenario, seed
from wizard.aws.sandbox.server import Fault, Sandbox

__all__ = ["SCENARIOS", "Fault", "Sandbox", "SeedResult", "run_sandbox", "seed"]


def _forever() -> None:
    while True:
        time.sleep(3600)


def run_sandbox(
    port: int,
    scenario: str,
    out: TextIO,
    *,
    wait: Callable[[], None] = _forever,
) -> int:
    """Serve a seeded sandbox until Ctrl-C, telling ``out`` how to use it.

    Args:
        port: port on 127.0.0.1; 0 picks a free one.
        scenario: one of :data:`SCENARIOS`.
        out: where the endpoint and the ``export`` lines go.
        wait: blocks while the sandbox serves; tests pass one that returns.

    Returns:
        0 once stopped.

    Raises:
        ValueError: the scenario is unknown (checked before anything starts).
        OSError: the port cannot be bound.
    """
    parse_scenario(scenario)
    with Sandbox(port=port) as sandbox:
        result = seed(sandbox.endpoint_url, scenario, sandbox.region)
        _describe(out, sandbox, result)
        try:
            wait()
        except KeyboardInterrupt:
            out.write("\nSandbox stopped; everything it held is gone.\n")
    return 0


def _describe(out: TextIO, sandbox: Sandbox, result: SeedResult) -> None:
    out.write(
        f"AWS sandbox on {sandbox.endpoint_url}: scenario {result.scenario!r}, "
        f"account {result.account_id}, {result.region}.\n"
        "Use it from another shell (AWS CLI, boto3, harbor-kms):\n\n"
    )
    for name, value in sandbox.environment().items():
        out.write(f"  export {name}={shlex.quote(value)}\n")
    if result.key_id:
        out.write(
            f"\nKMS key   {result.key_arn}\nbucket    {result.bucket}\n"
            f"Harbor    {result.harbor_role_arn}\n"
            f"admins    {', '.join(result.admin_principals)}\n"
        )
    out.write(
        "\nState lives in this process's memory only: nothing was written to "
        "disk, and AWS itself is never called. Ctrl-C stops the sandbox.\n"
    )
    out.flush()
