"""The requests that matter, replayed against a key policy.

Harbor's own S3 operations become the KMS requests S3 makes for it (S3 calls KMS
with Harbor's identity through a forward access session, correction 3), followed by
direct use, strangers and administrators. Each scenario carries what the hardened
design expects for the chosen options, so a generated policy passes them all and
the guide's policy shows exactly where it breaks Harbor.

How S3 calls KMS for SSE-KMS (actions and encryption context):
https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from wizard.core.arn import parse_arn
from wizard.core.policy.simulate import Evaluator, Request, Result
from wizard.core.regions import s3_via_service
from wizard.core.values import Values

Expect = Literal["allow", "deny"]
Group = Literal["harbor-s3", "direct-use", "strangers", "administrators"]

STRANGER_ACCOUNT = "999988887777"
_KMS_ALL: Mapping[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
}


@dataclass(frozen=True)
class Scenario:
    """One request and the decision the hardened design expects for it."""

    id: str
    group: Group
    title: str
    request: Request
    expect: Expect
    why: str


@dataclass(frozen=True)
class Outcome:
    """A scenario's verdict against one policy."""

    scenario: Scenario
    result: Result

    @property
    def ok(self) -> bool:
        allowed = self.result.decision == "allow"
        return allowed == (self.scenario.expect == "allow")


def harbor_session_arn(values: Values) -> str:
    """The assumed-role session ARN Harbor's pods call AWS with (IRSA)."""
    arn = parse_arn(values.harbor_role_arn)
    name = arn.resource_name if arn else "HarborS3Role"
    account = arn.account if arn else values.account_id
    return f"arn:{values.partition}:sts::{account}:assumed-role/{name}/harbor-registry"


def s3_context(
    values: Values, context_arn: str, *, via: str | None = None
) -> dict[str, Any]:
    """The request context of a KMS call S3 makes for Harbor."""
    context: dict[str, Any] = {
        "kms:ViaService": via or values.via_service,
        "kms:CallerAccount": values.account_id,
        "kms:EncryptionContext:aws:s3:arn": context_arn,
        "kms:EncryptionContextKeys": ["aws:s3:arn"],
        "aws:ViaAWSService": "true",
        "aws:CalledVia": ["s3.amazonaws.com"],
    }
    if values.principal_org_id:
        context["aws:PrincipalOrgID"] = values.principal_org_id
    return context


def _network(values: Values) -> dict[str, Any]:
    """Network keys of a caller inside the configured networks."""
    context: dict[str, Any] = {}
    if values.source_vpce:
        context["aws:SourceVpce"] = values.source_vpce[0]
    elif values.source_ip:
        net = ipaddress.ip_network(values.source_ip[0])
        # hosts() is a list for /32 and /128 networks, a generator otherwise.
        first = next(iter(net.hosts()), None)
        context["aws:SourceIp"] = str(first or net.network_address)
    return context


def _org(values: Values) -> dict[str, Any]:
    return (
        {"aws:PrincipalOrgID": values.principal_org_id}
        if values.principal_org_id
        else {}
    )


def scenario_set(values: Values) -> list[Scenario]:
    """Every scenario for ``values``, grouped as the report shows them."""
    return [
        *_harbor_s3(values),
        *_direct_use(values),
        *_strangers(values),
        *_administrators(values),
    ]


def _harbor_request(values: Values, action: str, context: dict[str, Any]) -> Request:
    return Request(
        principal=harbor_session_arn(values),
        action=action,
        resource=values.key_arn,
        context=context,
        identity_policies=(),
        identity_policies_known=True,
    )


def _harbor_s3(values: Values) -> list[Scenario]:
    bucket_keys = values.bucket_key_enabled
    obj = f"{values.bucket_arn}/v2/library/nginx/blobs/sha256/3f"
    current = values.bucket_arn if bucket_keys else obj
    form = "the bucket ARN (Bucket Keys on)" if bucket_keys else "the object ARN"
    why = f"S3 calls KMS for Harbor with {form} as encryption context."
    ops = [
        ("upload", "Harbor pushes a layer (PutObject)", "kms:GenerateDataKey"),
        ("download", "Harbor pulls a layer (GetObject)", "kms:Decrypt"),
        ("multipart-start", "Multipart upload starts", "kms:GenerateDataKey"),
        ("multipart-part", "Multipart upload parts and completion", "kms:Decrypt"),
        ("copy-read", "CopyObject reads the source", "kms:Decrypt"),
        ("copy-write", "CopyObject writes the copy", "kms:GenerateDataKey"),
    ]
    scenarios = [
        Scenario(
            f"harbor-{op}",
            "harbor-s3",
            title,
            _harbor_request(values, action, s3_context(values, current)),
            "allow",
            why,
        )
        for op, title, action in ops
    ]
    if values.source_vpce or values.source_ip:
        context = {**s3_context(values, current), **_network(values)}
        scenarios.append(
            Scenario(
                "harbor-upload-network-keys",
                "harbor-s3",
                "Upload when S3 passes on the caller's network keys",
                _harbor_request(values, "kms:GenerateDataKey", context),
                "allow",
                "Whether S3's call carries aws:SourceVpce/aws:SourceIp is not "
                "reliably documented (correction 5); Harbor must work either way.",
            )
        )
    if bucket_keys:
        both = values.context_form == "both"
        scenarios.append(
            Scenario(
                "harbor-download-pre-bucket-key",
                "harbor-s3",
                "Pull an object written before Bucket Keys were enabled",
                _harbor_request(values, "kms:Decrypt", s3_context(values, obj)),
                "allow" if both else "deny",
                "Objects written before Bucket Keys were on keep the object ARN as "
                "context. "
                + (
                    "The policy admits both forms."
                    if both
                    else "With encryption_context = 'bucket' they cannot be "
                    "read; choose 'both' while such objects exist."
                ),
            )
        )
    return scenarios


