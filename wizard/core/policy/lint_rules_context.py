"""Context rules: the policy checked against the user's own values.

These run only when :class:`~wizard.core.values.Values` are given (except
``no-admin-can-manage``, which falls back to "anyone named" without them). They
catch a policy that is well-formed but written for another region, bucket,
account or Bucket Keys setting, which AWS accepts and Harbor then fails on.
"""

from __future__ import annotations

from collections.abc import Iterator

from wizard.core.arn import parse_arn
from wizard.core.policy.lint_rules_base import (
    Cond,
    Finding,
    PolicyView,
    Rule,
    Stmt,
    account_of,
    is_root,
    placeholders,
    report,
    show,
    title,
    wildcard_match,
)
from wizard.core.policy.lint_rules_catalog import (
    HARBOR_ACTIONS,
    KMS_GUIDE,
    S3_GUIDE,
    WILDCARD_OPERATORS,
)
from wizard.core.policy.lint_rules_conditions import via_service_parts
from wizard.core.values import Values

_S3_CONTEXT = "kms:encryptioncontext:aws:s3:arn"
_BUCKET_KEY_DOC = S3_GUIDE + "bucket-key.html"

REGION_MISMATCH = Rule(
    "via-service-region-mismatch",
    "error",
    "kms:ViaService names S3 in another region",
    "S3 calls KMS from the bucket's region, so kms:ViaService for another "
    "region never matches (an Allow fails, a StringNotEquals Deny always applies).",
    KMS_GUIDE + "conditions-kms.html#conditions-kms-via-service",
)
WRONG_BUCKET = Rule(
    "encryption-context-wrong-bucket",
    "error",
    "Encryption context names another bucket",
    "S3's encryption context is the ARN of the object or bucket being written; "
    "a condition naming another bucket never matches Harbor's bucket.",
    S3_GUIDE + "UsingKMSEncryption.html#encryption-context",
)
BUCKET_KEY_MISMATCH = Rule(
    "bucket-key-context-mismatch",
    "error",
    "Encryption context form does not match S3 Bucket Keys",
    "Correction 1: with Bucket Keys S3 sends the bucket ARN as the context, "
    "without them the object ARN; a Harbor statement admitting only the other "
    "form makes uploads fail.",
    _BUCKET_KEY_DOC,
)
HARBOR_NOT_ALLOWED = Rule(
    "harbor-role-not-allowed",
    "error",
    "Harbor's role is not allowed what S3 needs",
    "Correction 2: SSE-KMS needs kms:GenerateDataKey (uploads) and kms:Decrypt "
    "(downloads, multipart uploads) for Harbor's role.",
    S3_GUIDE + "UsingKMSEncryption.html",
)
HARBOR_EXTRA = Rule(
    "harbor-extra-actions",
    "warning",
    "Harbor's role is allowed more than it needs",
    "Least privilege: Harbor needs kms:Decrypt and kms:GenerateDataKey, plus "
    "kms:DescribeKey for some SDKs; anything else widens a stolen credential.",
    KMS_GUIDE + "least-privilege.html",
)
NO_MANAGER = Rule(
    "no-admin-can-manage",
    "error",
    "No principal can change the key policy",
    "Corrections 9 and 10: if neither the account root statement nor a named "
    "administrator or break-glass role may call kms:PutKeyPolicy, the key cannot "
    "be repaired without AWS Support.",
    KMS_GUIDE + "key-policy-default.html#prevent-unmanageable-key",
)
CALLER_MISMATCH = Rule(
    "caller-account-mismatch",
    "error",
    "Caller account condition names another account",
    "kms:CallerAccount / aws:PrincipalAccount is the account of the caller; a "
    "value other than the account of the statement's own principals never "
    "matches them.",
    KMS_GUIDE + "conditions-kms.html#conditions-kms-caller-account",
)
_DIRECT_USE = ("Decrypt", "GenerateDataKey", "ReEncryptFrom")
NO_DIRECT_DENY = Rule(
    "no-direct-use-deny",
    "warning",
    "No Deny of Harbor's direct use of the key",
    "Guide Statement 5 and misconfiguration 5: a Deny of cryptographic use "
    "unless kms:ViaService is S3 keeps an IAM policy or grant from letting "
    "Harbor's credentials call KMS directly.",
    KMS_GUIDE + "conditions-kms.html#conditions-kms-via-service",
)

RULES = (
    REGION_MISMATCH,
    WRONG_BUCKET,
    BUCKET_KEY_MISMATCH,
    HARBOR_NOT_ALLOWED,
    HARBOR_EXTRA,
    NO_MANAGER,
    CALLER_MISMATCH,
    NO_DIRECT_DENY,
)


