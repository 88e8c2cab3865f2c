"""Key policy evaluation, case by case, as AWS's documentation describes it.

Each case's comment names the rule it shows; each group's opening comment names
the page (prefix https://docs.aws.amazon.com/):

- OPS: IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
- MULTI: IAM/latest/UserGuide/reference_policies_multi-value-conditions.html and
  IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
- VARS: IAM/latest/UserGuide/reference_policies_variables.html
- PRINCIPAL: IAM/latest/UserGuide/reference_policies_elements_principal.html and
  IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
- ELEMENTS: IAM/latest/UserGuide/reference_policies_elements_action.html,
  ..._elements_notaction.html, ..._elements_resource.html, ..._evaluation-logic.html
- DEFAULT: kms/latest/developerguide/key-policy-default.html
- KMS: kms/latest/developerguide/conditions-kms.html
- XACCT: kms/latest/developerguide/key-policy-modifying-external-accounts.html
- BUCKETKEY: AmazonS3/latest/userguide/bucket-key.html

A few cases pin a choice the documentation leaves open; their comments say so.
The case tables are kept out of the formatter (``fmt: off``) so each row reads
as one case.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from wizard.core.policy.simulate import (
    Decision,
    Evaluator,
    PolicyError,
    Request,
    StatementRef,
    evaluate,
    request_from_json,
    result_to_json,
)

ACCT = "111122223333"
OTHER = "444455556666"
KEY = f"arn:aws:kms:us-west-2:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY2 = f"arn:aws:kms:us-west-2:{ACCT}:key/0987dcba-09fe-87dc-65ba-ab0987654321"
USER = f"arn:aws:iam::{ACCT}:user/ExampleUser"
BOB = f"arn:aws:iam::{ACCT}:user/bob"
ROLE = f"arn:aws:iam::{ACCT}:role/ExampleRole"
SESSION = f"arn:aws:sts::{ACCT}:assumed-role/ExampleRole/app-session"
ROOT = f"arn:aws:iam::{ACCT}:root"
EXT_USER = f"arn:aws:iam::{OTHER}:user/ExampleUser"
EXT_ROLE = f"arn:aws:iam::{OTHER}:role/ExampleRole"
EXT_SESSION = f"arn:aws:sts::{OTHER}:assumed-role/ExampleRole/app-session"
EXT_ROOT = f"arn:aws:iam::{OTHER}:root"
BUCKET = "arn:aws:s3:::harbor-registry"
OBJECT = "arn:aws:s3:::harbor-registry/docker/registry/v2/blobs/sha256/ab/data"
S3 = "s3.us-west-2.amazonaws.com"
EC2 = "ec2.us-west-2.amazonaws.com"
RDS = "rds.us-west-2.amazonaws.com"
LAMBDA = "lambda.us-west-2.amazonaws.com"
EC = "kms:EncryptionContext:aws:s3:arn"
VIA = "kms:ViaService"
TAGS = "aws:TagKeys"
ECKEYS = "kms:EncryptionContextKeys"
DEPT = "kms:EncryptionContext:Department"
ABSENT = object()  # the request does not carry the key


def statement(effect: str, principal: Any = None, **fields: Any) -> dict[str, Any]:
    """A key policy statement: ExampleUser, kms:*, Resource "*" unless overridden.

    A field given as None is left out (``Principal=None`` for NotPrincipal).
    """
    body: dict[str, Any] = {"Effect": effect, "Principal": principal or {"AWS": USER}}
    body.update({"Action": "kms:*", "Resource": "*"}, **fields)
    return {name: value for name, value in body.items() if value is not None}


def allow(principal: Any = None, **fields: Any) -> dict[str, Any]:
    return statement("Allow", principal, **fields)


def deny(principal: Any = None, **fields: Any) -> dict[str, Any]:
    return statement("Deny", principal, **fields)


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def iam(*statements: dict[str, Any]) -> dict[str, Any]:
    """An identity policy; each statement's Resource defaults to "*"."""
    return doc(*({"Resource": "*", **s} for s in statements))


IAM_ALL = iam({"Effect": "Allow", "Action": "kms:*"})


def req(
    principal: str = USER,
    action: str = "kms:Decrypt",
    context: dict[str, Any] | None = None,
    resource: str = KEY,
    identity: tuple[dict[str, Any], ...] | None = None,
) -> Request:
    """A request; identity policies count as known when given (even empty)."""
    known = identity is not None
    return Request(principal, action, resource, context or {}, identity or (), known)


@dataclass(frozen=True)
class Case:
    id: str
    policy: dict[str, Any]
    request: Request
    decision: Decision
    statements: tuple[str, ...] | None = None
    reason: str | None = None


Row = tuple[str, str, str, Any, Any, bool]


def cond(row: Row) -> Case:
    """An Allow for ExampleUser guarded by one condition: allow iff it holds."""
    cid, operator, key, values, value, holds = row
    policy = doc(allow(Condition={operator: {key: values}}))
    context = {} if value is ABSENT else {key: value}
    return Case(
        cid, policy, req(context=context), "allow" if holds else "implicit_deny"
    )


def deny_if(row: Row) -> Case:
    """An Allow plus a Deny guarded by one condition: explicit_deny iff it holds."""
    cid, operator, key, values, value, holds = row
    policy = doc(allow(), deny(Sid="Guard", Condition={operator: {key: values}}))
    context = {} if value is ABSENT else {key: value}
    return Case(
        cid, policy, req(context=context), "explicit_deny" if holds else "allow"
    )


T1 = "2020-01-01T00:00:01Z"
B64 = "QmluYXJ5VmFsdWVJbkJhc2U2NA=="
FINANCE = "arn:aws:someservice:*:111122223333:finance/*"
TRICKY = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/a"
TOPIC = "arn:aws:sns:us-west-2:123456789012:TOPIC"
SNS_ANY = "arn:aws:sns:*:123456789012:*"
INSTANCES = ["t1.*", "t2.*", "m3.*"]
ENV = ["environment", "cost-center"]
STAGES = ["Restricted", "Production"]

