"""The checklist data: it covers the guide's Security Checklist, and loads strictly.

The guide is not part of this repository, so its "Security Checklist" section is
quoted below; when the guide is available (``HARBOR_KMS_GUIDE`` or the shared
folder beside the checkout), the quote is checked against it first.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.factories import ACCOUNT, BUCKET, HARBOR_ROLE, KEY_ID, guide_values
from wizard.core.checklist.attestations import add_attestation, parse_attestations
from wizard.core.checklist.engine import load_items
from wizard.core.checklist.evaluators import registry
from wizard.core.checklist.loader import APPLY_CHANGES
from wizard.core.checklist.model import SECTIONS, ChecklistError, Item
from wizard.core.resources import data_dir

CHECKLIST = data_dir("checklists") / "kms-hardening.toml"

GUIDE_CHECKLIST = """\
## Security Checklist

Use this checklist to verify your KMS key is properly hardened:

### Key Policy Configuration

- [ ] Key policy uses least-privilege principle
- [ ] Separate statements for administrators and users
- [ ] Harbor role has only required actions (Decrypt, GenerateDataKey, DescribeKey)
- [ ] No `kms:*` granted to service roles
- [ ] Root principal includes `kms:CallerAccount` condition
- [ ] `kms:ViaService` condition restricts to S3
- [ ] `kms:EncryptionContext` condition restricts to specific bucket
- [ ] Explicit Deny statement prevents direct KMS API usage
- [ ] No wildcard principals without conditions
- [ ] Policy validated with IAM Policy Simulator

### Key Rotation

- [ ] Automatic key rotation enabled
- [ ] Rotation status monitored via CloudWatch
- [ ] CloudWatch alarm configured for rotation status
- [ ] Rotation documented in runbooks
- [ ] Old key material retained (never deleted)

### Monitoring and Auditing

- [ ] CloudTrail enabled for KMS events
- [ ] CloudTrail logs stored in secure S3 bucket
- [ ] CloudWatch dashboard created for KMS metrics
- [ ] CloudWatch alarms configured for:
  - [ ] High decrypt failures
  - [ ] Rotation disabled
  - [ ] Policy changes
  - [ ] Key deletion scheduled
- [ ] AWS Config rule enabled for key rotation
- [ ] Regular review of CloudTrail logs scheduled

### Access Control

- [ ] Only required principals have access
- [ ] Service accounts use IRSA (not IAM users)
- [ ] No long-lived credentials with key access
- [ ] Cross-account access explicitly denied (if not needed)
- [ ] VPC endpoint conditions added (if applicable)
- [ ] IP address restrictions added (if applicable)

### Compliance and Documentation

- [ ] Key policy documented in runbooks
- [ ] Key purpose and usage documented
- [ ] Rotation schedule documented
- [ ] Incident response procedures documented
- [ ] Compliance requirements verified (SOC2, PCI-DSS, etc.)
- [ ] Key tagged with appropriate metadata

### Testing and Validation

