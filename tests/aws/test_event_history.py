"""CloudTrail Event history in the sandbox keeps 90 days, as AWS's does; the
``/_sandbox/events/age`` control endpoint moves recorded events into the past.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from wizard.aws.sandbox import Sandbox, SeedResult

Seeder = Callable[..., SeedResult]
ClientFactory = Callable[..., Any]


def _age(sandbox: Sandbox, body: bytes) -> tuple[int, dict[str, Any]]:
    """Status and JSON answer of ``POST /_sandbox/events/age`` with ``body``."""
    request = urllib.request.Request(
        sandbox.endpoint_url + "/_sandbox/events/age", data=body, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _key_events(boto_client: ClientFactory, key_arn: str) -> list[dict[str, Any]]:
    by_key = {"AttributeKey": "ResourceName", "AttributeValue": key_arn}
    found = boto_client("cloudtrail").lookup_events(LookupAttributes=[by_key])
    events: list[dict[str, Any]] = found["Events"]
    return events


def test_events_older_than_90_days_are_no_longer_returned(
    sandbox: Sandbox, seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("guide-as-written")
    before = _key_events(boto_client, result.key_arn)

    status, answer = _age(sandbox, json.dumps({"days": 89}).encode())
    kept = _key_events(boto_client, result.key_arn)
    sandbox.age_events(2)
    gone = _key_events(boto_client, result.key_arn)

    assert (status, answer["days"]) == (200, 89)
    assert answer["aged"] >= len(before) > 0
    assert [e["EventId"] for e in kept] == [e["EventId"] for e in before]
    for old, new in zip(before, kept, strict=True):
        moved = old["EventTime"] - new["EventTime"]
        assert timedelta(days=89) - moved < timedelta(seconds=1)
        record = json.loads(new["CloudTrailEvent"])
        recorded = datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00"))
        assert abs(recorded - new["EventTime"]) < timedelta(seconds=1)
    assert gone == []
    # An explicit time range cannot reach past the 90 days either.
    start = datetime.now(UTC) - timedelta(days=365)
    assert boto_client("cloudtrail").lookup_events(StartTime=start)["Events"] == []


def test_new_events_after_aging_are_returned(
    sandbox: Sandbox, seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("guide-as-written")
    sandbox.age_events(120)

    boto_client("kms").update_key_description(KeyId=result.key_id, Description="x")

    events = _key_events(boto_client, result.key_arn)
    assert [e["EventName"] for e in events] == ["UpdateKeyDescription"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "days"),
        (b'{"days": -1}', "-1"),
        (b'{"days": "3"}', "days"),
        (b'{"days": true}', "days"),
        (b'{"days": Infinity}', "inf"),
        (b"", "days"),
    ],
)
def test_the_age_endpoint_rejects_bad_input(
    sandbox: Sandbox, seeded: Seeder, body: bytes, says: str
) -> None:
    seeded("empty")

    status, answer = _age(sandbox, body)

    assert status == 400
    assert says in answer["error"]


def test_age_events_rejects_a_negative_number(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="0 or more"):
        sandbox.age_events(-0.5)