# fmt: off
# --- String operators (OPS) -------------------------------------------------------
STRING_ROWS: list[Row] = [
    # StringEquals: exact matching.
    ("equals", "StringEquals", "aws:PrincipalTag/job", "admin", "admin", True),
    # StringEquals is case sensitive ("Users named John are denied access").
    ("equals-case", "StringEquals", "aws:username", "john", "John", False),
    # StringNotEquals: negated matching; another value is true.
    ("not-equals-other", "StringNotEquals", VIA, S3, EC2, True),
    # StringNotEquals: the same value is false.
    ("not-equals-same", "StringNotEquals", VIA, S3, S3, False),
    # StringEqualsIgnoreCase: exact matching, ignoring case.
    ("equals-ignore-case", "StringEqualsIgnoreCase", "aws:username", "Bob", "bOB",
     True),
    # StringNotEqualsIgnoreCase: the same value in another case is still equal.
    ("not-equals-ignore", "StringNotEqualsIgnoreCase", "aws:username", "Bob", "BOB",
     False),
    # StringLike: * matches any run of characters.
    ("like-star", "StringLike", "s3:prefix", "home/*", "home/david/", True),
    # StringLike: ? matches exactly one character.
    ("like-question", "StringLike", "ec2:InstanceType", "t?.micro", "t2.micro", True),
    # StringLike: ? does not match two characters.
    ("like-question-two", "StringLike", "ec2:InstanceType", "t?.micro", "t23.micro",
     False),
    # StringLike is case sensitive (the kms:KeySpec "RSA_*" example).
    ("like-case", "StringLike", "kms:KeySpec", "RSA_*", "rsa_2048", False),
    # StringNotLike: a value outside the pattern is true.
    ("not-like-other", "StringNotLike", "s3:prefix", "key1*", "key2", True),
    # StringNotLike: a matching value is false.
    ("not-like-match", "StringNotLike", "s3:prefix", "key1*", "key1a", False),
    # Several values for one key are ORed (kms:ViaService: EC2 or RDS).
    ("values-or", "StringEquals", VIA, [EC2, RDS], RDS, True),
    # A negated operator with several values: false if any matches (NOR).
    ("negated-nor-match", "StringNotEquals", VIA, [EC2, S3], S3, False),
    # A negated operator with several values: true if none matches.
    ("negated-nor-none", "StringNotEquals", VIA, [EC2, S3], RDS, True),
    # A key missing from the request: the condition is false.
    ("missing-false", "StringEquals", "aws:PrincipalTag/job", "admin", ABSENT, False),
    # A missing key under a negated operator: true.
    ("missing-negated", "StringNotEquals", VIA, S3, ABSENT, True),
    # StringNotLike with the key missing: true.
    ("missing-not-like", "StringNotLike", "s3:prefix", "home/*", ABSENT, True),
    # A number in the policy is compared as its text.
    ("number-as-text", "StringEquals", "s3:max-keys", 10, "10", True),
]

# --- Numeric, date, Bool, binary and IP address operators (OPS) ---------------------
TYPED_ROWS: list[Row] = [
    # NumericLessThanEquals: s3:max-keys up to 10.
    ("num-le-equal", "NumericLessThanEquals", "s3:max-keys", "10", "10", True),
    # NumericLessThanEquals: 11 is more than 10.
    ("num-le-more", "NumericLessThanEquals", "s3:max-keys", "10", "11", False),
    # Numeric operators compare numbers, not text: 10 equals 10.0.
    ("num-eq-decimal", "NumericEquals", "s3:max-keys", "10", "10.0", True),
    # NumericNotEquals: another number is true.
    ("num-not-equals", "NumericNotEquals", "s3:max-keys", "10", "5", True),
    # NumericGreaterThan is strict.
    ("num-gt-strict", "NumericGreaterThan", "s3:max-keys", "5", "5", False),
    # NumericGreaterThanEquals includes the limit.
    ("num-ge", "NumericGreaterThanEquals", "s3:max-keys", "5", "5", True),
    # A decimal limit (the kms:ValidTo example).
    ("num-valid-to", "NumericLessThan", "kms:ValidTo", "1546257599.0", "1546257598",
     True),
    # A missing key: false.
    ("num-missing", "NumericLessThan", "kms:ValidTo", "1546257599", ABSENT, False),
    # Choice: a value that is not a number satisfies no numeric operator.
    ("num-not-number", "NumericNotEquals", "s3:max-keys", "10", "ten", False),
    # DateGreaterThan: credentials issued after the limit.
    ("date-gt", "DateGreaterThan", "aws:TokenIssueTime", T1, "2020-06-01T12:00:00Z",
     True),
    # DateGreaterThan: an earlier time is false.
    ("date-gt-earlier", "DateGreaterThan", "aws:TokenIssueTime", T1,
     "2019-12-31T23:59:59Z", False),
    # aws:TokenIssueTime is absent for long-term keys: the condition is false.
    ("date-missing", "DateGreaterThan", "aws:TokenIssueTime", T1, ABSENT, False),
    # Dates may be given in epoch (UNIX) time and compared with ISO 8601.
    ("date-epoch", "DateLessThan", "aws:EpochTime", "2021-01-01T00:00:00Z",
     "1600000000", True),
    # DateEquals compares instants: Z and +00:00 are the same time.
    ("date-zones", "DateEquals", "aws:CurrentTime", "2020-01-01T00:00:00Z",
     "2020-01-01T00:00:00+00:00", True),
    # W3C ISO 8601 allows a date alone.
    ("date-day-only", "DateLessThanEquals", "aws:CurrentTime", "2020-01-02",
     "2020-01-01T23:00:00Z", True),
    # DateNotEquals with the key missing is true (a negated operator).
    ("date-not-equals-missing", "DateNotEquals", "aws:CurrentTime", T1, ABSENT, True),
    # Bool with JSON true in the policy (kms:GrantIsForAWSResource).
    ("bool-true", "Bool", "kms:GrantIsForAWSResource", True, "true", True),
    # Bool: a Python bool in the request becomes "true".
    ("bool-python", "Bool", "kms:GrantIsForAWSResource", "true", True, True),
    # Bool: false does not match true.
    ("bool-false", "Bool", "kms:GrantIsForAWSResource", "true", "false", False),
    # Bool: a missing key is false (grant calls made directly).
    ("bool-missing", "Bool", "kms:GrantIsForAWSResource", "true", ABSENT, False),
    # BinaryEquals compares with the base-64 value in the policy.
    ("binary", "BinaryEquals", "key", B64, B64, True),
    # BinaryEquals: other bytes do not match.
    ("binary-other", "BinaryEquals", "key", B64, "T3RoZXI=", False),
    # IpAddress: an address inside 203.0.113.0/24.
    ("ip-inside", "IpAddress", "aws:SourceIp", "203.0.113.0/24", "203.0.113.77", True),
    # IpAddress: an address outside the range.
    ("ip-outside", "IpAddress", "aws:SourceIp", "203.0.113.0/24", "198.51.100.1",
     False),
    # IPv4 and IPv6 ranges mixed; an address in 2001:DB8::/64.
    ("ip-v6", "IpAddress", "aws:SourceIp", ["203.0.113.0/24", "2001:DB8::/64"],
     "2001:db8::9", True),
    # An address without a prefix means /32.
    ("ip-bare-32", "IpAddress", "aws:SourceIp", "203.0.113.5", "203.0.113.6", False),
    # NotIpAddress: an address outside the range is true.
    ("not-ip-outside", "NotIpAddress", "aws:SourceIp", "203.0.113.0/24",
     "198.51.100.1", True),
    # aws:SourceIp is absent through a VPC endpoint: IpAddress is false.
    ("ip-missing", "IpAddress", "aws:SourceIp", "203.0.113.0/24", ABSENT, False),
]

