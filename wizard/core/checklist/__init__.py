"""The security checklist: items as data, pure evaluators, verdicts.

``engine.load_items`` reads ``checklists/*.toml``; ``engine.evaluate`` runs each
item's evaluator against an :class:`~wizard.core.snapshot.AccountSnapshot` and
returns :class:`~wizard.core.checklist.model.Verdict` objects; ``report`` turns
them into text, JSON, Markdown or SARIF.
"""
