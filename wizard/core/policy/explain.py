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
