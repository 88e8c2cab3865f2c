"""Render a key policy as JSON, a Terraform resource or a CloudFormation snippet."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from wizard.core.values import Values

Format = Literal["json", "terraform", "cloudformation"]
FORMATS: tuple[Format, ...] = ("json", "terraform", "cloudformation")


def to_json(policy: Mapping[str, Any]) -> str:
    """The policy as indented JSON, ending in a newline."""
    return json.dumps(policy, indent=2) + "\n"


def to_terraform(policy: Mapping[str, Any], values: Values) -> str:
    """An ``aws_kms_key_policy`` resource for the configured key.

    JSON is a valid HCL expression, so the policy goes into ``jsonencode`` as is;
    only template sequences are escaped, because Terraform would otherwise
    interpolate policy variables such as ``${aws:username}``.
    https://developer.hashicorp.com/terraform/language/expressions/strings#escape-sequences
    """
    body = json.dumps(policy, indent=2).replace("${", "$${").replace("%{", "%%{")
    body = body.replace("\n", "\n  ")
    return (
        'resource "aws_kms_key_policy" "harbor" {\n'
        f"  key_id = {json.dumps(values.bare_key_id)}\n"
        f"  policy = jsonencode({body})\n"
        "}\n"
    )


def to_cloudformation(policy: Mapping[str, Any], values: Values) -> str:
    """A CloudFormation template fragment with an ``AWS::KMS::Key`` resource.

    CloudFormation takes JSON templates, so the fragment is JSON and can be merged
    into an existing template's ``Resources``.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-kms-key.html
    """
    resource = {
        "Type": "AWS::KMS::Key",
        "Properties": {
            "Description": "Harbor registry S3 encryption key",
            "EnableKeyRotation": True,
            "RotationPeriodInDays": values.rotation_period_days,
            "KeyPolicy": policy,
        },
    }
    return json.dumps({"Resources": {"HarborKmsKey": resource}}, indent=2) + "\n"


def render(policy: Mapping[str, Any], values: Values, fmt: Format) -> str:
    """The policy in ``fmt``."""
    if fmt == "terraform":
        return to_terraform(policy, values)
    if fmt == "cloudformation":
        return to_cloudformation(policy, values)
    return to_json(policy)
