"""KMS in the sandbox: the rotation period moto drops, and recording calls.

moto 5.2's ``EnableKeyRotation`` ignores ``RotationPeriodInDays`` (without a
range check) and ``GetKeyRotationStatus`` returns only ``KeyRotationEnabled``.
The layer checks 90-2560, keeps the period and the enable time per key, and adds
``RotationPeriodInDays``, ``NextRotationDate`` and ``KeyId``. Every KMS call is
passed to :class:`~.cloudtrail_layer.CloudTrailLayer` to be recorded.
"""

from __future__ import annotations

import time

from wizard.aws.sandbox.cloudtrail_layer import CloudTrailLayer
from wizard.aws.sandbox.protocols import _Call, _error, _Response


class KmsLayer(CloudTrailLayer):
    """KMS calls: rotation period kept and reported, every call recorded."""

    _rotation: dict[str, tuple[int, float]]

    def _kms(self, call: _Call) -> _Response:
        if call.operation == "EnableKeyRotation":
            period = call.params.get("RotationPeriodInDays", 365)
            if not isinstance(period, int) or not 90 <= period <= 2560:
                message = (
                    f"Value '{period}' at 'rotationPeriodInDays' failed to satisfy "
                    "constraint: Member must have value between 90 and 2560"
                )
                response = _error(call, "ValidationException", message)
                self._record(call, response)
                return response
        response = self._forward(call.environ, call)
        if response.status == 200 and call.operation.endswith("KeyRotation"):
            self._note_rotation(call, call.operation == "EnableKeyRotation")
        elif response.status == 200 and call.operation == "GetKeyRotationStatus":
            response = self._rotation_status(call, response)
        self._record(call, response)
        return response

    def _note_rotation(self, call: _Call, enabled: bool) -> None:
        account = self._identity(call.access_key)["Account"]
        arn = self._key_arn(call, str(call.params.get("KeyId", "")), account)
        if arn is None:
            return
        period = int(call.params.get("RotationPeriodInDays", 365))
        with self._lock:
            if not enabled:
                self._rotation.pop(arn, None)
                return
            # AWS counts the first rotation from when rotation was first enabled.
            since = self._rotation.get(arn, (period, time.time()))[1]
            self._rotation[arn] = (period, since)

    def _rotation_status(self, call: _Call, response: _Response) -> _Response:
        """Add the fields moto drops (API_GetKeyRotationStatus.html, KMS API ref)."""
        data = response.json()
        account = self._identity(call.access_key)["Account"]
        arn = self._key_arn(call, str(call.params.get("KeyId", "")), account)
        if arn is None:
            return response
        data.setdefault("KeyId", arn)
        with self._lock:
            state = self._rotation.get(arn)
        # Without a record (moto's state changed behind the layer's back) the
        # period is unknown: leave it out rather than invent it.
        if data.get("KeyRotationEnabled") and state is not None:
            period, since = state
            data["RotationPeriodInDays"] = period
            data["NextRotationDate"] = since + period * 86400
        return response.with_json(data)