# --- ARN operators (OPS) ------------------------------------------------------------
ARN_ROWS: list[Row] = [
    # StringLike lets * cross colons, so the documented tricky value matches...
    ("string-like-crosses", "StringLike", "aws:SourceArn", FINANCE, TRICKY, True),
    # ...ArnLike checks each colon-delimited component, so it does not.
    ("arn-like-components", "ArnLike", "aws:SourceArn", FINANCE, TRICKY, False),
    # ArnEquals: the exact SNS topic of the SQS queue example.
    ("arn-equals", "ArnEquals", "aws:SourceArn", TOPIC, TOPIC, True),
    # ArnEquals and ArnLike behave identically: ArnEquals takes wildcards.
    ("arn-equals-wild", "ArnEquals", "aws:SourceArn", SNS_ANY,
     "arn:aws:sns:eu-west-1:123456789012:T", True),
    # A wildcard region does not make the account field a wildcard.
    ("arn-like-account", "ArnLike", "aws:SourceArn", SNS_ANY,
     "arn:aws:sns:eu-west-1:999999999999:T", False),
    # ArnNotEquals: another ARN is true.
    ("arn-not-equals", "ArnNotEquals", "aws:PrincipalArn", ROLE, USER, True),
    # ArnNotLike: a matching ARN is false.
    ("arn-not-like", "ArnNotLike", "aws:PrincipalArn", f"arn:aws:iam::{ACCT}:role/*",
     ROLE, False),
    # ArnNotLike with the key missing is true.
    ("arn-not-like-missing", "ArnNotLike", "aws:SourceArn", "arn:aws:s3:::*", ABSENT,
     True),
    # aws:SourceArn exists only when a service acts for a resource: false directly.
    ("arn-like-missing", "ArnLike", "aws:SourceArn", "arn:aws:s3:::*", ABSENT, False),
]

# --- ...IfExists and Null (OPS, KMS) -------------------------------------------------
EXISTS_ROWS: list[Row] = [
    # StringLikeIfExists: a missing key counts as true (ec2:InstanceType).
    ("if-exists-missing", "StringLikeIfExists", "ec2:InstanceType", INSTANCES, ABSENT,
     True),
    # ...a present key is checked as usual.
    ("if-exists-match", "StringLikeIfExists", "ec2:InstanceType", INSTANCES,
     "t2.micro", True),
    # ...and can fail.
    ("if-exists-other", "StringLikeIfExists", "ec2:InstanceType", INSTANCES,
     "c5.large", False),
    # Null true: the key is absent.
    ("null-true-absent", "Null", "aws:TokenIssueTime", "true", ABSENT, True),
    # Null true with the key present is false.
    ("null-true-present", "Null", "aws:TokenIssueTime", "true", T1, False),
    # Null false (JSON false, as in the KMS guide): the key exists.
    ("null-false-present", "Null", ECKEYS, False, ["aws:s3:arn"], True),
    # Null false with no encryption context is false.
    ("null-false-absent", "Null", ECKEYS, False, ABSENT, False),
    # Choice: an empty list in the request counts as an absent key.
    ("null-empty-list", "Null", ECKEYS, "true", [], True),
]

DENY_ROWS: list[Row] = [
    # A Deny with a negated ...IfExists operator still denies on a missing key.
    ("deny-not-equals-if-exists", "StringNotEqualsIfExists", "aws:ResourceTag/team",
     "blue", ABSENT, True),
    # BoolIfExists on aws:ViaAWSService: absent on a direct call, so it applies.
    ("deny-bool-if-exists-direct", "BoolIfExists", "aws:ViaAWSService", "false",
     ABSENT, True),
    # ...a call a service makes (true) is not denied.
    ("deny-bool-if-exists-service", "BoolIfExists", "aws:ViaAWSService", "false",
     "true", False),
    # NotIpAddress with aws:SourceIp absent (VPC endpoint): the Deny applies
    # (correction 5).
    ("deny-not-ip-missing", "NotIpAddress", "aws:SourceIp", "10.0.0.0/8", ABSENT, True),
    # Deny Stage=Restricted or Stage=Production: Restricted is denied (KMS).
    ("deny-stage-restricted", "StringEquals", "kms:EncryptionContext:Stage", STAGES,
     "Restricted", True),
    # ...and Stage=Test is not.
    ("deny-stage-test", "StringEquals", "kms:EncryptionContext:Stage", STAGES, "Test",
     False),
    # Deny ForAllValues:StringLike key1*: a tag outside key1* is not denied (MULTI).
    ("deny-all-like-other", "ForAllValues:StringLike", TAGS, "key1*", ["key2:audit"],
     False),
    # ...every tag within key1* is denied.
    ("deny-all-like-all", "ForAllValues:StringLike", TAGS, "key1*",
     ["key1:hr", "key1:personnel"], True),
    # ForAllValues:StringNotLike: every value outside the pattern matches.
    ("deny-all-not-like", "ForAllValues:StringNotLike", TAGS, "key1*", ["key2:audit"],
     True),
    # ForAllValues:StringNotLike with the key absent matches (the doc's table).
    ("deny-all-not-like-absent", "ForAllValues:StringNotLike", TAGS, "key1*", ABSENT,
     True),
]