- [ ] Encryption/decryption tested through S3
- [ ] Direct KMS API access denied (verified)
- [ ] Access from unauthorized principals denied (verified)
- [ ] CloudTrail events verified
- [ ] Key rotation tested (after 365 days)
- [ ] Disaster recovery procedures tested
"""

REQUIRED_IDS = {
    "policy_least_privilege",
    "policy_admin_user_separation",
    "policy_harbor_actions_minimal",
    "policy_no_kms_star_for_service_roles",
    "policy_root_delegation_scoped",
    "policy_via_service_s3",
    "policy_encryption_context_bucket",
    "policy_explicit_deny_direct_use",
    "policy_no_unconditioned_wildcard_principal",
    "policy_simulated",
    "rotation_enabled",
    "rotation_monitored",
    "rotation_alarm",
    "cloudtrail_enabled",
    "cloudtrail_log_validation",
    "cloudtrail_bucket_secure",
    "cloudwatch_dashboard",
    "alarm_decrypt_failures",
    "alarm_rotation_disabled",
    "alarm_policy_changes",
    "alarm_key_deletion",
    "config_rule_rotation",
    "access_irsa",
    "access_no_long_lived_credentials",
    "access_cross_account_denied",
    "access_vpce_condition",
    "access_source_ip_condition",
    "grants_limited",
    "key_tagged",
    "key_description",
    "bucket_default_encryption_key",
    "bucket_key_context_consistent",
    "test_s3_roundtrip",
    "test_direct_kms_denied",
    "test_unauthorized_denied",
    "test_cloudtrail_events",
    "viaservice_region_matches_bucket",
    "harbor_values_key",
}


def _guide_path() -> Path | None:
    candidates = [
        os.environ.get("HARBOR_KMS_GUIDE", ""),
        str(Path(__file__).parents[3] / "shared/guide/kms-key-policy-hardening.md"),
    ]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def checklist_lines(text: str) -> list[str]:
    """Every checklist line of the section, nested ones as "PARENT: CHILD".

    A line with children ("CloudWatch alarms configured for:") is covered by its
    children and is not returned itself.
    """
    lines = re.findall(r"^( *)- \[ \] (.+)$", text, re.MULTILINE)
    found: list[str] = []
    parent = ""
    for i, (indent, body) in enumerate(lines):
        if indent:
            found.append(f"{parent}: {body}")
            continue
        has_children = i + 1 < len(lines) and bool(lines[i + 1][0])
        parent = body.rstrip(":")
        if not has_children:
            found.append(body)
    return found


@pytest.fixture(scope="module")
def items() -> list[Item]:
    return load_items()


def test_quoted_checklist_matches_the_guide_when_it_is_available() -> None:
    guide = _guide_path()
    if guide is None:
        pytest.skip("the hardening guide is not available beside this checkout")
    text = guide.read_text(encoding="utf-8")
    section = text.split("## Security Checklist", 1)[1].split("\n## ", 1)[0]
    assert checklist_lines(section) == checklist_lines(GUIDE_CHECKLIST)


def test_every_guide_checklist_line_has_an_item(items: list[Item]) -> None:
    lines = checklist_lines(GUIDE_CHECKLIST)
    assert len(lines) == 42
    by_text = {item.guide_text: item for item in items}
    missing = [line for line in lines if line not in by_text]
    assert missing == []


def test_guide_sections_map_to_checklist_sections(items: list[Item]) -> None:
    by_text = {item.guide_text: item for item in items}
    section = ""
    for line in GUIDE_CHECKLIST.splitlines():
        if line.startswith("### "):
            section = line[4:]
        elif line.startswith("- [ ] ") and not line.endswith(":"):
            assert by_text[line[6:]].section == section, line


def test_required_ids_are_present(items: list[Item]) -> None:
    assert {item.id for item in items} >= REQUIRED_IDS


def test_items_are_well_formed(items: list[Item]) -> None:
    names = registry()
    ids = [item.id for item in items]
    assert len(ids) == len(set(ids))
    for item in items:
        assert item.section in SECTIONS
        assert item.evaluator in names
        assert item.remediation.apply in ("", *APPLY_CHANGES)
        if not item.attested:
            assert item.permissions or item.id == "harbor_values_key", item.id
        if item.guide_text and item.correction:
            assert item.title != item.guide_text, item.id
    assert {item.section for item in items} == set(SECTIONS)


def test_attested_items_are_the_ones_no_api_can_answer(items: list[Item]) -> None:
    attested = {item.id for item in items if item.attested}
    assert attested == {
        "rotation_documented",
        "cloudtrail_review_scheduled",
        "doc_key_policy_runbook",
        "doc_rotation_schedule",
        "doc_incident_response",
        "doc_compliance_verified",
        "test_rotation_verified",
        "test_disaster_recovery",
    }


def test_items_the_guide_gets_wrong_carry_their_correction(items: list[Item]) -> None:
    by_id = {item.id: item for item in items}
    assert "correction 6" in by_id["policy_root_delegation_scoped"].correction
    assert "correction 11" in by_id["policy_simulated"].correction
    assert "correction 12" in by_id["cloudwatch_dashboard"].correction
    assert "correction 15" in by_id["test_rotation_verified"].correction
    assert "365 days after" not in by_id["test_rotation_verified"].title
    for alarm in ("alarm_decrypt_failures", "alarm_key_deletion", "rotation_alarm"):
        assert "correction 1" in by_id[alarm].correction


def test_only_probe_items_need_the_probe(items: list[Item]) -> None:
    assert [i.id for i in items if i.requires_probe] == ["test_s3_roundtrip"]


def test_remediation_placeholders_are_filled_from_values(items: list[Item]) -> None:
    by_id = {item.id: item for item in items}
    values = guide_values()
    rotation = by_id["rotation_enabled"].remediation.render(values)
    assert f"--key-id {KEY_ID}" in rotation.cli
    assert "--region us-east-1" in rotation.cli
    bucket = by_id["bucket_default_encryption_key"].remediation.render(values)
    assert f'"KMSMasterKeyID": "{values.key_arn}"' in bucket.cli
    assert f"--bucket {BUCKET}" in bucket.cli
    deny = by_id["policy_explicit_deny_direct_use"].remediation.render(values)
    assert HARBOR_ROLE in deny.console
    for item in items:
        rendered = item.remediation.render(values)
        assert (
            re.search(
                r"\{(key_id|key_arn|region|bucket|role_arn|account_id)\}",
                rendered.console + rendered.cli,
            )
            is None
        ), item.id


def test_unknown_values_leave_the_placeholder_visible(items: list[Item]) -> None:
    by_id = {item.id: item for item in items}
    from wizard.core.values import Values

    rendered = by_id["rotation_enabled"].remediation.render(Values(key_id=KEY_ID))
    assert "--region {region}" in rendered.cli


# ----------------------------------------------------------- strict loader

GOOD_ITEM = """\
[[item]]
id = "sample_item"
section = "Key Rotation"
title = "A sample"
guide_section = "Somewhere"
guide_text = ""
correction = ""
evaluator = "rotation_enabled"
permissions = ["kms:GetKeyRotationStatus"]
requires_probe = false
[item.remediation]
console = "Do it for {key_id}."
cli = "aws kms enable-key-rotation --key-id {key_id}"
apply = "enable-rotation"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_minimal_file_loads(tmp_path: Path) -> None:
    (item,) = load_items(_write(tmp_path, GOOD_ITEM))
    assert item.id == "sample_item"
    assert item.permissions == ("kms:GetKeyRotationStatus",)
    assert item.references == ()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda t: t.replace(
                "requires_probe = false", 'requires_probe = false\ncolour = "red"'
            ),
            "unknown key 'colour'",
        ),
        (
            lambda t: t.replace(
                'evaluator = "rotation_enabled"', 'evaluator = "no_such_check"'
            ),
            "evaluator 'no_such_check' is not registered",
        ),
        (
            lambda t: t.replace("--key-id {key_id}", "--key-id {kms_key}"),
            "uses {kms_key}",
        ),
        (
            lambda t: t.replace('section = "Key Rotation"', 'section = "Misc"'),
            "section 'Misc' is not one of",
        ),
        (lambda t: t.replace('title = "A sample"\n', ""), "missing key 'title'"),
        (
            lambda t: t.replace('apply = "enable-rotation"', 'apply = "rotate-now"'),
            "remediation.apply 'rotate-now' is not a change id",
        ),
        (
            lambda t: t.replace(
                'permissions = ["kms:GetKeyRotationStatus"]',
                'permissions = ["GetKeyRotationStatus"]',
            ),
            "is not an IAM action",
        ),
        (
            lambda t: t.replace("requires_probe = false", 'requires_probe = "no"'),
            "requires_probe must be true or false",
        ),
        (lambda t: t + t, "duplicate id"),
        (lambda t: t.replace("[[item]]", "[item]"), "not [item]"),
        (lambda t: "item = [1]\n", "item #1: must be an [[item]] table"),
        (lambda t: "surprise = 1\n" + t, "unknown top-level key 'surprise'"),
        (lambda t: t + "surprise = 1\n", "unknown key 'remediation.surprise'"),
        (lambda t: t.replace('id = "sample_item"', 'id = "x"'), "id must be"),
        (lambda t: "[[item]\n", "not valid TOML"),
    ],
)
def test_loader_rejects_broken_files_naming_file_and_item(
    tmp_path: Path, change: object, message: str
) -> None:
    assert callable(change)
    path = _write(tmp_path, change(GOOD_ITEM))
    with pytest.raises(ChecklistError) as caught:
        load_items(path)
    assert message in caught.value.message
    assert str(path) in caught.value.message


