"""Where the AWS calls go and how patiently: the target and the client factory.

An :class:`AwsTarget` is plain data (region, profile, endpoint, retry and timeout
settings) that the CLI and the TUI build from their arguments. :class:`Clients`
turns it into one boto3 session and one client per service and region, built on
first use, never at import time, so importing ``wizard.aws`` costs nothing and
tests point everything at the sandbox with ``endpoint_url`` alone.

Credentials come from boto3's standard chain (environment, ``--profile``/
``AWS_PROFILE``, SSO, instance or pod roles); the tool never reads or stores
them itself.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

import boto3
from botocore.config import Config

logger = logging.getLogger(__name__)

RetryMode = Literal["standard", "adaptive"]
USER_AGENT_EXTRA = "harbor-kms-wizard"


@dataclass(frozen=True)
class AwsTarget:
    """Which AWS account view to use, and how long to wait for it.

    ``endpoint_url`` None leaves boto3 free to use ``AWS_ENDPOINT_URL`` and the
    per-service ``AWS_ENDPOINT_URL_<SERVICE>`` variables, which it reads itself.
    """

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    retry_mode: RetryMode = "standard"
    max_attempts: int = 5
    """Attempts in total, the first call included (botocore's ``max_attempts``)."""
    connect_timeout: float = 5
    read_timeout: float = 20

    @classmethod
    def from_env_and_args(
        cls,
        *,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        retry_mode: str | None = None,
        max_attempts: int | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> AwsTarget:
        """A target from command-line arguments, falling back to the environment.

        Arguments win over the environment. ``AWS_REGION`` is read here because
        botocore only reads ``AWS_DEFAULT_REGION``; ``AWS_RETRY_MODE`` and
        ``AWS_MAX_ATTEMPTS`` are read here because an explicit botocore
        ``Config`` would otherwise override them. ``AWS_ENDPOINT_URL`` and
        ``AWS_PROFILE`` are deliberately not copied: boto3 honours them (and the
        per-service endpoint variables) as long as nothing overrides them.

        Args:
            region: ``--region``.
            profile: ``--profile``.
            endpoint_url: ``--endpoint-url``, for the sandbox or a proxy.
            retry_mode: ``standard`` or ``adaptive``.
            max_attempts: total attempts per call, at least 1.
            connect_timeout: seconds to wait for a connection.
            read_timeout: seconds to wait for an answer.
            environ: the environment; ``os.environ`` by default.

        Returns:
            The target.

        Raises:
            ValueError: a setting is out of range (the message names it).
        """
        env = os.environ if environ is None else environ
        region = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        mode = retry_mode or env.get("AWS_RETRY_MODE") or "standard"
        if mode not in ("standard", "adaptive"):
            # "legacy" exists in botocore, but its retry rules are older and
            # narrower; the audit needs throttling handled the standard way.
            raise ValueError(
                f"Retry mode {mode!r} is not supported: use standard or adaptive."
            )
        attempts = max_attempts
        if attempts is None and env.get("AWS_MAX_ATTEMPTS", "").isdigit():
            attempts = int(env["AWS_MAX_ATTEMPTS"])
        return cls(
            region=region or None,
            profile=profile or None,
            endpoint_url=endpoint_url or None,
            retry_mode=cast(RetryMode, mode),
            max_attempts=5 if attempts is None else attempts,
            connect_timeout=5 if connect_timeout is None else connect_timeout,
            read_timeout=20 if read_timeout is None else read_timeout,
        )

    def __post_init__(self) -> None:
        """Refuse settings botocore would reject later, with one sentence."""
        if self.max_attempts < 1:
            raise ValueError(
                f"max_attempts must be at least 1, not {self.max_attempts}."
            )
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ValueError("Connect and read timeouts must be positive seconds.")

    def describe(self) -> str:
        """A short phrase for logs and messages, e.g. 'profile prod, eu-west-1'."""
        parts = [f"profile {self.profile}" if self.profile else "default credentials"]
        parts.append(self.region or "the profile's region")
        if self.endpoint_url:
            parts.append(f"endpoint {self.endpoint_url}")
        return ", ".join(parts)


class Clients:
    """One boto3 session and a cache of clients, one per (service, region).

    boto3 clients are thread-safe once built, sessions are not, so clients are
    built under a lock and then shared by the reader's worker threads.
    """

    def __init__(self, target: AwsTarget, *, max_pool_connections: int = 10) -> None:
        """Remember the target; nothing is built until the first client.

        Args:
            target: where to connect.
            max_pool_connections: HTTP connections per client; at least the
                number of threads that share it, or urllib3 warns and queues.
        """
        self.target = target
        self._pool = max(10, max_pool_connections)
        self._lock = threading.Lock()
        self._session: boto3.session.Session | None = None
        self._clients: dict[tuple[str, str | None], Any] = {}

    @property
    def session(self) -> boto3.session.Session:
        """The boto3 session, created on first use."""
        with self._lock:
            return self._session_locked()

    def _session_locked(self) -> boto3.session.Session:
        if self._session is None:
            logger.debug("creating boto3 session (%s)", self.target.describe())
            self._session = boto3.session.Session(
                profile_name=self.target.profile, region_name=self.target.region
            )
        return self._session

    @property
    def region(self) -> str | None:
        """The region calls go to when none is given: the target's or the profile's."""
        return self.target.region or self.session.region_name

    def config(self) -> Config:
        """The botocore Config every client gets."""
        return Config(
            retries={
                "mode": self.target.retry_mode,
                "total_max_attempts": self.target.max_attempts,
            },
            connect_timeout=self.target.connect_timeout,
            read_timeout=self.target.read_timeout,
            user_agent_extra=USER_AGENT_EXTRA,
            max_pool_connections=self._pool,
        )

    def get(self, service: str, region: str | None = None) -> Any:
        """The client for ``service`` in ``region`` (the default region if None).

        Typed ``Any``: the service name is data here, so boto3-stubs' per-service
        overloads cannot apply.
        """
        region = region or self.target.region
        key = (service, region)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                session = self._session_locked()
                kwargs: dict[str, Any] = {"config": self.config()}
                if region:
                    kwargs["region_name"] = region
                if self.target.endpoint_url:
                    kwargs["endpoint_url"] = self.target.endpoint_url
                client = session.client(service, **kwargs)  # type: ignore[call-overload]
                self._clients[key] = client
            return client
