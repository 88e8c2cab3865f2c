"""The ``harbor-kms`` command line.

Headless commands import only the core (and the AWS adapter where they talk to
AWS); the full-screen app and the line mode are imported inside their own start
functions so that ``policy lint`` starts fast and runs where no terminal exists.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from wizard import __version__
from wizard.core.errors import WizardError

log = logging.getLogger("wizard")


# Each command's module, imported only when that command runs (or for --help):
# `policy lint` must not pay for apply, the runbook's jinja2 or the sandbox.
COMMANDS = {
    "policy": "wizard.commands.policy",
    "audit": "wizard.commands.audit",
    "apply": "wizard.commands.apply",
    "rollback": "wizard.commands.apply",
    "diagnose": "wizard.commands.diagnose",
    "runbook": "wizard.commands.runbook",
    "line": "wizard.commands.line",
    "sandbox": "wizard.commands.sandbox",
}
# Options before the command that take a value, so their value is not taken
# for the command's name.
_VALUED = ("--config", "--log-level")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: of ``command`` alone when given, else of them all."""
    parser = argparse.ArgumentParser(
        prog="harbor-kms",
        description="Harden, audit and document the AWS KMS key behind a Harbor "
        "registry's S3 storage.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    _app_options(parser)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        metavar="F",
        help="values file (default harbor-kms.toml in the current directory)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = [COMMANDS[command]] if command in COMMANDS else COMMANDS.values()
    for module_name in dict.fromkeys(wanted):
        importlib.import_module(module_name).add_parser(subparsers, common)
    return parser


def command_of(argv: Sequence[str]) -> str | None:
    """The command named in ``argv`` (the first word that is not an option)."""
    words = iter(argv)
    for word in words:
        if word in _VALUED:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def main(
    argv: Sequence[str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run the command line; returns the exit code (0 ok, 1 findings, 2 error)."""
    out = out or sys.stdout
    err = err or sys.stderr
    app_args = _app_invocation(sys.argv[1:] if argv is None else list(argv))
    if app_args is not None and sys.stdin.isatty() and out.isatty():
        # No command: open the app without building every subcommand's parser,
        # whose modules import what the app's first screen does not need. The
        # app routes logging itself: a line on stderr would tear the screen.
        return _run_app(app_args)
    arguments = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_of(arguments))
    args = parser.parse_args(arguments)
    _configure_logging(args.log_level, err)
    handler = getattr(args, "handler", None)
    if handler is None:
        # No command, but no terminal either: the app cannot run here.
        parser.print_help(out)
        return 0
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


def _app_options(parser: argparse.ArgumentParser) -> None:
    """The options of the app itself (no command), shared by both parsers."""
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


def _app_invocation(argv: list[str]) -> argparse.Namespace | None:
    """The app's options when ``argv`` names no command (and no -h/--version)."""
    top = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    _app_options(top)
    try:
        args, rest = top.parse_known_args(argv)
    except (argparse.ArgumentError, SystemExit):
        return None  # the full parser reports the mistake
    return None if rest else args


def _configure_logging(level: str, err: TextIO) -> None:
    logging.basicConfig(
        level=level, stream=err, format="%(levelname)s %(name)s: %(message)s"
    )


def _run_app(args: argparse.Namespace) -> int:
    """The full-screen app; Textual is imported only here."""
    from wizard.tui import run_app

    try:
        return run_app(args.app_config, args.demo)
    except WizardError as error:
        sys.stderr.write(f"harbor-kms: {error.message}\n")
        return error.exit_code


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
