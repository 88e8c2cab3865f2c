"""Cross-resource: the key, the bucket, Harbor's chart and the policy agree.

Beyond the guide's checklist: a bucket can use only a key of its own region; S3
sends the bucket ARN as encryption context with Bucket Keys on and the object
ARN without (CORRECTIONS.md point 1); Harbor's chart must ask for this key.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html
https://distribution.github.io/distribution/storage-drivers/s3/
"""

from __future__ import annotations

from wizard.core.arn import parse_arn
from wizard.core.checklist.context import EvalContext, analysis_or_verdict
from wizard.core.checklist.evaluators import evaluator
from wizard.core.checklist.model import Verdict
from wizard.core.policy.lint_rules_conditions import via_service_parts
from wizard.core.policy.scenarios import harbor_session_arn, s3_context
from wizard.core.policy.simulate import Request
from wizard.core.snapshot import Bucket, BucketEncryption, KeyInfo, Read, Unknown


def refers_to_key(ref: str, key: KeyInfo, aliases: tuple[str, ...]) -> bool:
    """Whether a key id, key ARN, alias name or alias ARN names ``key``."""
    if ref in (key.arn, key.key_id):
        return True
    arn = parse_arn(ref)
    name = arn.resource if arn is not None and arn.service == "kms" else ref
    return name.startswith("alias/") and name in aliases


def names_key(ref: str, key: KeyInfo, aliases: Read[tuple[str, ...]]) -> bool | Unknown:
    """Whether ``ref`` names ``key``; Unknown when only unread aliases could tell."""
    if ref in (key.arn, key.key_id):
        return True
    if isinstance(aliases, Unknown):
        return aliases if "alias/" in ref else False
    return refers_to_key(ref, key, aliases)


def _bucket(ctx: EvalContext) -> Bucket | Verdict:
    bucket = ctx.snapshot.bucket
    if isinstance(bucket, Unknown):
        return ctx.unknown(bucket)
    return bucket


@evaluator("viaservice_region_matches_bucket")
def viaservice_region_matches_bucket(ctx: EvalContext) -> Verdict:
    """The key, the bucket and every ``kms:ViaService`` for S3 share one region."""
    bucket = _bucket(ctx)
    if isinstance(bucket, Verdict):
        return bucket
    if isinstance(bucket.region, Unknown):
        return ctx.unknown(bucket.region)
    analysis = analysis_or_verdict(ctx)
    if isinstance(analysis, Verdict):
        return analysis
    region = bucket.region
    key = ctx.snapshot.key
    key_region = (
        key.arn.split(":")[3] if isinstance(key, KeyInfo) else ctx.values.region
    )
    problems = []
    if key_region != region:
        problems.append(
            f"the key is in {key_region} but bucket {bucket.name} is in {region}; "
            "S3 can only use a key of the bucket's own region"
        )
    vias = sorted(
        {
            value
            for stmt in analysis.view.statements
            for cond in stmt.conds("kms:viaservice")
            for value in cond.texts
            if (parts := via_service_parts(value)) and parts[0] == "s3"
        }
    )
    problems += [
        f"the key policy names {value}, not S3 in {region}"
        for value in vias
        if (parts := via_service_parts(value)) and parts[1] != region
    ]
    evidence = ctx.evidence(
        "s3:GetBucketLocation", bucket_region=region, key_region=key_region, via=vias
    )
    if problems:
        return ctx.failed(f"{'; '.join(problems)}.".capitalize(), evidence)
    return ctx.passed(
        f"Key, bucket and kms:ViaService ({', '.join(vias) or 'none for S3'}) are "
        f"all in {region}.",
        evidence,
    )


@evaluator("harbor_values_key")
def harbor_values_key(ctx: EvalContext) -> Verdict:
    """Harbor's values.yaml (``--harbor-values``) encrypts with this key."""
    given = ctx.snapshot.harbor_values_key
    if given is None:
        return ctx.unknown(
            "Not configured: run with --harbor-values FILE (Harbor's values.yaml) "
            "to check which key Harbor asks S3 to use."
        )
    if isinstance(given, Unknown):
        return ctx.unknown(given)
    key = ctx.snapshot.key
    if isinstance(key, Unknown):
        return ctx.unknown(key)
    encrypt = ctx.snapshot.harbor_values_encrypt
    evidence = ctx.evidence("helm:values.yaml", encrypt=encrypt, keyid=given)
    # What the distribution S3 driver asks S3 for: see wizard.core.helm.
    if not encrypt:
        return ctx.failed(
            "Harbor's s3.encrypt is not true, so its S3 driver sends no "
            "encryption header and ignores s3.keyid: each object gets whatever "
            "the bucket's default encryption is when it is written. Set "
            f"s3.encrypt: true and s3.keyid: {key.arn} so Harbor names this key "
            "on every upload.",
            evidence,
        )
    if not given:
        return ctx.failed(
            "Harbor's s3.encrypt is true but s3.keyid is empty, so its S3 driver "
            "asks for SSE-S3 (AES256) on every upload, which overrides the "
            f"bucket's default SSE-KMS: new objects are not encrypted with "
            f"{key.arn}. Set s3.keyid to the key's ARN.",
            evidence,
        )
    named = names_key(given, key, ctx.snapshot.aliases)
    if isinstance(named, Unknown):
        return ctx.unknown(named, evidence)
    if named:
        return ctx.passed(f"Harbor's s3.keyid {given} is this key.", evidence)
    return ctx.failed(
        f"Harbor's s3.keyid is {given}, not this key ({key.arn}).", evidence
    )


