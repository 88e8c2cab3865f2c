"""Property tests: the evaluator survives any JSON and any request.

Key policies reach the wizard from files and from AWS; a malformed one must give
a PolicyError from the constructor, never another exception, and a compiled
policy must decide every request. Strategies mix arbitrary JSON with the policy
language's own words so that deep paths (conditions, variables, principals) are
reached, not only the top-level type checks.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from wizard.core.policy.simulate import Evaluator, PolicyError, Request

WORDS = [
    "Version", "2012-10-17", "Statement", "Sid", "Effect", "Allow", "Deny", "allow",
    "Principal", "NotPrincipal", "AWS", "Service", "Federated", "Action", "NotAction",
    "Resource", "NotResource", "Condition", "*", "kms:*", "kms:Decrypt", "kms:Get*",
    "kms:?ncrypt", "111122223333", "arn:aws:iam::111122223333:root",
    "arn:aws:iam::111122223333:role/R", "arn:aws:iam::111122223333:user/u",
    "arn:aws:sts::111122223333:assumed-role/R/s", "s3.amazonaws.com",
    "arn:aws:kms:us-east-1:111122223333:key/k", "arn:aws:kms:*:111122223333:key/*",
    "arn:aws:s3:::b/*", "StringEquals", "StringLike", "StringNotEquals", "ArnLike",
    "ArnNotLike", "NumericLessThan", "DateGreaterThan", "Bool", "BoolIfExists",
    "BinaryEquals", "IpAddress", "NotIpAddress", "Null", "ForAllValues:StringEquals",
    "ForAnyValue:StringLike", "StringEqualsIfExists", "NullIfExists", "Bogus",
    "kms:ViaService", "kms:EncryptionContext:aws:s3:arn", "kms:EncryptionContextKeys",
    "aws:SourceIp", "aws:username", "aws:PrincipalArn", "aws:CurrentTime",
    "${aws:username}", "${aws:username, 'x'}", "${*}", "${?}${$}", "${", "${}",
    "10.0.0.0/8", "::1", "2020-01-01T00:00:00Z", "1e999999", "-0", "true", "false",
    "QQ==", "",
]  # fmt: skip

word = st.sampled_from(WORDS)
scalar = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | word
)
json_value = st.recursive(
    scalar,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(word | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=12,
)
OPERATORS = [
    "StringEquals", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike",
    "NumericEquals", "NumericGreaterThanEquals", "DateLessThan", "DateNotEquals",
    "Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals", "ArnNotLike",
    "Null", "ForAllValues:StringLike", "ForAnyValue:ArnLike", "StringLikeIfExists",
    "ForAllValues:NotIpAddressIfExists", "NullIfExists", "Bogus",
]  # fmt: skip
condition_value = scalar | st.lists(scalar, max_size=3)
well_formed = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Deny"]),
        "Principal": st.sampled_from(["*", {"AWS": "*"}])
        | st.fixed_dictionaries({"AWS": st.lists(word, min_size=1, max_size=3)}),
        "Action": st.lists(word, min_size=1, max_size=3),
        "Resource": word,
        "Condition": st.dictionaries(
            st.sampled_from(OPERATORS),
            st.dictionaries(word, condition_value, min_size=1, max_size=2),
            max_size=3,
        ),
    }
)
statement = well_formed | st.dictionaries(word, json_value, max_size=6)
policy = st.fixed_dictionaries(
    {"Statement": st.lists(statement, max_size=4)},
    optional={"Version": st.sampled_from(["2012-10-17", "2008-10-17"])},
)
text = word | st.text(max_size=20)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    context: Any = draw(
        st.dictionaries(word | st.text(max_size=8), json_value, max_size=6)
    )
    identity: Any = draw(st.lists(json_value | policy, max_size=1))
    return Request(
        draw(text),
        draw(text),
        draw(text),
        context,
        tuple(identity),
        draw(st.booleans()),
    )


@settings(max_examples=200, deadline=None)
@given(document=json_value | policy, request=requests())
def test_any_json_is_a_policy_error_or_decides(document: Any, request: Request) -> None:
    try:
        evaluator = Evaluator(document)
    except PolicyError as error:
        assert str(error).endswith(".")
        return
    assert evaluator.evaluate(request).decision in (
        "allow",
        "explicit_deny",
        "implicit_deny",
    )


@settings(max_examples=200, deadline=None)
@given(document=policy, request=requests())
def test_valid_policy_decides_every_request(
    document: dict[str, Any], request: Request
) -> None:
    result = Evaluator(document).evaluate(request)
    assert result.decision in ("allow", "explicit_deny", "implicit_deny")
    assert all(isinstance(reason, str) and reason for reason in result.reasons)
    if result.decision == "explicit_deny":
        assert result.statements


@settings(max_examples=200, deadline=None)
@given(document=policy, request=requests())
def test_unconditional_deny_always_wins(
    document: dict[str, Any], request: Request
) -> None:
    blocker = {
        "Sid": "Blocker",
        "Effect": "Deny",
        "Principal": "*",
        "Action": request.action,
        "Resource": "*",
    }
    denied = {**document, "Statement": [*document["Statement"], blocker]}
    result = Evaluator(denied).evaluate(request)
    assert result.decision == "explicit_deny"
    assert "Blocker" in [ref.label() for ref in result.statements]
