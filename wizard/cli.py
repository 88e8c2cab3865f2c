"""The ``harbor-kms`` command line.

Headless commands import only the core (and the AWS adapter where they talk to
AWS); the full-screen app and the line mode are imported inside their own start
functions so that ``policy lint`` starts fast and runs where no terminal exists.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from wizard import __version__
from wizard.core.errors import WizardError

log = logging.getLogger("wizard")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from wizard.commands import apply, audit, diagnose, line, policy, runbook, sandbox

    parser = argparse.ArgumentParser(
        prog="harbor-kms",
        description="Harden, audit and document the AWS KMS key behind a Harbor "
        "registry's S3 storage.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--demo",
        action="store_true",
        help="with no command: open the app against the built-in sandbox, seeded "
        "as the guide leaves an account (no AWS account needed)",
    )
    parser.add_argument(
        "--config",
        dest="app_config",
        type=Path,
        metavar="F",
        help="with no command: the app's values file (default harbor-kms.toml)",
    )
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="log to standard error at this level (default WARNING)",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        metavar="F",
        help="values file (default harbor-kms.toml in the current directory)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    policy.add_parser(subparsers, common)
    audit.add_parser(subparsers, common)
    apply.add_parser(subparsers, common)
    diagnose.add_parser(subparsers, common)
    runbook.add_parser(subparsers, common)
    line.add_parser(subparsers, common)
    sandbox.add_parser(subparsers, common)
    return parser


def main(
    argv: Sequence[str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run the command line; returns the exit code (0 ok, 1 findings, 2 error)."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level, stream=err, format="%(levelname)s %(name)s: %(message)s"
    )
    handler = getattr(args, "handler", None)
    if handler is None:
        return _run_app(args, parser, out)
    try:
        code: int = handler(args, out, err)
    except WizardError as error:
        err.write(f"harbor-kms: {error.message}\n")
        return error.exit_code
    except KeyboardInterrupt:
        err.write("harbor-kms: interrupted; nothing was left half-written.\n")
        return 130
    except BrokenPipeError:
        return 0
    return code


def _run_app(
    args: argparse.Namespace, parser: argparse.ArgumentParser, out: TextIO
) -> int:
    """No command: the full-screen app, or the help where there is no terminal."""
    if not (sys.stdin.isatty() and out.isatty()):
        parser.print_help(out)
        return 0
    # Textual is imported only here, so headless commands never load it.
    from wizard.core.store import DEFAULT_PATH
    from wizard.tui import run_app

    try:
        return run_app(args.app_config or DEFAULT_PATH, args.demo)
    except WizardError as error:
        sys.stderr.write(f"harbor-kms: {error.message}\n")
        return error.exit_code


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