def test_loader_reports_every_problem_at_once(tmp_path: Path) -> None:
    text = GOOD_ITEM.replace('evaluator = "rotation_enabled"', 'evaluator = "nope"')
    text = text.replace("{key_id}.", "{keyid}.")
    with pytest.raises(ChecklistError) as caught:
        load_items(_write(tmp_path, text))
    assert "item sample_item: evaluator 'nope'" in caught.value.message
    assert "item sample_item: remediation.console uses {keyid}" in caught.value.message


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ChecklistError, match="holds no checklist"):
        load_items(tmp_path)


# ------------------------------------------------------------- attestations

MOMENT = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def test_attestations_parse_from_the_config_table(items: list[Item]) -> None:
    table = {
        "rotation_documented": {"by": "alice", "at": MOMENT, "note": "wiki"},
        "test_disaster_recovery": {"by": "bob", "at": "2026-11-01T08:00:00+00:00"},
    }
    found = parse_attestations(table, items, "harbor-kms.toml")
    assert found["rotation_documented"].by == "alice"
    assert found["rotation_documented"].note == "wiki"
    assert found["test_disaster_recovery"].at.month == 11
    assert parse_attestations(None, items) == {}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"no_such_item": {"by": "a", "at": MOMENT}}, "no checklist item has this id"),
        ({"rotation_enabled": {"by": "a", "at": MOMENT}}, "only attested items"),
        ({"rotation_documented": {"at": MOMENT}}, "by must name who attests"),
        ({"rotation_documented": {"by": "a"}}, "at must be a date-time"),
        (
            {"rotation_documented": {"by": "a", "at": datetime(2026, 1, 1)}},
            "with a UTC offset",
        ),
        ({"rotation_documented": {"by": "a", "at": MOMENT, "who": 1}}, "unknown key"),
        ({"rotation_documented": "yes"}, "must be a table"),
    ],
)
def test_bad_attestations_are_errors_naming_file_and_item(
    items: list[Item], table: dict[str, object], message: str
) -> None:
    with pytest.raises(ChecklistError) as caught:
        parse_attestations(table, items, "harbor-kms.toml")
    assert message in caught.value.message
    assert "harbor-kms.toml: attestations." in caught.value.message


