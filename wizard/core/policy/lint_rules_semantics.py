"""Access rules: who the policy lets do what (guide "Common Misconfigurations").

The guide's misconfigurations 1-5 are caught here, worded as AWS documents them
where the guide is wrong (correction 6: the root principal delegates to IAM; it
is not "everyone in the account"). Misconfigurations 6 (rotation) and 7
(CloudTrail) are not visible in a key policy; the checklist covers them.

Also here: corrections 3 (S3 service principal), 8 (blanket Decrypt Deny) and
9 (administrators can grant themselves use), and the lockout rule (correction
10: KMS's own safety check protects only the caller of PutKeyPolicy).
"""

from __future__ import annotations

from collections.abc import Iterator

from wizard.core.policy.lint_rules_base import (
    Finding,
    PolicyView,
    Rule,
    Severity,
    Stmt,
    account_of,
    grants_only_for_aws,
    is_iam_user,
    managers,
    placeholders,
    report,
    subjects,
    title,
)
from wizard.core.policy.lint_rules_catalog import (
    ADMIN_ACTIONS,
    CALLER_SCOPING_KEYS,
    CRYPTO_ACTIONS,
    IAM_GUIDE,
    KMS_GUIDE,
    S3_GUIDE,
)
from wizard.core.policy.lint_rules_conditions import requires_presence

_DEFAULT_POLICY = KMS_GUIDE + "key-policy-default.html"
_KMS_CONDITIONS = KMS_GUIDE + "conditions-kms.html"

ROOT_DELEGATION = Rule(
    "root-delegation",
    "info",
    "Account root principal delegates to IAM",
    "Correction 6 (guide misconfiguration 1 is wrong): the root principal does "
    "not give everyone in the account access; it lets the account's IAM policies "
    "grant it. Those IAM policies decide who can use the key and need review.",
    _DEFAULT_POLICY + "#key-policy-default-allow-root-enable-iam",
)
ROOT_CALLER_ACCOUNT = Rule(
    "root-caller-account-redundant",
    "warning",
    "kms:CallerAccount on the root statement",
    "Correction 6: the root principal already limits the statement to its "
    "account; kms:CallerAccount adds nothing, and a wrong value silently "
    "disables IAM delegation for the whole account.",
    _KMS_CONDITIONS + "#conditions-kms-caller-account",
)
CRYPTO_WITHOUT_VIA = Rule(
    "crypto-without-via-service",
    "warning",
    "Cryptographic use not limited to a service",
    "Guide misconfiguration 2: without kms:ViaService the principal can call "
    "Decrypt and GenerateDataKey directly, not only through S3.",
    _KMS_CONDITIONS + "#conditions-kms-via-service",
)
MISSING_CONTEXT = Rule(
    "missing-encryption-context",
    "warning",
    "S3 use not limited to the bucket",
    "Guide misconfiguration 3: without a kms:EncryptionContext:aws:s3:arn "
    "condition the key works for any bucket the principal can write to.",
    S3_GUIDE + "UsingKMSEncryption.html",
)
KMS_STAR = Rule(
    "kms-star-to-service-role",
    "error",
    "kms:* or administrative actions for a workload principal",
    "Guide misconfiguration 4: a workload role with kms:* or administrative "
    "actions can change the policy, create grants or schedule the key's "
    "deletion.",
    KMS_GUIDE + "least-privilege.html",
)
NO_DENY = Rule(
    "no-explicit-deny",
    "warning",
    "Policy has no Deny statement",
    "Guide misconfiguration 5: without an explicit Deny, an IAM policy or grant "
    "can widen what the key policy intends; a Deny wins over every Allow.",
    IAM_GUIDE + "reference_policies_evaluation-logic.html",
)
DENY_LOCKOUT = Rule(
    "deny-can-lock-out",
    "error",
    "Deny can block every way to change the key policy",
    "Corrections 8 and 10: a Deny covering kms:PutKeyPolicy for the "
    "administrators (or everyone) can make the key unmanageable; KMS's lockout "
    "check only protects the caller of PutKeyPolicy.",
    _DEFAULT_POLICY + "#prevent-unmanageable-key",
)
ADMIN_GRANTS = Rule(
    "admin-can-grant-itself-use",
    "warning",
    "Administrators can grant themselves use",
    "Correction 9: kms:Create* includes kms:CreateGrant; without "
    "kms:GrantIsForAWSResource an administrator can grant itself Decrypt.",
    _KMS_CONDITIONS + "#conditions-kms-grant-is-for-aws-resource",
)
ADMIN_POLICY = Rule(
    "admin-can-change-policy",
    "info",
    "Administrators can change the key policy",
    "Correction 9: kms:PutKeyPolicy (or kms:Put*) lets an administrator give "
    "itself any use of the key; a separate break-glass role for policy changes "
    "narrows that.",
    _DEFAULT_POLICY + "#key-policy-default-allow-administrators",
)
ADMIN_USER = Rule(
    "admin-iam-user",
    "warning",
    "IAM user as key administrator",
    "IAM users have long-term credentials; AWS recommends roles with temporary "
    "credentials (the guide's own advice for Statement 2).",
    IAM_GUIDE + "best-practices.html",
)
WILDCARD_UNCONDITIONED = Rule(
    "wildcard-principal-unconditioned",
    "error",
    "Allow to every principal without conditions",
    'Principal "*" with no Condition lets any AWS principal in any account '
    "use the key as far as their own IAM policies allow.",
    IAM_GUIDE + "reference_policies_elements_principal.html",
)
WILDCARD_WEAK = Rule(
    "wildcard-principal-weak-conditions",
    "warning",
    "Allow to every principal not limited to an account or organization",
    'Principal "*" needs a condition on the caller (kms:CallerAccount, '
    "aws:PrincipalAccount, aws:PrincipalOrgID, aws:PrincipalArn, "
    "aws:SourceAccount); other conditions leave every account in.",
    _KMS_CONDITIONS + "#conditions-kms-caller-account",
)
S3_SERVICE = Rule(
    "s3-service-principal",
    "warning",
    "S3 service principal in the key policy",
    "Correction 3: SSE-KMS does not need it (S3 calls KMS with the caller's "
    "identity). S3 Inventory and similar features do, and then it must be scoped "
    "by aws:SourceAccount and aws:SourceArn.",
    IAM_GUIDE + "confused-deputy.html",
)
BLANKET_DECRYPT = Rule(
    "blanket-decrypt-deny",
    "info",
    "Decrypt Deny for everyone without the S3 context",
    "Correction 8: the guide's Deny binds root, administrators and grants too, "
    "so Decrypt becomes S3-only for everyone; it does not cover GenerateDataKey, "
    "Encrypt or ReEncrypt.",
    _KMS_CONDITIONS + "#conditions-kms-encryption-context",
)