# --- Set operators (MULTI, KMS) ------------------------------------------------------
SET_ROWS: list[Row] = [
    # ForAllValues: every request value matches a policy value.
    ("all-subset", "ForAllValues:StringEquals", TAGS, ENV, ["environment"], True),
    # ForAllValues: a value outside the policy values fails.
    ("all-extra", "ForAllValues:StringEquals", TAGS, ENV, ["environment", "dept"],
     False),
    # ForAllValues is true when the key is absent (correction 4).
    ("all-absent", "ForAllValues:StringEquals", TAGS, ENV, ABSENT, True),
    # ForAllValues is true for an empty string, a null data set.
    ("all-empty-string", "ForAllValues:StringEquals", TAGS, ENV, "", True),
    # ForAnyValue: one matching value is enough.
    ("any-one", "ForAnyValue:StringEquals", TAGS, ENV, ["environment", "dept"], True),
    # ForAnyValue: no matching value.
    ("any-none", "ForAnyValue:StringEquals", TAGS, ENV, ["dept"], False),
    # ForAnyValue is false when the key is absent.
    ("any-absent", "ForAnyValue:StringEquals", TAGS, ENV, ABSENT, False),
    # ForAnyValue is false for an empty string.
    ("any-empty-string", "ForAnyValue:StringEquals", TAGS, ENV, "", False),
    # kms:EncryptionContextKeys with ForAnyValue: AppName among the keys (KMS).
    ("ec-keys-any", "ForAnyValue:StringEquals", ECKEYS, "AppName",
     ["AppName", "Project"], True),
    # ...a request with only Project fails.
    ("ec-keys-any-other", "ForAnyValue:StringEquals", ECKEYS, "AppName", ["Project"],
     False),
    # ...StringEquals makes the encryption context key's case matter.
    ("ec-keys-any-case", "ForAnyValue:StringEquals", ECKEYS, "AppName", ["appname"],
     False),
    # ForAllValues on kms:EncryptionContextKeys allows no encryption context at all.
    ("ec-keys-all-absent", "ForAllValues:StringEquals", ECKEYS,
     ["Department", "Project"], ABSENT, True),
    # ForAllValues on a single-valued key is overly permissive: a request without
    # that encryption context passes (KMS rejects such policies).
    ("all-single-valued", "ForAllValues:StringEquals", DEPT, "IT", ABSENT, True),
    # A set operator treats a single value as a set of one.
    ("any-single-value", "ForAnyValue:StringEquals", DEPT, "IT", "IT", True),
    # Multivalued keys require a set operator; what a plain operator does with
    # several values is undocumented. Choice: it does not match.
    ("plain-multivalued", "StringEquals", TAGS, "environment", ["environment", "x"],
     False),
    # A list of one value is a single value.
    ("plain-one-element", "StringEquals", TAGS, "environment", ["environment"], True),
]

# --- Policy variable escapes and ARN operators (VARS) ---------------------------
VAR_ROWS: list[Row] = [
    # ${*} is a literal asterisk in StringLike...
    ("var-escape-star", "StringLike", "s3:prefix", "a${*}b", "a*b", True),
    # ...so it does not match other characters.
    ("var-escape-star-not-wild", "StringLike", "s3:prefix", "a${*}b", "axyb", False),
    # ${?} and ${$} are a literal ? and $.
    ("var-escape-question-dollar", "StringEquals", "s3:prefix", "${?}${$}", "?$", True),
    # Variables work in ARN operators (aws:PrincipalAccount, derived from the caller).
    ("var-in-arn-like", "ArnLike", "aws:SourceArn",
     "arn:aws:s3:::${aws:PrincipalAccount}-*", "arn:aws:s3:::111122223333-logs", True),
]
# fmt: on

ROW_CASES = [
    *map(cond, [*STRING_ROWS, *TYPED_ROWS, *ARN_ROWS, *EXISTS_ROWS, *SET_ROWS]),
    *map(cond, VAR_ROWS),
    *map(deny_if, DENY_ROWS),
]

