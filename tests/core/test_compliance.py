"""The compliance mapping: validated against the checklist, grouped, rendered.

The packaged mapping must name only checklist items and only controls its
frameworks define, map every item, and leave no control unsupported. Grouping
turns an audit's verdicts into fully / partly / not evidenced per control, and
every rendering says the mapping certifies nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from wizard.core import compliance
from wizard.core.checklist.engine import load_items
from wizard.core.checklist.model import Item, Verdict
from wizard.core.checklist.report import KeyAudit, audit_json, fleet_json, to_text
from wizard.core.compliance import (
    FRAMEWORKS,
    ComplianceError,
    ComplianceMapping,
    Framework,
    add_to_report,
    framework_json,
    group_by_control,
    load_mapping,
    validate,
)

ITEMS = load_items()
ITEM_IDS = [item.id for item in ITEMS]
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def verdict(item_id: str, status: str) -> Verdict:
    return Verdict(item_id, status, f"{item_id} is {status}.", (), None, NOW)  # type: ignore[arg-type]


def all_verdicts(status: str, **overrides: str) -> list[Verdict]:
    return [verdict(i, overrides.get(i, status)) for i in ITEM_IDS]


def test_packaged_mapping_agrees_with_the_checklist() -> None:
    assert validate(load_mapping(), ITEM_IDS) == []


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_mapped_control_is_a_known_control_of_its_framework(
    framework: str,
) -> None:
    mapping = load_mapping()
    known = mapping.frameworks[framework].controls
    named = {c for lists in mapping.items.values() for c in lists.get(framework, ())}
    assert named and named <= set(known)
    assert set(known) <= named  # no control left without an item (no dangling id)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_framework_states_its_source(framework: str) -> None:
    spec = load_mapping().frameworks[framework]
    assert spec.document and spec.url.startswith("https://")


def test_every_item_states_why_and_names_a_framework() -> None:
    mapping = load_mapping()
    for item_id in ITEM_IDS:
        assert mapping.basis[item_id].strip()
        assert mapping.items[item_id]


def _tiny(**items: Mapping[str, tuple[str, ...]]) -> ComplianceMapping:
    frameworks = {
        name: Framework(name, name.upper(), "doc", "https://x", {"A": "a", "B": "b"})
        for name in FRAMEWORKS
    }
    return ComplianceMapping(
        "It does not certify anything.",
        frameworks,
        items,
        dict.fromkeys(items, "because"),
    )


def test_validate_names_every_disagreement() -> None:
    mapping = _tiny(
        rotation_enabled={"soc2": ("A", "Z")},
        no_such_item={"gdpr": ("A",)},
    )
    problems = validate(mapping, ["rotation_enabled", "key_tagged"])
    assert "items.no_such_item: no such checklist item." in problems
    assert "checklist item key_tagged has no entry in the mapping." in problems
    assert "items.rotation_enabled.soc2: 'Z' is not a control of SOC2." in problems
    assert "frameworks.soc2: control 'B' is supported by no item." in problems
    assert "frameworks.hipaa: control 'A' is supported by no item." in problems


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda t: t.replace('basis = "The key policy', 'note = "x'), "unknown keys"),
        (lambda t: t.replace("[frameworks.gdpr]", "[frameworks.iso]"), "not one of"),
        (lambda t: t.replace("It does not certify", "It certifies"), "not certify"),
        (lambda t: t.replace('soc2 = ["CC6.3"]', "soc2 = []", 1), "non-empty list"),
        (lambda t: t + "\n[items.x]\nbasis = 'y'\n", "names no framework"),
    ],
)
def test_a_malformed_file_is_refused(
    tmp_path: Path, change: object, words: str
) -> None:
    text = compliance.mapping_path().read_text()
    path = tmp_path / "compliance.toml"
    path.write_text(change(text))  # type: ignore[operator]
    with pytest.raises(ComplianceError, match=words):
        load_mapping(path)


def test_grouping_full_partial_and_none() -> None:
    mapping = _tiny(
        rotation_enabled={"soc2": ("A",)},
        key_tagged={"soc2": ("A", "B")},
        cloudtrail_enabled={"soc2": ("B",)},
    )
    verdicts = [
        verdict("rotation_enabled", "pass"),
        verdict("key_tagged", "attested"),
        verdict("cloudtrail_enabled", "fail"),
    ]
    results = {r.control: r for r in group_by_control(verdicts, "soc2", mapping)}
    assert results["A"].coverage == "full"
    assert results["B"].coverage == "partial"
    assert [v.item_id for v in results["B"].verdicts] == [
        "key_tagged",
        "cloudtrail_enabled",
    ]
    unknown = [verdict("rotation_enabled", "unknown"), verdict("key_tagged", "fail")]
    results = {r.control: r for r in group_by_control(unknown, "soc2", mapping)}
    assert results["A"].coverage == "none"
    assert results["B"].missing == ("cloudtrail_enabled",)


def test_an_unevaluated_item_never_evidences_a_control() -> None:
    mapping = _tiny(rotation_enabled={"soc2": ("A", "B")}, key_tagged={"soc2": ("B",)})
    results = {
        r.control: r
        for r in group_by_control(
            [verdict("rotation_enabled", "pass")], "soc2", mapping
        )
    }
    assert results["A"].coverage == "full"
    assert results["B"].coverage == "partial"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_all_passing_evidences_every_control(framework: str) -> None:
    results = group_by_control(all_verdicts("pass"), framework)
    assert {r.coverage for r in results} == {"full"}


def test_one_failure_makes_its_controls_partial_or_none() -> None:
    verdicts = all_verdicts("pass", rotation_enabled="fail")
    results = {r.control: r.coverage for r in group_by_control(verdicts, "pci-dss")}
    assert results["3.7.4"] == "partial"
    assert results["3.5.1"] == "full"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_rendering_says_it_does_not_certify(framework: str) -> None:
    verdicts = all_verdicts("fail")
    text = compliance.to_text(verdicts, framework)
    markdown = compliance.to_markdown(verdicts, framework)
    document = framework_json(verdicts, framework)
    for rendered in (text, markdown, document["disclaimer"]):
        assert "does not certify" in " ".join(rendered.split())
    assert document["summary"] == {
        "full": 0,
        "partial": 0,
        "none": len(document["controls"]),
    }
    for line in text.splitlines():
        # Only an unbreakable word (the source's URL) may run past 88.
        assert line == line.rstrip()
        assert len(line) <= 88 or " " not in line.strip()


def _audit(verdicts: list[Verdict], arn: str = "arn:aws:kms:x") -> KeyAudit:
    items: list[Item] = [i for i in ITEMS if i.id in {v.item_id for v in verdicts}]
    return KeyAudit({"arn": arn}, items, verdicts)


def test_add_to_report_json_single_and_fleet() -> None:
    one = _audit(all_verdicts("pass"))
    rendered = json.dumps(audit_json(one))
    document = json.loads(add_to_report(rendered, [one], "hipaa", "json"))
    assert document["compliance"]["framework"] == "hipaa"
    assert "items" in document
    two = _audit(all_verdicts("fail"), "arn:aws:kms:y")
    rendered = json.dumps(fleet_json([one, two]))
    fleet = json.loads(add_to_report(rendered, [one, two], "gdpr", "json"))
    coverages = [k["compliance"]["summary"]["full"] for k in fleet["keys"]]
    assert coverages[0] > 0 and coverages[1] == 0


def test_add_to_report_appends_text_and_leaves_sarif_alone() -> None:
    audit = _audit(all_verdicts("pass"))
    report = to_text([audit])
    combined = add_to_report(report, [audit], "soc2", "text")
    assert combined.startswith(report.rstrip("\n"))
    assert "SOC 2: controls this key's checklist supports" in combined
    assert add_to_report('{"runs": []}', [audit], "soc2", "sarif") == '{"runs": []}'
