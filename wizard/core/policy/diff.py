"""Normalise key policies and show the difference between two of them.

KMS returns a policy in whatever layout it was written, so comparisons use a
normal form: keys sorted, two-space indent. Statement order is kept, because a
reader follows it.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any


def normalise(policy: Mapping[str, Any] | str) -> str:
    """The policy in normal form (text in, text out for JSON strings)."""
    data = json.loads(policy) if isinstance(policy, str) else policy
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def same_policy(left: Mapping[str, Any] | str, right: Mapping[str, Any] | str) -> bool:
    """True when both are the same policy after normalisation."""
    return normalise(left) == normalise(right)


def unified_diff(
    current: Mapping[str, Any] | str | None,
    proposed: Mapping[str, Any] | str,
    current_label: str = "current",
    proposed_label: str = "proposed",
) -> str:
    """A unified diff of normalised JSON; empty when nothing changes."""
    before = normalise(current).splitlines(keepends=True) if current else []
    after = normalise(proposed).splitlines(keepends=True)
    return "".join(difflib.unified_diff(before, after, current_label, proposed_label))