RULES = (
    ROOT_DELEGATION,
    ROOT_CALLER_ACCOUNT,
    CRYPTO_WITHOUT_VIA,
    MISSING_CONTEXT,
    KMS_STAR,
    NO_DENY,
    DENY_LOCKOUT,
    ADMIN_GRANTS,
    ADMIN_POLICY,
    ADMIN_USER,
    WILDCARD_UNCONDITIONED,
    WILDCARD_WEAK,
    S3_SERVICE,
    BLANKET_DECRYPT,
)


def admin_like(stmt: Stmt, view: PolicyView) -> bool:
    """An Allow for administrators: named ones, else by its administrative actions."""
    if not stmt.allow or not subjects(stmt):
        return False
    named = managers(view)
    if named:
        return any(p in named for p in stmt.non_root())
    return bool(stmt.covered() & ADMIN_ACTIONS) and not stmt.covers_all()


def check_access(view: PolicyView) -> Iterator[Finding]:
    """Every access rule, statement by statement, then the policy-level ones."""
    for stmt in view.statements:
        yield from _root(stmt, view)
        yield from _crypto(stmt, view)
        yield from _kms_star(stmt, view)
        yield from _admins(stmt, view)
        yield from _wildcard(stmt)
        yield from _s3_service(stmt)
        yield from _blanket_decrypt(stmt)
    yield from _lockout(view)
    if view.statements and not any(view.denies()):
        yield report(
            NO_DENY,
            None,
            "The policy has no Deny statement, so any IAM policy or grant that "
            "allows more is not held back.",
            "Add a Deny of Harbor's direct use (StringNotEquals kms:ViaService), as "
            "the wizard's generated policy does.",
        )


