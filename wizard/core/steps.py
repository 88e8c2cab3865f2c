"""The guide's sections as one step model that every front end walks.

The Textual app shows the steps in a sidebar, the line mode asks them in order,
and both read the fields and states from here, so a step is defined once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from wizard.core import values as v
from wizard.core.values import PolicyOptions, Values

FieldKind = Literal["text", "list", "bool", "choice", "int"]
StepState = Literal["not_started", "in_progress", "done", "needs_attention"]


@dataclass(frozen=True)
class FieldSpec:
    """One value the user enters: where it lives, how it is asked and checked."""

    name: str
    """Attribute of Values, or 'options.<name>' for a PolicyOptions field."""
    label: str
    kind: FieldKind
    help: str
    validator: Callable[[str], str | None] | None = None
    choices: tuple[str, ...] = ()
    required: bool = False
    placeholder: str = ""

    def get(self, values: Values) -> Any:
        """The field's current value in ``values``."""
        if self.name.startswith("options."):
            return getattr(values.options, self.name.split(".", 1)[1])
        return getattr(values, self.name)

    def check(self, raw: str) -> str | None:
        """Validate text typed by the user; None when it is acceptable."""
        if not raw.strip():
            return f"{self.label} is required." if self.required else None
        if self.kind == "list":
            for item in split_list(raw):
                if self.validator and (message := self.validator(item)):
                    return message
            return None
        if self.kind == "int" and not raw.strip().isdigit():
            return f"{self.label} must be a whole number."
        if self.kind == "choice" and raw not in self.choices:
            return f"{self.label} must be one of {', '.join(self.choices)}."
        return self.validator(raw.strip()) if self.validator else None

    def parse(self, raw: str) -> Any:
        """Text typed by the user, as the value stored (after ``check``)."""
        text = raw.strip()
        if self.kind == "list":
            return tuple(split_list(text))
        if self.kind == "bool":
            return text.lower() in ("true", "yes", "y", "on", "1")
        if self.kind == "int":
            return int(text)
        if self.name == "principal_org_id":
            return text or None
        return text

    def format(self, values: Values) -> str:
        """The current value as text for an input box or a prompt default."""
        value = self.get(values)
        if isinstance(value, tuple):
            return ", ".join(value)
        if isinstance(value, bool):
            return "yes" if value else "no"
        return "" if value is None else str(value)

    def set(self, values: Values, value: Any) -> Values:
        """``values`` with this field replaced."""
        if self.name.startswith("options."):
            option = self.name.split(".", 1)[1]
            return replace(values, options=replace(values.options, **{option: value}))
        return replace(values, **{self.name: value})


def split_list(text: str) -> list[str]:
    """Items of a comma- or whitespace-separated list."""
    return [item for item in text.replace(",", " ").split() if item]


ENVIRONMENT_FIELDS = (
    FieldSpec(
        "account_id",
        "AWS account id",
        "text",
        "The 12-digit account that owns the key.",
        v.check_account_id,
        required=True,
        placeholder="111122223333",
    ),
    FieldSpec(
        "region",
        "Region",
        "text",
        "The region of the key and the bucket.",
        v.check_region,
        required=True,
        placeholder="us-east-1",
    ),
    FieldSpec(
        "key_id",
        "KMS key",
        "text",
        "Key id or key ARN (not an alias).",
        v.check_key_id,
        required=True,
        placeholder="1234abcd-12ab-34cd-56ef-1234567890ab",
    ),
    FieldSpec(
        "harbor_role_arn",
        "Harbor role ARN",
        "text",
        "The IAM role Harbor's pods assume through IRSA.",
        v.check_role_arn,
        required=True,
        placeholder="arn:aws:iam::111122223333:role/HarborS3Role",
    ),
    FieldSpec(
        "bucket",
        "Bucket",
        "text",
        "Harbor's S3 storage bucket.",
        v.check_bucket,
        required=True,
    ),
    FieldSpec(
        "bucket_key_enabled",
        "S3 Bucket Keys",
        "bool",
        "Whether the bucket uses S3 Bucket Keys (changes the encryption "
        "context S3 sends).",
    ),
    FieldSpec(
        "admin_principals",
        "Key administrators",
        "list",
        "IAM roles that manage the key (roles preferred over users).",
        v.check_admin_arn,
        required=True,
    ),
    FieldSpec(
        "break_glass_principals",
        "Break-glass roles",
        "list",
        "Optional: roles that alone may replace the key policy.",
        v.check_admin_arn,
    ),
)