def _direct_use(values: Values) -> list[Scenario]:
    key = values.key_arn
    session = harbor_session_arn(values)
    other_region = "us-west-2" if values.region != "us-west-2" else "us-east-1"
    scenarios = [
        Scenario(
            "harbor-direct-decrypt",
            "direct-use",
            "Harbor's role calls kms:Decrypt directly",
            Request(session, "kms:Decrypt", key, _org(values), (), True),
            "deny",
            "Direct use bypasses S3: stolen credentials must not decrypt.",
        ),
        Scenario(
            "harbor-direct-generate",
            "direct-use",
            "Harbor's role calls kms:GenerateDataKey directly",
            Request(session, "kms:GenerateDataKey", key, _org(values), (), True),
            "deny",
            "Direct use bypasses S3.",
        ),
        Scenario(
            "harbor-other-bucket",
            "direct-use",
            "Harbor's role uses the key through S3 for another bucket",
            _harbor_request(
                values,
                "kms:GenerateDataKey",
                s3_context(values, "arn:aws:s3:::some-other-bucket"),
            ),
            "deny",
            "The encryption context binds the key to Harbor's bucket.",
        ),
        Scenario(
            "harbor-other-region",
            "direct-use",
            f"Harbor's role uses the key through S3 in {other_region}",
            _harbor_request(
                values,
                "kms:Decrypt",
                s3_context(values, values.bucket_arn, via=s3_via_service(other_region)),
            ),
            "deny",
            "kms:ViaService names S3 in the bucket's region only.",
        ),
        Scenario(
            "harbor-describe-key",
            "direct-use",
            "Harbor's role calls kms:DescribeKey",
            Request(
                session,
                "kms:DescribeKey",
                key,
                {**_org(values), **_network(values)},
                (),
                True,
            ),
            "allow" if values.options.harbor_describe_key else "deny",
            "DescribeKey reads metadata only; it is allowed, from Harbor's own "
            "network, when the harbor_describe_key option is on.",
        ),
    ]
    if values.options.deny_direct_use:
        scenarios.append(
            Scenario(
                "harbor-direct-with-broad-iam",
                "direct-use",
                "Harbor's role decrypts directly with an IAM policy allowing kms:*",
                Request(session, "kms:Decrypt", key, _org(values), (_KMS_ALL,), True),
                "deny",
                "The explicit Deny wins over any IAM policy or grant.",
            )
        )
    return scenarios


