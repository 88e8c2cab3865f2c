"""What the key policy linter knows about KMS and IAM, as data.

Kept apart from the rules so a reader can check each list against its AWS page:

- KMS actions: the KMS API reference's operation list
  (https://docs.aws.amazon.com/kms/latest/APIReference/API_Operations.html) with
  ``ReEncrypt`` authorised as ``ReEncryptFrom`` and ``ReEncryptTo``, plus the
  permission-only ``SynchronizeMultiRegionKey``
  https://docs.aws.amazon.com/kms/latest/developerguide/kms-api-permissions-reference.html
- Which actions carry an encryption context: the "API operations" column of
  ``kms:EncryptionContext:context-key`` and ``kms:EncryptionContextKeys`` in
  https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
- Condition operators:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
- Global condition keys:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
"""

from __future__ import annotations

# Documentation roots, so rule help links stay within the line length.
KMS_GUIDE = "https://docs.aws.amazon.com/kms/latest/developerguide/"
KMS_API = "https://docs.aws.amazon.com/kms/latest/APIReference/"
IAM_GUIDE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
S3_GUIDE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/"

# TODO: KMS adds operations now and then (Encapsulate, Decapsulate and
# GetKeyLastUsage are recent); a new one is reported as an unknown action, a
# warning whose message says to check the API reference.
KMS_ACTIONS: tuple[str, ...] = (
    "CancelKeyDeletion",
    "ConnectCustomKeyStore",
    "CreateAlias",
    "CreateCustomKeyStore",
    "CreateGrant",
    "CreateKey",
    "Decapsulate",
    "Decrypt",
    "DeleteAlias",
    "DeleteCustomKeyStore",
    "DeleteImportedKeyMaterial",
    "DeriveSharedSecret",
    "DescribeCustomKeyStores",
    "DescribeKey",
    "DisableKey",
    "DisableKeyRotation",
    "DisconnectCustomKeyStore",
    "EnableKey",
    "EnableKeyRotation",
    "Encapsulate",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "GenerateRandom",
    "GetKeyLastUsage",
    "GetKeyPolicy",
    "GetKeyRotationStatus",
    "GetParametersForImport",
    "GetPublicKey",
    "ImportKeyMaterial",
    "ListAliases",
    "ListGrants",
    "ListKeyPolicies",
    "ListKeyRotations",
    "ListKeys",
    "ListResourceTags",
    "ListRetirableGrants",
    "PutKeyPolicy",
    "ReEncryptFrom",
    "ReEncryptTo",
    "ReplicateKey",
    "RetireGrant",
    "RevokeGrant",
    "RotateKeyOnDemand",
    "ScheduleKeyDeletion",
    "Sign",
    "SynchronizeMultiRegionKey",
    "TagResource",
    "UntagResource",
    "UpdateAlias",
    "UpdateCustomKeyStore",
    "UpdateKeyDescription",
    "UpdatePrimaryRegion",
    "Verify",
    "VerifyMac",
)

# The cryptographic use S3 makes of the key, and what the guide's Deny covers.
CRYPTO_ACTIONS: frozenset[str] = frozenset(
    {
        "Encrypt",
        "Decrypt",
        "ReEncryptFrom",
        "ReEncryptTo",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
    }
)

# Correction 2: only these carry an encryption context (conditions-kms.html,
# "API operations" of kms:EncryptionContext:context-key); any other action in a
# statement that requires a context can never be allowed by it.
CONTEXT_ACTIONS: frozenset[str] = CRYPTO_ACTIONS | {"CreateGrant"}

# Actions that change the key, its policy, grants or aliases: what a workload
# role never needs (guide, Common Misconfigurations 4; correction 9).
ADMIN_ACTIONS: frozenset[str] = frozenset(
    {
        "CancelKeyDeletion",
        "CreateAlias",
        "CreateGrant",
        "DeleteAlias",
        "DeleteImportedKeyMaterial",
        "DisableKey",
        "DisableKeyRotation",
        "EnableKey",
        "EnableKeyRotation",
        "ImportKeyMaterial",
        "PutKeyPolicy",
        "ReplicateKey",
        "RevokeGrant",
        "RotateKeyOnDemand",
        "ScheduleKeyDeletion",
        "TagResource",
        "UntagResource",
        "UpdateAlias",
        "UpdateKeyDescription",
        "UpdatePrimaryRegion",
    }
)

# What Harbor's role needs (correction 2) plus DescribeKey, which some SDKs call.
HARBOR_ACTIONS: frozenset[str] = frozenset(
    {"Decrypt", "GenerateDataKey", "DescribeKey"}
)

STRING_OPERATORS = frozenset(
    {
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
    }
)
NUMERIC_OPERATORS = frozenset(
    {
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
    }
)
DATE_OPERATORS = frozenset(
    {
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
    }
)
ARN_OPERATORS = frozenset({"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"})
IP_OPERATORS = frozenset({"IpAddress", "NotIpAddress"})
BASE_OPERATORS: frozenset[str] = (
    STRING_OPERATORS
    | NUMERIC_OPERATORS
    | DATE_OPERATORS
    | ARN_OPERATORS
    | IP_OPERATORS
    | {"Bool", "BinaryEquals", "Null"}
)
# A missing key makes these true (condition operators page, "Important" note).
NEGATED_OPERATORS = frozenset(
    {
        "StringNotEquals",
        "StringNotEqualsIgnoreCase",
        "StringNotLike",
        "NumericNotEquals",
        "DateNotEquals",
        "NotIpAddress",
        "ArnNotEquals",
        "ArnNotLike",
    }
)
# Only these compare with * and ? as wildcards; the others compare literally.
WILDCARD_OPERATORS = frozenset({"StringLike", "StringNotLike", "ArnLike", "ArnNotLike"})
LITERAL_STRING_OPERATORS = frozenset(
    {
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
    }
)
SET_OPERATORS = ("ForAllValues", "ForAnyValue")

