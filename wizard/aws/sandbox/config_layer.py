"""AWS Config in the sandbox: ``DescribeComplianceByConfigRule``.

moto 5.2 does not implement it. The layer evaluates the one managed rule the
tool relies on, ``CMK_BACKING_KEY_ROTATION_ENABLED``, over the region's keys as
moto has them; every other rule is ``INSUFFICIENT_DATA``.
"""

from __future__ import annotations

from typing import Any

from wizard.aws.sandbox.moto_access import MotoAccess
from wizard.aws.sandbox.protocols import _Call, _json_ok, _Refused, _Response


class ConfigLayer(MotoAccess):
    """Answers Config ``DescribeComplianceByConfigRule``."""

    # Config DescribeComplianceByConfigRule:
    # https://docs.aws.amazon.com/config/latest/APIReference/API_DescribeComplianceByConfigRule.html

    def _compliance(self, call: _Call) -> _Response:
        rotation: tuple[str, int] | None = None
        wanted = set(call.params.get("ComplianceTypes") or [])
        results = []
        for rule in self._config_rules(call):
            source = rule.get("Source", {})
            kind, count = "INSUFFICIENT_DATA", 0
            if source.get("Owner") == "AWS" and (
                source.get("SourceIdentifier") == "CMK_BACKING_KEY_ROTATION_ENABLED"
            ):
                rotation = rotation or self._rotation_compliance(call)
                kind, count = rotation
            if wanted and kind not in wanted:
                continue
            compliance: dict[str, Any] = {"ComplianceType": kind}
            if kind == "NON_COMPLIANT":
                compliance["ComplianceContributorCount"] = {
                    "CappedCount": count,
                    "CapExceeded": False,
                }
            results.append(
                {"ConfigRuleName": rule["ConfigRuleName"], "Compliance": compliance}
            )
        return _json_ok(call, {"ComplianceByConfigRules": results})

    def _config_rules(self, call: _Call) -> list[dict[str, Any]]:
        """The rules the request names (all if none), as moto has them."""
        rules: list[dict[str, Any]] = []
        names = call.params.get("ConfigRuleNames")
        payload: dict[str, Any] = {"ConfigRuleNames": names} if names else {}
        while True:
            response = self._ask_as(call, "config", "DescribeConfigRules", **payload)
            if response.status != 200:
                raise _Refused(response)  # NoSuchConfigRuleException, in moto's words
            rules += response.json().get("ConfigRules", [])
            payload["NextToken"] = response.json().get("NextToken")
            if not payload["NextToken"]:
                return rules

    def _rotation_compliance(self, call: _Call) -> tuple[str, int]:
        """Evaluate CMK_BACKING_KEY_ROTATION_ENABLED over the region's keys.

        Like AWS Config, nothing is evaluated without a recording configuration
        recorder; keys that are not enabled, symmetric, customer managed KMS
        keys are out of scope; no key in scope gives INSUFFICIENT_DATA.
        """
        status = self._ask_as(
            call, "config", "DescribeConfigurationRecorderStatus"
        ).json()
        recorders = status.get("ConfigurationRecordersStatus", [])
        if not any(r.get("recording") for r in recorders):
            return "INSUFFICIENT_DATA", 0
        in_scope = failing = 0
        for key_id in self._all_key_ids(call):
            meta = self._kms_ask(call, "DescribeKey", KeyId=key_id).get(
                "KeyMetadata", {}
            )
            if (
                meta.get("KeyManager") != "CUSTOMER"
                or meta.get("KeyState") != "Enabled"
                or meta.get("KeySpec") != "SYMMETRIC_DEFAULT"
                or meta.get("Origin") != "AWS_KMS"
            ):
                continue
            in_scope += 1
            rotation = self._kms_ask(call, "GetKeyRotationStatus", KeyId=key_id)
            failing += not rotation.get("KeyRotationEnabled")
        if not in_scope:
            return "INSUFFICIENT_DATA", 0
        return ("NON_COMPLIANT", failing) if failing else ("COMPLIANT", 0)

    def _all_key_ids(self, call: _Call) -> list[str]:
        ids: list[str] = []
        marker: str | None = None
        while True:
            page = self._kms_ask(
                call, "ListKeys", **({"Marker": marker} if marker else {})
            )
            ids += [k["KeyId"] for k in page.get("Keys", [])]
            marker = page.get("NextMarker")
            if not page.get("Truncated") or not marker:
                return ids
