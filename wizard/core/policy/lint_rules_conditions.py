"""Condition rules from ``shared/guide/CORRECTIONS.md`` (points 1, 2, 4, 5).

Each rule flags a condition that looks right in the guide but does not do what
the guide says, citing the correction and the AWS page behind it:

- literal comparison of wildcards and context-free actions:
  https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context
- set operators: same page, "Using set operators with condition keys"
- absent keys make negated operators true and IfExists pass:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
- forwarded calls:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/access_forward_access_sessions.html
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from wizard.core.policy.lint_rules_base import (
    Cond,
    Finding,
    PolicyView,
    Rule,
    Stmt,
    is_root,
    label_of,
    placeholders,
    report,
    show,
    title,
    walk_strings,
)
from wizard.core.policy.lint_rules_catalog import (
    CONTEXT_ACTIONS,
    CRYPTO_ACTIONS,
    GLOBAL_CONDITION_KEYS,
    GLOBAL_CONDITION_PREFIXES,
    IAM_GUIDE,
    KMS_CONDITION_KEYS,
    KMS_GUIDE,
    LITERAL_STRING_OPERATORS,
    MULTIVALUED_KEYS,
    NETWORK_KEYS,
    WILDCARD_OPERATORS,
)
from wizard.core.regions import DNS_SUFFIX

_KMS_CONDITIONS = KMS_GUIDE + "conditions-kms.html"
_EC = "kms:encryptioncontext:"

LITERAL_WILDCARD = Rule(
    "encryption-context-literal-wildcard",
    "error",
    "Wildcard in a literal encryption context comparison",
    "Correction 1: StringEquals and its variants compare literally, so "
    "arn:aws:s3:::BUCKET/* never equals an object ARN and Harbor's uploads fail "
    "(a Not-operator in a Deny always matches). StringLike and ArnLike accept "
    "wildcards.",
    _KMS_CONDITIONS + "#conditions-kms-encryption-context",
)
CONTEXT_ON_NON_CRYPTO = Rule(
    "context-condition-on-non-crypto-action",
    "error",
    "Encryption context required for an action that has none",
    "Correction 2: only Encrypt, Decrypt, ReEncrypt*, GenerateDataKey* and "
    "CreateGrant carry an encryption context; DescribeKey and the other actions "
    "can never be allowed by a statement that requires one.",
    _KMS_CONDITIONS + "#conditions-kms-encryption-context",
)
FOR_ALL_EMPTY = Rule(
    "for-all-values-empty-set",
    "warning",
    "ForAllValues is true when the key is absent",
    "Correction 4: ForAllValues on kms:EncryptionContextKeys (or any multivalued "
    "key) passes a request with no encryption context at all unless the "
    "statement also requires the key with Null false.",
    _KMS_CONDITIONS + "#conditions-kms-encryption-context-keys",
)
SET_ON_SINGLE = Rule(
    "for-all-values-single-valued",
    "error",
    "Set operator on a single-valued key",
    "Correction 4: ForAllValues/ForAnyValue belong to multivalued keys only; on "
    "kms:EncryptionContext:... KMS rejects the policy (OverlyPermissiveCondition), "
    "and on other single-valued keys the condition is overly permissive.",
    _KMS_CONDITIONS + "#set-operators",
)
NETWORK_ON_FORWARDED = Rule(
    "network-condition-on-forwarded-call",
    "warning",
    "Network condition on a call S3 makes for the principal",
    "Correction 5 (uncertain): AWS does not reliably document whether "
    "aws:SourceIp/aws:SourceVpce are present on the KMS call S3 makes for Harbor, "
    "so an Allow requiring both them and kms:ViaService cannot be relied on.",
    IAM_GUIDE + "access_forward_access_sessions.html",
)
NETWORK_DENY = Rule(
    "network-deny-without-service-exemption",
    "error",
    "Network Deny also blocks S3's calls for Harbor",
    "Correction 5: a Deny on aws:SourceIp/aws:SourceVpce without an "
    "aws:ViaAWSService exemption also applies to the calls S3 makes on the "
    "principal's behalf, which come from AWS's network, and breaks SSE-KMS.",
    IAM_GUIDE + "reference_policies_condition-keys.html#condition-keys-viaawsservice",
)
IF_EXISTS_BYPASS = Rule(
    "allow-if-exists-bypass",
    "warning",
    "IfExists lets a direct call through",
    "An Allow with ...IfExists on kms:ViaService or kms:EncryptionContext:... "
    "passes every request that lacks the key, such as a direct KMS call.",
    IAM_GUIDE
    + "reference_policies_elements_condition_operators.html#Conditions_IfExists",
)
PLACEHOLDER = Rule(
    "unfilled-placeholder",
    "error",
    "Placeholder left from the guide",
    "The guide's template uses ACCOUNT_ID, REGION, BUCKET_NAME, o-xxxxxxxxxx and "
    "shell variables such as ${AWS_ACCOUNT_ID}; left in, they match nothing or "
    "make PutKeyPolicy fail.",
    KMS_GUIDE + "key-policy-overview.html",
)
VIA_SERVICE_MALFORMED = Rule(
    "via-service-malformed",
    "error",
    "kms:ViaService value is not SERVICE.REGION.amazonaws.com",
    "kms:ViaService names a service endpoint in a region (S3's is "
    "s3.REGION.amazonaws.com); s3.amazonaws.com is S3's service principal and "
    "never matches.",
    _KMS_CONDITIONS + "#conditions-kms-via-service",
)

RULES = (
    LITERAL_WILDCARD,
    CONTEXT_ON_NON_CRYPTO,
    FOR_ALL_EMPTY,
    SET_ON_SINGLE,
    NETWORK_ON_FORWARDED,
    NETWORK_DENY,
    IF_EXISTS_BYPASS,
    PLACEHOLDER,
    VIA_SERVICE_MALFORMED,
)

# The KMS guide says to use the .amazonaws.com suffix in every partition
# (conditions-kms.html#viaService_table); regions.py builds the partition's own
# DNS suffix. Both are accepted until AWS's pages agree.
_VIA_SERVICE = re.compile(
    r"(?P<service>[a-z0-9-]+)\.(?P<region>[a-z]{2,4}(?:-[a-z]+)+-\d+)\.(?:"
    + "|".join(re.escape(s) for s in sorted({"amazonaws.com", *DNS_SUFFIX.values()}))
    + ")"
)


def via_service_parts(value: str) -> tuple[str, str] | None:
    """(service, region) of a well-formed kms:ViaService value, else None."""
    match = _VIA_SERVICE.fullmatch(value)
    return (match["service"], match["region"]) if match else None


def requires_presence(cond: Cond) -> bool:
    """Whether the condition is false for a request that lacks its key."""
    if cond.base == "Null":
        return bool(cond.texts) and all(t.lower() == "false" for t in cond.texts)
    return cond.positive and cond.set_op != "ForAllValues"


def check_conditions(view: PolicyView) -> Iterator[Finding]:
    """The condition corrections, statement by statement."""
    for stmt in view.statements:
        yield from _literal_wildcards(stmt)
        yield from _context_on_non_crypto(stmt)
        yield from _set_operators(stmt)
        yield from _network(stmt, view)
        yield from _if_exists(stmt)
        yield from _via_service(stmt)
    yield from _placeholders(view)


def _literal_wildcards(stmt: Stmt) -> Iterator[Finding]:
    for cond in stmt.conds("kms:encryptioncontext*"):
        if cond.base not in LITERAL_STRING_OPERATORS:
            continue
        for value in cond.texts:
            if not re.search(r"[*?]", value.replace("${*}", "").replace("${?}", "")):
                continue
            # No request carries the literal value: a positive operator never
            # matches, a negated one always does.
            if cond.negated:
                outcome = "it always matches, so " + (
                    "the Deny applies to every request"
                    if stmt.deny
                    else "the condition restricts nothing"
                )
            else:
                outcome = "it never matches, so " + (
                    "the Deny never applies"
                    if stmt.deny
                    else "Harbor's uploads and downloads through it fail"
                )
            like = "StringNotLike" if cond.negated else "StringLike"
            yield report(
                LITERAL_WILDCARD,
                stmt,
                f"{title(stmt)} compares {cond.key} with {show(value)} using "
                f"{cond.operator}, which treats * and ? literally: {outcome}.",
                f"Use {like} for the pattern; with S3 Bucket Keys match the exact "
                "bucket ARN arn:aws:s3:::BUCKET instead.",
            )


def _context_on_non_crypto(stmt: Stmt) -> Iterator[Finding]:
    if not stmt.allow:
        return
    blocking = [c for c in stmt.conds("kms:encryptioncontext*") if requires_presence(c)]
    if not blocking:
        return
    stranded = sorted(stmt.covered() - CONTEXT_ACTIONS)
    if stranded:
        shown = ", ".join(f"kms:{a}" for a in stranded[:3])
        more = f" and {len(stranded) - 3} more" if len(stranded) > 3 else ""
        verb = "carries" if len(stranded) == 1 else "carry"
        yield report(
            CONTEXT_ON_NON_CRYPTO,
            stmt,
            f"{title(stmt)} requires {blocking[0].key} but also allows {shown}"
            f"{more}, which {verb} no encryption context and so can never be "
            "allowed by it.",
            "Move those actions to a statement of their own without encryption "
            "context conditions (S3 needs only kms:GenerateDataKey and kms:Decrypt).",
        )


def _single_valued(key: str) -> bool:
    if key in MULTIVALUED_KEYS:
        return False
    return (
        key in KMS_CONDITION_KEYS
        or key in GLOBAL_CONDITION_KEYS
        or key.startswith(_EC)
        or key.startswith(GLOBAL_CONDITION_PREFIXES)
    )


def _set_operators(stmt: Stmt) -> Iterator[Finding]:
    for cond in stmt.conditions:
        if cond.set_op and _single_valued(cond.lkey):
            rejected = cond.set_op == "ForAllValues" and (
                cond.lkey.startswith(_EC) or cond.lkey.startswith("aws:requesttag/")
            )
            effect = (
                "KMS rejects the policy with OverlyPermissiveCondition"
                if rejected
                else "the condition can match requests it was meant to exclude"
            )
            yield report(
                SET_ON_SINGLE,
                stmt,
                f"{title(stmt)} uses {cond.set_op} on the single-valued key "
                f"{cond.key}: {effect}.",
                f"Remove {cond.set_op}: and use the plain operator "
                f"{cond.operator.split(':', 1)[1]}.",
            )
        elif (
            cond.set_op == "ForAllValues"
            and stmt.allow
            and not _has_presence(stmt, cond)
        ):
            yield report(
                FOR_ALL_EMPTY,
                stmt,
                f"{title(stmt)} uses ForAllValues on {cond.key}, which is also true "
                "when the request has no such key (an empty set).",
                f'Add "Null": {{"{cond.key}": "false"}} to the same statement.',
            )


def _has_presence(stmt: Stmt, cond: Cond) -> bool:
    """Another condition of the statement already requires the key's presence."""
    others = [c for c in stmt.conds(cond.lkey) if c is not cond]
    if cond.lkey == "kms:encryptioncontextkeys":
        others += stmt.conds(_EC + "*")
    return any(requires_presence(c) for c in others)


