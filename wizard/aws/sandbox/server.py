"""The local AWS sandbox: moto's server behind a thin WSGI layer of our own.

Everything reaches it over HTTP with ``endpoint_url``; nothing patches boto3.
The layer answers the few APIs the tool reads that moto 5.2 lacks, injects
faults for tests, refuses SSE-KMS object reads and writes under an unusable
key, and records CloudTrail-like events for KMS calls, delivered to the trails'
CloudWatch Logs groups where metric filters count them and alarms fire; every
other request goes to moto unchanged. Control endpoints, for tests and other processes:

- ``POST /_sandbox/faults`` (a JSON :class:`Fault`), ``GET`` and
  ``DELETE /_sandbox/faults``;
- ``POST /_sandbox/events/age`` with ``{"days": N}`` (N a number, 0 or more):
  move every recorded event N days into the past (:meth:`Sandbox.age_events`);
- ``POST /_sandbox/sns/confirm`` with ``{"topic_arn": ..., "endpoint": ...}``
  (each optional; an empty body confirms every pending subscription): confirm
  the matching pending SNS subscriptions, as their recipients would, and say
  how many (:meth:`Sandbox.confirm_subscriptions`);
- ``POST /_sandbox/reset``.

Measured against moto 5.2.5 with boto3/botocore 1.44, and what the layer does:

- Not implemented (HTTP 500 with an HTML body): CloudTrail ``LookupEvents``,
  Config ``DescribeComplianceByConfigRule``, IAM ``SimulatePrincipalPolicy``.
  The layer answers all three. Any other call moto fails on becomes an
  AWS-shaped ``NotImplemented`` error (501) that botocore can parse.
- KMS ``EnableKeyRotation`` drops ``RotationPeriodInDays`` without a range check
  (5 is accepted); ``GetKeyRotationStatus`` returns only ``KeyRotationEnabled``.
  The layer checks 90-2560, keeps the period and the enable time, and adds
  ``RotationPeriodInDays``, ``NextRotationDate`` and ``KeyId``.
- moto never evaluates key policies, grants or IAM policies: Encrypt under a
  policy that denies ``kms:*`` to ``*`` succeeds. ``PutKeyPolicy`` accepts text
  that is not JSON and a policy with no statements; IAM ``CreateRole`` accepts a
  trust policy that is not JSON (and returns it URL-encoded). Never use the
  sandbox to decide what a policy permits. moto does bind the encryption context:
  Decrypt with a different or missing context fails (InvalidCiphertextException).
- S3: a new bucket answers ``GetBucketEncryption``, ``GetPublicAccessBlock`` and
  ``GetBucketOwnershipControls`` with NotFound errors where AWS returns its
  defaults (SSE-S3, all four blocks on, BucketOwnerEnforced). Seeds set them.
- S3 never calls KMS: ``PutObject`` and ``GetObject`` with SSE-KMS succeed
  under a disabled, pending-deletion or missing key, where AWS refuses them
  with ``KMS.DisabledException``, ``KMS.KMSInvalidStateException`` or
  ``KMS.NotFoundException`` (HTTP 400). The layer checks the key's state and
  answers those errors (:mod:`.s3_layer`); it does not check ``CopyObject``,
  multipart uploads, or the key policy.
- The layer's CloudTrail records (for ``LookupEvents``, first item) cover every
  KMS call that is not a Describe, Get or List, and the ``GenerateDataKey`` and
  ``Decrypt`` S3 makes for an SSE-KMS put or get (``invokedBy``
  s3.amazonaws.com); like Event history, LookupEvents returns 90 days only.
- moto keeps trails, log groups, metric filters, metric data and alarms but
  never connects them: a trail delivers nothing to CloudWatch Logs, a metric
  filter counts nothing, an alarm never leaves its first state (``OK``, where
  AWS starts at ``INSUFFICIENT_DATA``). The layer delivers each record to the
  log group of every logging trail that covers its region and whose event
  selectors take it, runs the group's JSON metric filters on it, puts their
  data points and moves breaching alarms to ``ALARM`` (:mod:`.log_delivery`,
  :mod:`.filter_patterns`, :mod:`.alarm_state`). Not modelled: term and
  space-delimited patterns, ``defaultValue``, alarms over more than one period,
  a return to ``OK``, alarm actions, and delivery delay.
- SNS: moto confirms every subscription at once (a real ARN everywhere,
  ``PendingConfirmation`` "false") and ``GetTopicAttributes`` reports
  ``SubscriptionsConfirmed`` and ``SubscriptionsPending`` as 0 always. In AWS
  an ``email``, ``email-json``, ``http`` or ``https`` subscription waits for its
  recipient. The layer keeps the new ones of those pending: ``Subscribe``
  answers ``pending confirmation`` (the ARN with ``ReturnSubscriptionArn``),
  the two List calls show ``PendingConfirmation`` for the ARN,
  ``GetSubscriptionAttributes`` says ``PendingConfirmation`` "true", and the
  topic's counts are counted from moto's subscriptions (:mod:`.sns_layer`).
  There is no mail: confirm through the control endpoint, not with
  ``ConfirmSubscription`` (moto answers it with a made-up ARN, changing
  nothing). SQS and Lambda
  subscriptions stay confirmed at once, as in AWS within one account; a
  cross-account one (pending in AWS) is not modelled. Not modelled either:
  moto still posts to a pending ``http``/``https`` endpoint on ``Publish`` (it
  mails nothing), ``Unsubscribe`` deletes a pending subscription by the ARN
  ``ReturnSubscriptionArn`` gave (the console cannot delete a pending one,
  and AWS's API answer for it is not known here; confirmed ones are deleted
  as moto does), pending ones never expire (AWS deletes them after 48 hours),
  and ``SubscriptionsDeleted`` stays 0.
- CloudTrail ``CreateTrail`` checks that the bucket exists but not its policy
  (AWS requires one that lets cloudtrail.amazonaws.com write); Config
  ``PutConfigRule`` works without a configuration recorder (AWS refuses).
- botocore 1.44 speaks Smithy RPC v2 CBOR to CloudWatch; moto understands it.
- moto answers JSON-protocol calls with ``Content-Type: text/html``; botocore
  does not mind.
- moto keeps its state in module globals: two sandboxes in one process share
  it, and a reset of one resets both.

The response shapes follow the AWS API references cited beside each handler.

The layer is split by concern: :mod:`.faults` (fault injection),
:mod:`.protocols` (recognising calls, answers per protocol), :mod:`.moto_access`
(calling moto), :mod:`.cloudtrail_layer` (event recording, LookupEvents) with
:mod:`.trail_events` (the records) and :mod:`.log_delivery` (records to
CloudWatch Logs, metric filters and alarms), :mod:`.kms_layer` (rotation period),
:mod:`.s3_layer` (SSE-KMS key state), :mod:`.sns_layer` (pending
subscriptions), :mod:`.config_layer` and :mod:`.iam_layer`. This module holds
the WSGI dispatch and :class:`Sandbox`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.test import EnvironBuilder

from wizard.aws.sandbox.config_layer import ConfigLayer
from wizard.aws.sandbox.faults import Fault, FaultInjector, make_fault
from wizard.aws.sandbox.iam_layer import IamLayer
from wizard.aws.sandbox.kms_layer import KmsLayer
from wizard.aws.sandbox.protocols import (
    Environ,
    StartResponse,
    _ApiError,
    _Call,
    _error,
    _parse_call,
    _read_body,
    _Refused,
    _Response,
)
from wizard.aws.sandbox.s3_layer import S3Layer
from wizard.aws.sandbox.sns_layer import SnsLayer, confirm_filter
from wizard.aws.sandbox.trail_events import _MAX_EVENTS, _Event, age_days

__all__ = [
    "Fault",
    "FaultInjector",
    "Sandbox",
    "SandboxApp",
    "make_fault",
    "sandbox_environment",
]

logger = logging.getLogger(__name__)


class SandboxApp(KmsLayer, S3Layer, ConfigLayer, IamLayer, SnsLayer):
    """The WSGI layer in front of moto (see the module docstring)."""

    def __init__(self) -> None:
        self._moto = DomainDispatcherApplication(create_backend_app)
        self._lock = threading.Lock()
        self._events: deque[_Event] = deque(maxlen=_MAX_EVENTS)
        self._rotation: dict[str, tuple[int, float]] = {}
        self._identities: dict[str, dict[str, str]] = {}
        self._pending: set[str] = set()
        self.faults = FaultInjector()
        self.stopping = threading.Event()
        """Set on stop, so requests stalled by a delay fault wake up and end."""
        self._handlers: dict[tuple[str, str], Callable[[_Call], _Response]] = {
            ("cloudtrail", "LookupEvents"): self._lookup_events,
            ("config", "DescribeComplianceByConfigRule"): self._compliance,
            ("iam", "SimulatePrincipalPolicy"): self._simulate,
        }

    def __call__(
        self, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_sandbox/") or path == "/moto-api/reset":
            return self._control(environ).send(start_response)
        try:
            call = _parse_call(environ)
        except ValueError:
            return self._forward(environ).send(start_response)
        return self._handle(call).send(start_response)

    def reset(self) -> None:
        """Forget everything: moto's state and all the layer keeps.

        Events, rotation periods, pending subscriptions and faults.
        """
        environ = EnvironBuilder(method="POST", path="/moto-api/reset").get_environ()
        self._forward(environ)
        with self._lock:
            self._events.clear()
            self._rotation.clear()
            self._identities.clear()
            self._pending.clear()
        self.faults.clear()

    def _handle(self, call: _Call) -> _Response:
        fault = self.faults.take(call.service, call.operation)
        if fault is not None:
            logger.debug("fault %s on %s %s", fault, call.service, call.operation)
            if fault.delay:
                self.stopping.wait(fault.delay)
            if fault.error_code:
                if call.protocol == "rest-xml":
                    _read_body(call.environ)  # keep the connection usable
                message = (
                    fault.message or f"Injected by the sandbox: {fault.error_code}"
                )
                response = _error(call, fault.error_code, message, fault.status)
                if call.service == "kms":
                    self._record(call, response)
                return response
        handler = self._handlers.get((call.service, call.operation))
        try:
            if handler is not None:
                return handler(call)
        except _ApiError as error:
            return _error(call, error.code, error.message)
        except _Refused as refused:
            return refused.response
        if call.service == "kms":
            return self._kms(call)
        if call.service == "s3":
            return self._s3(call)
        if call.service == "sns":
            return self._sns(call)
        return self._forward(call.environ, call)

    # Control endpoints for tests and other processes.

    def _control(self, environ: Environ) -> _Response:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if path in ("/_sandbox/reset", "/moto-api/reset") and method == "POST":
            self.reset()
            return _plain(200, {"status": "reset"})
        if path == "/_sandbox/faults" and method == "GET":
            return _plain(200, {"faults": [asdict(f) for f in self.faults.rules()]})
        if path == "/_sandbox/faults" and method == "DELETE":
            self.faults.clear()
            return _plain(200, {"faults": []})
        if path == "/_sandbox/faults" and method == "POST":
            try:
                data = _json_body(environ)
                fault = make_fault(data if isinstance(data, dict) else {})
            except ValueError as error:
                return _plain(400, {"error": str(error)})
            self.faults.add(fault)
            return _plain(201, {"fault": asdict(fault)})
        if path == "/_sandbox/events/age" and method == "POST":
            try:
                days = age_days(_json_body(environ))
            except ValueError as error:
                return _plain(400, {"error": str(error)})
            return _plain(200, {"aged": self.age_events(days), "days": days})
        if path == "/_sandbox/sns/confirm" and method == "POST":
            try:
                topic_arn, endpoint = confirm_filter(_json_body(environ))
            except ValueError as error:
                return _plain(400, {"error": str(error)})
            confirmed = self.confirm_subscriptions(topic_arn, endpoint)
            return _plain(200, {"confirmed": confirmed})
        return _plain(404, {"error": f"No sandbox endpoint {method} {path}."})


def _json_body(environ: Environ) -> Any:
    """A control request's JSON body; None when empty.

    Raises:
        ValueError: the body is not JSON.
    """
    try:
        return json.loads(_read_body(environ) or b"null")
    except ValueError as error:
        raise ValueError(f"The body is not JSON: {error}.") from error


def _plain(status: int, data: dict[str, Any]) -> _Response:
    body = json.dumps(data).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    return _Response(status, headers, body)


class _QuietHandler(MotoRequestHandler):
    """moto's request handler, logging to our logger at debug, not stderr."""

    def log(self, type: str, message: str, *args: Any) -> None:
        logger.debug("%s %s", type, message % args)


