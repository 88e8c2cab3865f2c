"""The reader's one thread pool: shared by its snapshots, bounded, closed on
request, and never deadlocked by fan-outs nested inside it.

Against the sandbox over HTTP, as in ``test_readers.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest

from wizard.aws.readers import AccountReader
from wizard.aws.sandbox import Sandbox, SeedResult
from wizard.aws.session import AwsTarget
from wizard.core.snapshot import KeyInfo

from .test_readers import REGION, use_sandbox_credentials

Seeder = Callable[..., SeedResult]
ClientFactory = Callable[..., Any]
# Far above what these reads take; a deadlock shows as this timeout.
DEADLINE = 60


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox's credentials through the standard chain."""
    use_sandbox_credentials(monkeypatch)


def make_reader(sandbox: Sandbox, max_workers: int) -> AccountReader:
    target = AwsTarget(
        region=REGION,
        endpoint_url=sandbox.endpoint_url,
        max_attempts=2,
        connect_timeout=2,
        read_timeout=5,
    )
    return AccountReader(target, max_workers=max_workers)


def read_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("harbor-kms-read")}


def five_keys(
    seeded: Seeder, boto_client: ClientFactory
) -> tuple[SeedResult, list[str]]:
    result = seeded("hardened")
    kms = boto_client("kms")
    others = [kms.create_key(Description=f"other {i}")["KeyMetadata"] for i in range(4)]
    return result, [result.key_arn, *(str(meta["Arn"]) for meta in others)]


@pytest.mark.parametrize("max_workers", [1, 2])
def test_parallel_snapshots_on_a_tiny_shared_pool_do_not_deadlock(
    seeded: Seeder, sandbox: Sandbox, boto_client: ClientFactory, max_workers: int
) -> None:
    result, keys = five_keys(seeded, boto_client)
    before = read_threads()

    with make_reader(sandbox, max_workers) as reader:
        with ThreadPoolExecutor(len(keys)) as fleet:
            futures = [
                fleet.submit(reader.snapshot, replace(result.values(), key_id=key))
                for key in keys
            ]
            snapshots = [future.result(timeout=DEADLINE) for future in futures]
        assert len(read_threads() - before) <= max_workers

    assert [snap.key.arn for snap in snapshots if isinstance(snap.key, KeyInfo)] == keys
    for snap in snapshots:
        assert "cloudtrail:DescribeTrails" in {call.api for call in snap.calls}


def test_snapshots_share_one_pool_until_closed(
    seeded: Seeder, sandbox: Sandbox, boto_client: ClientFactory
) -> None:
    result, keys = five_keys(seeded, boto_client)
    before = read_threads()
    reader = make_reader(sandbox, 4)

    reader.list_customer_keys(REGION)
    for key in keys:
        reader.snapshot(replace(result.values(), key_id=key))
    started = read_threads() - before
    reader.close()
    reader.close()  # idempotent

    assert 0 < len(started) <= 4
    assert not any(thread.is_alive() for thread in started)


def test_a_closed_reader_reads_again_on_a_new_pool(
    seeded: Seeder, sandbox: Sandbox
) -> None:
    result = seeded("hardened")
    with make_reader(sandbox, 2) as reader:
        first = reader.snapshot(result.values())
    second = reader.snapshot(result.values())
    reader.close()

    assert isinstance(first.key, KeyInfo) and isinstance(second.key, KeyInfo)
    assert {call.api for call in second.calls} == {call.api for call in first.calls}
