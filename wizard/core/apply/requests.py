"""The exact AWS requests of the key changes (policy, rotation, tags, description).

Every parameter here is what boto3 sends, so the plan shows the user precisely
what will be written and the journal records precisely what was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wizard.core.apply.documents import policy_text
from wizard.core.apply.model import Step


def key_policy_steps(key_arn: str, policy: dict[str, Any]) -> tuple[Step, ...]:
    """PutKeyPolicy; BypassPolicyLockoutSafetyCheck is never sent (it stays false).

    https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html
    """
    params = {"KeyId": key_arn, "PolicyName": "default", "Policy": policy_text(policy)}
    return (
        Step(
            "kms",
            "PutKeyPolicy",
            params,
            "replace the key policy (the current one is backed up first)",
            kind="replace",
            backup="key-policy",
        ),
    )


def rotation_steps(key_arn: str, period: int) -> tuple[Step, ...]:
    """EnableKeyRotation with RotationPeriodInDays (90 to 2560).

    https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKeyRotation.html
    """
    params = {"KeyId": key_arn, "RotationPeriodInDays": period}
    summary = f"turn on automatic rotation every {period} days"
    return (Step("kms", "EnableKeyRotation", params, summary, "replace", "rotation"),)


def tag_steps(key_arn: str, absent: Mapping[str, str]) -> tuple[Step, ...]:
    """TagResource with the tags the key lacks (existing tags are never changed).

    https://docs.aws.amazon.com/kms/latest/APIReference/API_TagResource.html
    """
    tags = [{"TagKey": k, "TagValue": v} for k, v in sorted(absent.items())]
    summary = "add tags " + ", ".join(f"{k}={v}" for k, v in sorted(absent.items()))
    params = {"KeyId": key_arn, "Tags": tags}
    return (Step("kms", "TagResource", params, summary, "replace", "tags"),)


def description_steps(key_arn: str, text: str) -> tuple[Step, ...]:
    """UpdateKeyDescription.

    https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdateKeyDescription.html
    """
    params = {"KeyId": key_arn, "Description": text}
    summary = f"set the description to {text!r}"
    return (
        Step("kms", "UpdateKeyDescription", params, summary, "replace", "description"),
    )