def _root(stmt: Stmt, view: PolicyView) -> Iterator[Finding]:
    roots = stmt.roots()
    if not stmt.allow or stmt.not_principal or not roots:
        return
    accounts = sorted({a for r in roots if (a := account_of(r))})
    own = view.values.account_id if view.values is not None else ""
    where = f"account {', '.join(accounts)}" if accounts else "its account"
    what = "any use of the key" if stmt.covers_all() else "the actions it lists"
    foreign = [a for a in accounts if own and a != own]
    if foreign:
        yield report(
            ROOT_DELEGATION,
            stmt,
            f"{title(stmt)} delegates to IAM in account {', '.join(foreign)}, not "
            f"{own}: that account's IAM policies decide who may use the key.",
            "Keep cross-account delegation only if intended, limited to the actions "
            "the other account needs.",
            "warning",
        )
    else:
        yield report(
            ROOT_DELEGATION,
            stmt,
            f"{title(stmt)} lets IAM policies in {where} grant {what}; it gives "
            "no one access by itself.",
            "Review the IAM policies in that account that allow kms: actions on "
            "this key (or kms:* on *); they decide who can use it.",
        )
    for cond in stmt.conds("kms:calleraccount") + stmt.conds("aws:principalaccount"):
        # Error when the value is not the root's account or not the user's own;
        # placeholders are left to unfilled-placeholder.
        wrong = [
            t
            for t in cond.texts
            if not placeholders(t) and (t not in accounts or (own and t != own))
        ]
        if wrong:
            problem = (
                f"= {', '.join(wrong)}, another account, which silently disables "
                "IAM delegation"
            )
        else:
            problem = ", which is redundant: the root principal is already the account"
        message = f"{title(stmt)} limits the root principal with {cond.key}{problem}."
        yield report(
            ROOT_CALLER_ACCOUNT,
            stmt,
            message,
            f"Remove the {cond.key} condition from this statement.",
            "error" if wrong else None,
        )


def _crypto(stmt: Stmt, view: PolicyView) -> Iterator[Finding]:
    who = subjects(stmt)
    if not stmt.allow or not who or not stmt.covered() & CRYPTO_ACTIONS:
        return
    values = view.values
    harbor = values.harbor_role_arn if values is not None else ""
    severity: Severity | None = "error" if harbor and harbor in who else None
    via_value = values.via_service if values and values.region else "s3.REGION..."
    bucket = values.bucket_arn if values and values.bucket else "arn:aws:s3:::BUCKET"
    via = [
        c for c in stmt.conds("kms:viaservice") if not c.negated and c.base != "Null"
    ]
    if not via:
        yield report(
            CRYPTO_WITHOUT_VIA,
            stmt,
            f"{title(stmt)} allows cryptographic use of the key without a "
            "kms:ViaService condition, so it can be called directly.",
            f'Add "StringEquals": {{"kms:ViaService": "{via_value}"}} (S3 in '
            "the bucket's region).",
            severity,
        )
        return
    via_s3 = any(t.lower().startswith("s3.") for c in via for t in c.texts)
    context = [
        c for c in stmt.conds("kms:encryptioncontext:aws:s3:arn") if not c.negated
    ]
    if via_s3 and not context:
        yield report(
            MISSING_CONTEXT,
            stmt,
            f"{title(stmt)} allows use through S3 for any bucket: it has no "
            "kms:EncryptionContext:aws:s3:arn condition.",
            'Add "StringLike": {"kms:EncryptionContext:aws:s3:arn": '
            f'"{bucket}/*"}} (or the exact bucket ARN with Bucket Keys).',
            severity,
        )


def _kms_star(stmt: Stmt, view: PolicyView) -> Iterator[Finding]:
    who = subjects(stmt)
    if not stmt.allow or not who:
        return
    admin = stmt.covered() & ADMIN_ACTIONS
    if grants_only_for_aws(stmt):
        admin -= {"CreateGrant"}
    star = stmt.covers_all()
    values = view.values
    if values is not None:
        named = managers(view)
        harbor = values.harbor_role_arn
        bad = [p for p in who if (harbor and p == harbor) or p not in named]
        if bad and (admin or star):
            granted = (
                "kms:*" if star else ", ".join(f"kms:{a}" for a in sorted(admin)[:3])
            )
            yield report(
                KMS_STAR,
                stmt,
                f"{title(stmt)} gives {granted} to {', '.join(bad)}, which is not a "
                "named key administrator.",
                "Give workload roles only the actions they use (Harbor: "
                "kms:Decrypt and kms:GenerateDataKey through S3).",
            )
            return
    if star:
        yield report(
            KMS_STAR,
            stmt,
            f"{title(stmt)} gives kms:* to {', '.join(who)}, including use of the "
            "key, policy changes and deletion.",
            "List the actions each principal needs; keep kms:* for the account "
            "root principal only.",
            "warning",
        )


def _admins(stmt: Stmt, view: PolicyView) -> Iterator[Finding]:
    if not admin_like(stmt, view):
        return
    if stmt.covers("CreateGrant") and not grants_only_for_aws(stmt):
        yield report(
            ADMIN_GRANTS,
            stmt,
            f"{title(stmt)} lets administrators call kms:CreateGrant for any "
            "grantee, so they can grant themselves Decrypt.",
            "Replace kms:Create* with kms:CreateAlias and allow kms:CreateGrant "
            'only with "Bool": {"kms:GrantIsForAWSResource": "true"}.',
        )
    break_glass = set(view.values.break_glass_principals) if view.values else set()
    if stmt.covers("PutKeyPolicy") and not set(stmt.non_root()) <= break_glass:
        yield report(
            ADMIN_POLICY,
            stmt,
            f"{title(stmt)} lets administrators change the key policy, and with it "
            "give themselves any use of the key.",
            "Give kms:PutKeyPolicy to a separate break-glass role used only for "
            "policy changes, and alarm on PutKeyPolicy.",
        )
    for user in filter(is_iam_user, stmt.non_root()):
        yield report(
            ADMIN_USER,
            stmt,
            f"{title(stmt)} names the IAM user {user} as an administrator.",
            "Use an IAM role that administrators assume (temporary credentials).",
        )