def check_context(view: PolicyView) -> Iterator[Finding]:
    """The rules that compare the policy with the user's values."""
    yield from _no_manager(view)
    values = view.values
    if values is None:
        return
    for stmt in view.statements:
        if values.region:
            yield from _region(stmt, values)
        if values.bucket:
            yield from _bucket(stmt, values)
        if values.account_id:
            yield from _caller_account(stmt, values)
    if values.harbor_role_arn:
        yield from _harbor(view, values)
        if values.bucket:
            yield from _bucket_keys(view, values)


def _region(stmt: Stmt, values: Values) -> Iterator[Finding]:
    for cond in stmt.conds("kms:viaservice"):
        for value in cond.texts:
            parts = via_service_parts(value)
            if parts and parts[0] == "s3" and parts[1] != values.region:
                yield report(
                    REGION_MISMATCH,
                    stmt,
                    f"{title(stmt)} expects S3 in {parts[1]} ({value}), but the "
                    f"bucket is in {values.region}.",
                    f"Use {values.via_service}.",
                )


def _bucket_of(cond: Cond, value: str) -> tuple[str, str, str] | None:
    """(partition, bucket segment, rest) of an aws:s3:arn value, if an S3 ARN."""
    if placeholders(value) or "${" in value:
        return None
    arn = parse_arn(value)
    if arn is None or arn.service != "s3":
        return None
    bucket, _, rest = arn.resource.partition("/")
    return arn.partition, bucket, rest


def _bucket(stmt: Stmt, values: Values) -> Iterator[Finding]:
    for cond in stmt.conds(_S3_CONTEXT):
        if cond.base == "Null":
            continue
        for value in cond.texts:
            parsed = _bucket_of(cond, value)
            if parsed is None:
                continue
            partition, bucket, _ = parsed
            if cond.base in WILDCARD_OPERATORS:
                same = wildcard_match(bucket, values.bucket) and wildcard_match(
                    partition, values.partition
                )
            else:
                same = bucket == values.bucket and partition == values.partition
            if not same:
                yield report(
                    WRONG_BUCKET,
                    stmt,
                    f"{title(stmt)} matches the encryption context {show(value)}, "
                    f"not Harbor's bucket {values.bucket_arn}.",
                    f"Use {values.bucket_arn} (Bucket Keys) or "
                    f"{values.bucket_arn}/* with StringLike (object ARNs).",
                )


def _forms(cond: Cond, values: Values) -> set[str]:
    """Which S3 context forms ("bucket", "object") a condition admits."""
    forms: set[str] = set()
    bucket_arn = values.bucket_arn
    for value in cond.texts:
        if cond.base in WILDCARD_OPERATORS:
            if wildcard_match(value, bucket_arn):
                forms.add("bucket")
            if wildcard_match(value, f"{bucket_arn}/harbor/object"):
                forms.add("object")
        elif value == bucket_arn:
            forms.add("bucket")
        elif value.startswith(f"{bucket_arn}/"):
            # A literal "/*" admits nothing (encryption-context-literal-wildcard
            # reports that); counting it as the object form keeps this rule
            # about the form alone.
            forms.add("object")
    return forms


def _bucket_keys(view: PolicyView, values: Values) -> Iterator[Finding]:
    harbor = values.harbor_role_arn
    first: Stmt | None = None
    forms: set[str] = set()
    for stmt in view.allows():
        if not stmt.names(harbor):
            continue
        if not (stmt.covers("GenerateDataKey") or stmt.covers("Decrypt")):
            continue
        for cond in stmt.conds(_S3_CONTEXT):
            if not cond.negated and cond.base != "Null":
                first = first or stmt
                forms |= _forms(cond, values)
    needed = {"bucket": {"bucket"}, "object": {"object"}, "both": {"bucket", "object"}}[
        values.context_form
    ]
    if first is None or not needed - forms:
        return
    bucket_arn = values.bucket_arn
    if values.context_form == "bucket":
        message = (
            f"With S3 Bucket Keys on, S3 sends the bucket ARN {bucket_arn} as the "
            "encryption context, but Harbor's statements admit only object ARNs, "
            "so uploads fail."
        )
        fix = (
            'Match "StringEquals": {"kms:EncryptionContext:aws:s3:arn": '
            f'"{bucket_arn}"}}.'
        )
    elif values.context_form == "object":
        message = (
            f"With S3 Bucket Keys off, S3 sends object ARNs {bucket_arn}/KEY as the "
            "encryption context, but Harbor's statements admit only the bucket "
            "ARN, so uploads fail."
        )
        fix = (
            'Match "StringLike": {"kms:EncryptionContext:aws:s3:arn": '
            f'"{bucket_arn}/*"}}.'
        )
    else:
        message = (
            "During a Bucket Keys transition S3 sends the bucket ARN for new "
            "objects and object ARNs for old ones, but Harbor's statements admit "
            "only one form."
        )
        fix = f'Use StringLike with both "{bucket_arn}" and "{bucket_arn}/*".'
    yield report(BUCKET_KEY_MISMATCH, first, f"{title(first)}: {message}", fix)


