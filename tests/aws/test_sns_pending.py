"""SNS subscriptions that wait for their recipient, over HTTP as AWS shows them.

E-mail and HTTP subscriptions stay pending until confirmed (here through
``POST /_sandbox/sns/confirm``); SQS and Lambda ones of the same account are
confirmed at once.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.aws.conftest import ClientFactory, Seeder
from wizard.aws.sandbox import Sandbox

EMAIL = "ops@example.com"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:alerts"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:page-oncall"


def _confirm(sandbox: Sandbox, body: bytes) -> tuple[int, dict[str, Any]]:
    """Status and JSON answer of ``POST /_sandbox/sns/confirm`` with ``body``."""
    request = urllib.request.Request(
        sandbox.endpoint_url + "/_sandbox/sns/confirm", data=body, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture
def sns(sandbox: Sandbox, boto_client: ClientFactory) -> Any:
    sandbox.reset()
    return boto_client("sns")


def _topic(sns: Any, name: str = "alerts") -> str:
    return str(sns.create_topic(Name=name)["TopicArn"])


def _listed(sns: Any, topic_arn: str) -> dict[str, str]:
    """Endpoint -> SubscriptionArn as ListSubscriptionsByTopic shows them."""
    subs = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    return {s["Endpoint"]: s["SubscriptionArn"] for s in subs}


def _counts(sns: Any, topic_arn: str) -> tuple[str, str]:
    """(SubscriptionsConfirmed, SubscriptionsPending) of the topic."""
    attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    return attributes["SubscriptionsConfirmed"], attributes["SubscriptionsPending"]


@pytest.mark.parametrize(
    ("protocol", "endpoint"),
    [
        ("email", EMAIL),
        ("email-json", EMAIL),
        ("http", "http://hooks.example.com/sns"),
        ("https", "https://hooks.example.com/sns"),
    ],
)
def test_a_subscription_that_needs_its_recipient_is_pending_everywhere(
    sns: Any, protocol: str, endpoint: str
) -> None:
    topic = _topic(sns)

    answer = sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=endpoint)

    assert answer["SubscriptionArn"] == "pending confirmation"
    assert _listed(sns, topic) == {endpoint: "PendingConfirmation"}
    everywhere = sns.list_subscriptions()["Subscriptions"]
    assert [s["SubscriptionArn"] for s in everywhere] == ["PendingConfirmation"]
    assert _counts(sns, topic) == ("0", "1")


def test_sqs_and_lambda_subscriptions_are_confirmed_at_once(sns: Any) -> None:
    topic = _topic(sns)

    arns = [
        sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=endpoint)[
            "SubscriptionArn"
        ]
        for protocol, endpoint in (("sqs", QUEUE), ("lambda", FUNCTION))
    ]

    assert all(arn.startswith(f"{topic}:") for arn in arns)
    assert _listed(sns, topic) == {QUEUE: arns[0], FUNCTION: arns[1]}
    assert _counts(sns, topic) == ("2", "0")


def test_return_subscription_arn_gives_the_pending_arn_that_confirmation_keeps(
    sandbox: Sandbox, sns: Any
) -> None:
    topic = _topic(sns)

    arn = sns.subscribe(
        TopicArn=topic, Protocol="email", Endpoint=EMAIL, ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    before = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    confirmed = sandbox.confirm_subscriptions(topic, EMAIL)
    after = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]

    assert arn.startswith(f"{topic}:")
    assert before["PendingConfirmation"] == "true"
    assert confirmed == 1
    assert after["PendingConfirmation"] == "false"
    assert _listed(sns, topic) == {EMAIL: arn}


def test_confirming_over_http_shows_the_arn_and_moves_the_counts(
    sandbox: Sandbox, sns: Any
) -> None:
    topic, other = _topic(sns), _topic(sns, "other")
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="dev@example.com")
    sns.subscribe(TopicArn=other, Protocol="email", Endpoint=EMAIL)

    by_both = _confirm(
        sandbox, json.dumps({"topic_arn": topic, "endpoint": EMAIL}).encode()
    )
    again = _confirm(
        sandbox, json.dumps({"topic_arn": topic, "endpoint": EMAIL}).encode()
    )

    assert by_both == (200, {"confirmed": 1})
    assert again == (200, {"confirmed": 0})
    listed = _listed(sns, topic)
    assert listed[EMAIL].startswith(f"{topic}:")
    assert listed["dev@example.com"] == "PendingConfirmation"
    assert _counts(sns, topic) == ("1", "1")
    assert _counts(sns, other) == ("0", "1")

    assert _confirm(sandbox, b"") == (200, {"confirmed": 2})
    assert _counts(sns, topic) == ("2", "0")
    assert _counts(sns, other) == ("1", "0")


def test_subscribing_a_confirmed_endpoint_again_answers_its_arn(
    sandbox: Sandbox, sns: Any
) -> None:
    topic = _topic(sns)
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
    sandbox.confirm_subscriptions(endpoint=EMAIL)

    answer = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)

    assert answer["SubscriptionArn"] == _listed(sns, topic)[EMAIL]
    assert answer["SubscriptionArn"].startswith(f"{topic}:")
    assert _counts(sns, topic) == ("1", "0")


def test_unsubscribe_by_the_pending_arn_and_delete_topic_drop_pending_ones(
    sandbox: Sandbox, sns: Any
) -> None:
    topic, gone = _topic(sns), _topic(sns, "gone")
    arn = sns.subscribe(
        TopicArn=topic, Protocol="email", Endpoint=EMAIL, ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    sns.subscribe(TopicArn=gone, Protocol="email", Endpoint=EMAIL)

    sns.unsubscribe(SubscriptionArn=arn)
    sns.delete_topic(TopicArn=gone)

    assert _listed(sns, topic) == {}
    assert _counts(sns, topic) == ("0", "0")
    assert sandbox.confirm_subscriptions() == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[1]", 'The body must be a JSON object with "topic_arn" and/or "endpoint".'),
        (b'{"topic": "x"}', "Unknown field(s) 'topic': use \"topic_arn\""),
        (b'{"endpoint": ""}', '"endpoint" must be a non-empty string.'),
        (b'{"topic_arn": 5}', '"topic_arn" must be a non-empty string.'),
        (b"{", "The body is not JSON"),
    ],
)
def test_the_confirm_endpoint_refuses_bad_input_with_a_clear_message(
    sandbox: Sandbox, body: bytes, message: str
) -> None:
    status, answer = _confirm(sandbox, body)

    assert status == 400
    assert message in answer["error"]


def test_reset_forgets_pending_subscriptions(sandbox: Sandbox, sns: Any) -> None:
    topic = _topic(sns)
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)

    sandbox.reset()
    topic = _topic(sns)

    assert _counts(sns, topic) == ("0", "0")
    assert _confirm(sandbox, b"") == (200, {"confirmed": 0})
    answer = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
    assert answer["SubscriptionArn"] == "pending confirmation"


def test_the_hardened_scenarios_alarm_topic_has_a_confirmed_email(
    seeded: Seeder, boto_client: ClientFactory
) -> None:
    result = seeded("hardened")
    assert result.topic_arn is not None
    sns = boto_client("sns")

    subs = sns.list_subscriptions_by_topic(TopicArn=result.topic_arn)
    listed = subs["Subscriptions"]

    assert [s["Protocol"] for s in listed] == ["email"]
    assert listed[0]["SubscriptionArn"].startswith(f"{result.topic_arn}:")
    assert _counts(sns, result.topic_arn) == ("1", "0")
