"""Text helpers of the runbook: escaping, redaction, commands, corrections.

Kept apart from :mod:`wizard.core.runbook` so each rule can be tested on its own:

- :func:`md_escape` makes a value inert in Markdown text and table cells;
- :func:`fence` picks a code fence no content can close early;
- :func:`redact` removes anything that looks like an AWS credential;
- :class:`Placeholders` fills ``{key_id}``-style commands with shell-safe values.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wizard.core.arn import parse_arn
from wizard.core.policy.explain import CORRECTIONS, GUIDE_PLACES
from wizard.core.values import Values

# CommonMark lets any ASCII punctuation be backslash-escaped. These are the
# characters that start inline markup (code, emphasis, links, raw HTML,
# entities, strikethrough) or split a GFM table cell; escaping only these keeps
# ARNs and bucket names readable in the raw file.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&!#])")
_NEWLINES = re.compile(r"\s*[\r\n]+\s*")


def md_escape(value: Any) -> str:
    """``value`` as inert Markdown text: one line, markup characters escaped.

    Raises:
        ValueError: ``value`` is None, which means the view lacks a value; the
            runbook must not show a blank where a fact belongs.
    """
    if value is None:
        raise ValueError("a runbook value is None (missing)")
    return _MD_SPECIAL.sub(r"\\\1", _NEWLINES.sub(" ", str(value)))


def code(value: Any) -> str:
    """``value`` as an inline code span, or escaped text when it cannot be one.

    A span cannot hold a backtick, a table's ``|`` or a line break safely in
    every Markdown dialect, so such values fall back to :func:`md_escape`.
    """
    plain = md_escape(value)
    if any(c in str(value) for c in "`|\r\n"):
        return plain
    return f"`{value}`"


def fence(content: str, info: str = "") -> str:
    """An opening fence longer than any backtick run in ``content``.

    CommonMark closes a fenced block only with a fence at least as long as the
    opening one, so the block cannot be ended by its own content.
    """
    runs = [len(run) for run in re.findall(r"`+", content)]
    return "`" * max(3, max(runs, default=0) + 1) + info


_STATUS_WORDS = {
    "pass": "PASS",
    "fail": "FAIL",
    "unknown": "UNKNOWN",
    "attested": "ATTESTED",
    "not_attested": "NOT ATTESTED",
    "not_checked": "NOT CHECKED",
}


def status_word(status: str) -> str:
    """The status as the runbook prints it (upper case, for scanning)."""
    return _STATUS_WORDS.get(status, status.upper())


def stamp(moment: datetime) -> str:
    """A time as the runbook prints it: UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time from a file, or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Credentials never belong in a runbook, whatever the inputs carried.
_SECRET_NAMES = re.compile(
    r"(secret|session[_-]?token|security[_-]?token|password|credential)", re.I
)
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)((?:aws_)?(?:secret_access_key|session_token|security_token)"
    r"|SecretAccessKey|SessionToken)"
    r"(\"?\s*[:=]\s*\"?)([^\s\"',;]+)"
)
# Access key ids: AKIA (long-term) and ASIA (temporary) followed by 16 characters.
_ACCESS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
# Session tokens are several hundred base64 characters; nothing else the runbook
# shows (ARNs, ids, hashes) is a base64 run this long.
_LONG_BASE64 = re.compile(r"[A-Za-z0-9+/]{100,}={0,2}")
REDACTED = "[redacted]"


def is_secret_name(name: str) -> bool:
    """True for a field name that holds a credential (dropped from inputs)."""
    return bool(_SECRET_NAMES.search(name))


def redact(value: str) -> str:
    """``value`` with credentials and credential-like strings replaced."""
    value = _SECRET_ASSIGNMENT.sub(lambda m: m.group(1) + m.group(2) + REDACTED, value)
    value = _ACCESS_KEY_ID.sub(REDACTED, value)
    value = _LONG_BASE64.sub(REDACTED, value)
    # The exporting process's own credentials, if the environment holds them.
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        secret = os.environ.get(name, "")
        if len(secret) >= 16:
            value = value.replace(secret, REDACTED)
    return value


