"""The environment values the guide asks for, and their validators.

Every validator returns ``None`` when the value is good and one sentence naming the
field and the rule when it is not, so the TUI, the line mode and the config loader
show the same words. The rules are AWS's published ones (see
``shared/guide/CORRECTIONS.md``, "Value formats"):

- account ids: https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-identifiers.html
- bucket names: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
- organization ids: https://docs.aws.amazon.com/organizations/latest/APIReference/API_Organization.html
- KMS key ids: https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-id
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Literal

from wizard.core.arn import Arn, is_account_id, parse_arn
from wizard.core.regions import REGIONS, partition_of, s3_via_service, s3_via_services

Validator = Callable[[str], str | None]
ContextForm = Literal["auto", "object", "bucket", "both"]

_KEY_UUID = re.compile(
    r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
)
_ORG_ID = re.compile(r"o-[a-z0-9]{10,32}")
_VPCE_ID = re.compile(r"vpce-(?:[0-9a-f]{8}|[0-9a-f]{17})")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IAM_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_IPV4_LIKE = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3}){3}")


def check_account_id(text: str) -> str | None:
    """Account id: exactly twelve digits."""
    if is_account_id(text):
        return None
    return (
        f"Account id {text!r} is not valid: it must be exactly 12 digits "
        "(keep leading zeros)."
    )


def check_region(text: str) -> str | None:
    """Region: a region name AWS publishes."""
    if text in REGIONS:
        return None
    return (
        f"Region {text!r} is not a known AWS region (for example us-east-1, "
        "eu-west-1, cn-north-1, us-gov-west-1)."
    )


def check_key_id(text: str) -> str | None:
    """KMS key: a key id (UUID or multi-Region ``mrk-`` id) or a key ARN."""
    if _KEY_UUID.fullmatch(text):
        return None
    arn = parse_arn(text)
    if arn is None:
        if text.startswith("alias/"):
            return (
                f"KMS key {text!r} is an alias; give the key id or key ARN, "
                "because a key policy belongs to the key, not the alias."
            )
        return (
            f"KMS key {text!r} is not valid: give a key id "
            "(1234abcd-12ab-34cd-56ef-1234567890ab) or a key ARN."
        )
    if arn.service != "kms" or not arn.resource.startswith("key/"):
        return f"KMS key ARN {text!r} must be arn:PARTITION:kms:REGION:ACCOUNT:key/ID."
    if not _KEY_UUID.fullmatch(arn.resource[4:]):
        return f"KMS key ARN {text!r} does not end in a valid key id."
    if arn.region not in REGIONS or not is_account_id(arn.account):
        return f"KMS key ARN {text!r} needs a known region and a 12-digit account id."
    if partition_of(arn.region) != arn.partition:
        return (
            f"KMS key ARN {text!r} names partition {arn.partition!r} "
            f"for region {arn.region!r}."
        )
    return None


def _check_iam_arn(label: str, text: str, kinds: Iterable[str]) -> str | None:
    arn = parse_arn(text)
    kinds = tuple(kinds)
    wanted = " or ".join(kinds)
    if arn is None or arn.service != "iam" or arn.region:
        return (
            f"{label} {text!r} is not an IAM ARN: expected "
            f"arn:aws:iam::ACCOUNT:{kinds[0]}/NAME."
        )
    if not is_account_id(arn.account):
        return f"{label} {text!r} must name a 12-digit account id."
    if arn.resource_type not in kinds:
        return (
            f"{label} {text!r} must be an IAM {wanted} ARN, not {arn.resource_type!r}."
        )
    if arn.resource_type != "root" and not _IAM_NAME.fullmatch(arn.resource_name):
        return (
            f"{label} {text!r} has an invalid name (1-64 of letters, digits, +=,.@_-)."
        )
    return None


def check_role_arn(text: str) -> str | None:
    """Harbor role: an IAM role ARN (the IRSA role Harbor's pods assume)."""
    return _check_iam_arn("Harbor role ARN", text, ("role",))


def check_admin_arn(text: str) -> str | None:
    """Key administrator: an IAM role or user ARN (roles preferred)."""
    return _check_iam_arn("Key administrator", text, ("role", "user"))


def check_bucket(text: str) -> str | None:
    """Bucket: S3's general purpose bucket naming rules."""
    if not _BUCKET.fullmatch(text):
        return (
            f"Bucket name {text!r} is not valid: 3-63 characters of lowercase "
            "letters, digits, dots and hyphens, starting and ending with a "
            "letter or digit."
        )
    if ".." in text or _IPV4_LIKE.fullmatch(text):
        return f"Bucket name {text!r} must not contain '..' or look like an IP address."
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if text.startswith(prefix):
            return f"Bucket name {text!r} must not start with {prefix!r}."
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if text.endswith(suffix):
            return f"Bucket name {text!r} must not end with {suffix!r}."
    return None


def check_org_id(text: str) -> str | None:
    """Organization id: ``o-`` and 10 to 32 lowercase letters or digits."""
    if _ORG_ID.fullmatch(text):
        return None
    return (
        f"Organization id {text!r} is not valid: 'o-' followed by 10 to 32 "
        "lowercase letters or digits."
    )


def check_vpce_id(text: str) -> str | None:
    """VPC endpoint id: ``vpce-`` and 8 or 17 hexadecimal digits."""
    if _VPCE_ID.fullmatch(text):
        return None
    return (
        f"VPC endpoint id {text!r} is not valid: 'vpce-' followed by 8 or 17 "
        "lowercase hexadecimal digits."
    )


def check_cidr(text: str) -> str | None:
    """Source CIDR: an IPv4 or IPv6 network with no host bits set."""
    try:
        ipaddress.ip_network(text, strict=True)
    except ValueError as error:
        return f"Source CIDR {text!r} is not a valid network: {error}."
    return None


def check_rotation_days(text: str) -> str | None:
    """Rotation period: whole days from 90 to 2560 (KMS's RotationPeriodInDays)."""
    if text.isdigit() and 90 <= int(text) <= 2560:
        return None
    return f"Rotation period {text!r} must be a whole number of days from 90 to 2560."


@dataclass(frozen=True)
class PolicyOptions:
    """Which optional statements and conditions the generated policy carries."""

    root_delegation: bool = True
    """Let IAM policies in the account grant use of the key (AWS's default)."""
    harbor_describe_key: bool = True
    """Give Harbor's role kms:DescribeKey in a statement of its own."""
    deny_direct_use: bool = True
    """Deny Harbor's role cryptographic use of the key except through S3."""
    deny_decrypt_without_s3_context: bool = False
    """The guide's blanket Decrypt deny; binds root, admins and grants too."""
    s3_service_principal: bool = False
    """Allow s3.amazonaws.com (only for S3 Inventory and similar features)."""
    restrict_encryption_context_keys: bool = False
    """Require that S3's aws:s3:arn is the only encryption context key."""
    encryption_context: ContextForm = "auto"
    """Object ARN pattern, exact bucket ARN (Bucket Keys), both, or by Bucket Keys."""


@dataclass(frozen=True)
class Values:
    """Everything the guide asks the user for, as one immutable object."""

    account_id: str = ""
    region: str = ""
    key_id: str = ""
    harbor_role_arn: str = ""
    bucket: str = ""
    bucket_key_enabled: bool = True
    admin_principals: tuple[str, ...] = ()
    break_glass_principals: tuple[str, ...] = ()
    principal_org_id: str | None = None
    source_vpce: tuple[str, ...] = ()
    source_ip: tuple[str, ...] = ()
    grants_for_aws_resources_only: bool = True
    rotation_period_days: int = 365
    alarm_email: str | None = None
    options: PolicyOptions = field(default_factory=PolicyOptions)

    @property
    def partition(self) -> str:
        return partition_of(self.region)

    @property
    def key_arn(self) -> str:
        """The key's ARN, built from the id, region and account when needed."""
        if self.key_id.startswith("arn:"):
            return self.key_id
        return (
            f"arn:{self.partition}:kms:{self.region}:{self.account_id}"
            f":key/{self.key_id}"
        )

    @property
    def bare_key_id(self) -> str:
        """The key id without its ARN."""
        return self.key_id.rsplit("/", 1)[-1]

    @property
    def bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.bucket}"

    @property
    def root_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    @property
    def via_service(self) -> str:
        """The kms:ViaService value of S3 in the configured region."""
        return s3_via_service(self.region)

    @property
    def via_services(self) -> tuple[str, ...]:
        """Every kms:ViaService value S3 in the region may present."""
        return s3_via_services(self.region)

    @property
    def context_form(self) -> Literal["object", "bucket", "both"]:
        """Which aws:s3:arn form(s) S3 uses for this bucket (correction 1)."""
        form = self.options.encryption_context
        if form == "auto":
            return "bucket" if self.bucket_key_enabled else "object"
        return form


