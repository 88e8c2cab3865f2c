"""SNS in the sandbox: e-mail and HTTP subscriptions wait to be confirmed.

In AWS, a subscription for ``email``, ``email-json``, ``http`` or ``https``
stays pending until its recipient confirms it with the token SNS sends, and
nothing is delivered to it until then (API_ConfirmSubscription.html).
``Subscribe`` answers ``pending confirmation`` for it, or its ARN when
``ReturnSubscriptionArn`` is true (API_Subscribe.html: "the response includes
the ARN in all cases, even if the subscription is not yet confirmed").
``ListSubscriptions`` and ``ListSubscriptionsByTopic`` show
``PendingConfirmation`` in its ``SubscriptionArn``, ``GetSubscriptionAttributes``
``PendingConfirmation`` "true", and ``GetTopicAttributes`` counts it in
``SubscriptionsPending``, not ``SubscriptionsConfirmed``
(API_GetTopicAttributes.html, API_GetSubscriptionAttributes.html; all under
https://docs.aws.amazon.com/sns/latest/api/). An endpoint AWS manages in the
topic's own account (an SQS queue, a Lambda function) is confirmed at once
(https://docs.aws.amazon.com/amazonq/detector-library/python/sns-set-return-subscription-arn).
A pending subscription cannot be deleted in the console and expires after 48
hours (https://docs.aws.amazon.com/sns/latest/dg/sns-delete-subscription-topic.html).

moto 5.2 confirms every subscription at once and reports both counts as 0.
The layer lets moto keep the subscription (so its ARN stays the one a
confirmation would give) and remembers which are pending: it rewrites the
answers above from moto's subscriptions and that set. Without mail, a
subscription is confirmed through :meth:`SnsLayer.confirm_subscriptions`
(``POST /_sandbox/sns/confirm``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

from wizard.aws.sandbox.moto_access import MotoAccess
from wizard.aws.sandbox.protocols import _Call, _Response

NEEDS_CONFIRMATION = frozenset({"email", "email-json", "http", "https"})
"""Protocols whose subscriptions wait for the recipient."""
_LISTED_PENDING = "PendingConfirmation"
_SUBSCRIBE_PENDING = "pending confirmation"
_FILTERS = ("topic_arn", "endpoint")


class SnsLayer(MotoAccess):
    """SNS calls: pending subscriptions shown as pending, counted, confirmed."""

    _pending: set[str]

    def _sns(self, call: _Call) -> _Response:
        if call.operation == "Subscribe":
            return self._subscribe(call)
        response = self._forward(call.environ, call)
        if response.status != 200:
            return response
        if call.operation in ("ListSubscriptions", "ListSubscriptionsByTopic"):
            return self._rewrite(response, self._mark_listed)
        if call.operation == "GetTopicAttributes":
            topic = str(call.params.get("TopicArn", ""))
            return self._rewrite(response, lambda root: self._count(root, topic))
        if call.operation == "GetSubscriptionAttributes":
            return self._rewrite(response, self._mark_attributes)
        if call.operation == "Unsubscribe":
            with self._lock:
                self._pending.discard(str(call.params.get("SubscriptionArn", "")))
        return response

    def confirm_subscriptions(
        self, topic_arn: str | None = None, endpoint: str | None = None
    ) -> int:
        """Confirm the pending subscriptions to ``topic_arn`` for ``endpoint``.

        Either left out matches every topic or endpoint.

        Returns:
            How many subscriptions were confirmed.
        """
        live = {s.arn: s for s in self._sns_subscriptions()}
        with self._lock:
            self._pending &= live.keys()  # forget the deleted ones
            matching = {
                arn
                for arn in self._pending
                if topic_arn in (None, live[arn].topic_arn)
                and endpoint in (None, live[arn].endpoint)
            }
            self._pending -= matching
        return len(matching)

    def _subscribe(self, call: _Call) -> _Response:
        protocol = str(call.params.get("Protocol", ""))
        if protocol not in NEEDS_CONFIRMATION:
            return self._forward(call.environ, call)
        # moto answers a repeated Subscribe with the existing subscription,
        # which keeps its state: only a new one starts pending.
        known = {s.arn for s in self._sns_subscriptions()}
        response = self._forward(call.environ, call)
        if response.status != 200:
            return response
        arn = _text(ElementTree.fromstring(response.body), "SubscriptionArn")
        with self._lock:
            if arn not in known:
                self._pending.add(arn)
            pending = arn in self._pending
        if not pending or _is_true(call.params.get("ReturnSubscriptionArn")):
            return response
        return self._rewrite(response, _say_pending)

    def _mark_listed(self, root: ElementTree.Element) -> bool:
        with self._lock:
            pending = set(self._pending)
        changed = False
        for element in root.iter():
            if _local(element.tag) == "SubscriptionArn" and element.text in pending:
                element.text = _LISTED_PENDING
                changed = True
        return changed

    def _mark_attributes(self, root: ElementTree.Element) -> bool:
        entries = _entries(root)
        arn = entries.get("SubscriptionArn")
        with self._lock:
            pending = arn is not None and arn.text in self._pending
        flag = entries.get("PendingConfirmation")
        if not pending or flag is None:
            return False
        flag.text = "true"
        return True

    def _count(self, root: ElementTree.Element, topic_arn: str) -> bool:
        arns = [s.arn for s in self._sns_subscriptions() if s.topic_arn == topic_arn]
        with self._lock:
            pending = sum(1 for arn in arns if arn in self._pending)
        counts = {
            "SubscriptionsConfirmed": len(arns) - pending,
            "SubscriptionsPending": pending,
        }
        entries = _entries(root)
        for key, count in counts.items():
            if key in entries:
                entries[key].text = str(count)
        return True

    @staticmethod
    def _rewrite(
        response: _Response, edit: Callable[[ElementTree.Element], bool]
    ) -> _Response:
        """moto's XML answer with ``edit`` applied; unchanged if it changed nothing."""
        # moto's own XML, produced in this process: trusted input.
        root = ElementTree.fromstring(response.body)
        if not edit(root):
            return response
        namespace = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
        text = ElementTree.tostring(
            root, encoding="unicode", default_namespace=namespace or None
        )
        return response.with_body(text.encode())