def _harbor(view: PolicyView, values: Values) -> Iterator[Finding]:
    harbor = values.harbor_role_arn
    mine = [s for s in view.allows() if s.names(harbor)]
    missing = [
        a for a in ("GenerateDataKey", "Decrypt") if not any(s.covers(a) for s in mine)
    ]
    if missing:
        yield _harbor_missing(view, values, missing)
    for stmt in mine:
        extra = sorted(stmt.covered() - HARBOR_ACTIONS)
        if extra:
            shown = ", ".join(f"kms:{a}" for a in extra[:4])
            more = f" and {len(extra) - 4} more" if len(extra) > 4 else ""
            yield report(
                HARBOR_EXTRA,
                stmt,
                f"{title(stmt)} allows Harbor's role {shown}{more} beyond what "
                "S3 needs.",
                "Limit Harbor to kms:Decrypt and kms:GenerateDataKey (and "
                "kms:DescribeKey in a statement of its own).",
            )
    # The same actions the checklist's direct-use verdict simulates, so that a
    # verdict and a lint finding never disagree: ReEncryptFrom decrypts too.
    guarded = [
        s
        for s in view.denies()
        if s.applies_to(harbor) and any(c.negated for c in s.conds("kms:viaservice"))
    ]
    open_ = [a for a in _DIRECT_USE if not any(s.covers(a) for s in guarded)]
    if open_:
        names = ", ".join(f"kms:{a}" for a in open_)
        yield report(
            NO_DIRECT_DENY,
            None,
            f"No Deny stops Harbor's role {harbor} from calling {names} on the "
            "key directly, so an IAM policy or grant could let its credentials "
            "use it outside S3.",
            "Add a Deny of kms:Decrypt, kms:Encrypt, kms:GenerateDataKey* and "
            f'kms:ReEncrypt* for the role with "StringNotEquals": '
            f'{{"kms:ViaService": "{values.via_service}"}}.',
        )


def _harbor_missing(view: PolicyView, values: Values, missing: list[str]) -> Finding:
    harbor = values.harbor_role_arn
    names = " and ".join(f"kms:{a}" for a in missing)
    fix = (
        f"Allow {names} to {harbor} in the key policy, with kms:ViaService "
        f"{values.via_service} and the bucket's encryption context."
    )
    # With root delegation for Harbor's account an IAM policy on the role can
    # still allow it (AWS's default key policy works that way), so that is a
    # warning: the key policy then cannot limit Harbor's use to S3.
    account = account_of(harbor)
    delegated = all(
        any(
            s.covers(a) and any(account_of(r) == account for r in s.roots())
            for s in view.allows()
        )
        for a in missing
    )
    if delegated:
        return report(
            HARBOR_NOT_ALLOWED,
            None,
            f"No Allow statement names Harbor's role {harbor} for {names}; only an "
            "IAM policy on the role, through root delegation, can allow them.",
            fix,
            "warning",
        )
    return report(
        HARBOR_NOT_ALLOWED,
        None,
        f"No Allow statement names Harbor's role {harbor} for {names}, so S3 "
        "cannot encrypt or decrypt its objects.",
        fix,
    )


def _no_manager(view: PolicyView) -> Iterator[Finding]:
    if not view.statements:
        return
    values = view.values
    named = (
        set(values.admin_principals + values.break_glass_principals)
        if values is not None
        else set()
    )
    own = values.account_id if values is not None else ""

    def manages(stmt: Stmt) -> bool:
        if not stmt.allow or not stmt.covers("PutKeyPolicy") or stmt.not_principal:
            return False
        if values is None:
            return bool(stmt.aws) or stmt.principal_any
        roots = [r for r in stmt.roots() if not own or account_of(r) == own]
        return bool(roots) or any(p in named for p in stmt.aws)

    if not any(manages(s) for s in view.statements):
        who = (
            "the account root or a named administrator or break-glass role"
            if values is not None
            else "any principal"
        )
        yield report(
            NO_MANAGER,
            None,
            f"No statement lets {who} call kms:PutKeyPolicy, so nobody could "
            "repair this key policy.",
            "Keep the root delegation statement (kms:* for the account root) or "
            "give a break-glass role kms:PutKeyPolicy.",
        )


def _caller_account(stmt: Stmt, values: Values) -> Iterator[Finding]:
    own = values.account_id
    if not stmt.allow or stmt.not_principal:
        return
    mine = [p for p in stmt.aws if not is_root(p) and account_of(p) == own]
    if not mine:
        return
    for cond in stmt.conds("kms:calleraccount") + stmt.conds("aws:principalaccount"):
        if cond.positive and own not in cond.texts:
            yield report(
                CALLER_MISMATCH,
                stmt,
                f"{title(stmt)} requires {cond.key} {', '.join(cond.texts)}, but "
                f"its principals are in account {own}, so it never matches them.",
                f"Use {own}, or remove the condition (the principals already fix "
                "the account).",
            )
