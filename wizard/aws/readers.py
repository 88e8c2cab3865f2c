"""Read one account's view of a Harbor KMS key into an :class:`AccountSnapshot`.

:class:`AccountReader` is the adapter's front door. Everything it reads goes
through :class:`Api`, the one place boto3 is called, which:

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

The service-specific readers are in ``read_kms``, ``read_s3``, ``read_iam`` and
``read_logging``; each takes an :class:`Api` and returns snapshot types.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
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

from wizard.aws import read_iam, read_kms, read_logging, read_s3
from wizard.aws.errors import (
    NOT_SET_CODES,
    AwsError,
    error_code,
    to_unknown,
)
from wizard.aws.session import AwsTarget, Clients
from wizard.core.regions import partition_of
from wizard.core.snapshot import (
    AccountSnapshot,
    ApiCall,
    CallerIdentity,
    KeyInfo,
    Unknown,
)
from wizard.core.values import Values

__all__ = ["AccountReader", "Api", "missing_permissions"]

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


class AccountReader:
    """Reads an account once per run, and snapshots keys from what it read.

    Example::

        reader = AccountReader(AwsTarget(region="eu-west-1"))
        snapshot = reader.snapshot(values)
        missing = missing_permissions(reader)
    """

    def __init__(self, target: AwsTarget, max_workers: int = 8) -> None:
        """Prepare a run; no client is built and nothing is called yet.

        Args:
            target: region, profile, endpoint, retries and timeouts.
            max_workers: how many reads may run at once.
        """
        self.target = target
        self.max_workers = max(1, max_workers)
        self._clients = Clients(target, max_pool_connections=self.max_workers)
        self.api = Api(self._clients)

    @property
    def calls(self) -> tuple[ApiCall, ...]:
        """Every API call this reader made, in order."""
        return self.api.calls

    def default_region(self) -> str | None:
        """The target's region, or the profile's; None when neither is set."""
        try:
            return self._clients.region
        except BotoCoreError as error:  # e.g. the profile does not exist
            logger.info("no default region: %s", error)
            return None

    def caller_identity(self) -> CallerIdentity | Unknown:
        """Who the credentials belong to (sts:GetCallerIdentity, read once)."""
        return read_iam.caller(self.api, self.default_region())

    def connect(self) -> CallerIdentity:
        """The caller identity, or :class:`AwsError` when AWS cannot be used at all.

        Raises:
            AwsError: no credentials, or the endpoint did not answer.
        """
        caller = self.caller_identity()
        if isinstance(caller, CallerIdentity):
            return caller
        titles = {"endpoint": "AWS endpoint", "access_denied": "AWS permissions"}
        raise AwsError(caller.reason, titles.get(caller.kind, "AWS"))

    def list_customer_keys(self, region: str) -> list[str] | Unknown:
        """ARNs of the customer managed keys in ``region`` not pending deletion.

        Keys whose DescribeKey failed are included, so a fleet audit shows them
        as unknown instead of silently skipping them.
        """
        with self._running():
            return read_kms.customer_keys(self.api, region)

    def snapshot(
        self,
        values: Values,
        *,
        probe: bool = False,
        harbor_values_key: str | None = None,
    ) -> AccountSnapshot:
        """Everything the audit needs about ``values``' key, bucket and role.

        Never raises for an AWS error: each failed read is an Unknown in its
        field. Account-level reads (trails, alarms, rules...) are shared by all
        snapshots of this reader.

        Args:
            values: the environment values (key, bucket, Harbor role, region).
            probe: also write, read back and delete a probe object with SSE-KMS.
            harbor_values_key: the ``keyid`` of Harbor's values.yaml; it is
                resolved to the key ARN it names (aliases included).

        Returns:
            The snapshot, with the calls that fed it.
        """
        read_at = datetime.now(UTC)
        region = values.region or self.default_region() or ""
        with self._running() as trace:
            fields = self.api.fan_named(_field_reads(self.api, values, region))
            harbor_key = None
            if harbor_values_key is not None:
                harbor_key = _harbor_key(self.api, values, region, harbor_values_key)
            probed = _probe(self.api, values, region) if probe else None
        return AccountSnapshot(
            read_at=read_at,
            region=region,
            probe=probed,
            harbor_values_key=harbor_key,
            calls=trace.calls(),
            **fields,
        )

    @contextmanager
    def _running(self) -> Iterator[_Trace]:
        """A pool (unless one is running already) and a fresh trace."""
        trace = _Trace()
        trace_token = _TRACE.set(trace)
        if _POOL.get() is not None:
            try:
                yield trace
            finally:
                _TRACE.reset(trace_token)
            return
        with ThreadPoolExecutor(self.max_workers, "harbor-kms-read") as pool:
            pool_token = _POOL.set(pool)
            try:
                yield trace
            finally:
                _POOL.reset(pool_token)
                _TRACE.reset(trace_token)


def missing_permissions(reader: AccountReader) -> list[str]:
    """The IAM actions that were denied in this reader's run, sorted.

    Args:
        reader: a reader that has made its reads.

    Returns:
        Actions such as 'kms:GetKeyRotationStatus', for the prerequisites step.
    """
    return reader.api.denied


def _key_ref(values: Values) -> str:
    """The key as the calls name it: the ARN when it can be built, else the id."""
    if values.key_id.startswith("arn:") or (values.key_id and values.account_id):
        return values.key_arn
    return values.key_id


def _not_set(what: str, field: str) -> Unknown:
    return Unknown(
        "not_configured",
        f"No {what} is set in the values ({field}), so it was not read.",
    )


def _field_reads(api: Api, values: Values, region: str) -> dict[str, Callable[[], Any]]:
    """The snapshot's fields, each as a read that cannot raise for AWS errors."""
    key = _key_ref(values)
    bucket, role = values.bucket, values.harbor_role_arn

    def account() -> str | None:
        caller = read_iam.caller(api, region)
        return caller.account if isinstance(caller, CallerIdentity) else None

    def for_key(read: Callable[[Api, str, str], T]) -> Callable[[], T | Unknown]:
        return lambda: read(api, region, key) if key else _not_set("KMS key", "key_id")

    def key_events() -> Any:
        if not key:
            return _not_set("KMS key", "key_id")
        return read_logging.key_events(api, region, _key_arn(api, region, key))

    def policy_users() -> Any:
        if not key:
            return _not_set("KMS key", "key_id")
        policy = read_kms.key_policy(api, region, key)
        return read_iam.policy_users(api, region, policy, account())

    return {
        "caller": lambda: read_iam.caller(api, region),
        "key": for_key(read_kms.describe_key),
        "key_policy": for_key(read_kms.key_policy),
        "rotation": for_key(read_kms.rotation),
        "tags": for_key(read_kms.tags),
        "aliases": for_key(read_kms.aliases),
        "grants": for_key(read_kms.grants),
        "bucket": lambda: (
            read_s3.bucket(api, region, bucket)
            if bucket
            else _not_set("bucket", "bucket")
        ),
        "trails": lambda: read_logging.trails(api, region),
        "metric_filters": lambda: read_logging.metric_filters(api, region, account()),
        "alarms": lambda: read_logging.alarms(api, region),
        "event_rules": lambda: read_logging.event_rules(api, region),
        "config_rules": lambda: read_logging.config_rules(api, region),
        "dashboards": lambda: read_logging.dashboards(api, region),
        "harbor_role": lambda: (
            read_iam.role(api, region, role, account())
            if role
            else _not_set("Harbor role", "harbor_role_arn")
        ),
        "oidc_providers": lambda: read_iam.oidc_providers(api, region),
        "policy_users": policy_users,
        "key_events": key_events,
    }


def _key_arn(api: Api, region: str, key: str) -> str:
    """The key's ARN: as given, or from DescribeKey when only the id is known."""
    if key.startswith("arn:"):
        return key
    info = read_kms.describe_key(api, region, key)
    return info.arn if isinstance(info, KeyInfo) else key


def _harbor_key(
    api: Api, values: Values, region: str, keyid: str
) -> str | None | Unknown:
    """The key ARN Harbor's ``keyid`` names; None when Harbor sets no key."""
    keyid = keyid.strip()
    if not keyid:
        return None
    key = _key_ref(values)
    if key and keyid in (values.key_id, values.bare_key_id, key):
        return _key_arn(api, region, key)
    return read_kms.resolve_key(api, region, keyid)


def _probe(api: Api, values: Values, region: str) -> Any:
    if not values.bucket or not values.key_id:
        return _not_set("bucket or KMS key", "bucket, key_id")
    key_arn = _key_arn(api, region, _key_ref(values))
    return read_s3.probe(api, region, values.bucket, key_arn)