PAIR = {DEPT: "IT", "kms:EncryptionContext:Project": "Alpha"}
APP = {"kms:EncryptionContext:AppName": "ExampleApp"}
ONLY_APP = {"ForAllValues:StringEquals": {ECKEYS: ["AppName"]}, "StringEquals": APP}
IT_OR_ALPHA = doc(
    allow(Sid="IT", Condition={"StringEquals": {DEPT: "IT"}}),
    allow(
        Sid="Alpha",
        Condition={"StringEquals": {"kms:EncryptionContext:Project": "Alpha"}},
    ),
)
USER_VAR = doc(
    allow(
        {"AWS": [BOB, ROLE]},
        Condition={"StringEquals": {"kms:EncryptionContext:user": "${aws:username}"}},
    )
)
DEFAULT_VAR = doc(
    allow(
        {"AWS": ROLE},
        Condition={
            "StringEquals": {
                "kms:EncryptionContext:user": "${aws:username, 'anonymous'}"
            }
        },
    )
)
KEY_VAR = iam(
    {
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": f"arn:aws:kms:us-west-2:{ACCT}:key/${{aws:PrincipalTag/key}}",
    }
)
EARLY_VAR = iam(
    {
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": "arn:aws:kms:us-west-2:${aws:PrincipalAccount}:key/*",
    }
)
OLD_VERSION = {
    "Statement": [
        allow(
            {"AWS": BOB},
            Condition={"StringEquals": {"aws:PrincipalTag/x": "${aws:username}"}},
        )
    ]
}
TAG_VAR = doc(allow(Condition={"StringEquals": {"s3:prefix": "${aws:TagKeys}"}}))
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE_USE = doc(allow({"AWS": ROLE}, Sid="RoleUse"))
NOT_BOB = deny(None, Principal=None, NotPrincipal={"AWS": [BOB, ROOT]})
NOT_SESSION = deny(None, Principal=None, NotPrincipal={"AWS": [SESSION, ROLE, ROOT]})
ADMIN = doc(
    allow(
        {"AWS": ROLE}, Sid="Admins", Action=["kms:Create*", "kms:Put*", "kms:Describe*"]
    )
)
NOT_DECRYPT = doc(allow(NotAction="kms:Decrypt", Action=None))
DEFAULT_POLICY = doc(allow({"AWS": ROOT}, Sid="Enable IAM policies"))
ROOT_ONLY = doc(allow({"AWS": ROOT}))
VIA_EC2_RDS = doc(allow(Condition={"StringEquals": {VIA: [EC2, RDS]}}))
NO_LAMBDA = doc(
    allow(),
    deny(
        Sid="NoLambda", Action="kms:Encrypt", Condition={"StringEquals": {VIA: LAMBDA}}
    ),
)
HARBOR = doc(
    allow(
        {"AWS": ROLE}, Sid="HarborUse", Action=["kms:Decrypt", "kms:GenerateDataKey"]
    ),
    deny(
        {"AWS": ROLE},
        Sid="DenyHarborDirectUse",
        Action=["kms:Decrypt", "kms:GenerateDataKey"],
        Condition={"StringNotEquals": {VIA: S3}},
    ),
)
EBS = doc(
    allow(
        {"AWS": "*"},
        Sid="EBS",
        Condition={"StringEquals": {"kms:CallerAccount": ACCT, VIA: EC2}},
    )
)
GRANTS = doc(
    allow(
        Sid="Attach",
        Action=["kms:CreateGrant", "kms:ListGrants"],
        Condition={"Bool": {"kms:GrantIsForAWSResource": True}},
    )
)
EXTERNAL = doc(allow({"AWS": EXT_ROOT}, Sid="External"))
EXTERNAL_ROLE = doc(allow({"AWS": EXT_ROLE}, Sid="ExternalRole"))
USE_KEY = iam({"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": KEY})
ALGORITHM = doc(
    allow(),
    deny(
        Condition={"StringNotEquals": {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}}
    ),
)
NO_BYPASS = doc(
    allow(
        Action="kms:PutKeyPolicy",
        Condition={"Null": {"kms:BypassPolicyLockoutSafetyCheck": True}},
    )
)
BLANKET = doc(
    allow({"AWS": ROLE}),
    deny(
        "*", Sid="DenyNoContext", Action="kms:Decrypt", Condition={"Null": {EC: "true"}}
    ),
)
S3_PRINCIPAL = doc(
    allow({"Service": "s3.amazonaws.com"}, Condition={"StringEquals": {VIA: S3}})
)


def harbor(operator: str, values: Any) -> dict[str, Any]:
    """Harbor's role through S3, limited by an encryption context condition."""
    return doc(
        allow(
            {"AWS": ROLE},
            Sid="HarborS3",
            Action=["kms:Decrypt", "kms:GenerateDataKey"],
            Condition={"StringEquals": {VIA: S3}, operator: {EC: values}},
        )
    )


def s3_call(arn: str) -> Request:
    """The GenerateDataKey call S3 makes for Harbor's session (SSE-KMS)."""
    return req(
        SESSION, "kms:GenerateDataKey", {VIA: S3, EC: arn, ECKEYS: ["aws:s3:arn"]}
    )


# fmt: off
# --- Several operators and keys (OPS, KMS) -------------------------------------------
LOGIC = [
    # Keys under one operator are ANDed: both encryption context pairs present.
    Case("keys-anded", doc(allow(Condition={"StringEquals": PAIR})), req(context=PAIR),
         "allow"),
    # ...one pair missing fails.
    Case("keys-anded-missing", doc(allow(Condition={"StringEquals": PAIR})),
         req(context={DEPT: "IT"}), "implicit_deny"),
    # Operators are ANDed: the pair is there, but ForAllValues rejects an extra key.
    Case("operators-anded", doc(allow(Condition=ONLY_APP)),
         req(context={**APP, ECKEYS: ["AppName", "Stage"]}), "implicit_deny"),
    # ...with only the AppName key both hold.
    Case("operators-anded-ok", doc(allow(Condition=ONLY_APP)),
         req(context={**APP, ECKEYS: ["AppName"]}), "allow"),
    # Correction 4: ForAllValues with a positive check; no encryption context fails.
    Case("all-with-positive-check", doc(allow(Condition=ONLY_APP)), req(),
         "implicit_deny"),
    # One pair OR another: separate statements.
    Case("or-by-statements", IT_OR_ALPHA,
         req(context={"kms:EncryptionContext:Project": "Alpha"}), "allow", ("Alpha",)),
    # Condition key names are case-insensitive, the kms:EncryptionContext: prefix
    # and the encryption context key alike.
    Case("key-name-case", doc(allow(Condition={"StringEquals": {
        "KMS:encryptioncontext:appname": "ExampleApp"}})), req(context=APP), "allow"),
    # ...values keep their case under StringEquals.
    Case("value-case", doc(allow(Condition={"StringEquals": APP})),
         req(context={"kms:EncryptionContext:AppName": "exampleapp"}), "implicit_deny"),
    # An unknown operator: the statement cannot match; the reasons say why.
    Case("unknown-operator",
         doc(allow(Sid="Typo", Condition={"StringEqualz": {"aws:username": "x"}})),
         req(context={"aws:username": "x"}), "implicit_deny", (),
         'unknown condition operator "StringEqualz"'),
    # Null takes no IfExists suffix: NullIfExists is unknown.
    Case("null-if-exists", doc(allow(Condition={"NullIfExists": {"aws:x": "true"}})),
         req(), "implicit_deny", (), "unknown condition operator"),
]

# --- Policy variables (VARS, KMS) ----------------------------------------------------
VARIABLES = [
    # ${aws:username} resolves to the caller's friendly name (KMS "user" example).
    Case("var-username", USER_VAR,
         req(BOB, context={"kms:EncryptionContext:user": "bob"}), "allow"),
    # ...so bob cannot decrypt alice's data.
    Case("var-username-other", USER_VAR,
         req(BOB, context={"kms:EncryptionContext:user": "alice"}), "implicit_deny"),
    # A role session has no aws:username: the value cannot match anything.
    Case("var-unresolved", USER_VAR,
         req(SESSION, context={"kms:EncryptionContext:user": "${aws:username}"}),
         "implicit_deny", None, "has no value"),
    # A default applies when the key has no value.
    Case("var-default", DEFAULT_VAR,
         req(SESSION, context={"kms:EncryptionContext:user": "anonymous"}), "allow"),
    # A variable after the fifth colon of a Resource is resolved.
    Case("var-in-resource", ROOT_ONLY,
         req(context={"aws:PrincipalTag/key": KEY_ID}, identity=(KEY_VAR,)), "allow"),
    # A variable before the fifth colon stays literal, so nothing matches.
    Case("var-before-fifth-colon", ROOT_ONLY, req(identity=(EARLY_VAR,)),
         "implicit_deny"),
    # Without Version 2012-10-17, ${aws:username} is a literal string.
    Case("var-needs-version", OLD_VERSION,
         req(BOB, context={"aws:PrincipalTag/x": "bob"}), "implicit_deny"),
    # A multivalued key cannot be a policy variable.
    Case("var-multivalued", TAG_VAR,
         req(context={TAGS: ["a", "b"], "s3:prefix": "a"}), "implicit_deny"),
]

# --- Principal and NotPrincipal (PRINCIPAL, DEFAULT) ----------------------------------
PRINCIPALS = [
    # A role principal covers the assumed-role sessions of that role.
    Case("role-covers-session", ROLE_USE, req(SESSION), "allow", ("RoleUse",),
         "names the role"),
    # Session ARNs carry no role path: a role with a path still covers them.
    Case("role-path-covers-session",
         doc(allow({"AWS": f"arn:aws:iam::{ACCT}:role/team/ExampleRole"})),
         req(SESSION), "allow"),
    # A role of the same name in another account does not.
    Case("role-other-account", ROLE_USE, req(EXT_SESSION, identity=(IAM_ALL,)),
         "implicit_deny"),
    # Another role's session is not covered.
    Case("role-other-role", ROLE_USE,
         req(f"arn:aws:sts::{ACCT}:assumed-role/OtherRole/s"), "implicit_deny"),
    # A session principal names that session only.
    Case("session-principal-other", doc(allow({"AWS": SESSION})),
         req(f"arn:aws:sts::{ACCT}:assumed-role/ExampleRole/other"), "implicit_deny"),
    # An IAM user principal.
    Case("user-principal", doc(allow({"AWS": USER})), req(USER), "allow"),
    # The user name part of a principal ARN is case sensitive.
    Case("user-name-case", doc(allow({"AWS": f"arn:aws:iam::{ACCT}:user/exampleuser"})),
         req(USER), "implicit_deny"),
    # No partial wildcards in principals: user/* is taken literally.
    Case("principal-no-wildcards", doc(allow({"AWS": f"arn:aws:iam::{ACCT}:user/*"})),
         req(USER), "implicit_deny"),
    # "*" names every principal, services included.
    Case("star-any", doc(allow("*")), req("s3.amazonaws.com"), "allow"),
    # {"AWS": "*"} names every AWS identity...
    Case("aws-star-user", doc(allow({"AWS": "*"})), req(USER), "allow"),
    # ...but not a service principal.
    Case("aws-star-not-service", doc(allow({"AWS": "*"})), req("s3.amazonaws.com"),
         "implicit_deny"),
    # A service principal, given in a list.
    Case("service-principal", doc(allow({"Service": ["s3.amazonaws.com"]})),
         req("s3.amazonaws.com"), "allow"),
    # A service principal does not cover IAM users.
    Case("service-not-user", doc(allow({"Service": "s3.amazonaws.com"})), req(USER),
         "implicit_deny"),
    # Identity policies do not apply to services.
    Case("service-ignores-iam", ROOT_ONLY, req("s3.amazonaws.com", identity=(IAM_ALL,)),
         "implicit_deny"),
    # The 12-digit account id and arn:aws:iam::ACCT:root behave the same way.
    Case("account-id-principal", doc(allow({"AWS": ACCT})),
         req(USER, identity=(IAM_ALL,)), "allow"),
    # The account principal does not grant users by itself (DEFAULT).
    Case("root-principal-no-iam", doc(allow({"AWS": ROOT}, Sid="EnableIAM")), req(USER),
         "implicit_deny", ("EnableIAM",), "no identity policies were given"),
    # The account root user itself needs no IAM policy.
    Case("root-caller", ROOT_ONLY, req(ROOT), "allow"),
    # A bare account id as the caller is the root user.
    Case("root-caller-account-id", ROOT_ONLY, req(ACCT), "allow"),
    # NotPrincipal with Deny: everyone but bob is denied...
    Case("not-principal-spares-bob", doc(allow({"AWS": [BOB, USER]}), NOT_BOB),
         req(BOB), "allow"),
    # ...listing bob's account does not spare the account's other users.
    Case("not-principal-denies-others", doc(allow({"AWS": [BOB, USER]}), NOT_BOB),
         req(USER), "explicit_deny"),
    # A session is spared when it, its role and its account are listed.
    Case("not-principal-session", doc(allow({"AWS": ROLE}), NOT_SESSION), req(SESSION),
         "allow"),
    # NotPrincipal with Allow grants everyone not listed (not recommended).
    Case("not-principal-allow",
         doc(allow(None, Principal=None, NotPrincipal={"AWS": BOB})), req(USER),
         "allow"),
    # A key policy statement without Principal is ignored, with a note.
    Case("principal-missing", doc(allow(None, Sid="NoPrincipal", Principal=None)),
         req(USER), "implicit_deny", (), "it has no Principal"),
]

# --- Action, NotAction, Resource and evaluation (ELEMENTS, DEFAULT) ------------
ELEMENTS = [
    # kms:Create* includes kms:CreateGrant (correction 9).
    Case("create-star-grant", ADMIN, req(SESSION, "kms:CreateGrant"), "allow"),
    # kms:Put* includes kms:PutKeyPolicy (correction 9).
    Case("put-star-policy", ADMIN, req(SESSION, "kms:PutKeyPolicy"), "allow"),
    # Key administrators cannot use the key (DEFAULT).
    Case("admin-no-decrypt", ADMIN, req(SESSION, "kms:Decrypt"), "implicit_deny"),
    # Action names are case-insensitive.
    Case("action-case", doc(allow(Action="kms:decrypt")), req(USER, "KMS:Decrypt"),
         "allow"),
    # kms:GenerateDataKey* covers GenerateDataKeyWithoutPlaintext.
    Case("action-star-suffix", doc(allow(Action="kms:GenerateDataKey*")),
         req(USER, "kms:GenerateDataKeyWithoutPlaintext"), "allow"),
    # ? matches one character in an action.
    Case("action-question", doc(allow(Action="kms:?ncrypt")), req(USER, "kms:Encrypt"),
         "allow"),
    # NotAction with Allow: everything except the listed actions...
    Case("not-action-allow", NOT_DECRYPT, req(USER, "kms:Encrypt"), "allow"),
    # ...and the listed action is not allowed.
    Case("not-action-excluded", NOT_DECRYPT, req(USER, "kms:Decrypt"), "implicit_deny"),
    # NotAction with Deny: everything but DescribeKey is denied.
    Case("not-action-deny",
         doc(allow(), deny(NotAction="kms:DescribeKey", Action=None)),
         req(USER, "kms:Encrypt"), "explicit_deny"),
    # An identity policy's Resource must match the key (another key: no effect).
    Case("iam-resource-other-key", ROOT_ONLY,
         req(identity=(iam({"Effect": "Allow", "Action": "kms:*", "Resource": KEY2}),)),
         "implicit_deny"),
    # A Resource with wildcards covers the key.
    Case("iam-resource-wildcard", ROOT_ONLY,
         req(identity=(iam({"Effect": "Allow", "Action": "kms:*",
                            "Resource": f"arn:aws:kms:*:{ACCT}:key/*"}),)), "allow"),
    # NotResource: every resource but the listed key.
    Case("iam-not-resource", ROOT_ONLY,
         req(identity=(doc({"Effect": "Allow", "Action": "kms:*",
                            "NotResource": KEY2}),)), "allow"),
    # An explicit Deny overrides any Allow.
    Case("deny-wins", doc(allow(), deny(Sid="No")), req(), "explicit_deny", ("No",)),
    # An identity policy Deny is effective even without the root statement (DEFAULT:
    # "IAM policies that deny access to the key are still effective").
    Case("iam-deny-effective", doc(allow()),
         req(identity=(iam({"Effect": "Deny", "Action": "kms:Decrypt"}),)),
         "explicit_deny", ("identity_policy[0]:#0",)),
    # An IAM allow is ineffective unless the key policy enables the account.
    Case("iam-allow-needs-key-policy", doc(allow({"AWS": ROLE})),
         req(identity=(IAM_ALL,)), "implicit_deny", (), "IAM policies count only"),
    # Nothing applies: implicit deny.
    Case("implicit-deny", doc(allow(Action="kms:Encrypt")), req(), "implicit_deny", ()),
    # Effect is case sensitive: "allow" makes the statement unusable, with a note.
    Case("effect-lower-case", doc(allow(Effect="allow", Sid="Lower")), req(),
         "implicit_deny", (), 'Statement Lower is ignored: its Effect is "allow"'),
    # An unknown Effect is ignored too.
    Case("effect-maybe", doc(allow(Effect="Maybe")), req(), "implicit_deny", (),
         "is ignored"),
    # Action and NotAction together: the statement is unusable.
    Case("action-and-not-action", doc(allow(NotAction="kms:Encrypt")), req(),
         "implicit_deny", (), "both Action and NotAction"),
]

# --- KMS: default policy, ViaService, grants, cross-account (DEFAULT, KMS, XACCT)
KMS = [
    # The default key policy: a user with an IAM allow may use the key.
    Case("default-with-iam", DEFAULT_POLICY, req(identity=(IAM_ALL,)), "allow",
         ("Enable IAM policies", "identity_policy[0]:#0")),
    # The default key policy without an IAM policy: no.
    Case("default-without-iam", DEFAULT_POLICY, req(), "implicit_deny",
         ("Enable IAM policies",),
         f"allowed by the key policy only if an IAM policy in account {ACCT} grants "
         "it; no identity policies were given"),
    # Identity policies known to be none.
    Case("default-iam-known-empty", DEFAULT_POLICY, req(identity=()), "implicit_deny",
         ("Enable IAM policies",), "none of the caller's identity policies"),
    # Root delegation with a kms:CallerAccount condition (the guide's statement 1).
    Case("root-caller-account", doc(allow({"AWS": ROOT}, Condition={
        "StringEquals": {"kms:CallerAccount": ACCT}})), req(identity=(IAM_ALL,)),
        "allow"),
    # ...a wrong account there silently disables delegation (correction 6).
    Case("root-wrong-caller-account", doc(allow({"AWS": ROOT}, Condition={
        "StringEquals": {"kms:CallerAccount": OTHER}})), req(identity=(IAM_ALL,)),
        "implicit_deny"),
    # kms:ViaService: requests from EC2 or RDS only.
    Case("via-rds", VIA_EC2_RDS, req(context={VIA: RDS}), "allow"),
    # ...a direct call (no kms:ViaService) is not allowed.
    Case("via-direct", VIA_EC2_RDS, req(), "implicit_deny"),
    # A Deny on Encrypt through Lambda.
    Case("deny-via-lambda", NO_LAMBDA, req(action="kms:Encrypt", context={VIA: LAMBDA}),
         "explicit_deny", ("NoLambda",)),
    # ...Encrypt through EC2 is not denied.
    Case("deny-via-lambda-ec2", NO_LAMBDA,
         req(action="kms:Encrypt", context={VIA: EC2}), "allow"),
    # Deny StringNotEquals kms:ViaService denies a direct call by Harbor's role.
    Case("deny-direct-call", HARBOR, req(SESSION), "explicit_deny",
         ("DenyHarborDirectUse",),
         "Statement DenyHarborDirectUse denies: kms:ViaService is absent, so "
         "StringNotEquals is true."),
    # ...and a call through S3 passes.
    Case("harbor-via-s3", HARBOR, req(SESSION, context={VIA: S3}), "allow",
         ("HarborUse",)),
    # {"AWS": "*"} with kms:CallerAccount: everyone in the account, through EBS.
    Case("caller-account-ebs", EBS, req(USER, context={VIA: EC2}), "allow", ("EBS",)),
    # ...kms:CallerAccount is derived from the caller: another account fails.
    Case("caller-account-other", EBS,
         req(EXT_USER, context={VIA: EC2}, identity=(IAM_ALL,)), "implicit_deny"),
    # kms:GrantIsForAWSResource: grants created by an integrated service.
    Case("grant-for-aws-resource", GRANTS,
         req(action="kms:CreateGrant", context={"kms:GrantIsForAWSResource": True}),
         "allow", ("Attach",)),
    # ...a CreateGrant call made directly is not allowed.
    Case("grant-direct", GRANTS, req(action="kms:CreateGrant"), "implicit_deny", (),
         "kms:GrantIsForAWSResource is absent"),
    # Cross-account: the key policy names the account and its IAM policy allows.
    Case("xacct-both", EXTERNAL, req(EXT_SESSION, identity=(USE_KEY,)), "allow",
         ("External", "identity_policy[0]:#0")),
    # Cross-account: the key policy alone is not enough.
    Case("xacct-key-only", EXTERNAL, req(EXT_SESSION), "implicit_deny", ("External",),
         f"IAM policy in account {OTHER} grants it"),
    # Cross-account: an IAM policy alone is not enough.
    Case("xacct-iam-only", DEFAULT_POLICY, req(EXT_SESSION, identity=(USE_KEY,)),
         "implicit_deny", ()),
    # Cross-account: a key policy naming the external role also needs IAM...
    Case("xacct-role-needs-iam", EXTERNAL_ROLE, req(EXT_SESSION, identity=()),
         "implicit_deny", ("ExternalRole",)),
    # ...and with it, the role's session is allowed.
    Case("xacct-role-with-iam", EXTERNAL_ROLE, req(EXT_SESSION, identity=(USE_KEY,)),
         "allow", ("ExternalRole", "identity_policy[0]:#0")),
    # The external account's root user needs no IAM policy of its own.
    Case("xacct-root", EXTERNAL, req(EXT_ROOT), "allow"),
    # One encryption algorithm only (Deny StringNotEquals kms:EncryptionAlgorithm).
    Case("encryption-algorithm", ALGORITHM,
         req(context={"kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
         "explicit_deny"),
    # Null on kms:BypassPolicyLockoutSafetyCheck: allowed without the parameter.
    Case("bypass-lockout-absent", NO_BYPASS, req(action="kms:PutKeyPolicy"), "allow"),
]

# --- S3 SSE-KMS encryption context (correction 1, BUCKETKEY, KMS) --------------
S3_CASES = [
    # The guide's StringEquals with a wildcard never matches an object ARN.
    Case("guide-string-equals-wildcard", harbor("StringEquals", f"{BUCKET}/*"),
         s3_call(OBJECT), "implicit_deny", (), "compares literally"),
    # StringLike matches the object ARN.
    Case("string-like-object", harbor("StringLike", f"{BUCKET}/*"), s3_call(OBJECT),
         "allow", ("HarborS3",)),
    # ArnLike matches the object ARN.
    Case("arn-like-object", harbor("ArnLike", f"{BUCKET}/*"), s3_call(OBJECT), "allow"),
    # With an S3 Bucket Key the context is the bucket ARN: BUCKET/* misses it.
    Case("bucket-key-misses-pattern", harbor("ArnLike", f"{BUCKET}/*"), s3_call(BUCKET),
         "implicit_deny"),
    # The exact bucket ARN matches Bucket Key calls.
    Case("bucket-key-exact", harbor("StringEquals", BUCKET), s3_call(BUCKET), "allow"),
    # During a transition both values are needed: object calls...
    Case("transition-object", harbor("ArnLike", [BUCKET, f"{BUCKET}/*"]),
         s3_call(OBJECT), "allow"),
    # ...and Bucket Key calls.
    Case("transition-bucket", harbor("ArnLike", [BUCKET, f"{BUCKET}/*"]),
         s3_call(BUCKET), "allow"),
    # Another bucket's objects are not allowed.
    Case("other-bucket", harbor("ArnLike", f"{BUCKET}/*"),
         s3_call("arn:aws:s3:::other/obj"), "implicit_deny"),
    # The blanket Decrypt Deny on a missing S3 context denies direct Decrypt...
    Case("blanket-deny-direct", BLANKET, req(SESSION), "explicit_deny",
         ("DenyNoContext",)),
    # ...for the root user too (correction 8).
    Case("blanket-deny-root", BLANKET, req(ROOT), "explicit_deny"),
    # ...but not a Decrypt through S3 with the context.
    Case("blanket-deny-via-s3", BLANKET, req(SESSION, context={VIA: S3, EC: OBJECT}),
         "allow"),
    # SSE-KMS calls carry the caller's identity, not S3's: a statement for the
    # s3.amazonaws.com service principal does not allow Harbor (correction 3).
    Case("s3-principal-not-harbor", S3_PRINCIPAL, s3_call(OBJECT), "implicit_deny"),
]
# fmt: on

ALL_CASES = [*ROW_CASES, *LOGIC, *VARIABLES, *PRINCIPALS, *ELEMENTS, *KMS, *S3_CASES]


def test_enough_distinct_cases() -> None:
    assert len(ALL_CASES) >= 110
    assert len({case.id for case in ALL_CASES}) == len(ALL_CASES)


@pytest.mark.parametrize("case", ALL_CASES, ids=[case.id for case in ALL_CASES])
def test_documented_case(case: Case) -> None:
    result = evaluate(case.policy, case.request)
    assert result.decision == case.decision, result.reasons
    if case.statements is not None:
        assert tuple(ref.label() for ref in result.statements) == case.statements
    if case.reason is not None:
        assert any(case.reason in reason for reason in result.reasons), result.reasons


# --- The API around the cases ----------------------------------------------------
@pytest.mark.parametrize(
    "document",
    [[], "policy", None, {}, {"Statement": 3}, {"Statement": [allow(), "text"]}],
    ids=["list", "string", "null", "no-statement", "statement-number", "item-string"],
)
def test_unusable_documents_raise_policy_error(document: Any) -> None:
    with pytest.raises(PolicyError, match=r"\.$"):
        Evaluator(document)


def test_single_statement_object_is_accepted() -> None:
    result = evaluate({"Statement": allow()}, req())
    assert result.decision == "allow"


# Derived keys, from
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
# (aws:PrincipalArn of a role session is the role's ARN) and KMS (kms:CallerAccount).
@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        (SESSION, {"aws:PrincipalArn": ROLE, "aws:PrincipalAccount": ACCT,
                   "kms:CallerAccount": ACCT, "aws:PrincipalType": "AssumedRole",
                   "aws:PrincipalIsAWSService": "false"}),
        (BOB, {"aws:PrincipalArn": BOB, "aws:username": "bob",
               "aws:PrincipalType": "User"}),
        (ACCT, {"aws:PrincipalArn": ROOT, "aws:PrincipalType": "Account"}),
        ("s3.amazonaws.com", {"aws:PrincipalIsAWSService": "true",
                              "aws:PrincipalServiceName": "s3.amazonaws.com"}),
    ],
    ids=["session", "user", "account-id", "service"],
)  # fmt: skip
def test_derived_context_keys(principal: str, expected: dict[str, str]) -> None:
    context = evaluate(doc(allow()), req(principal)).context
    assert {key: context.get(key) for key in expected} == expected


def test_request_values_are_never_overwritten() -> None:
    given = {"AWS:PrincipalARN": "arn:aws:iam::111122223333:role/Given", "x": True}
    context = evaluate(doc(allow()), req(SESSION, context=given)).context
    assert context["AWS:PrincipalARN"] == "arn:aws:iam::111122223333:role/Given"
    assert "aws:PrincipalArn" not in context
    assert context["x"] == "true"


def test_evaluator_is_reusable() -> None:
    evaluator = Evaluator(HARBOR)
    first = [evaluator.evaluate(req(SESSION, context=c)) for c in ({}, {VIA: S3})]
    again = [evaluator.evaluate(req(SESSION, context=c)) for c in ({}, {VIA: S3})]
    assert [r.decision for r in first] == ["explicit_deny", "allow"]
    assert first == again


def test_request_from_json_reads_a_jsonl_line() -> None:
    line = {
        "principal": SESSION,
        "action": "kms:Decrypt",
        "context": {VIA: S3, ECKEYS: ["aws:s3:arn"], "aws:ViaAWSService": True},
        "identity_policies": [IAM_ALL],
    }
    request = request_from_json(line, default_resource=KEY)
    assert request.resource == KEY
    assert request.identity_policies == (IAM_ALL,)
    assert request.identity_policies_known
    bare = request_from_json({"principal": USER, "action": "kms:Decrypt"})
    assert not bare.identity_policies_known
    assert request_from_json({"principal": USER, "action": "a"}).resource == "*"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ([], "must be a JSON object"),
        ({"action": "kms:Decrypt"}, '"principal"'),
        ({"principal": USER, "action": ""}, '"action"'),
        ({"principal": USER, "action": "a", "resource": 5}, '"resource"'),
        ({"principal": USER, "action": "a", "context": []}, '"context"'),
        ({"principal": USER, "action": "a", "context": {"k": {"x": 1}}}, 'key "k"'),
        ({"principal": USER, "action": "a", "identity_policies": {}}, "list"),
        ({"principal": USER, "action": "a", "identity_policies": [3]},
         "identity policy 0"),
        ({"principal": USER, "action": "a", "principle": "x"},
         "unknown fields: principle"),
    ],
    ids=["not-object", "no-principal", "empty-action", "resource-number",
         "context-list", "context-object-value", "identity-not-list",
         "identity-not-object", "typo"],
)  # fmt: skip
def test_request_from_json_rejects_bad_lines(line: Any, message: str) -> None:
    with pytest.raises(ValueError, match=r"\.$") as raised:
        request_from_json(line)
    assert message in str(raised.value)


def test_result_to_json_is_json() -> None:
    result = evaluate(HARBOR, req(SESSION))
    shown = result_to_json(result)
    assert shown == {
        "decision": "explicit_deny",
        "statements": ["DenyHarborDirectUse"],
        "reasons": list(result.reasons),
    }
    assert json.loads(json.dumps(shown)) == shown


def test_statement_labels() -> None:
    assert StatementRef("key_policy", 2, None).label() == "#2"
    assert StatementRef("key_policy", 0, "Admins").label() == "Admins"
    assert StatementRef("identity_policy[1]", 0, "S").label() == "identity_policy[1]:S"
    assert (
        StatementRef("identity_policy[0]", 3, None).label() == "identity_policy[0]:#3"
    )
