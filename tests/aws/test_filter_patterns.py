"""The sandbox's CloudWatch Logs filter patterns: each syntax element, and every
pattern the project writes, against the CloudTrail records it is meant to catch.

Pure: no sandbox needed. The last tests check the sandbox's matcher agrees with
the audit's own (:mod:`wizard.core.checklist.patterns`) on the project's patterns.
"""

from __future__ import annotations

from typing import Any

import pytest

from wizard.aws.sandbox.filter_patterns import PatternError, compile_pattern, select
from wizard.aws.sandbox.seed_data import CIS_KEY_DISABLED_OR_DELETED, alarm_filters
from wizard.core.apply.documents import Names, watches
from wizard.core.checklist.patterns import cloudtrail_record, filter_matches

KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = KEY.replace("1234abcd", "99999999")

EVENT: dict[str, Any] = {
    "eventSource": "kms.amazonaws.com",
    "eventName": "DisableKey",
    "sourceIPAddress": "123.123.4.5",
    "readOnly": False,
    "managementEvent": True,
    "latency": 250,
    "ratio": 0.5,
    "responseElements": None,
    "resources": [{"ARN": KEY, "type": "AWS::KMS::Key"}],
    "userIdentity": {"type": "IAMUser", "sessionContext": {"mfa": "true"}},
}


def _matches(pattern: str, record: dict[str, Any] = EVENT) -> bool:
    return compile_pattern(pattern)(record)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("", True),
        ("{ $.eventName = DisableKey }", True),
        ('{ $.eventName = "DisableKey" }', True),
        ("{$.eventName=EnableKey}", False),
        ("{ $.eventName != EnableKey }", True),
        ("{ $.eventName != DisableKey }", False),
        ("{ $.eventName = Disable* }", True),
        ('{ $.eventName = "*Key" }', True),
        ("{ $.sourceIPAddress != 123.123.* }", False),
        ("{ $.sourceIPAddress = 123.123.* }", True),
        ('{ $.resources[0].ARN = "arn:aws:kms:*" }', True),
        ("{ $.resources[1].ARN = * }", False),
        ('{ $.userIdentity.sessionContext.mfa = "true" }', True),
        ("{ $.userIdentity.type = IAMUser && $.eventName = DisableKey }", True),
        ("{ $.userIdentity.type = Root || $.eventName = DisableKey }", True),
        ("{ $.userIdentity.type = Root || $.eventName = EnableKey }", False),
        # && binds tighter than ||: false || (true && true).
        ("{ $.eventName = X || $.readOnly IS FALSE && $.latency > 1 }", True),
        ("{ ($.eventName = X || $.readOnly IS FALSE) && $.latency > 900 }", False),
        ("{ ((($.eventName = DisableKey))) && (($.latency < 300)) }", True),
        ("{ $.latency > 249 }", True),
        ("{ $.latency >= 250 && $.latency <= 250 }", True),
        ("{ $.latency < 250 }", False),
        ("{ $.latency = 250 }", True),
        ("{ $.latency = 250.0 }", True),
        ("{ $.ratio < 1 }", True),
        ("{ $.ratio != 0.5 }", False),
        ("{ $.eventName > 1 }", False),  # text is never a number
        ("{ $.readOnly IS FALSE }", True),
        ("{ $.readOnly IS TRUE }", False),
        ("{ $.managementEvent IS TRUE }", True),
        ("{ $.responseElements IS NULL }", True),
        ("{ $.eventName IS NULL }", False),
        ("{ $.errorCode NOT EXISTS }", True),
        ("{ $.eventName NOT EXISTS }", False),
        ("{ $.errorCode = * }", False),  # a missing field matches no comparison
        ("{ $.errorCode != AccessDenied }", False),
        ("{ $.resources = * }", False),  # nor does an array or object
        ("{ $.readOnly = false }", True),
    ],
)
def test_each_syntax_element_matches_as_documented(
    pattern: str, expected: bool
) -> None:
    assert _matches(pattern) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        "ERROR",  # term pattern
        "[ip, user, ...]",  # space-delimited pattern
        "{ $.eventName = DisableKey",
        "{ ($.eventName = DisableKey }",
        "{ $.eventName = DisableKey) }",
        "{ $.latency > high }",
        "{ $.eventName IS MAYBE }",
        "{ $.eventName EXISTS }",
        "{ eventName = DisableKey }",
        "{ $.eventName = }",
        "{ $.eventName = DisableKey && }",
        "{ $.a = 1 $.b = 2 }",
        "{ $.items[*] = 1 }",
    ],
)
def test_syntax_outside_the_subset_is_refused(pattern: str) -> None:
    with pytest.raises(PatternError):
        compile_pattern(pattern)


