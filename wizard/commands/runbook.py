"""``harbor-kms runbook``: the runbook as Markdown or HTML, from files only.

It reads the values file, an audit document (``audit --format json``) and the
apply journals, and calls AWS for nothing, so a runbook can be rebuilt anywhere
from what was recorded. The TUI's export calls the same core functions.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from wizard.commands.common import load_values, read_json_file
from wizard.core import store
from wizard.core.compliance import FRAMEWORKS
from wizard.core.errors import InputError
from wizard.core.runbook import (
    FORMATS,
    build_view,
    load_catalog,
    read_journal_files,
    render_runbook,
    write_runbook,
)


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register ``runbook``."""
    runbook = subparsers.add_parser(
        "runbook",
        parents=[common],
        help="write the runbook: policy, changes, checklist, rollback (no AWS calls)",
    )
    runbook.add_argument(
        "--audit",
        metavar="AUDIT.json",
        help="the output of 'harbor-kms audit --format json' ('-' for stdin)",
    )
    runbook.add_argument(
        "--journal",
        type=Path,
        metavar="PATH",
        help="an apply journal (.jsonl) or a journals folder (default: the "
        "journals of this key in .harbor-kms/journals beside the config)",
    )
    runbook.add_argument(
        "--output",
        required=True,
        metavar="RUNBOOK.md",
        help="where to write the runbook ('-' for standard output)",
    )
    runbook.add_argument("--format", choices=FORMATS, default="markdown")
    runbook.add_argument(
        "--framework",
        choices=FRAMEWORKS,
        help="add this framework's control table (needs --audit; supports an "
        "audit, certifies nothing)",
    )
    runbook.set_defaults(handler=cmd_runbook)


def cmd_runbook(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Build the view from the files given, render it, write it atomically."""
    config = args.config or store.DEFAULT_PATH
    values = load_values(args.config, err=err)
    assert values is not None
    extra = store.load(config, check_values=False).extra
    audit = read_json_file(args.audit, "Audit file") if args.audit else None
    if audit is not None and not isinstance(audit, dict):
        raise InputError(
            f"Audit file {args.audit} is not an audit: expected an object."
        )
    journals, warnings = read_journal_files(config, values, args.journal)
    for warning in warnings:
        err.write(f"warning: {warning}\n")
    view = build_view(
        values,
        audit=audit,
        audit_source=args.audit or "",
        journal=journals,
        attestations=extra.get("attestations") or {},
        catalog=load_catalog(),
        config_path=args.config,
        framework=args.framework,
    )
    if args.output == "-":
        out.write(render_runbook(view, args.format))
        return 0
    write_runbook(view, Path(args.output), args.format)
    err.write(f"Runbook written to {args.output} ({args.format}).\n")
    return 0