KMS_CONDITION_KEYS = frozenset(
    k.lower()
    for k in (
        "kms:BypassPolicyLockoutSafetyCheck",
        "kms:CallerAccount",
        "kms:CustomerMasterKeySpec",
        "kms:CustomerMasterKeyUsage",
        "kms:DataKeyPairSpec",
        "kms:EncryptionAlgorithm",
        "kms:EncryptionContextKeys",
        "kms:ExpirationModel",
        "kms:GrantConstraintType",
        "kms:GrantIsForAWSResource",
        "kms:GrantOperations",
        "kms:GranteePrincipal",
        "kms:KeyAgreementAlgorithm",
        "kms:KeyOrigin",
        "kms:KeySpec",
        "kms:KeyUsage",
        "kms:MacAlgorithm",
        "kms:MessageType",
        "kms:MultiRegion",
        "kms:MultiRegionKeyType",
        "kms:PrimaryRegion",
        "kms:ReEncryptOnSameKey",
        "kms:RecipientAttestation:ImageSha384",
        "kms:RequestAlias",
        "kms:ResourceAliases",
        "kms:ReplicaRegion",
        "kms:RetiringPrincipal",
        "kms:RotationPeriodInDays",
        "kms:ScheduleKeyDeletionPendingWindowInDays",
        "kms:SigningAlgorithm",
        "kms:ValidTo",
        "kms:ViaService",
        "kms:WrappingAlgorithm",
        "kms:WrappingKeySpec",
    )
)
KMS_CONDITION_PREFIXES = ("kms:encryptioncontext:", "kms:recipientattestation:")

GLOBAL_CONDITION_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:AssumedRoot",
        "aws:CalledVia",
        "aws:CalledViaFirst",
        "aws:CalledViaLast",
        "aws:ChatbotSourceArn",
        "aws:CurrentTime",
        "aws:Ec2InstanceSourcePrivateIPv4",
        "aws:Ec2InstanceSourceVpc",
        "aws:EpochTime",
        "aws:FederatedProvider",
        "aws:MultiFactorAuthAge",
        "aws:MultiFactorAuthPresent",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalIsAWSService",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalServiceName",
        "aws:PrincipalServiceNamesList",
        "aws:PrincipalType",
        "aws:Referer",
        "aws:RequestedRegion",
        "aws:ResourceAccount",
        "aws:ResourceOrgID",
        "aws:ResourceOrgPaths",
        "aws:SecureTransport",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceIdentity",
        "aws:SourceIp",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:SourceVpc",
        "aws:SourceVpcArn",
        "aws:SourceVpce",
        "aws:TagKeys",
        "aws:TokenIssueTime",
        "aws:UserAgent",
        "aws:userid",
        "aws:username",
        "aws:ViaAWSService",
        "aws:VpceAccount",
        "aws:VpceOrgID",
        "aws:VpceOrgPaths",
        "aws:VpcSourceIp",
    )
)
GLOBAL_CONDITION_PREFIXES = ("aws:requesttag/", "aws:resourcetag/", "aws:principaltag/")

# Keys with more than one value in a request: the only ones where ForAllValues /
# ForAnyValue mean anything (conditions-kms.html, "Using set operators").
MULTIVALUED_KEYS = frozenset(
    k.lower()
    for k in (
        "kms:EncryptionContextKeys",
        "kms:GrantOperations",
        "kms:ResourceAliases",
        "aws:CalledVia",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalServiceNamesList",
        "aws:ResourceOrgPaths",
        "aws:SourceOrgPaths",
        "aws:TagKeys",
        "aws:VpceOrgPaths",
    )
)

# Keys that gate who the caller is: they make a wildcard principal safe.
CALLER_SCOPING_KEYS = frozenset(
    k.lower()
    for k in (
        "kms:CallerAccount",
        "aws:PrincipalAccount",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalArn",
        "aws:SourceAccount",
        "aws:SourceOrgID",
        "aws:SourceArn",
    )
)
NETWORK_KEYS = frozenset(
    k.lower() for k in ("aws:SourceIp", "aws:SourceVpce", "aws:SourceVpc")
)
ELEMENTS_POLICY = ("Version", "Id", "Statement")
ELEMENTS_STATEMENT = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")
FEDERATED_PROVIDERS = frozenset(
    {
        "cognito-identity.amazonaws.com",
        "www.amazon.com",
        "graph.facebook.com",
        "accounts.google.com",
    }
)

# The guide's template placeholders and shell variables (unfilled-placeholder).
PLACEHOLDER_WORDS = (
    "ACCOUNT_ID",
    "AWS_ACCOUNT_ID",
    "REGION",
    "AWS_REGION",
    "BUCKET_NAME",
    "S3_BUCKET_NAME",
    "KEY_ID",
    "KMS_KEY_ID",
    "HARBOR_ROLE_ARN",
    "ROLE_NAME",
)