def clean(value: Any) -> str:
    """A value from a file as text, credentials redacted (escaping comes later)."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return "; ".join(
            f"{k}: {clean(v)}" for k, v in value.items() if not is_secret_name(str(k))
        )
    if isinstance(value, list | tuple):
        return "; ".join(clean(v) for v in value)
    return redact(str(value))


_SHELL_SAFE = re.compile(r"[\w@%+=:,./-]+")


@dataclass(frozen=True)
class Placeholders:
    """The values a checklist command may name, ready for a shell."""

    key_id: str
    key_arn: str
    region: str
    bucket: str
    role_arn: str
    role_name: str
    account_id: str

    @classmethod
    def from_values(cls, values: Values) -> Placeholders:
        """The placeholders for ``values``."""
        role = parse_arn(values.harbor_role_arn)
        return cls(
            key_id=values.bare_key_id,
            key_arn=values.key_arn,
            region=values.region,
            bucket=values.bucket,
            role_arn=values.harbor_role_arn,
            role_name=role.resource_name if role else values.harbor_role_arn,
            account_id=values.account_id,
        )

    @staticmethod
    def quote(value: str) -> str:
        """``value`` as one shell word (checked values need no quotes)."""
        return value if _SHELL_SAFE.fullmatch(value) else shlex.quote(value)

    def fill(self, command: str) -> str:
        """``command`` with each known ``{name}`` replaced by its quoted value.

        Only the known names are replaced (not ``str.format``), because a
        command may hold JSON whose braces are not placeholders.
        """
        for name, value in vars(self).items():
            command = command.replace("{" + name + "}", self.quote(value))
        return command


# Read-only AWS CLI commands that show what a permission reads; the checklist
# catalog names the permissions each item needs (STYLE section 9).
READ_COMMANDS = {
    "kms:DescribeKey": "aws kms describe-key --key-id {key_arn} --region {region}",
    "kms:GetKeyPolicy": "aws kms get-key-policy --key-id {key_arn} --policy-name "
    "default --region {region} --query Policy --output text",
    "kms:GetKeyRotationStatus": "aws kms get-key-rotation-status --key-id "
    "{key_arn} --region {region}",
    "kms:ListKeyRotations": "aws kms list-key-rotations --key-id {key_arn} "
    "--region {region}",
    "kms:ListResourceTags": "aws kms list-resource-tags --key-id {key_arn} "
    "--region {region}",
    "kms:ListGrants": "aws kms list-grants --key-id {key_arn} --region {region}",
    "kms:ListAliases": "aws kms list-aliases --key-id {key_arn} --region {region}",
    "s3:GetEncryptionConfiguration": "aws s3api get-bucket-encryption --bucket "
    "{bucket} --region {region}",
    "s3:GetBucketPolicy": "aws s3api get-bucket-policy --bucket {bucket} "
    "--region {region}",
    "s3:GetBucketPublicAccessBlock": "aws s3api get-public-access-block "
    "--bucket {bucket} --region {region}",
    "s3:GetBucketLocation": "aws s3api get-bucket-location --bucket {bucket} "
    "--region {region}",
    "cloudtrail:DescribeTrails": "aws cloudtrail describe-trails --region {region}",
    "cloudtrail:GetTrailStatus": "for trail in $(aws cloudtrail describe-trails "
    "--region {region} --query 'trailList[].TrailARN' --output text); do aws "
    'cloudtrail get-trail-status --name "$trail" --region {region}; done',
    "cloudtrail:GetEventSelectors": "for trail in $(aws cloudtrail describe-trails "
    "--region {region} --query 'trailList[].TrailARN' --output text); do aws "
    'cloudtrail get-event-selectors --trail-name "$trail" --region {region}; done',
    "cloudtrail:LookupEvents": "aws cloudtrail lookup-events --lookup-attributes "
    "AttributeKey=ResourceName,AttributeValue={key_arn} --max-results 20 "
    "--region {region}",
    "logs:DescribeMetricFilters": "aws logs describe-metric-filters --region {region}",
    "cloudwatch:DescribeAlarms": "aws cloudwatch describe-alarms --region {region}",
    "cloudwatch:ListDashboards": "aws cloudwatch list-dashboards --region {region}",
    "cloudwatch:GetDashboard": "for board in $(aws cloudwatch list-dashboards "
    "--region {region} --query 'DashboardEntries[].DashboardName' --output text); "
    'do aws cloudwatch get-dashboard --dashboard-name "$board" --region {region}; '
    "done",
    "events:ListRules": "aws events list-rules --region {region}",
    "events:ListTargetsByRule": "for rule in $(aws events list-rules --region "
    "{region} --query 'Rules[].Name' --output text); do aws events "
    'list-targets-by-rule --rule "$rule" --region {region}; done',
    "config:DescribeConfigRules": "aws configservice describe-config-rules "
    "--region {region}",
    "config:DescribeComplianceByConfigRule": "aws configservice "
    "describe-compliance-by-config-rule --region {region}",
    "iam:GetRole": "aws iam get-role --role-name {role_name}",
    "iam:ListOpenIDConnectProviders": "aws iam list-open-id-connect-providers",
    "sts:GetCallerIdentity": "aws sts get-caller-identity",
}


_TRAIL_BUCKETS = (
    "for bucket in $(aws cloudtrail describe-trails --region {region} --query "
    "'trailList[].S3BucketName' --output text); do "
)
TRAIL_BUCKET_COMMANDS = {
    "s3:GetBucketPublicAccessBlock": _TRAIL_BUCKETS + "aws s3api "
    'get-public-access-block --bucket "$bucket"; done',
    "s3:GetBucketPolicy": _TRAIL_BUCKETS
    + 'aws s3api get-bucket-policy --bucket "$bucket"; '
    "done",
}


# Where in the guide each correction applies, for a reader holding the guide.
def correction(number: int) -> tuple[str, str]:
    """Where the guide is wrong and the difference, for correction ``number``."""
    return GUIDE_PLACES[number], CORRECTIONS[number]
