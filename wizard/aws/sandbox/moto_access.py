"""How the sandbox layer reaches moto: forward a request, or ask it in-process.

:class:`MotoAccess` is the base of the layer's parts (:mod:`.cloudtrail_layer`,
:mod:`.kms_layer`, :mod:`.s3_layer`, :mod:`.config_layer`, :mod:`.iam_layer`,
:mod:`.sns_layer`):
the handlers look things up in moto as the caller would, and resolve who a
caller and a key are. Some lookups have no API a caller could use and read
moto's backends instead: how S3 stored an object (the key it is encrypted
under), the state of a key in another account, and the trails, log groups and
alarms CloudTrail and CloudWatch would act on for themselves
(:mod:`.log_delivery`), and the SNS subscriptions a confirmation concerns
(:mod:`.sns_layer`). Its state is set up by ``SandboxApp`` (:mod:`.server`).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

from moto.cloudtrail.models import cloudtrail_backends
from moto.cloudwatch.models import cloudwatch_backends
from moto.kms.models import kms_backends
from moto.logs.models import logs_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.s3.models import s3_backends
from moto.sns.models import sns_backends
from werkzeug.test import EnvironBuilder

from wizard.aws.sandbox.protocols import Environ, _Call, _error, _Response
from wizard.core.arn import parse_arn
from wizard.core.regions import partition_of

logger = logging.getLogger(__name__)

_KEY_ID = re.compile(r"(mrk-[0-9a-f]{32}|[0-9a-f-]{36})")
_FAKE_DATE = "20240101"
# X-Amz-Target prefixes of the JSON services the layer asks moto about itself.
_JSON_TARGETS = {"kms": "TrentService", "config": "StarlingDoveService"}


class MotoAccess:
    """moto behind the layer: the calls every handler builds on."""

    _moto: DomainDispatcherApplication
    _lock: threading.Lock
    _identities: dict[str, dict[str, str]]

    def _forward(self, environ: Environ, call: _Call | None = None) -> _Response:
        """Run moto on ``environ`` and buffer its answer."""
        status: list[str] = []
        headers: list[tuple[str, str]] = []

        def start_response(line: str, hdrs: list[tuple[str, str]], *_: Any) -> Any:
            status.append(line)
            headers.extend(hdrs)
            return chunks.append

        chunks: list[bytes] = []
        try:
            result = self._moto(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                getattr(result, "close", lambda: None)()
        except Exception as error:  # moto raises NotImplementedError and others
            logger.warning("moto failed on %s: %r", environ.get("PATH_INFO"), error)
            if call is None:
                raise
            return _error(call, "NotImplemented", f"moto: {error!r}", 501)
        return _Response(int(status[0].split()[0]), headers, b"".join(chunks))

    def _ask(
        self, service: str, region: str, access_key: str, operation: str, **kw: Any
    ) -> _Response:
        """Call moto in-process as ``access_key`` would (moto maps it to an account)."""
        scope = f"{access_key or 'testing'}/{_FAKE_DATE}/{region}/{service}"
        headers = [
            ("Authorization", f"AWS4-HMAC-SHA256 Credential={scope}/aws4_request"),
            ("Host", "127.0.0.1"),
        ]
        if service in _JSON_TARGETS:
            headers.append(("X-Amz-Target", f"{_JSON_TARGETS[service]}.{operation}"))
            data = json.dumps(kw).encode()
            ctype = "application/x-amz-json-1.1"
        else:
            data = urlencode({"Action": operation, **kw}).encode()
            ctype = "application/x-www-form-urlencoded"
        builder = EnvironBuilder(
            method="POST", path="/", headers=headers, data=data, content_type=ctype
        )
        return self._forward(builder.get_environ())

    def _ask_as(
        self, call: _Call, service: str, operation: str, **kw: Any
    ) -> _Response:
        """:meth:`_ask` as the caller of ``call``, in its region."""
        return self._ask(service, call.region, call.access_key, operation, **kw)

    def _kms_ask(self, call: _Call, operation: str, **kw: Any) -> dict[str, Any]:
        """A KMS answer from moto as a dict; {} when moto refused."""
        response = self._ask_as(call, "kms", operation, **kw)
        return response.json() if response.status == 200 else {}

    def _identity(self, access_key: str) -> dict[str, str]:
        """Who moto thinks ``access_key`` is (account, ARN, user id), cached."""
        with self._lock:
            if access_key in self._identities:
                return self._identities[access_key]
        response = self._ask("sts", "us-east-1", access_key, "GetCallerIdentity")
        # moto's own XML, produced in this process: trusted input.
        root = ElementTree.fromstring(response.body)
        found = {el.tag.rsplit("}", 1)[-1]: el.text or "" for el in root.iter()}
        ident = {k: found.get(k, "") for k in ("Account", "Arn", "UserId")}
        with self._lock:
            self._identities[access_key] = ident
        return ident

    def _key_arn(self, call: _Call, ref: str, account: str) -> str | None:
        """A key ARN from a key id, key ARN, alias name or alias ARN."""
        if ref.startswith("arn:") and ":key/" in ref:
            return ref
        if _KEY_ID.fullmatch(ref):
            partition = partition_of(call.region)
            return f"arn:{partition}:kms:{call.region}:{account}:key/{ref}"
        if not ref:
            return None
        meta = self._kms_ask(call, "DescribeKey", KeyId=ref).get("KeyMetadata", {})
        arn = meta.get("Arn")
        return arn if isinstance(arn, str) else None

    def _key_state(self, arn: str) -> str | None:
        """The state moto keeps for the key ``arn`` names; None if there is none.

        Read from moto's backend, in the account and region of the ARN: a key
        of another account has no API the caller could ask.
        """
        parsed = parse_arn(arn)
        if parsed is None or not parsed.resource.startswith("key/"):
            return None
        try:
            backend = kms_backends[parsed.account][parsed.region]
        except KeyError:  # a region moto does not know
            return None
        key = backend.keys.get(parsed.resource.removeprefix("key/"))
        return None if key is None else str(key.key_state)

    def _s3_bucket(self, call: _Call, name: str) -> Any | None:
        """moto's bucket ``name`` as the caller's account sees it; None if none."""
        account = self._identity(call.access_key)["Account"]
        try:
            return s3_backends[account][partition_of(call.region)].get_bucket(name)
        except Exception:  # MissingBucket and kin: moto answers the call itself
            return None

    @staticmethod
    def _trails(account: str) -> list[Any]:
        """moto's trails of ``account``, in every region that has any."""
        # values() holds only the regions moto has made a backend for.
        backends = cloudtrail_backends[account].values()
        return [trail for backend in backends for trail in backend.trails.values()]

    @staticmethod
    def _logs_backend(account: str, region: str) -> Any:
        """moto's CloudWatch Logs in ``account`` and ``region``."""
        return logs_backends[account][region]

    @staticmethod
    def _cloudwatch_backend(account: str, region: str) -> Any:
        """moto's CloudWatch (metrics and alarms) in ``account`` and ``region``."""
        return cloudwatch_backends[account][region]

    @staticmethod
    def _sns_subscriptions() -> list[Any]:
        """moto's SNS subscriptions, of every account and region that has any."""
        # Both levels hold only the accounts and regions moto has made.
        return [
            subscription
            for account in list(sns_backends.values())
            for backend in list(account.values())
            for subscription in list(backend.subscriptions.values())
        ]
