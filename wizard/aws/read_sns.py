"""SNS reads: who hears the topics that alarms and EventBridge rules notify.

An alarm or a rule that publishes to a topic nobody receives tells no one. An
e-mail (or HTTP) subscription receives nothing until its recipient confirms it;
until then ListSubscriptionsByTopic shows ``PendingConfirmation`` where the
subscription ARN would be
(https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptionsByTopic.html,
https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from wizard.aws import read_logging
from wizard.core.arn import parse_arn
from wizard.core.snapshot import Read, SnsTopic, Unknown

if TYPE_CHECKING:
    from wizard.aws.readers import Api

PENDING = "PendingConfirmation"


def notified_topics(api: Api, region: str) -> Read[tuple[SnsTopic, ...]]:
    """The topics the region's alarms and event rules notify, with subscribers.

    Reads the alarms and rules first (memoized, so the snapshot's own reads of
    them are shared), then each named topic once, in the topic's region.
    """
    alarms = read_logging.alarms(api, region)
    if isinstance(alarms, Unknown):
        return alarms
    rules = read_logging.event_rules(api, region)
    if isinstance(rules, Unknown):
        return rules
    arns = topic_arns([*(a.actions for a in alarms), *(r.targets for r in rules)])
    return tuple(api.fan([partial(topic, api, arn) for arn in arns]))


def topic_arns(actions: Iterable[Iterable[str]]) -> list[str]:
    """The SNS topic ARNs among alarm actions or rule targets, sorted, once each."""
    return sorted(
        {
            arn
            for group in actions
            for arn in group
            if (parsed := parse_arn(arn)) and parsed.service == "sns"
        }
    )


def topic(api: Api, arn: str) -> SnsTopic:
    """One topic's subscriptions, confirmed and pending; a missing topic has none.

    A topic whose subscriptions cannot be read (another account's, a denied
    call) says why, so only what notifies it stays undecided.
    """
    parsed = parse_arn(arn)
    region = parsed.region if parsed else None
    pages = api.pages(
        "sns", "ListSubscriptionsByTopic", arn, region=region, TopicArn=arn
    )
    if isinstance(pages, Unknown):
        if pages.kind == "not_found":
            return SnsTopic(arn, confirmed=0, pending=0, exists=False)
        return SnsTopic(arn, confirmed=0, pending=0, unread=pages)
    subscriptions = [s for page in pages for s in page.get("Subscriptions", [])]
    pending = sum(1 for s in subscriptions if s.get("SubscriptionArn") == PENDING)
    return SnsTopic(arn, confirmed=len(subscriptions) - pending, pending=pending)
