"""``python -m tests``: the whole check, as the README and CI run it.

Lint (ruff), types (mypy --strict) and the test suite, in that order; the first
failure stops the run with its exit code.
"""

from __future__ import annotations

import subprocess
import sys

STEPS = (
    ("ruff check", [sys.executable, "-m", "ruff", "check", "."]),
    ("ruff format --check", [sys.executable, "-m", "ruff", "format", "--check", "."]),
    ("mypy --strict", [sys.executable, "-m", "mypy"]),
    ("pytest", [sys.executable, "-m", "pytest", "-n", "2", *sys.argv[1:]]),
)


def main() -> int:
    for name, command in STEPS:
        sys.stderr.write(f"== {name}\n")
        code = subprocess.call(command)
        if code != 0:
            sys.stderr.write(f"== {name} failed (exit {code})\n")
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