def test_add_attestation_returns_a_new_table(items: list[Item]) -> None:
    by_id = {item.id: item for item in items}
    before = {"rotation_documented": {"by": "alice", "at": MOMENT, "note": ""}}
    after = add_attestation(
        before, by_id["doc_incident_response"], "carol", "ticket SEC-1", MOMENT
    )
    assert "doc_incident_response" not in before
    assert after["doc_incident_response"] == {
        "by": "carol",
        "at": MOMENT,
        "note": "ticket SEC-1",
    }
    assert parse_attestations(after, items)["doc_incident_response"].by == "carol"
    with pytest.raises(ChecklistError, match="cannot be attested"):
        add_attestation(after, by_id["rotation_enabled"], "carol")
    with pytest.raises(ChecklistError, match="needs the name"):
        add_attestation(after, by_id["doc_incident_response"], "  ")


def test_attestations_survive_a_save_and_load(
    tmp_path: Path, items: list[Item]
) -> None:
    from wizard.core import store

    by_id = {item.id: item for item in items}
    table = add_attestation(None, by_id["rotation_documented"], "alice", "wiki", MOMENT)
    path = tmp_path / "harbor-kms.toml"
    store.save(guide_values(), path, extra={"attestations": table})
    loaded = store.load(path)
    found = parse_attestations(loaded.extra.get("attestations"), items, str(path))
    assert found["rotation_documented"].at == MOMENT
    assert ACCOUNT in path.read_text()
