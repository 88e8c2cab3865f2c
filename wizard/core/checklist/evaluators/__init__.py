"""The checklist's evaluators: pure functions of an :class:`EvalContext`, by name.

Each module holds one section's evaluators (Access Control's network conditions
have their own, ``network``) and registers them with
``@evaluator("name")``; a checklist item names its evaluator in the TOML file.
:func:`registry` imports every module once, so a name is known exactly when its
module exists, and the loader can reject an item whose evaluator is missing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

from wizard.core.checklist.context import EvalContext
from wizard.core.checklist.model import Verdict

EvaluatorFn = Callable[[EvalContext], Verdict]

_MODULES = (
    "policy",
    "rotation",
    "monitoring",
    "access",
    "network",
    "documentation",
    "testing",
    "cross_resource",
)
_REGISTRY: dict[str, EvaluatorFn] = {}


def evaluator(name: str) -> Callable[[EvaluatorFn], EvaluatorFn]:
    """Register the decorated function as the evaluator ``name``.

    Raises:
        ValueError: ``name`` is registered twice (two modules disagree).
    """

    def register(function: EvaluatorFn) -> EvaluatorFn:
        if name in _REGISTRY and _REGISTRY[name] is not function:
            raise ValueError(f"Evaluator {name!r} is registered twice.")
        _REGISTRY[name] = function
        return function

    return register


def registry() -> Mapping[str, EvaluatorFn]:
    """Every evaluator, by name (importing the section modules on first use)."""
    for module in _MODULES:
        importlib.import_module(f"{__name__}.{module}")
    return dict(_REGISTRY)
