"""Generated policies, for any valid values and options, are right by construction.

Valid JSON, lint-clean at error level, and every scenario as the hardened design
expects; and the guide's own policy fails exactly where CORRECTIONS.md says.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from tests.factories import guide_values, valid_values
from wizard.core.policy.build import build_policy
from wizard.core.policy.lint import lint_policy
from wizard.core.policy.scenarios import run_scenarios
from wizard.core.values import Values, validate

GUIDE_POLICY = Path(__file__).parents[2] / "examples" / "guide-policy.json"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_values)
def test_generated_policy_is_valid_clean_and_passes_scenarios(values: Values) -> None:
    assert [p for p in validate(values) if p.severity == "error"] == []
    policy = build_policy(values)
    text = json.dumps(policy)
    assert json.loads(text) == policy
    assert len(text) <= 32_768  # KMS's key policy size limit
    errors = [f for f in lint_policy(policy, values) if f.severity == "error"]
    assert errors == []
    failed = [o.scenario.id for o in run_scenarios(policy, values) if not o.ok]
    assert failed == []


def test_guide_policy_breaks_harbor_where_the_corrections_say() -> None:
    guide = json.loads(GUIDE_POLICY.read_text())
    values = guide_values(bucket_key_enabled=False)
    outcomes = {o.scenario.id: o for o in run_scenarios(guide, values)}
    # Correction 1: StringEquals with '/*' never matches, so uploads are denied
    # (the S3 service principal statement does not help: S3 calls as Harbor).
    assert outcomes["harbor-upload"].result.decision == "implicit_deny"
    assert outcomes["harbor-download"].result.decision == "implicit_deny"
    # The guide's admin wildcards let an administrator grant itself use.
    assert not outcomes["admin-KMSAdminRole-grant-self"].ok
    assert outcomes["harbor-direct-decrypt"].result.decision == "explicit_deny"


def test_generated_policy_for_guide_values_passes_everything() -> None:
    values = guide_values(
        principal_org_id="o-a1b2c3d4e5",
        source_vpce=("vpce-0a1b2c3d4e5f67890",),
        source_ip=("10.0.0.0/8",),
    )
    outcomes = run_scenarios(build_policy(values), values)
    assert len(outcomes) > 20
    assert [o.scenario.id for o in outcomes if not o.ok] == []