@evaluator("bucket_default_encryption_key")
def bucket_default_encryption_key(ctx: EvalContext) -> Verdict:
    """The bucket's default encryption is SSE-KMS with this key."""
    bucket = _bucket(ctx)
    if isinstance(bucket, Verdict):
        return bucket
    encryption, key = bucket.encryption, ctx.snapshot.key
    if isinstance(encryption, Unknown):
        return ctx.unknown(encryption)
    if isinstance(key, Unknown):
        return ctx.unknown(key)
    evidence = ctx.evidence(
        "s3:GetEncryptionConfiguration",
        SSEAlgorithm=encryption.algorithm if encryption else None,
        KMSMasterKeyID=encryption.kms_key_id if encryption else None,
    )
    if encryption is None or not encryption.algorithm.startswith("aws:kms"):
        used = encryption.algorithm if encryption else "no default encryption rule"
        return ctx.failed(
            f"Bucket {bucket.name} uses {used}, not SSE-KMS with this key.", evidence
        )
    if not encryption.kms_key_id:
        return ctx.failed(
            f"Bucket {bucket.name} uses SSE-KMS with the AWS managed key aws/s3, "
            "not this key.",
            evidence,
        )
    named = names_key(encryption.kms_key_id, key, ctx.snapshot.aliases)
    if isinstance(named, Unknown):
        return ctx.unknown(named, evidence)
    if named:
        return ctx.passed(
            f"Bucket {bucket.name} encrypts new objects with this key by default.",
            evidence,
        )
    return ctx.failed(
        f"Bucket {bucket.name} encrypts with {encryption.kms_key_id}, not {key.arn}.",
        evidence,
    )


@evaluator("bucket_key_context_consistent")
def bucket_key_context_consistent(ctx: EvalContext) -> Verdict:
    """Bucket Keys on or off matches the context form the policy admits (corr. 1)."""
    bucket = _bucket(ctx)
    if isinstance(bucket, Verdict):
        return bucket
    encryption = bucket.encryption
    if isinstance(encryption, Unknown):
        return ctx.unknown(encryption)
    analysis = analysis_or_verdict(ctx, "harbor_role_arn=harbor.role_arn")
    if isinstance(analysis, Verdict):
        return analysis
    on = isinstance(encryption, BucketEncryption) and encryption.bucket_key_enabled
    values = ctx.values
    arn = values.bucket_arn if on else f"{values.bucket_arn}/v2/probe/blob"
    decisions = {
        action: analysis.evaluator.evaluate(
            Request(
                harbor_session_arn(values),
                action,
                values.key_arn,
                s3_context(values, arn),
                (),
                True,
            )
        ).decision
        for action in ("kms:GenerateDataKey", "kms:Decrypt")
    }
    form = "the bucket ARN (Bucket Keys on)" if on else "object ARNs (Bucket Keys off)"
    note = ""
    if values.bucket_key_enabled != on:
        note = (
            f" The values file says harbor.bucket_key_enabled = "
            f"{str(values.bucket_key_enabled).lower()}; a policy rendered from it "
            "would admit the other form."
        )
    evidence = ctx.evidence(
        "s3:GetEncryptionConfiguration", BucketKeyEnabled=on, harbor_via_s3=decisions
    )
    denied = [a for a, d in decisions.items() if d != "allow"]
    if denied:
        return ctx.failed(
            f"S3 sends {form} as encryption context, and the key policy denies "
            f"Harbor {', '.join(denied)} with it, so Harbor's uploads and "
            f"downloads fail.{note}",
            evidence,
        )
    return ctx.passed(f"S3 sends {form}, and the key policy admits it.{note}", evidence)