def _network(stmt: Stmt, view: PolicyView) -> Iterator[Finding]:
    network = [c for c in stmt.conditions if c.lkey in NETWORK_KEYS]
    if not network:
        return
    keys = ", ".join(sorted({c.key for c in network}))
    if stmt.allow and any(requires_presence(c) for c in stmt.conds("kms:viaservice")):
        yield report(
            NETWORK_ON_FORWARDED,
            stmt,
            f"{title(stmt)} requires kms:ViaService together with {keys}, which "
            "AWS does not reliably document on calls S3 makes for the principal.",
            "Drop the network condition here; use a Deny with "
            '"BoolIfExists": {"aws:ViaAWSService": "false"}, or limit the network '
            "in the S3 bucket policy.",
        )
    if (
        stmt.deny
        and any(c.negated for c in network)
        and stmt.covered() & CRYPTO_ACTIONS
        and _covers_s3_users(stmt, view)
        and not any(_exempts_service_calls(c) for c in stmt.conditions)
    ):
        yield report(
            NETWORK_DENY,
            stmt,
            f"{title(stmt)} denies cryptographic use outside the network ({keys}) "
            "without exempting calls AWS services make, so it also blocks the "
            "calls S3 makes for the principal.",
            'Add "BoolIfExists": {"aws:ViaAWSService": "false"} to the Deny\'s '
            "conditions (or put the network limit in the S3 bucket policy).",
        )