def _strangers(values: Values) -> list[Scenario]:
    key = values.key_arn
    part = values.partition
    account = values.account_id
    other_role = f"arn:{part}:iam::{account}:role/SomeOtherRole"
    stranger = f"arn:{part}:iam::{STRANGER_ACCOUNT}:role/ExternalRole"
    delegated = values.options.root_delegation
    blanket = values.options.deny_decrypt_without_s3_context
    scenarios = [
        Scenario(
            "other-role-no-iam",
            "strangers",
            "Another role in the account, with no KMS permissions in IAM",
            Request(other_role, "kms:Decrypt", key, _org(values), (), True),
            "deny",
            "Nobody the key policy does not name, or IAM does not allow.",
        ),
        Scenario(
            "other-role-iam-allows",
            "strangers",
            "Another role in the account whose IAM policy allows kms:*",
            Request(
                other_role, "kms:GenerateDataKey", key, _org(values), (_KMS_ALL,), True
            ),
            "allow" if delegated else "deny",
            "The root statement lets IAM policies in the account grant use "
            "(correction 6): IAM decides, so review who has kms:* in IAM."
            if delegated
            else "Without the root statement IAM policies grant nothing.",
        ),
        Scenario(
            "other-account-role",
            "strangers",
            "A role in another account whose IAM policy allows kms:*",
            Request(stranger, "kms:Decrypt", key, {}, (_KMS_ALL,), True),
            "deny",
            "Cross-account use needs the key policy to name the account.",
        ),
        Scenario(
            "other-account-via-s3",
            "strangers",
            "A role in another account through S3 with Harbor's bucket context",
            Request(
                stranger,
                "kms:Decrypt",
                key,
                {
                    **s3_context(values, values.bucket_arn),
                    "kms:CallerAccount": STRANGER_ACCOUNT,
                    "aws:PrincipalOrgID": "o-zzzzzzzzzz",
                },
                (_KMS_ALL,),
                True,
            ),
            "deny",
            "The context alone does not admit other principals.",
        ),
        Scenario(
            "other-service-principal",
            "strangers",
            "Another AWS service principal (ec2.amazonaws.com)",
            Request("ec2.amazonaws.com", "kms:Decrypt", key, {}, (), True),
            "deny",
            "No service principal is named for SSE-KMS (correction 3).",
        ),
        Scenario(
            "s3-service-principal",
            "strangers",
            "The S3 service principal itself (S3 Inventory)",
            Request(
                "s3.amazonaws.com",
                "kms:GenerateDataKey",
                key,
                {"aws:SourceAccount": account, "aws:SourceArn": values.bucket_arn},
                (),
                True,
            ),
            "allow" if values.options.s3_service_principal else "deny",
            "Needed only for S3 features that write reports with the key.",
        ),
    ]
    if delegated:
        scenarios.append(
            Scenario(
                "other-role-iam-decrypt-direct",
                "strangers",
                "Another role whose IAM policy allows kms:* decrypts directly",
                Request(
                    other_role, "kms:Decrypt", key, _org(values), (_KMS_ALL,), True
                ),
                "deny" if blanket else "allow",
                "The blanket Decrypt Deny makes Decrypt S3-only for everyone "
                "(correction 8)."
                if blanket
                else "IAM delegation lets such a role decrypt; turn on "
                "deny_decrypt_without_s3_context to make Decrypt S3-only.",
            )
        )
    return scenarios


def _administrators(values: Values) -> list[Scenario]:
    key = values.key_arn
    glass = values.break_glass_principals
    scenarios: list[Scenario] = []
    for admin in values.admin_principals:
        name = admin.rsplit("/", 1)[-1]

        def req(
            action: str, extra: Mapping[str, Any] | None = None, who: str = admin
        ) -> Request:
            return Request(
                who, action, key, {**_org(values), **(extra or {})}, (), True
            )

        scenarios += [
            Scenario(
                f"admin-{name}-put-policy",
                "administrators",
                f"{name} replaces the key policy",
                req("kms:PutKeyPolicy"),
                "deny" if glass else "allow",
                "Policy changes belong to the break-glass role."
                if glass
                else "Administrators must keep the key manageable (no lockout).",
            ),
            Scenario(
                f"admin-{name}-describe",
                "administrators",
                f"{name} describes the key",
                req("kms:DescribeKey"),
                "allow",
                "Administrators must see the key.",
            ),
            Scenario(
                f"admin-{name}-rotation",
                "administrators",
                f"{name} enables rotation",
                req("kms:EnableKeyRotation"),
                "allow",
                "Administrators manage rotation.",
            ),
            Scenario(
                f"admin-{name}-decrypt",
                "administrators",
                f"{name} decrypts directly",
                req("kms:Decrypt"),
                "deny",
                "Administrators manage the key but do not use it.",
            ),
            Scenario(
                f"admin-{name}-grant-self",
                "administrators",
                f"{name} creates a grant for itself",
                req("kms:CreateGrant", {"kms:GrantIsForAWSResource": "false"}),
                "deny",
                "A grant for itself would give an administrator use of the "
                "key (correction 9).",
            ),
        ]
    for principal in glass:
        name = principal.rsplit("/", 1)[-1]
        scenarios.append(
            Scenario(
                f"break-glass-{name}-put-policy",
                "administrators",
                f"{name} (break-glass) replaces the key policy",
                Request(principal, "kms:PutKeyPolicy", key, _org(values), (), True),
                "allow",
                "The break-glass role must always be able to repair the key.",
            )
        )
    if values.options.root_delegation:
        scenarios.append(
            Scenario(
                "account-root-put-policy",
                "administrators",
                "The account's root user replaces the key policy",
                Request(values.root_arn, "kms:PutKeyPolicy", key, {}, (), True),
                "allow",
                "The root statement keeps the account able to repair the key.",
            )
        )
    return scenarios


def run_scenarios(policy: Mapping[str, Any], values: Values) -> list[Outcome]:
    """Evaluate every scenario for ``values`` against ``policy``."""
    evaluator = Evaluator(policy)
    return [Outcome(s, evaluator.evaluate(s.request)) for s in scenario_set(values)]


def outcome_to_json(outcome: Outcome) -> dict[str, Any]:
    """A JSON-ready summary of one outcome."""
    return {
        "id": outcome.scenario.id,
        "group": outcome.scenario.group,
        "title": outcome.scenario.title,
        "expect": outcome.scenario.expect,
        "decision": outcome.result.decision,
        "ok": outcome.ok,
        "statements": [ref.label() for ref in outcome.result.statements],
        "why": outcome.scenario.why,
        "reasons": list(outcome.result.reasons),
    }
