"""Amazon Resource Names, parsed into their parts.

An ARN is ``arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE``; the resource part may
itself contain colons, so only the first five separators split.
See https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PARTITIONS = (
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
)

_ACCOUNT = re.compile(r"[0-9]{12}")


@dataclass(frozen=True, slots=True)
class Arn:
    """The six parts of an ARN."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return (
            f"arn:{self.partition}:{self.service}:{self.region}:"
            f"{self.account}:{self.resource}"
        )

    @property
    def resource_type(self) -> str:
        """The part of the resource before the first ``/`` or ``:`` (``role``)."""
        return re.split(r"[/:]", self.resource, maxsplit=1)[0]

    @property
    def resource_name(self) -> str:
        """The last ``/``-separated segment of the resource (a role's name)."""
        return self.resource.rsplit("/", 1)[-1]


def parse_arn(text: str) -> Arn | None:
    """Split ``text`` into an :class:`Arn`, or return None if it is not one.

    Only the shape is checked here (six parts, a known partition, a service);
    what a given field needs beyond that is the caller's rule.
    """
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    _, partition, service, region, account, resource = parts
    if partition not in PARTITIONS or not service or not resource:
        return None
    return Arn(partition, service, region, account, resource)


def is_account_id(text: str) -> bool:
    """True for exactly twelve ASCII digits (kept as a string: leading zeros)."""
    return _ACCOUNT.fullmatch(text) is not None
