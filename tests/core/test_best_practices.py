"""The guide's DO / DON'T list judged for one key: met, not met, not checkable."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.factories import guide_values
from wizard.core import best_practices
from wizard.core.best_practices import (
    Practice,
    PracticesError,
    assess,
    load_practices,
    validate_practices,
)
from wizard.core.checklist.engine import load_items
from wizard.core.checklist.model import Verdict
from wizard.core.policy.build import build_policy
from wizard.core.policy.lint import RULES, lint_policy

GUIDE_POLICY = Path(__file__).parents[2] / "examples" / "guide-policy.json"
ITEM_IDS = [item.id for item in load_items()]
NOW = datetime(2026, 1, 1, tzinfo=UTC)
GUIDE_SECTION = Path("/work/shared/guide/kms-key-policy-hardening.md")


def verdict(item_id: str, status: str) -> Verdict:
    return Verdict(item_id, status, "", (), None, NOW)  # type: ignore[arg-type]


def every(status: str, **overrides: str) -> list[Verdict]:
    return [verdict(i, overrides.get(i, status)) for i in ITEM_IDS]


def by_id(assessments: list[best_practices.Assessment]) -> dict[str, str]:
    return {a.practice.id: a.state for a in assessments}


def test_the_list_links_only_real_items_and_rules() -> None:
    practices = load_practices()
    assert validate_practices(practices, ITEM_IDS, RULES) == []
    kinds = [p.kind for p in practices]
    assert kinds.count("do") == 12 and kinds.count("dont") == 10


def test_every_line_of_the_guides_summary_is_there() -> None:
    if not GUIDE_SECTION.exists():
        pytest.skip("the guide is not beside this checkout")
    text = GUIDE_SECTION.read_text()
    summary = text.split("## Best Practices Summary", 1)[1].split("## Compliance", 1)[0]
    for practice in load_practices():
        words = practice.guide.replace("Don't ", "").split()[:3]
        assert " ".join(words).replace("*", "") in summary.replace("*", "")


def test_validate_names_unknown_links() -> None:
    odd = Practice("x", "do", "Do x", ("no_item",), ("no-rule",), "")
    problems = validate_practices([odd, odd], ITEM_IDS, RULES)
    assert "practice x: 'no_item' is not a checklist item." in problems
    assert "practice x: 'no-rule' is not a lint rule." in problems
    assert "practice x: duplicate id." in problems


def test_all_passing_and_no_findings_is_met_except_the_unlinked_line() -> None:
    states = by_id(assess(every("pass"), []))
    assert states.pop("do_customer_managed_keys") == "not_checkable"
    assert set(states.values()) == {"met"}


def test_the_generated_policy_meets_the_policy_lines() -> None:
    findings = lint_policy(build_policy(guide_values()), guide_values())
    states = by_id(assess(every("pass"), findings))
    for line in ("do_least_privilege", "do_via_service", "do_encryption_context"):
        assert states[line] == "met"


def test_the_guides_policy_breaks_the_encryption_context_line() -> None:
    import json

    policy = json.loads(GUIDE_POLICY.read_text())
    findings = lint_policy(policy, guide_values())
    result = {a.practice.id: a for a in assess(every("pass"), findings)}
    context = result["do_encryption_context"]
    assert context.state == "not_met"
    assert "encryption-context-literal-wildcard" in context.fired
    assert "lint rule encryption-context-literal-wildcard fired" in context.reason


def test_a_failed_item_is_not_met_and_named() -> None:
    result = {
        a.practice.id: a for a in assess(every("pass", rotation_enabled="fail"), [])
    }
    assert result["do_enable_rotation"].state == "not_met"
    assert result["do_enable_rotation"].reason == "rotation_enabled fail."
    assert result["dont_disable_rotation"].state == "not_met"


def test_unknown_or_unlinted_is_not_checkable_never_met() -> None:
    states = by_id(assess(every("pass", rotation_enabled="unknown"), []))
    assert states["do_enable_rotation"] == "not_checkable"
    states = by_id(assess(every("pass"), None))
    assert states["do_least_privilege"] == "not_checkable"
    assert states["do_tag_keys"] == "met"


def test_not_attested_documentation_is_not_met() -> None:
    states = by_id(assess(every("pass", doc_key_policy_runbook="not_attested"), []))
    assert states["do_document"] == "not_met"


def test_renderings_mark_every_line() -> None:
    assessments = assess(every("pass", key_tagged="fail"), [])
    text = best_practices.to_text(assessments)
    markdown = best_practices.to_markdown(assessments)
    flat = " ".join(text.split())
    for practice in load_practices():
        assert practice.guide in flat
    assert "NOT MET         Tag keys appropriately" in text
    assert "| NOT MET | Tag keys appropriately" in markdown
    document = best_practices.to_json(assessments)
    assert {d["state"] for d in document} == {"met", "not_met", "not_checkable"}
    assert all(len(line) <= 88 for line in text.splitlines())


def test_a_malformed_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bp.toml"
    path.write_text('[[practice]]\nid = "x"\nkind = "maybe"\n')
    with pytest.raises(PracticesError, match="needs exactly"):
        load_practices(path)
    path.write_text("version = 1\n")
    with pytest.raises(PracticesError, match="no \\[\\[practice\\]\\]"):
        load_practices(path)