def test_select_reads_fields_and_array_items() -> None:
    assert select(EVENT, "$.resources[0].ARN") == KEY
    assert select(EVENT, "$.latency") == 250
    assert select(EVENT, "$.missing.field") is None
    with pytest.raises(PatternError):
        select(EVENT, "resources")


def _record(name: str, key: str = KEY, error: str | None = None) -> dict[str, Any]:
    return cloudtrail_record(
        name, key, region="us-east-1", account="111122223333", error_code=error
    )


def _project_patterns() -> dict[str, str]:
    """Every filter pattern the project writes: seed, apply and checklist."""
    names = Names("111122223333", "us-east-1", "aws", KEY, "1234abcd")
    found = {f"seed {name}": p for name, p in alarm_filters(KEY).items()}
    found |= {f"apply {w.slug}": w.pattern for w in watches(names)}
    # The remediation commands in checklists/kms-hardening.toml.
    kms = "($.eventSource=kms.amazonaws.com)"
    found |= {
        "checklist rotation": f"{{{kms} && ($.eventName=DisableKeyRotation)}}",
        "checklist policy": f"{{{kms} && ($.eventName=PutKeyPolicy)}}",
        "checklist denied": f'{{{kms} && ($.errorCode="AccessDenied*")}}',
        "checklist cis": CIS_KEY_DISABLED_OR_DELETED,
    }
    return found


# What each pattern is for: the records it must catch.
CATCHES = {
    "disabled-or-deleted": [_record("DisableKey"), _record("ScheduleKeyDeletion")],
    "policy": [_record("PutKeyPolicy")],
    "rotation": [_record("DisableKeyRotation")],
    "denied": [
        _record("Decrypt", error="AccessDenied"),
        _record("GenerateDataKey", error="AccessDeniedException"),
    ],
    "cis": [_record("DisableKey"), _record("ScheduleKeyDeletion")],
}
OTHERS = [
    _record("EnableKey"),
    _record("CancelKeyDeletion"),
    _record("EnableKeyRotation"),
    _record("Decrypt"),
    _record("Decrypt", error="DisabledException"),
    _record("TagResource"),
]


def _purpose(label: str) -> str:
    return next(p for p in CATCHES if p in label)


@pytest.mark.parametrize("label", sorted(_project_patterns()))
def test_every_project_pattern_catches_its_events_and_no_others(label: str) -> None:
    matches = compile_pattern(_project_patterns()[label])
    purpose = _purpose(label)

    for record in CATCHES[purpose]:
        assert matches(record), record["eventName"]
    caught = {str(r["eventName"]) + str(r.get("errorCode")) for r in CATCHES[purpose]}
    for record in OTHERS:
        if str(record["eventName"]) + str(record.get("errorCode")) not in caught:
            assert not matches(record), record["eventName"]


PER_KEY = [label for label in sorted(_project_patterns()) if "checklist" not in label]


@pytest.mark.parametrize("label", PER_KEY)
def test_per_key_patterns_ignore_other_keys(label: str) -> None:
    matches = compile_pattern(_project_patterns()[label])
    # CIS 4.7's pattern covers every key in the account; the others one key.
    account_wide = _purpose(label) in ("disabled-or-deleted", "cis")
    for record in CATCHES[_purpose(label)]:
        other = _record(str(record["eventName"]), OTHER_KEY, record.get("errorCode"))
        assert matches(other) is account_wide


@pytest.mark.parametrize("label", sorted(_project_patterns()))
def test_the_sandbox_and_the_audit_agree_on_the_project_patterns(label: str) -> None:
    pattern = _project_patterns()[label]
    records = [r for rs in CATCHES.values() for r in rs] + OTHERS
    records += [_record("DisableKey", OTHER_KEY)]
    for record in records:
        assert compile_pattern(pattern)(record) == filter_matches(pattern, record)
