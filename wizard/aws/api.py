"""The readers' call layer: :class:`Api`, the one place boto3 is called, which:

- calls each API once per run per resource (a memo keyed by API, region or
  partition, and resource), so auditing three keys reads the trails once;
- follows every paginator, and records one :class:`ApiCall` per page;
- turns every botocore failure into an :class:`Unknown` (``errors.py``), so a
  snapshot never raises for an AWS error and a denied read names its action;
- stops calling an endpoint that refused a connection, so an unreachable AWS
  costs one timeout, not one per field.

Independent reads run on a bounded thread pool. A fan-out made from inside a
worker submits its parts too, and while waiting runs any part no worker has
started yet itself, so nested fan-outs can never deadlock the bounded pool.

:class:`~wizard.aws.readers.AccountReader` sets up the pool and the trace of
a run; the service-specific readers make their calls through an :class:`Api`.
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from botocore import xform_name
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from wizard.aws.errors import NOT_SET_CODES, error_code, to_unknown
from wizard.aws.session import Clients
from wizard.core.regions import partition_of
from wizard.core.snapshot import ApiCall, Unknown

logger = logging.getLogger(__name__)

T = TypeVar("T")
Response = dict[str, Any]

# IAM and STS answer the same from every region of a partition: memoize them
# per partition so a fleet audit over regions reads each role once.
_PARTITION_WIDE = frozenset({"iam", "sts"})


class _Trace:
    """The calls that fed one snapshot, cached ones included; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[int, ApiCall] = {}

    def add(self, calls: Sequence[ApiCall]) -> None:
        with self._lock:
            for call in calls:
                self._calls.setdefault(id(call), call)

    def calls(self) -> tuple[ApiCall, ...]:
        with self._lock:
            return tuple(sorted(self._calls.values(), key=lambda c: c.at))


_POOL: ContextVar[ThreadPoolExecutor | None] = ContextVar(
    "harbor_kms_pool", default=None
)
_TRACE: ContextVar[_Trace | None] = ContextVar("harbor_kms_trace", default=None)


@dataclass(frozen=True)
class _Entry:
    """A memoized read: the value (or Unknown) and the calls that produced it."""

    value: Any
    calls: tuple[ApiCall, ...]


