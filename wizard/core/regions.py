"""AWS regions and the partition each belongs to.

The list is AWS's published one (https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html).
A region missing here is rejected with a message that names the rule, because a
typo in the region silently breaks every ``kms:ViaService`` condition.
"""

from __future__ import annotations

# TODO: regions AWS opens after this list was written need adding here; the
# validator says so in its message so a user is never stuck without a reason.
REGIONS: dict[str, str] = {
    **{
        r: "aws"
        for r in (
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
            "af-south-1",
            "ap-east-1",
            "ap-east-2",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-6",
            "ap-southeast-7",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "eu-south-1",
            "eu-south-2",
            "eu-north-1",
            "il-central-1",
            "me-south-1",
            "me-central-1",
            "mx-central-1",
            "sa-east-1",
        )
    },
    "cn-north-1": "aws-cn",
    "cn-northwest-1": "aws-cn",
    "us-gov-west-1": "aws-us-gov",
    "us-gov-east-1": "aws-us-gov",
    "eusc-de-east-1": "aws-eusc",
}

# DNS suffix of service endpoints per partition; kms:ViaService values use it
# (for example s3.cn-north-1.amazonaws.com.cn).
DNS_SUFFIX: dict[str, str] = {
    "aws": "amazonaws.com",
    "aws-cn": "amazonaws.com.cn",
    "aws-us-gov": "amazonaws.com",
    "aws-eusc": "amazonaws.eu",
}


def partition_of(region: str) -> str:
    """The partition of a known region (``aws`` for an unknown one)."""
    return REGIONS.get(region, "aws")


def s3_via_service(region: str) -> str:
    """The ``kms:ViaService`` value S3 presents when it calls KMS in ``region``.

    KMS documents ``SERVICE.REGION.amazonaws.com`` as the form of the value
    (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
    """
    return f"s3.{region}.amazonaws.com"


def s3_via_services(region: str) -> tuple[str, ...]:
    """Every value S3 in ``region`` might present as ``kms:ViaService``.

    Outside the ``aws`` partition the endpoint's DNS suffix differs (for example
    ``amazonaws.com.cn``) and we could not confirm from AWS's documentation which
    form KMS puts in the request there, so both are admitted: each names S3 in
    the same region, and a Deny on neither still stops direct use.
    """
    suffix = DNS_SUFFIX.get(partition_of(region), "amazonaws.com")
    documented = s3_via_service(region)
    if suffix == "amazonaws.com":
        return (documented,)
    return (documented, f"s3.{region}.{suffix}")
