"""``harbor-kms line``: the wizard as prompts, one line at a time."""

from __future__ import annotations

import argparse
from typing import Any, TextIO


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register ``line``."""
    line = subparsers.add_parser(
        "line",
        parents=[common],
        help="walk the wizard's steps as prompts (works with piped answers)",
    )
    line.add_argument(
        "--demo",
        action="store_true",
        help="use a local sandbox seeded as the guide leaves an account "
        "(values go to harbor-kms-demo.toml unless --config is given)",
    )
    line.set_defaults(handler=cmd_line)


def cmd_line(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the line mode; its exit code is 130 after Ctrl-C."""
    # The line mode imports questionary (and, for --demo, moto): only here.
    from wizard.line import run_line

    return run_line(args.config, args.demo, stdout=out)