class Api:
    """Calls boto3 for the readers: memoized, recorded, never raising for AWS."""

    def __init__(self, clients: Clients) -> None:
        """Start with no calls made.

        Args:
            clients: the client factory of this run.
        """
        self._clients = clients
        self._lock = threading.Lock()
        self._memo: dict[tuple[str, str, str], Future[_Entry]] = {}
        self._calls: list[ApiCall] = []
        self._denied: set[str] = set()
        self._down: dict[str, Unknown] = {}

    @property
    def calls(self) -> tuple[ApiCall, ...]:
        """Every call made so far in this run, in order."""
        with self._lock:
            return tuple(self._calls)

    @property
    def denied(self) -> list[str]:
        """IAM actions that came back access denied, sorted."""
        with self._lock:
            return sorted(self._denied)

    def call(
        self,
        service: str,
        operation: str,
        resource: str,
        *,
        region: str | None,
        memo: bool = True,
        **params: Any,
    ) -> Response | Unknown:
        """One API call, e.g. ``call("kms", "GetKeyPolicy", arn, KeyId=arn)``.

        Args:
            service: boto3's service name, which is also the IAM prefix here.
            operation: the API name, e.g. 'GetKeyPolicy'.
            resource: what the call reads (an ARN, a name, or the region for
                listings); with the API and region it is the memo key.
            region: the region of the client; None for the default.
            memo: False for calls with side effects (the probe).
            **params: the API's parameters.

        Returns:
            The response, or why there is none.
        """
        key = (service, operation, resource, region)
        value = self._once(key, memo, lambda: self._fetch(key, params, paged=False))
        return cast(Response | Unknown, value)

    def call_optional(
        self,
        service: str,
        operation: str,
        resource: str,
        *,
        region: str | None,
        **params: Any,
    ) -> Response | None | Unknown:
        """Like :meth:`call`, but None when S3 says the setting is not set."""
        key = (service, operation, resource, region)
        fetch = lambda: self._fetch(key, params, paged=False, absent=True)  # noqa: E731
        return cast(Response | None | Unknown, self._once(key, True, fetch))

    def pages(
        self,
        service: str,
        operation: str,
        resource: str,
        *,
        region: str | None,
        **params: Any,
    ) -> list[Response] | Unknown:
        """Every page of a paginated API (one page for APIs without a paginator)."""
        key = (service, operation, resource, region)
        value = self._once(key, True, lambda: self._fetch(key, params, paged=True))
        return cast(list[Response] | Unknown, value)

    def fan(self, thunks: Sequence[Callable[[], T]]) -> list[T]:
        """Run independent reads concurrently on the run's pool; results in order.

        Parts no worker has picked up yet are cancelled and run by the caller,
        so a worker waiting here never waits on a part stuck in the queue.
        """
        pool = _POOL.get()
        if pool is None or len(thunks) < 2:
            return [thunk() for thunk in thunks]
        futures = [pool.submit(contextvars.copy_context().run, t) for t in thunks]
        return [
            thunk() if future.cancel() else future.result()
            for future, thunk in zip(futures, thunks, strict=True)
        ]

    def fan_named(self, thunks: Mapping[str, Callable[[], Any]]) -> dict[str, Any]:
        """:meth:`fan` over named reads, returning a dict by the same names."""
        return dict(zip(thunks, self.fan(list(thunks.values())), strict=True))

    def _once(
        self,
        key: tuple[str, str, str, str | None],
        memo: bool,
        fetch: Callable[[], _Entry],
    ) -> Any:
        service, operation, resource, region = key
        scope = partition_of(region or "") if service in _PARTITION_WIDE else region
        memo_key = (f"{service}:{operation}", scope or "", resource)
        if not memo:
            entry = fetch()
        else:
            with self._lock:
                future = self._memo.get(memo_key)
                owner = future is None
                if future is None:
                    future = self._memo[memo_key] = Future()
            if owner:
                try:
                    entry = fetch()
                except BaseException as error:  # a bug, not AWS: let waiters see it
                    future.set_exception(error)
                    raise
                future.set_result(entry)
            else:
                entry = future.result()
        trace = _TRACE.get()
        if trace is not None:
            trace.add(entry.calls)
        return entry.value

    def _fetch(
        self,
        key: tuple[str, str, str, str | None],
        params: Mapping[str, Any],
        *,
        paged: bool,
        absent: bool = False,
    ) -> _Entry:
        service, operation, resource, region = key
        api = f"{service}:{operation}"
        calls: list[ApiCall] = []
        endpoint = ""
        try:
            client = self._clients.get(service, region)
            endpoint = str(client.meta.endpoint_url)
            with self._lock:
                down = self._down.get(endpoint)
            if down is not None:
                skipped = self._record(api, resource, "skipped")
                return _Entry(_skipped(down, api, resource), (skipped,))

            def done() -> None:
                calls.append(self._record(api, resource, "ok"))

            value = _request(client, xform_name(operation), params, paged, done)
        except (ClientError, BotoCoreError) as error:
            code = error_code(error)
            calls.append(self._record(api, resource, code))
            if absent and code in NOT_SET_CODES:
                return _Entry(None, tuple(calls))
            return _Entry(self._failed(error, api, resource, endpoint), tuple(calls))
        return _Entry(value, tuple(calls))

    def _record(self, api: str, resource: str, outcome: str) -> ApiCall:
        call = ApiCall(api, resource, datetime.now(UTC), outcome)
        with self._lock:
            self._calls.append(call)
        logger.debug("%s %s: %s", api, resource, outcome)
        return call

    def _failed(
        self, error: BaseException, api: str, resource: str, endpoint: str
    ) -> Unknown:
        unknown = to_unknown(error, api, resource)
        logger.info("%s", unknown.reason)
        with self._lock:
            if unknown.kind == "access_denied" and unknown.permission:
                self._denied.add(unknown.permission)
            # A refused or timed-out connection will not get better within a
            # run; a read timeout may be one slow call, so it does not count.
            if endpoint and isinstance(
                error, EndpointConnectionError | ConnectTimeoutError
            ):
                self._down.setdefault(endpoint, unknown)
        return unknown


def _skipped(down: Unknown, api: str, resource: str) -> Unknown:
    where = f" for {resource}" if resource else ""
    return Unknown(
        "endpoint",
        f"{api}{where} was not tried: {down.reason.split(', so ')[0]} "
        "earlier in this run.",
        api=api,
    )


def _request(
    client: Any,
    method: str,
    params: Mapping[str, Any],
    paged: bool,
    done: Callable[[], None],
) -> Any:
    """Make the HTTP request(s) of one read, calling ``done`` after each."""
    if paged and client.can_paginate(method):
        pages = []
        for page in client.get_paginator(method).paginate(**params):
            done()
            pages.append(page)
        return pages
    response = _read_body(getattr(client, method)(**params))
    done()
    return [response] if paged else response


def _read_body(response: Any) -> Any:
    """Read a streaming body (GetObject) inside the call, where errors are mapped."""
    body = response.get("Body") if isinstance(response, dict) else None
    if body is not None and hasattr(body, "read"):
        return {**response, "Body": body.read()}
    return response


def policy_document(
    found: Mapping[str, Any], what: str, api: str
) -> Mapping[str, Any] | Unknown:
    """The JSON policy in a response's ``Policy`` field, or why it is unusable.

    Args:
        found: the response (GetKeyPolicy, GetBucketPolicy).
        what: the policy named for the user, e.g. "The key policy of KEY".
        api: the call, for the Unknown's evidence.
    """
    try:
        policy = json.loads(str(found.get("Policy", "")))
    except ValueError:
        policy = None
    if not isinstance(policy, dict):
        return Unknown("error", f"{what} is not a JSON object.", api=api)
    return policy