def _covers_s3_users(stmt: Stmt, view: PolicyView) -> bool:
    if stmt.principal_any or stmt.not_principal or any(is_root(p) for p in stmt.aws):
        return True
    users = {
        p
        for s in view.allows()
        if any(
            t.lower().startswith("s3.")
            for c in s.conds("kms:viaservice")
            for t in c.texts
        )
        for p in s.aws
    }
    if view.values is not None and view.values.harbor_role_arn:
        users.add(view.values.harbor_role_arn)
    return any(stmt.applies_to(p) for p in users)


_CALLED_VIA = (
    "kms:viaservice",
    "aws:calledvia",
    "aws:calledviafirst",
    "aws:calledvialast",
)


def _exempts_service_calls(cond: Cond) -> bool:
    """Whether the condition keeps a Deny off calls AWS services make for you.

    Such calls are forward access sessions (IAM User Guide,
    access_forward_access_sessions.html): aws:ViaAWSService is true on them.
    """
    if cond.lkey in ("aws:viaawsservice", "aws:principalisawsservice"):
        return cond.base == "Bool" and "false" in (t.lower() for t in cond.texts)
    if cond.lkey in _CALLED_VIA:
        null_true = cond.base == "Null" and "true" in (t.lower() for t in cond.texts)
        return cond.negated or null_true
    return False