@dataclass(frozen=True)
class Problem:
    """One invalid or doubtful value: the field's config path and a sentence."""

    field: str
    message: str
    severity: Literal["error", "warning"] = "error"


REQUIRED = ("account_id", "region", "key_id", "harbor_role_arn", "bucket")


def validate(values: Values) -> list[Problem]:
    """All problems with ``values``: errors for invalid, warnings for doubtful."""
    problems: list[Problem] = []

    def check(name: str, value: str, validator: Validator) -> None:
        message = validator(value)
        if message:
            problems.append(Problem(name, message))

    for name in REQUIRED:
        if not getattr(values, name):
            problems.append(Problem(name, f"{_LABELS[name]} is required."))
    if values.account_id:
        check("account_id", values.account_id, check_account_id)
    if values.region:
        check("region", values.region, check_region)
    if values.key_id:
        check("key_id", values.key_id, check_key_id)
    if values.harbor_role_arn:
        check("harbor_role_arn", values.harbor_role_arn, check_role_arn)
    if values.bucket:
        check("bucket", values.bucket, check_bucket)
    for i, admin in enumerate(values.admin_principals):
        check(f"admin_principals[{i}]", admin, check_admin_arn)
    for i, admin in enumerate(values.break_glass_principals):
        check(f"break_glass_principals[{i}]", admin, check_admin_arn)
    if values.principal_org_id is not None:
        check("principal_org_id", values.principal_org_id, check_org_id)
    for i, vpce in enumerate(values.source_vpce):
        check(f"source_vpce[{i}]", vpce, check_vpce_id)
    for i, cidr in enumerate(values.source_ip):
        check(f"source_ip[{i}]", cidr, check_cidr)
    check("rotation_period_days", str(values.rotation_period_days), check_rotation_days)
    problems.extend(_consistency(values))
    return problems


