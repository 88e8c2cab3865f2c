"""What the headless commands share: loading values and reporting problems."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from wizard.core.errors import ConfigError, InputError

if TYPE_CHECKING:
    from wizard.core.values import Values


def load_values(
    config: Path | None,
    harbor_values: Path | None = None,
    *,
    required: bool = True,
    err: TextIO | None = None,
) -> Values | None:
    """Values from the config file (and a Harbor values.yaml), checked.

    Raises ConfigError listing every problem when the values cannot be used.
    Returns None when ``required`` is false and no config file exists.
    """
    # Imported here: tomlkit and yaml cost more at start than `policy lint` does.
    from wizard.core import store
    from wizard.core.helm import prefill, read_harbor_values
    from wizard.core.values import Values, validate

    path = config or store.DEFAULT_PATH
    if not path.exists() and not required and config is None:
        return None
    if path.exists() or config is not None or harbor_values is None:
        loaded = store.load(path, check_values=False)
        values, problems = loaded.values, loaded.problems
    else:
        values, problems = Values(), []
    if harbor_values is not None:
        storage = read_harbor_values(harbor_values)
        values = prefill(values, storage)
        if err is not None:
            for note in storage.notes:
                err.write(f"note: {harbor_values}: {note}\n")
    problems = problems + store.locate_problems(validate(values), path)
    errors = [p for p in problems if p.severity == "error"]
    if err is not None:
        for warning in (p for p in problems if p.severity == "warning"):
            err.write(f"warning: {warning.field}: {warning.message}\n")
    if errors:
        raise ConfigError(
            "The values cannot be used:\n"
            + "\n".join(f"  {p.field}: {p.message}" for p in errors)
        )
    return values


def read_json_file(path: str, what: str) -> Any:
    """Parse a JSON file (``-`` is standard input); InputError when unusable."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text("utf-8")
    except OSError as error:
        raise InputError(f"{what} {path} cannot be read: {error.strerror}.") from None
    except UnicodeDecodeError:
        raise InputError(f"{what} {path} is not UTF-8 text.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"{what} {path} is not valid JSON: {error.msg} "
            f"(line {error.lineno}, column {error.colno})."
        ) from None


def aws_options(
    common: argparse.ArgumentParser, *, key_id: bool = True
) -> argparse.ArgumentParser:
    """A parent parser with the AWS options audit, apply and diagnose share.

    ``--key-id`` overrides the config's key; ``--region``, ``--profile`` and
    ``--endpoint-url`` pick where the calls go (``AWS_ENDPOINT_URL`` works too).
    """
    parser = argparse.ArgumentParser(add_help=False, parents=[common])
    if key_id:
        parser.add_argument(
            "--key-id", metavar="ID", help="the key id or ARN (overrides the config)"
        )
    parser.add_argument("--region", metavar="R", help="AWS region (default: config)")
    parser.add_argument("--profile", metavar="P", help="AWS CLI profile")
    parser.add_argument(
        "--endpoint-url", metavar="URL", help="AWS endpoint (the sandbox, a proxy)"
    )
    return parser


def override_values(
    values: Values, *, key_id: str | None = None, region: str | None = None
) -> Values:
    """``values`` with ``--key-id`` and ``--region`` applied, each checked.

    A key ARN also gives the region when none is set.

    Raises:
        InputError: an option's value breaks its rule (the option is named).
    """
    from dataclasses import replace

    from wizard.core.values import check_key_id, check_region

    if key_id:
        if problem := check_key_id(key_id):
            raise InputError(f"--key-id: {problem}")
        values = replace(values, key_id=key_id)
    if region:
        if problem := check_region(region):
            raise InputError(f"--region: {problem}")
        values = replace(values, region=region)
    if not values.region and values.key_id.startswith("arn:"):
        values = replace(values, region=values.key_id.split(":")[3])
    return values
