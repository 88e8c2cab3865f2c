"""``harbor-kms sandbox``: a local AWS with a seeded Harbor account."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

SCENARIOS = ("guide-as-written", "hardened", "empty", "no-bucket-key", "many-keys:N")


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register ``sandbox``."""
    sandbox = subparsers.add_parser(
        "sandbox",
        help="run a local AWS API emulator seeded with a Harbor account",
    )
    sandbox.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)"
    )
    sandbox.add_argument(
        "--scenario",
        default="guide-as-written",
        help=f"seeded state: {', '.join(SCENARIOS)}",
    )
    sandbox.set_defaults(handler=cmd_sandbox)


def cmd_sandbox(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # The emulator (moto) is heavy: import it only when the sandbox runs.
    from wizard.aws.sandbox import run_sandbox

    code: int = run_sandbox(args.port, args.scenario, out)
    return code