CONDITION_FIELDS = (
    FieldSpec(
        "principal_org_id",
        "Organization id",
        "text",
        "Optional: Harbor's calls must come from this AWS Organization.",
        v.check_org_id,
        placeholder="o-a1b2c3d4e5",
    ),
    FieldSpec(
        "source_vpce",
        "VPC endpoints",
        "list",
        "Optional: Harbor's own KMS calls only through these endpoints.",
        v.check_vpce_id,
    ),
    FieldSpec(
        "source_ip",
        "Source CIDRs",
        "list",
        "Optional: Harbor's own KMS calls only from these networks.",
        v.check_cidr,
    ),
    FieldSpec(
        "grants_for_aws_resources_only",
        "Grants only for AWS resources",
        "bool",
        "kms:GrantIsForAWSResource on every grant.",
    ),
    FieldSpec(
        "options.restrict_encryption_context_keys",
        "Only aws:s3:arn as context key",
        "bool",
        "ForAllValues on kms:EncryptionContextKeys, paired with a Null check.",
    ),
    FieldSpec(
        "options.encryption_context",
        "Encryption context form",
        "choice",
        "auto follows Bucket Keys; 'both' during a Bucket Keys transition.",
        choices=("auto", "object", "bucket", "both"),
    ),
    FieldSpec(
        "options.deny_decrypt_without_s3_context",
        "Blanket Decrypt deny (guide statement 6)",
        "bool",
        "Makes Decrypt S3-only for everyone, root and admins included.",
    ),
    FieldSpec(
        "options.s3_service_principal",
        "S3 service principal",
        "bool",
        "Only for S3 Inventory and similar; not needed for SSE-KMS.",
    ),
)

ROTATION_FIELDS = (
    FieldSpec(
        "rotation_period_days",
        "Rotation period (days)",
        "int",
        "90 to 2560 days; the first rotation is one period after enabling.",
        v.check_rotation_days,
    ),
)

MONITORING_FIELDS = (
    FieldSpec(
        "alarm_email",
        "Alarm e-mail",
        "text",
        "Where alarm notifications go (SNS e-mail subscription).",
    ),
)


@dataclass(frozen=True)
class Step:
    """One section of the guide as a step of the wizard."""

    id: str
    title: str
    guide_section: str
    summary: str
    fields: tuple[FieldSpec, ...] = ()


STEPS: tuple[Step, ...] = (
    Step(
        "prerequisites",
        "Prerequisites",
        "Prerequisites",
        "Who you are in AWS, the region, and which permissions are missing.",
    ),
    Step(
        "environment",
        "Environment values",
        "Environment Variables",
        "The account, key, Harbor role, bucket and administrators.",
        ENVIRONMENT_FIELDS,
    ),
    Step(
        "understand",
        "Understanding key policies",
        "Understanding KMS Key Policies",
        "The key's current policy, statement by statement, and its lint findings.",
    ),
    Step(
        "design",
        "Least-privilege design",
        "Least-Privilege Key Policy Design",
        "The hardened policy, its diff against the current one, and the "
        "simulation of the requests that matter.",
    ),
    Step(
        "conditions",
        "Advanced conditions",
        "Advanced Condition Keys",
        "Organization, VPC endpoints, source networks, grants and context keys.",
        CONDITION_FIELDS,
    ),
    Step(
        "rotation",
        "Key rotation",
        "Key Rotation Configuration",
        "Rotation status, next rotation date and the period.",
        ROTATION_FIELDS,
    ),
    Step(
        "monitoring",
        "Monitoring and auditing",
        "Monitoring and Auditing",
        "Trails, metric filters, alarms, Config rule and dashboard.",
        MONITORING_FIELDS,
    ),
    Step(
        "apply",
        "Apply",
        "Key Policy Validation",
        "The plan, a backup of what changes, and rollback.",
    ),
    Step(
        "checklist",
        "Security checklist",
        "Security Checklist",
        "Every item checked live against AWS, with evidence.",
    ),
    Step(
        "troubleshoot",
        "Troubleshooting",
        "Troubleshooting",
        "Find the cause of a guide symptom or a failed request; changes nothing.",
    ),
    Step(
        "export",
        "Export",
        "Summary",
        "The runbook and the policy as JSON, Terraform or CloudFormation.",
    ),
)

STEP_IDS = tuple(step.id for step in STEPS)


def step(step_id: str) -> Step:
    """The step with ``step_id``; KeyError for an unknown id."""
    for candidate in STEPS:
        if candidate.id == step_id:
            return candidate
    raise KeyError(step_id)


def field_problems(fields: tuple[FieldSpec, ...], values: Values) -> dict[str, str]:
    """Messages for the fields of a step whose current values are invalid."""
    problems = {}
    for spec in fields:
        message = spec.check(spec.format(values)) if spec.kind != "bool" else None
        if message:
            problems[spec.name] = message
    return problems


def step_state(step_id: str, values: Values, visited: Mapping[str, bool]) -> StepState:
    """The sidebar state of a step: from its fields and whether it was visited.

    Steps without fields are done once visited; steps with fields need attention
    while any field is invalid.
    """
    spec = step(step_id)
    if not visited.get(step_id):
        return "not_started"
    if spec.fields and field_problems(spec.fields, values):
        return "needs_attention"
    return "done"


def default_values() -> Values:
    """Values a new session starts from."""
    return Values(options=PolicyOptions())
