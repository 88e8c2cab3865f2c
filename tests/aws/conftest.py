"""Fixtures for tests that talk to the local AWS sandbox over HTTP.

One sandbox serves the whole session (per xdist worker); each test that needs
AWS state resets it and seeds a scenario, so tests never see each other's keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from wizard.aws.sandbox import Sandbox, SeedResult, seed

Seeder = Callable[..., SeedResult]
ClientFactory = Callable[..., Any]


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """A running sandbox on a free port, stopped at the end of the session."""
    with Sandbox() as running:
        yield running


@pytest.fixture
def seeded(sandbox: Sandbox) -> Iterator[Seeder]:
    """``seeded(scenario, region="us-east-1")``: reset the sandbox, then seed it."""

    def make(scenario: str, region: str = "us-east-1") -> SeedResult:
        sandbox.reset()
        return seed(sandbox.endpoint_url, scenario, region)

    yield make
    sandbox.clear_faults()


@pytest.fixture
def boto_client(sandbox: Sandbox) -> ClientFactory:
    """``boto_client(service, region=..., **config)``: a client on the sandbox.

    Extra keyword arguments become a botocore ``Config`` (``read_timeout``,
    ``retries``...); by default calls are not retried, so an injected fault is
    seen exactly once per call.
    """

    def make(service: str, region: str = "us-east-1", **config: Any) -> Any:
        config.setdefault("retries", {"mode": "standard", "total_max_attempts": 1})
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=sandbox.endpoint_url,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(**config),
        )

    return make