def confirm_filter(data: Any) -> tuple[str | None, str | None]:
    """``topic_arn`` and ``endpoint`` of a confirm request's JSON body.

    Raises:
        ValueError: the body is not an object of those two, each a non-empty
            string when given.
    """
    if data is None:
        return None, None
    if not isinstance(data, dict):
        raise ValueError(
            'The body must be a JSON object with "topic_arn" and/or "endpoint".'
        )
    unknown = sorted(set(data) - set(_FILTERS))
    if unknown:
        raise ValueError(
            f"Unknown field(s) {', '.join(map(repr, unknown))}: "
            'use "topic_arn" and/or "endpoint".'
        )
    for name in _FILTERS:
        value = data.get(name)
        if value is not None and (not isinstance(value, str) or not value):
            raise ValueError(f'"{name}" must be a non-empty string.')
    return data.get("topic_arn"), data.get("endpoint")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(root: ElementTree.Element, name: str) -> str:
    found = next((e for e in root.iter() if _local(e.tag) == name), None)
    return (found.text or "") if found is not None else ""


def _entries(root: ElementTree.Element) -> dict[str, ElementTree.Element]:
    """An ``Attributes`` map's ``<value>`` elements by their ``<key>``."""
    found: dict[str, ElementTree.Element] = {}
    for entry in root.iter():
        if _local(entry.tag) != "entry":
            continue
        parts = {_local(child.tag): child for child in entry}
        if "key" in parts and "value" in parts:
            found[parts["key"].text or ""] = parts["value"]
    return found


def _say_pending(root: ElementTree.Element) -> bool:
    for element in root.iter():
        if _local(element.tag) == "SubscriptionArn":
            element.text = _SUBSCRIBE_PENDING
            return True
    return False


def _is_true(value: Any) -> bool:
    return str(value).lower() == "true"
