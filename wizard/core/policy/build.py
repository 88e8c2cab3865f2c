"""Build the hardened key policy from the values, as data.

Each statement follows the guide's intent (IAM delegation, administrators, Harbor's
use through S3 only, explicit denies) with every correction of
``shared/guide/CORRECTIONS.md`` applied. The numbers in comments are the points of
that file. Statements are built as dicts, never by text templating, so a value can
never break the JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wizard.core.values import Values

POLICY_ID = "harbor-kms-hardened"

# What S3 needs for SSE-KMS on Harbor's behalf (correction 2): GenerateDataKey
# for uploads, Decrypt for downloads and multipart uploads.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
HARBOR_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")

# Cryptographic use the Harbor role must never make directly.
DIRECT_USE_ACTIONS = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
)

# Administration without the escalation paths of the guide's list (correction 9):
# no kms:Create* (it includes CreateGrant), no kms:Put* wildcard.
ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)

BREAK_GLASS_ACTIONS = ("kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy")


@dataclass(frozen=True)
class GeneratedStatement:
    """A statement of the generated policy with the reason it exists."""

    sid: str
    body: dict[str, Any]
    reason: str
    guide_section: str
    corrections: tuple[int, ...] = ()


def build_statements(values: Values) -> list[GeneratedStatement]:
    """The statements of the hardened policy for ``values``, in policy order."""
    builders = (
        _root_delegation,
        _administration,
        _break_glass,
        _admin_grants,
        _harbor_use,
        _harbor_describe_key,
        _s3_service_principal,
        _deny_direct_use,
        _deny_outside_network,
        _deny_non_aws_grants,
        _deny_decrypt_without_context,
    )
    return [stmt for build in builders if (stmt := build(values)) is not None]


def build_policy(values: Values) -> dict[str, Any]:
    """The hardened key policy document for ``values``."""
    return {
        "Version": "2012-10-17",
        "Id": POLICY_ID,
        "Statement": [s.body for s in build_statements(values)],
    }


def _statement(
    sid: str,
    effect: str,
    principal: Any,
    actions: tuple[str, ...] | str,
    condition: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    action: Any = actions if isinstance(actions, str) else list(actions)
    if isinstance(action, list) and len(action) == 1:
        action = action[0]
    body: dict[str, Any] = {
        "Sid": sid,
        "Effect": effect,
        "Principal": principal,
        "Action": action,
        "Resource": "*",
    }
    if condition:
        body["Condition"] = condition
    return body


def _aws(principals: tuple[str, ...] | str) -> dict[str, Any]:
    if isinstance(principals, str):
        return {"AWS": principals}
    return {"AWS": principals[0] if len(principals) == 1 else list(principals)}


def _via(values: Values) -> str | list[str]:
    services = values.via_services
    return services[0] if len(services) == 1 else list(services)


def _managers(values: Values) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values.admin_principals))


def _root_delegation(values: Values) -> GeneratedStatement | None:
    if not values.options.root_delegation:
        return None
    sid = "EnableIAMPolicies"
    # Correction 6: no kms:CallerAccount here; the root principal already means
    # "this account's IAM policies decide", and a wrong value silently disables it.
    body = _statement(sid, "Allow", _aws(values.root_arn), "kms:*")
    return GeneratedStatement(
        sid,
        body,
        "Lets IAM policies in this account grant use of the key, as AWS's default "
        "key policy does. It does not give anyone access by itself, and it keeps "
        "the account able to repair the key policy.",
        "Understanding Each Statement: Statement 1",
        (6,),
    )


def _administration(values: Values) -> GeneratedStatement | None:
    admins = _managers(values)
    if not admins:
        return None
    actions: tuple[str, ...] = ADMIN_ACTIONS
    if values.break_glass_principals:
        # Policy changes go to the break-glass role only (correction 9).
        actions = tuple(a for a in actions if a != "kms:PutKeyPolicy")
    sid = "KeyAdministration"
    return GeneratedStatement(
        sid,
        _statement(sid, "Allow", _aws(admins), actions),
        "Lets the named administrators manage the key without using it. The "
        "actions are listed one by one: the guide's kms:Create* includes "
        "kms:CreateGrant and kms:Put* includes kms:PutKeyPolicy, with which an "
        "administrator can give itself any use of the key.",
        "Understanding Each Statement: Statement 2",
        (9,),
    )


def _break_glass(values: Values) -> GeneratedStatement | None:
    if not values.break_glass_principals:
        return None
    sid = "BreakGlassPolicyChange"
    return GeneratedStatement(
        sid,
        _statement(
            sid, "Allow", _aws(values.break_glass_principals), BREAK_GLASS_ACTIONS
        ),
        "Only the break-glass role may replace the key policy, so day-to-day "
        "administrators cannot widen their own access.",
        "Understanding Each Statement: Statement 2",
        (9, 10),
    )


def _admin_grants(values: Values) -> GeneratedStatement | None:
    admins = _managers(values)
    if not admins or not values.grants_for_aws_resources_only:
        return None
    sid = "AdminGrantsForAWSResourcesOnly"
    condition = {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    return GeneratedStatement(
        sid,
        _statement(sid, "Allow", _aws(admins), "kms:CreateGrant", condition),
        "Administrators may create grants only for AWS services integrated with "
        "KMS, never for themselves or another principal.",
        "Advanced Condition Keys: kms:GrantIsForAWSResource",
        (9,),
    )


def s3_context_condition(values: Values) -> dict[str, dict[str, Any]]:
    """The aws:s3:arn encryption context condition for the configured bucket.

    Correction 1: StringEquals compares literally, so the guide's object-ARN
    pattern must use StringLike; with Bucket Keys on, S3 sends the bucket ARN.
    """
    key = "kms:EncryptionContext:aws:s3:arn"
    bucket = values.bucket_arn
    form = values.context_form
    if form == "bucket":
        return {"StringEquals": {key: bucket}}
    if form == "object":
        return {"StringLike": {key: f"{bucket}/*"}}
    return {"StringLike": {key: [bucket, f"{bucket}/*"]}}


def _harbor_use(values: Values) -> GeneratedStatement:
    sid = "HarborUseThroughS3"
    condition: dict[str, dict[str, Any]] = {
        "StringEquals": {"kms:ViaService": _via(values)}
    }
    for operator, block in s3_context_condition(values).items():
        condition.setdefault(operator, {}).update(block)
    if values.principal_org_id:
        condition["StringEquals"]["aws:PrincipalOrgID"] = values.principal_org_id
    if values.options.restrict_encryption_context_keys:
        # Correction 4: ForAllValues is true on an empty set, so pair it with Null.
        condition["ForAllValues:StringEquals"] = {
            "kms:EncryptionContextKeys": ["aws:s3:arn"]
        }
        condition["Null"] = {"kms:EncryptionContextKeys": "false"}
    return GeneratedStatement(
        sid,
        _statement(
            sid, "Allow", _aws(values.harbor_role_arn), HARBOR_ACTIONS, condition
        ),
        "Lets Harbor's role encrypt and decrypt objects of its bucket, only when "
        f"S3 in {values.region} calls KMS for it. The encryption context is "
        f"matched in the form S3 sends ({_form_words(values)}).",
        "Understanding Each Statement: Statement 3",
        (1, 2, 3),
    )


def _form_words(values: Values) -> str:
    return {
        "bucket": "the bucket ARN, because S3 Bucket Keys are on",
        "object": "object ARNs, matched with StringLike",
        "both": "the bucket ARN or object ARNs, for a Bucket Keys transition",
    }[values.context_form]


def _harbor_describe_key(values: Values) -> GeneratedStatement | None:
    if not values.options.harbor_describe_key:
        return None
    sid = "HarborDescribeKey"
    # Correction 2: DescribeKey carries no encryption context, so it cannot live
    # in the statement above; S3 itself does not need it.
    return GeneratedStatement(
        sid,
        _statement(sid, "Allow", _aws(values.harbor_role_arn), "kms:DescribeKey"),
        "Lets Harbor's role read the key's metadata, which some SDKs check. It is "
        "a separate statement because DescribeKey carries no encryption context.",
        "Understanding Each Statement: Statement 3",
        (2,),
    )


def _s3_service_principal(values: Values) -> GeneratedStatement | None:
    if not values.options.s3_service_principal:
        return None
    sid = "AllowS3ServicePrincipal"
    condition = {
        "StringEquals": {"aws:SourceAccount": values.account_id},
        "ArnLike": {"aws:SourceArn": values.bucket_arn},
    }
    return GeneratedStatement(
        sid,
        _statement(
            sid, "Allow", {"Service": "s3.amazonaws.com"}, HARBOR_ACTIONS, condition
        ),
        "Lets S3 itself use the key for features such as S3 Inventory reports, "
        "scoped to this account and bucket. SSE-KMS does not need it: S3 calls "
        "KMS with the caller's own identity.",
        "Understanding Each Statement: Statement 4",
        (3,),
    )


def _deny_direct_use(values: Values) -> GeneratedStatement | None:
    if not values.options.deny_direct_use:
        return None
    sid = "DenyHarborDirectUse"
    # A missing kms:ViaService makes StringNotEquals true, so direct calls match.
    condition = {"StringNotEquals": {"kms:ViaService": _via(values)}}
    return GeneratedStatement(
        sid,
        _statement(
            sid, "Deny", _aws(values.harbor_role_arn), DIRECT_USE_ACTIONS, condition
        ),
        "Denies Harbor's role any cryptographic use of the key except through S3 "
        f"in {values.region}, even if an IAM policy or grant would allow it.",
        "Understanding Each Statement: Statement 5",
    )


def _deny_outside_network(values: Values) -> GeneratedStatement | None:
    if not (values.source_vpce or values.source_ip):
        return None
    sid = "DenyHarborOutsideNetwork"
    condition: dict[str, dict[str, Any]] = {}
    if values.source_vpce:
        condition["StringNotEquals"] = {"aws:SourceVpce": list(values.source_vpce)}
    if values.source_ip:
        condition["NotIpAddress"] = {"aws:SourceIp": list(values.source_ip)}
    # Correction 5: whether S3's forwarded call carries the network keys is not
    # reliably documented, so calls made by an AWS service are exempt.
    condition["BoolIfExists"] = {"aws:ViaAWSService": "false"}
    return GeneratedStatement(
        sid,
        _statement(sid, "Deny", _aws(values.harbor_role_arn), "kms:*", condition),
        "Denies Harbor's role any call it makes to KMS itself from outside the "
        "listed VPC endpoints or networks. Calls S3 makes on Harbor's behalf are "
        "exempt, because AWS does not reliably document whether they carry the "
        "network keys; limit S3 access by network in the bucket policy instead.",
        "Advanced Condition Keys: aws:SourceVpce, aws:SourceIp",
        (5,),
    )


def _deny_non_aws_grants(values: Values) -> GeneratedStatement | None:
    if not values.grants_for_aws_resources_only:
        return None
    sid = "DenyGrantsForNonAWSResources"
    condition = {"Bool": {"kms:GrantIsForAWSResource": "false"}}
    return GeneratedStatement(
        sid,
        _statement(sid, "Deny", "*", "kms:CreateGrant", condition),
        "No one, including principals allowed through IAM policies, may create a "
        "grant on this key except for an AWS service acting for them.",
        "Advanced Condition Keys: kms:GrantIsForAWSResource",
        (9,),
    )


def _deny_decrypt_without_context(values: Values) -> GeneratedStatement | None:
    if not values.options.deny_decrypt_without_s3_context:
        return None
    sid = "DenyDecryptWithoutS3Context"
    condition = {"Null": {"kms:EncryptionContext:aws:s3:arn": "true"}}
    return GeneratedStatement(
        sid,
        _statement(sid, "Deny", "*", "kms:Decrypt", condition),
        "Makes Decrypt S3-only for everyone: root, administrators and grants are "
        "bound too (correction 8). It does not cover GenerateDataKey, Encrypt or "
        "ReEncrypt, and never kms:PutKeyPolicy.",
        "Understanding Each Statement: Statement 6",
        (8,),
    )
