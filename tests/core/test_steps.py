"""The step model: one step per guide section, fields checked by core validators."""

from __future__ import annotations

from tests.factories import guide_values
from wizard.core.steps import (
    CONDITION_FIELDS,
    ENVIRONMENT_FIELDS,
    STEPS,
    field_problems,
    split_list,
    step,
    step_state,
)


def test_steps_follow_the_guide_in_order() -> None:
    ids = [s.id for s in STEPS]
    assert ids[:3] == ["prerequisites", "environment", "understand"]
    assert ids[-4:] == ["apply", "checklist", "troubleshoot", "export"]
    assert len(set(ids)) == len(ids)


def test_field_round_trip_through_text() -> None:
    values = guide_values(source_ip=("10.0.0.0/8", "192.168.0.0/16"))
    for spec in ENVIRONMENT_FIELDS + CONDITION_FIELDS:
        text = spec.format(values)
        assert spec.check(text) is None, spec.name
        assert spec.set(values, spec.parse(text)) == values, spec.name


def test_invalid_list_item_is_named() -> None:
    spec = next(f for f in CONDITION_FIELDS if f.name == "source_ip")
    message = spec.check("10.0.0.0/8, 10.0.0.1/8")
    assert message is not None and "10.0.0.1/8" in message


def test_required_field_and_choice_messages() -> None:
    account = ENVIRONMENT_FIELDS[0]
    assert account.check("") == "AWS account id is required."
    form = next(f for f in CONDITION_FIELDS if f.kind == "choice")
    assert "one of" in (form.check("sideways") or "")


def test_step_state_needs_attention_until_fields_are_valid() -> None:
    bad = guide_values(account_id="12")
    assert step_state("environment", bad, {}) == "not_started"
    assert step_state("environment", bad, {"environment": True}) == "needs_attention"
    assert field_problems(step("environment").fields, bad).keys() == {"account_id"}
    good = guide_values()
    assert step_state("environment", good, {"environment": True}) == "done"


def test_split_list_accepts_commas_and_spaces() -> None:
    assert split_list("a, b  c,,d") == ["a", "b", "c", "d"]