def _wildcard(stmt: Stmt) -> Iterator[Finding]:
    if not stmt.allow or not stmt.principal_any:
        return
    if not stmt.raw.get("Condition"):
        yield report(
            WILDCARD_UNCONDITIONED,
            stmt,
            f'{title(stmt)} allows Principal "*" with no conditions: any AWS '
            "principal, in any account, whose IAM policy permits it.",
            "Name the principals, or add kms:CallerAccount or aws:PrincipalOrgID "
            "conditions.",
        )
    elif not any(
        requires_presence(c) and c.lkey in CALLER_SCOPING_KEYS for c in stmt.conditions
    ):
        yield report(
            WILDCARD_WEAK,
            stmt,
            f'{title(stmt)} allows Principal "*" without limiting the caller\'s '
            "account or organization.",
            'Add "StringEquals": {"kms:CallerAccount": "ACCOUNT"} or '
            "aws:PrincipalOrgID.",
        )


def _s3_service(stmt: Stmt) -> Iterator[Finding]:
    if not stmt.allow or "s3.amazonaws.com" not in stmt.services:
        return
    scoped = all(
        any(requires_presence(c) for c in stmt.conds(key))
        for key in ("aws:sourceaccount", "aws:sourcearn")
    )
    if scoped:
        yield report(
            S3_SERVICE,
            stmt,
            f"{title(stmt)} allows the S3 service principal, scoped by "
            "aws:SourceAccount and aws:SourceArn; SSE-KMS itself does not need it.",
            "Keep it only for features such as S3 Inventory reports encrypted "
            "with this key.",
            "info",
        )
    else:
        yield report(
            S3_SERVICE,
            stmt,
            f"{title(stmt)} allows the S3 service principal without "
            "aws:SourceAccount and aws:SourceArn conditions; SSE-KMS does not "
            "need it at all.",
            "Remove it; if S3 Inventory or a similar feature needs it, add "
            "aws:SourceAccount and aws:SourceArn conditions.",
        )


def _blanket_decrypt(stmt: Stmt) -> Iterator[Finding]:
    if not stmt.deny or not stmt.principal_any or not stmt.covers("Decrypt"):
        return
    null = stmt.conds("kms:encryptioncontext:aws:s3:arn")
    if any(c.base == "Null" and "true" in (t.lower() for t in c.texts) for c in null):
        missing = [
            name
            for name, action in (
                ("kms:GenerateDataKey", "GenerateDataKey"),
                ("kms:Encrypt", "Encrypt"),
                ("kms:ReEncrypt*", "ReEncryptFrom"),
            )
            if not stmt.covers(action)
        ]
        gaps = _either(missing)
        yield report(
            BLANKET_DECRYPT,
            stmt,
            f"{title(stmt)} makes Decrypt S3-only for everyone, root, "
            "administrators and grants included"
            + (f"; it does not cover {gaps}." if gaps else "."),
            "Keep it only if nobody needs Decrypt outside S3; a Deny limited to "
            "Harbor's role does not bind other principals.",
        )


def _either(items: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} or {items[-1]}"


def _lockout(view: PolicyView) -> Iterator[Finding]:
    admins = set(managers(view))
    if view.values is not None and view.values.account_id:
        admins.add(view.values.root_arn)
    if not admins:
        admins = {p for s in view.allows() if s.covers("PutKeyPolicy") for p in s.aws}
    for stmt in view.denies():
        if not stmt.covers("PutKeyPolicy"):
            continue
        blocked = (
            ["everyone"]
            if stmt.principal_any and not stmt.not_principal
            else [a for a in sorted(admins) if stmt.applies_to(a)]
        )
        if not blocked:
            continue
        conditioned = stmt.has_condition or bool(stmt.raw.get("Condition"))
        yield report(
            DENY_LOCKOUT,
            stmt,
            f"{title(stmt)} denies kms:PutKeyPolicy to {', '.join(blocked[:3])}"
            + (
                ", unless its conditions spare them."
                if conditioned
                else (", so nobody it covers can repair the key policy.")
            ),
            "Leave kms:PutKeyPolicy out of the Deny (list the actions it is "
            "meant to stop), or exempt the administrators by aws:PrincipalArn.",
            "warning" if conditioned else None,
        )
