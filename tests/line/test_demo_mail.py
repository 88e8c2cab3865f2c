"""Line mode's demo offers to play the recipient of SNS's confirmation e-mail.

The sandbox sends no mail, so an e-mail subscription that apply creates stays
pending, and the alarm items fail until someone confirms it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from wizard.line.console import Console, PlainPrompter
from wizard.line.session import Session
from wizard.line.views_act import offer_demo_mail

ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
ENV_MORE = ("AWS_REGION", "AWS_SESSION_TOKEN", "AWS_PROFILE")


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """A demo session; the environment it sets is put back afterwards."""
    for name in (*ENV, *ENV_MORE):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    session = Session.open(tmp_path / "harbor-kms-demo.toml", demo=True)
    try:
        yield session
    finally:
        session.close()


def _pending_topic(session: Session) -> tuple[Any, str]:
    sns = boto3.client("sns", endpoint_url=session.endpoint_url)
    topic = str(sns.create_topic(Name="harbor-kms-alerts")["TopicArn"])
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    return sns, topic


def _arns(sns: Any, topic: str) -> list[str]:
    found = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    return [str(s["SubscriptionArn"]) for s in found]


def _offer(session: Session, answers: str) -> str:
    out = io.StringIO()
    console = Console(out, colour=False)
    offer_demo_mail(session, PlainPrompter(io.StringIO(answers), console), console)
    return out.getvalue()


def test_yes_confirms_the_pending_subscription(demo: Session) -> None:
    sns, topic = _pending_topic(demo)
    assert _arns(sns, topic) == ["PendingConfirmation"]

    said = _offer(demo, "y\n")

    assert "the sandbox sends no mail" in said
    assert "Confirmed 1 SNS subscription(s)." in said
    assert _arns(sns, topic)[0].startswith("arn:aws:sns:")


def test_no_leaves_it_pending_and_says_what_that_means(demo: Session) -> None:
    sns, topic = _pending_topic(demo)

    said = _offer(demo, "n\n")

    assert "the alarm items fail until it is confirmed" in said
    assert _arns(sns, topic) == ["PendingConfirmation"]


def test_outside_the_demo_nothing_is_asked(tmp_path: Path) -> None:
    session = Session.open(tmp_path / "harbor-kms.toml", demo=False)
    assert not session.demo and session.confirm_demo_mail() is None
    # No answer is available: asking would end the input (EOFError).
    assert _offer(session, "") == ""
