"""Prefill values from a Harbor Helm chart's ``values.yaml``.

Harbor's chart keeps S3 storage under ``persistence.imageChartStorage.s3`` with
``region``, ``bucket``, ``encrypt`` and ``keyid`` (the distribution driver's
names). https://github.com/goharbor/harbor-helm/blob/main/values.yaml

What the driver asks S3 for (``getEncryptionMode`` and ``getSSEKMSKeyID`` in
https://github.com/distribution/distribution/blob/main/registry/storage/driver/s3-aws/s3.go):
with ``encrypt`` off, no encryption header, so S3 applies the bucket's default
encryption; with ``encrypt`` on and a ``keyid``, SSE-KMS under that key; with
``encrypt`` on and no ``keyid``, SSE-S3 (``AES256``), which overrides a bucket
default of SSE-KMS.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from wizard.core.arn import parse_arn
from wizard.core.errors import InputError
from wizard.core.values import Values


@dataclass(frozen=True)
class HarborStorage:
    """The S3 storage block of a Harbor chart, as far as it was given."""

    region: str | None = None
    bucket: str | None = None
    encrypt: bool | None = None
    key_id: str | None = None
    storage_type: str | None = None
    notes: tuple[str, ...] = field(default=())


def read_harbor_values(path: Path) -> HarborStorage:
    """Read the S3 storage block of ``path``; InputError if it cannot be used."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(
            f"Harbor values file {path} cannot be read: {error.strerror}."
        ) from None
    except yaml.YAMLError as error:
        raise InputError(
            f"Harbor values file {path} is not valid YAML: {error}."
        ) from None
    storage = _dig(data, "persistence", "imageChartStorage")
    if not isinstance(storage, dict):
        raise InputError(
            f"Harbor values file {path} has no persistence.imageChartStorage block."
        )
    s3 = storage.get("s3")
    if not isinstance(s3, dict):
        raise InputError(
            f"Harbor values file {path} has no persistence.imageChartStorage.s3 block."
        )
    notes = []
    kind = storage.get("type")
    if kind != "s3":
        notes.append(
            f"imageChartStorage.type is {kind!r}, not 's3': Harbor does "
            "not use this S3 block."
        )
    encrypt = s3.get("encrypt")
    if encrypt is not True:
        notes.append(
            "s3.encrypt is not true: Harbor sends no encryption header and "
            "ignores s3.keyid, so S3 applies the bucket's default encryption."
        )
    key_id = _text(s3.get("keyid"))
    if encrypt is True and not key_id:
        notes.append(
            "s3.keyid is empty while s3.encrypt is true: Harbor asks S3 for "
            "SSE-S3 (AES256) on every upload, which overrides the bucket's "
            "default SSE-KMS key."
        )
    return HarborStorage(
        region=_text(s3.get("region")),
        bucket=_text(s3.get("bucket")),
        encrypt=encrypt if isinstance(encrypt, bool) else None,
        key_id=key_id,
        storage_type=kind if isinstance(kind, str) else None,
        notes=tuple(notes),
    )


def prefill(values: Values, storage: HarborStorage) -> Values:
    """``values`` with region, bucket and key taken from Harbor's chart.

    Values the user already set win: the chart fills only what is empty.
    """
    changes: dict[str, Any] = {}
    if storage.region and not values.region:
        changes["region"] = storage.region
    if storage.bucket and not values.bucket:
        changes["bucket"] = storage.bucket
    if storage.key_id and not values.key_id and not storage.key_id.startswith("alias/"):
        changes["key_id"] = storage.key_id
        arn = parse_arn(storage.key_id)
        if arn is not None and not values.account_id:
            changes["account_id"] = arn.account
    return replace(values, **changes)


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
