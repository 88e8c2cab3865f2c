"""Read one account's view of a Harbor KMS key into an :class:`AccountSnapshot`.

:class:`AccountReader` is the adapter's front door. Everything it reads goes
through :class:`~wizard.aws.api.Api`, the one place boto3 is called (memoized,
recorded, never raising for AWS; see :mod:`wizard.aws.api`), on one bounded
thread pool per reader, started on its first read and shared by all of its
snapshots (a fleet audit would otherwise start a pool, and its threads, per
key). :meth:`AccountReader.close` stops it; the reader is a context manager.

The service-specific readers are in ``read_kms``, ``read_s3``, ``read_iam`` and
``read_logging``; each takes an :class:`Api` and returns snapshot types.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar

from botocore.exceptions import BotoCoreError

from wizard.aws import read_iam, read_kms, read_logging, read_s3, read_sns
from wizard.aws.api import _POOL, _TRACE, Api, _Trace
from wizard.aws.errors import AwsError
from wizard.aws.session import AwsTarget, Clients
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


class AccountReader:
    """Reads an account once per run, and snapshots keys from what it read.

    Example::

        with AccountReader(AwsTarget(region="eu-west-1")) as reader:
            snapshot = reader.snapshot(values)
            missing = missing_permissions(reader)

    Its reads run on one pool of ``max_workers`` threads, started on the first
    read and kept until :meth:`close`; a reader that is never closed releases
    its idle threads when it is garbage collected or the interpreter exits.
    """

    def __init__(
        self, target: AwsTarget, max_workers: int = 8, *, callers: int = 0
    ) -> None:
        """Prepare a run; no client is built and nothing is called yet.

        Args:
            target: region, profile, endpoint, retries and timeouts.
            max_workers: how many reads the pool runs at once.
            callers: threads of the caller's own that read at the same time
                (a fleet audit's snapshots): a fan-out runs parts no worker
                has started in the calling thread, so connections are sized
                for the pool and these threads together.
        """
        self.target = target
        self.max_workers = max(1, max_workers)
        self.max_concurrency = self.max_workers + max(0, callers)
        """The most requests this reader can have in flight at once."""
        self._clients = Clients(target, max_pool_connections=self.max_concurrency)
        self.api = Api(self._clients)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the read pool once its reads are done; idempotent.

        Call it when no read of this reader is running. A read made after it
        starts a new pool, so a closed reader still works (its memo and calls
        are kept).
        """
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

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

    def list_keys(self, region: str) -> list[str] | Unknown:
        """ARNs of every key in ``region`` (ListKeys only), for :meth:`in_fleet`."""
        with self._running():
            return read_kms.key_arns(self.api, region)

    def in_fleet(self, region: str, arn: str) -> bool:
        """Whether a fleet audit covers the key (see :func:`read_kms.in_fleet`).

        DescribeKey is memoized, so the snapshot that follows reuses it.
        """
        with self._running():
            return read_kms.in_fleet(self.api, region, arn)

    def snapshot(
        self,
        values: Values,
        *,
        probe: bool = False,
        harbor_values_key: str | None = None,
        harbor_values_encrypt: bool | None = None,
        fleet: bool = False,
    ) -> AccountSnapshot:
        """Everything the audit needs about ``values``' key, bucket and role.

        Never raises for an AWS error: each failed read is an Unknown in its
        field. Account-level reads (trails, alarms, rules...) are shared by all
        snapshots of this reader.

        Args:
            values: the environment values (key, bucket, Harbor role, region).
            probe: also write, read back and delete a probe object with SSE-KMS.
            harbor_values_key: the ``keyid`` of Harbor's values.yaml ("" for
                none); it is resolved to the key ARN it names (aliases
                included).
            harbor_values_encrypt: the values.yaml's ``encrypt``, kept as read.
            fleet: this is one of many snapshots of the region's keys: reads
                that can answer for every key at once (the aliases) are made
                once for the region and shared.

        Returns:
            The snapshot, with the calls that fed it.
        """
        read_at = datetime.now(UTC)
        region = values.region or self.default_region() or ""
        with self._running() as trace:
            reads = _field_reads(self.api, values, region, fleet=fleet)
            fields = self.api.fan_named(reads)
            harbor_key = None
            if harbor_values_key is not None:
                harbor_key = _harbor_key(self.api, values, region, harbor_values_key)
            probed = _probe(self.api, values, region) if probe else None
        return AccountSnapshot(
            read_at=read_at,
            region=region,
            probe=probed,
            harbor_values_key=harbor_key,
            harbor_values_encrypt=harbor_values_encrypt,
            calls=trace.calls(),
            **fields,
        )

    @contextmanager
    def _running(self) -> Iterator[_Trace]:
        """A fresh trace, on the reader's pool unless a pool is running already.

        Sharing one bounded pool between snapshots cannot deadlock: a fan-out
        runs any part no worker has started yet itself (:meth:`Api.fan`), so a
        waiting thread only ever waits on parts that are running.
        """
        trace = _Trace()
        trace_token = _TRACE.set(trace)
        pool_token = None
        if _POOL.get() is None:
            pool_token = _POOL.set(self._executor())
        try:
            yield trace
        finally:
            if pool_token is not None:
                _POOL.reset(pool_token)
            _TRACE.reset(trace_token)

    def _executor(self) -> ThreadPoolExecutor:
        """The reader's pool, started on first use."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.max_workers, "harbor-kms-read")
            return self._pool


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


def _field_reads(
    api: Api, values: Values, region: str, *, fleet: bool = False
) -> dict[str, Callable[[], Any]]:
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
        "aliases": for_key(read_kms.region_aliases if fleet else read_kms.aliases),
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
        "sns_topics": lambda: read_sns.notified_topics(api, region),
    }


def _key_arn(api: Api, region: str, key: str) -> str:
    """The key's ARN: as given, or from DescribeKey when only the id is known."""
    if key.startswith("arn:"):
        return key
    info = read_kms.describe_key(api, region, key)
    return info.arn if isinstance(info, KeyInfo) else key


def _harbor_key(api: Api, values: Values, region: str, keyid: str) -> str | Unknown:
    """The key ARN Harbor's ``keyid`` names; "" when Harbor names no key."""
    keyid = keyid.strip()
    if not keyid:
        return ""
    key = _key_ref(values)
    if key and keyid in (values.key_id, values.bare_key_id, key):
        return _key_arn(api, region, key)
    return read_kms.resolve_key(api, region, keyid)


def _probe(api: Api, values: Values, region: str) -> Any:
    if not values.bucket or not values.key_id:
        return _not_set("bucket or KMS key", "bucket, key_id")
    key_arn = _key_arn(api, region, _key_ref(values))
    return read_s3.probe(api, region, values.bucket, key_arn)