class Sandbox:
    """moto and the layer, served on a background thread; a context manager.

    Example::

        with Sandbox() as sandbox:
            client = boto3.client("kms", endpoint_url=sandbox.endpoint_url, ...)
    """

    def __init__(
        self, port: int = 0, host: str = "127.0.0.1", *, region: str = "us-east-1"
    ) -> None:
        self.host = host
        self.port = port
        self.region = region
        self.app = SandboxApp()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        """``http://HOST:PORT`` of the running sandbox.

        Raises:
            RuntimeError: the sandbox is not running.
        """
        if self._server is None:
            raise RuntimeError("The sandbox is not running: call start() first.")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._server.server_port}"

    def start(self) -> Sandbox:
        """Bind the port (0: a free one) and serve on a daemon thread."""
        if self._server is not None:
            return self
        self.app.stopping.clear()
        server = make_server(
            self.host, self.port, self.app, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"harbor-kms-sandbox-{server.server_port}",
            daemon=True,
        )
        self._server = server
        self._thread.start()
        logger.info("sandbox listening on %s", self.endpoint_url)
        return self

    def stop(self) -> None:
        """Stop serving, wake stalled requests and free the port."""
        if self._server is None:
            return
        self.app.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def add_fault(
        self,
        service: str,
        operation: str,
        error_code: str,
        *,
        status: int = 400,
        count: int | None = None,
        delay: float = 0.0,
        message: str = "",
    ) -> None:
        """Make matching calls fail with ``error_code`` and/or stall ``delay`` s.

        Args:
            service: SigV4 signing name (``kms``, ``s3``, ``iam``), or ``*``.
            operation: API name (``GetKeyPolicy``, ``GetBucketEncryption``), or ``*``.
            error_code: the AWS error code to return; empty to only delay.
            status: HTTP status of the error.
            count: how many calls to affect; None for every call.
            delay: seconds to wait before answering (a hanging endpoint).
            message: the error message; a default names the sandbox.

        Raises:
            ValueError: the fault is out of range (see :func:`make_fault`).
        """
        fault = make_fault(
            {
                "service": service,
                "operation": operation,
                "error_code": error_code,
                "status": status,
                "count": count,
                "delay": delay,
                "message": message,
            }
        )
        self.app.faults.add(fault)

    def clear_faults(self) -> None:
        """Remove every fault."""
        self.app.faults.clear()

    def reset(self) -> None:
        """Empty the sandbox: moto's resources and all the layer keeps."""
        self.app.reset()

    def age_events(self, days: float) -> int:
        """Move every recorded CloudTrail event ``days`` into the past.

        LookupEvents returns only the last 90 days, as CloudTrail's Event
        history does, so aging by more than 90 leaves a key no history.

        Returns:
            How many events were moved.

        Raises:
            ValueError: ``days`` is negative or not a finite number.
        """
        return self.app.age_events(age_days({"days": days}))

    def confirm_subscriptions(
        self, topic_arn: str | None = None, endpoint: str | None = None
    ) -> int:
        """Confirm pending SNS subscriptions, as their recipients would.

        Args:
            topic_arn: only subscriptions to this topic; None for every topic.
            endpoint: only this address or URL; None for every endpoint.

        Returns:
            How many were confirmed.
        """
        return self.app.confirm_subscriptions(topic_arn, endpoint)

    def environment(self) -> dict[str, str]:
        """Environment variables that point the AWS CLI and SDKs at the sandbox."""
        return sandbox_environment(self.endpoint_url, self.region)


def sandbox_environment(endpoint_url: str, region: str) -> dict[str, str]:
    """The AWS CLI and SDK environment for a sandbox at ``endpoint_url``.

    For a sandbox in this process or another one (``harbor-kms sandbox``).
    """
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }
