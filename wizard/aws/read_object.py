"""HeadObject for ``diagnose --symptom download-denied --object KEY``.

The guide's Issue 2 asks which key encrypted the object
(``aws s3api head-object ... --query SSEKMSKeyId``). HeadObject needs
``s3:GetObject`` but no KMS permission, so it answers even when the download
itself is denied
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wizard.core.diagnose.facts import ObjectEncryption
from wizard.core.snapshot import Read, Unknown

if TYPE_CHECKING:
    from wizard.aws.readers import Api


def object_encryption(
    api: Api, region: str, bucket: str, key: str
) -> Read[ObjectEncryption]:
    """How S3 encrypted ``s3://bucket/key``.

    Args:
        api: The reader's call layer (errors become :class:`Unknown`).
        region: The bucket's region.
        bucket: The bucket name.
        key: The object key.

    Returns:
        The object's algorithm, SSEKMSKeyId and Bucket Key flag, or why not.
    """
    found = api.call(
        "s3",
        "HeadObject",
        f"s3://{bucket}/{key}",
        region=region,
        memo=False,
        Bucket=bucket,
        Key=key,
    )
    if isinstance(found, Unknown):
        return found
    algorithm = found.get("ServerSideEncryption")
    key_id = found.get("SSEKMSKeyId")
    return ObjectEncryption(
        bucket=bucket,
        key=key,
        algorithm=str(algorithm) if algorithm else None,
        kms_key_id=str(key_id) if key_id else None,
        bucket_key_enabled=bool(found.get("BucketKeyEnabled", False)),
    )
