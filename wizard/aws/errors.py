"""botocore's exceptions as :class:`~wizard.core.snapshot.Unknown` values.

Every read the adapter makes either returns data or one of these: a kind the
checklist can act on (access denied, throttled, endpoint, not found, ...), one
sentence for the user, and for a denial the IAM action to grant. The sentence
never carries a traceback, request parameters or credentials; AWS error messages
are included only for errors the tool has no better words for, cut to one line.

:class:`AwsError` is the one exception of the adapter: for callers that cannot
go on at all (no credentials, endpoint down), the CLI turns it into exit code 2.
"""

from __future__ import annotations

import re
from dataclasses import replace

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from wizard.core.errors import WizardError
from wizard.core.snapshot import Unknown

__all__ = [
    "AwsError",
    "ENDPOINT_ERRORS",
    "NOT_SET_CODES",
    "credentials_sentence",
    "error_code",
    "iam_action",
    "to_unknown",
]

ACCESS_DENIED = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
    | {"AuthorizationError"}
)
THROTTLED = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded"}
    | {"TooManyRequestsException", "SlowDown"}
)
NOT_FOUND = frozenset(
    {"NotFoundException", "NoSuchBucket", "NoSuchEntity", "TrailNotFoundException"}
    | {"NoSuchKey", "ResourceNotFoundException", "NoSuchConfigRuleException"}
    | {"NotFound"}  # SNS: the topic does not exist
)
UNSUPPORTED = frozenset(
    {"UnsupportedOperationException", "NotImplemented", "InvalidAction"}
    | {"UnknownOperationException"}
)
NOT_SET_CODES = frozenset(
    {"ServerSideEncryptionConfigurationNotFoundError"}
    | {"NoSuchPublicAccessBlockConfiguration", "NoSuchBucketPolicy"}
)
"""S3 codes that mean "this bucket setting is not set": read as None, not Unknown.

moto answers a fresh bucket's GetBucketEncryption and GetPublicAccessBlock with
them where AWS now returns its defaults; AWS itself still answers a bucket
without a policy with NoSuchBucketPolicy.
"""

ENDPOINT_ERRORS = (
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
)

# The API operation and the IAM action that authorizes it differ for these S3
# calls; everywhere else the action is service:Operation.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketEncryption.html
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetPublicAccessBlock.html
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
_ACTIONS = {
    "s3:GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "s3:PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "s3:PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "s3:HeadObject": "s3:GetObject",
    "s3:HeadBucket": "s3:ListBucket",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:GetBucketOwnershipControls": "s3:GetBucketOwnershipControls",
    "s3:GetBucketPolicy": "s3:GetBucketPolicy",
    "s3:GetBucketLocation": "s3:GetBucketLocation",
}
# "User: arn:... is not authorized to perform: kms:GenerateDataKey on ..."
_DENIED_ACTION = re.compile(r"not authorized to perform:? ([a-z0-9-]+:[A-Za-z0-9]+)")
_MAX_MESSAGE = 200


class AwsError(WizardError):
    """AWS cannot be used at all (no credentials, endpoint down): exit code 2."""

    title = "AWS"
    exit_code = 2


def iam_action(api: str) -> str:
    """The IAM action that authorizes ``api`` ('service:Operation').

    Args:
        api: an API call as the adapter records it, e.g. 's3:HeadObject'.

    Returns:
        The action to grant, e.g. 's3:GetObject'.
    """
    return _ACTIONS.get(api, api)


def error_code(error: BaseException) -> str:
    """A short code for an ApiCall outcome: AWS's code or the exception's name."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or "ClientError")
    return type(error).__name__


def to_unknown(error: BaseException, api: str, resource: str = "") -> Unknown:
    """Turn an exception from one boto3 call into an :class:`Unknown`.

    Args:
        error: what botocore raised.
        api: the call, as 'service:Operation'.
        resource: what the call was about (an ARN or a name), for the sentence.

    Returns:
        The Unknown, with ``permission`` set for denials and ``code`` set when
        AWS answered with an error code.
    """
    if isinstance(error, ClientError):
        return replace(_client_error(error, api, resource), code=error_code(error))
    where = f" for {resource}" if resource else ""
    if isinstance(error, ENDPOINT_ERRORS):
        url = str(getattr(error, "kwargs", {}).get("endpoint_url") or "")
        slow = isinstance(error, ReadTimeoutError)
        what = "did not answer in time" if slow else "did not answer"
        return Unknown(
            "endpoint",
            f"The {_service(api)} endpoint {url or '(unknown URL)'} {what}"
            f" ({type(error).__name__}), so {api}{where} could not be read.",
            api=api,
        )
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return Unknown("error", credentials_sentence(error), api=api)
    if isinstance(error, NoRegionError):
        return Unknown(
            "not_configured",
            "No AWS region is set: give --region, set AWS_REGION, or set a region "
            "in the profile.",
            api=api,
        )
    if isinstance(error, BotoCoreError):
        return Unknown(
            "error", f"{api}{where} failed: {_one_line(str(error))}.", api=api
        )
    return Unknown("error", f"{api}{where} failed: {type(error).__name__}.", api=api)


def credentials_sentence(error: BaseException | None = None) -> str:
    """How to give the tool credentials, in one sentence."""
    start = "No AWS credentials were found"
    if isinstance(error, PartialCredentialsError):
        start = "The AWS credentials are incomplete"
    return (
        f"{start}: use --profile or AWS_PROFILE (after `aws sso login` or "
        "`aws configure`), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
    )


def _client_error(error: ClientError, api: str, resource: str) -> Unknown:
    code = error_code(error)
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    message = str(error.response.get("Error", {}).get("Message") or "")
    where = f" for {resource}" if resource else ""
    # HEAD responses have no body, so S3 reports only the status as the code.
    if code in ACCESS_DENIED or code == "403":
        found = _DENIED_ACTION.search(message)
        action = found.group(1) if found else iam_action(api)
        return Unknown(
            "access_denied",
            f"{action} was denied{where} ({code}).",
            permission=action,
            api=api,
        )
    if code in THROTTLED or status == 429:
        attempts = int(
            error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        )
        return Unknown(
            "throttled",
            f"{api}{where} was throttled after {attempts + 1} attempts ({code}).",
            api=api,
        )
    if code in NOT_FOUND or code == "404":
        return Unknown(
            "not_found", f"{resource or api} was not found ({code}).", api=api
        )
    if code in UNSUPPORTED or status == 501:
        return Unknown("unsupported", f"{api} is not available here ({code}).", api=api)
    detail = f": {_one_line(message)}" if message else ""
    return Unknown("error", f"{api}{where} failed with {code}{detail}.", api=api)


def _service(api: str) -> str:
    names = {
        "kms": "KMS",
        "s3": "S3",
        "iam": "IAM",
        "sts": "STS",
        "cloudtrail": "CloudTrail",
        "logs": "CloudWatch Logs",
        "cloudwatch": "CloudWatch",
        "events": "EventBridge",
        "config": "AWS Config",
    }
    prefix = api.partition(":")[0]
    return names.get(prefix, prefix)


def _one_line(text: str) -> str:
    """Collapse whitespace, drop a trailing period and cut to a sensible length."""
    flat = " ".join(text.split()).rstrip(".")
    return flat if len(flat) <= _MAX_MESSAGE else flat[: _MAX_MESSAGE - 3] + "..."