def _consistency(values: Values) -> list[Problem]:
    """Cross-field problems: ARNs from another account or partition, IAM users."""
    problems: list[Problem] = []
    if not values.admin_principals and not values.break_glass_principals:
        problems.append(
            Problem(
                "admin_principals",
                "No key administrator is named: give at least one IAM role that "
                "may manage the key, so a policy change cannot lock everyone out.",
            )
        )
    form = values.options.encryption_context
    if (form == "bucket" and not values.bucket_key_enabled) or (
        form == "object" and values.bucket_key_enabled
    ):
        sends = "the bucket ARN" if values.bucket_key_enabled else "object ARNs"
        problems.append(
            Problem(
                "options.encryption_context",
                f"Encryption context form {form!r} breaks Harbor: with S3 Bucket "
                f"Keys {'on' if values.bucket_key_enabled else 'off'}, S3 sends "
                f"{sends}. Use 'auto', or 'both' during a transition.",
            )
        )
    if check_region(values.region) or check_account_id(values.account_id):
        return problems
    expected = values.partition
    for name, arn_text in _iam_arns(values):
        arn = parse_arn(arn_text)
        if arn is None:
            continue
        if arn.partition != expected:
            problems.append(
                Problem(
                    name,
                    f"{arn_text!r} is in partition {arn.partition!r}, "
                    f"but region {values.region} is in {expected!r}.",
                )
            )
        if name == "harbor_role_arn" and arn.account != values.account_id:
            problems.append(
                Problem(
                    name,
                    f"Harbor role {arn_text!r} is in account {arn.account}, "
                    f"not {values.account_id}: cross-account use is not what "
                    "this policy is designed for.",
                    "warning",
                )
            )
        if arn.resource_type == "user":
            problems.append(
                Problem(
                    name,
                    f"{arn_text!r} is an IAM user: prefer a role, whose "
                    "credentials are temporary.",
                    "warning",
                )
            )
    key = parse_arn(values.key_id)
    if key is not None and not check_key_id(values.key_id):
        if key.region != values.region:
            problems.append(
                Problem(
                    "key_id",
                    f"Key ARN region {key.region} differs from region {values.region}.",
                )
            )
        if key.account != values.account_id:
            problems.append(
                Problem(
                    "key_id",
                    f"Key ARN account {key.account} differs "
                    f"from account {values.account_id}.",
                )
            )
    return problems


def _iam_arns(values: Values) -> list[tuple[str, str]]:
    pairs = [("harbor_role_arn", values.harbor_role_arn)]
    pairs += [
        (f"admin_principals[{i}]", a) for i, a in enumerate(values.admin_principals)
    ]
    pairs += [
        (f"break_glass_principals[{i}]", a)
        for i, a in enumerate(values.break_glass_principals)
    ]
    return pairs


_LABELS = {
    "account_id": "Account id",
    "region": "Region",
    "key_id": "KMS key id",
    "harbor_role_arn": "Harbor role ARN",
    "bucket": "Bucket name",
}


def value_fields() -> list[str]:
    """Names of the fields of :class:`Values`, in order."""
    return [f.name for f in fields(Values)]


__all__ = [
    "Arn",
    "PolicyOptions",
    "Problem",
    "Values",
    "validate",
    "value_fields",
]
