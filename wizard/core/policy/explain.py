"""Plain words for the generated policy: why each statement exists.

The same text feeds ``policy explain``, the TUI's statement pane and the runbook.
"""

from __future__ import annotations

from wizard.core.policy.build import build_statements
from wizard.core.values import Values

# Where the guide is wrong, in one line each (shared/guide/CORRECTIONS.md).
CORRECTIONS: dict[int, str] = {
    1: "The guide matches aws:s3:arn with StringEquals and a '/*' wildcard; "
    "StringEquals is literal, so uploads fail. The tool uses StringLike for object "
    "ARNs and the exact bucket ARN when S3 Bucket Keys are on.",
    2: "The guide conditions kms:DescribeKey on the encryption context, which it "
    "never carries; DescribeKey gets its own statement.",
    3: "The guide adds an s3.amazonaws.com principal; SSE-KMS does not need it, "
    "because S3 calls KMS with Harbor's own identity.",
    4: "ForAllValues is true when the request has no encryption context; the tool "
    "pairs it with a Null check.",
    5: "Whether S3's call for Harbor carries aws:SourceIp/aws:SourceVpce is not "
    "reliably documented; network limits are a Deny with an AWS-service exemption.",
    6: "The root principal enables IAM policies, it does not grant everyone; the "
    "guide's kms:CallerAccount condition on it is redundant.",
    8: "The guide's blanket Decrypt Deny binds root, administrators and grants too.",
    9: "The guide's kms:Create* and kms:Put* let administrators give themselves "
    "use of the key; the tool lists admin actions one by one.",
    10: "KMS's lockout safety check protects only the caller; the tool checks the "
    "administrators itself.",
    7: "The guide says the key policy is evaluated first and IAM cannot grant "
    "cross-account access; KMS evaluates the key policy, IAM policies, grants, "
    "SCPs and endpoint policies together, and any explicit Deny wins.",
    11: "The guide tests the key policy with the IAM policy simulator, which "
    "ignores KMS key policies; the tool evaluates the key policy itself.",
    12: "The guide's AWS/KMS metrics (KeyRotationEnabled, NumberOfDecryptCalls, "
    "UserErrorCount) do not exist; call counts are AWS/Usage CallCount per "
    "account and region, and alarms come from CloudTrail metric filters.",
    13: "Alarms that work are CloudWatch Logs metric filters on the CloudTrail "
    "log group (CIS 4.7) for DisableKey, ScheduleKeyDeletion, PutKeyPolicy, "
    "DisableKeyRotation and access denied on the key.",
    14: "The AWS Config rule CMK_BACKING_KEY_ROTATION_ENABLED is correct.",
    15: "The guide says the first rotation comes 365 days after the key was "
    "created; it comes one rotation period (90 to 2560 days) after rotation is "
    "enabled; the rotation schedule in this runbook is computed that way.",
    16: "Old key material is kept while the key exists; deleting the key (after "
    "7 to 30 days) deletes all of it, so this runbook never schedules deletion.",
}

# Where in the guide each corrected text stands.
GUIDE_PLACES = {
    1: "Hardened Key Policy Template, Statement 3; Advanced Condition Keys 2",
    2: "Hardened Key Policy Template, Statement 3",
    3: "Hardened Key Policy Template, Statement 4",
    4: "Advanced Condition Keys 4; Advanced Hardened Policy",
    5: "Advanced Condition Keys 6 and 7; Advanced Hardened Policy",
    6: "Hardened Key Policy Template, Statement 1; Common Misconfigurations 1",
    7: "Understanding KMS Key Policies: Key Policy vs IAM Policy",
    8: "Hardened Key Policy Template, Statement 6",
    9: "Hardened Key Policy Template, Statement 2",
    10: "Creating the Hardened Policy (put-key-policy)",
    11: "Key Policy Validation: Test Policy Before Applying",
    12: "Monitoring Key Rotation; CloudWatch Metrics; Set Up Alerts",
    13: "Set Up Alerts",
    14: "AWS Config Rules",
    15: "Key Rotation Configuration; Troubleshooting Issue 4",
    16: "Rotation Best Practices",
}


def explain(values: Values) -> str:
    """A readable account of each statement of the generated policy."""
    lines = ["Hardened key policy for", f"  key {values.key_arn}", ""]
    for number, statement in enumerate(build_statements(values), start=1):
        effect = statement.body["Effect"]
        lines.append(f"{number}. {statement.sid} ({effect})")
        lines.append(f"   Why: {statement.reason}")
        lines.append(f"   Guide: {statement.guide_section}")
        for point in statement.corrections:
            if point in CORRECTIONS:
                lines.append(f"   Correction {point}: {CORRECTIONS[point]}")
        lines.append("")
    return "\n".join(lines)