def _if_exists(stmt: Stmt) -> Iterator[Finding]:
    if not stmt.allow:
        return
    for cond in stmt.conditions:
        if not cond.if_exists or cond.negated:
            continue
        if cond.lkey == "kms:viaservice" or cond.lkey.startswith(_EC):
            yield report(
                IF_EXISTS_BYPASS,
                stmt,
                f"{title(stmt)} uses {cond.operator} on {cond.key}, so a request "
                "without that key, such as a direct KMS call, is allowed.",
                f"Use {cond.operator.removesuffix('IfExists')} so the key is required.",
            )


def _via_service(stmt: Stmt) -> Iterator[Finding]:
    for cond in stmt.conds("kms:viaservice"):
        if cond.base == "Null":
            continue
        for value in cond.texts:
            wild = cond.base in WILDCARD_OPERATORS and re.search(r"[*?]", value)
            if wild or placeholders(value) or "${" in value or via_service_parts(value):
                continue
            hint = ""
            if value.endswith(".amazonaws.com") and value.count(".") == 2:
                hint = " (that is a service principal, not a ViaService name)"
            yield report(
                VIA_SERVICE_MALFORMED,
                stmt,
                f"{title(stmt)} gives kms:ViaService the value {show(value)}{hint}, "
                "which never matches.",
                "Use SERVICE.REGION.amazonaws.com, for S3 in the bucket's region "
                "for example s3.us-east-1.amazonaws.com.",
            )


def _placeholders(view: PolicyView) -> Iterator[Finding]:
    for index, raw in enumerate(view.statement_values):
        found = sorted(
            {p for s in walk_strings(raw, skip=("Sid",)) for p in placeholders(s)}
        )
        if found:
            label = label_of(index, raw)
            yield report(
                PLACEHOLDER,
                label,
                f"{title(label)} still contains the guide's placeholders "
                f"{', '.join(found)}.",
                "Replace them with your account id, region, bucket, organization "
                "and key values (the wizard fills them in for you).",
            )
