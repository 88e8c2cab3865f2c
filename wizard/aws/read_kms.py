"""KMS reads: the key, its policy, rotation, tags, aliases and grants.

Every call names the key by ARN when the values allow it: KMS accepts a key id
or ARN for these operations, and the ARN also works for a key in another
account (https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyRotationStatus.html).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from wizard.aws.api import policy_document
from wizard.core.snapshot import Grant, KeyInfo, Read, Rotation, Unknown

if TYPE_CHECKING:
    from wizard.aws.readers import Api

logger = logging.getLogger(__name__)

# Keys in these states cannot be used and will not come back without action;
# a fleet audit leaves them out (PendingDeletion can be cancelled, but the
# owner has already decided the key goes).
_GONE = frozenset({"PendingDeletion", "PendingReplicaDeletion"})


def describe_key(api: Api, region: str, key: str) -> Read[KeyInfo]:
    """kms:DescribeKey as :class:`KeyInfo`."""
    found = api.call("kms", "DescribeKey", key, region=region, KeyId=key)
    if isinstance(found, Unknown):
        return found
    meta: Mapping[str, Any] = found.get("KeyMetadata", {})
    return KeyInfo(
        arn=str(meta.get("Arn", "")),
        key_id=str(meta.get("KeyId", "")),
        description=str(meta.get("Description", "")),
        state=str(meta.get("KeyState", "")),
        manager=str(meta.get("KeyManager", "")),
        origin=str(meta.get("Origin", "")),
        spec=str(meta.get("KeySpec") or meta.get("CustomerMasterKeySpec") or ""),
        usage=str(meta.get("KeyUsage", "")),
        created=meta.get("CreationDate"),
        multi_region=bool(meta.get("MultiRegion", False)),
        deletion_date=meta.get("DeletionDate"),
    )


def key_policy(api: Api, region: str, key: str) -> Read[Mapping[str, Any]]:
    """kms:GetKeyPolicy, parsed from its JSON text."""
    found = api.call(
        "kms", "GetKeyPolicy", key, region=region, KeyId=key, PolicyName="default"
    )
    if isinstance(found, Unknown):
        return found
    return policy_document(found, f"The key policy of {key}", "kms:GetKeyPolicy")


def rotation(api: Api, region: str, key: str) -> Read[Rotation]:
    """kms:GetKeyRotationStatus: enabled, period and next rotation date."""
    found = api.call("kms", "GetKeyRotationStatus", key, region=region, KeyId=key)
    if isinstance(found, Unknown):
        return found
    period = found.get("RotationPeriodInDays")
    return Rotation(
        enabled=bool(found.get("KeyRotationEnabled", False)),
        period_days=int(period) if period is not None else None,
        next_rotation=found.get("NextRotationDate"),
    )


def tags(api: Api, region: str, key: str) -> Read[Mapping[str, str]]:
    """kms:ListResourceTags as a dict."""
    pages = api.pages("kms", "ListResourceTags", key, region=region, KeyId=key)
    if isinstance(pages, Unknown):
        return pages
    return {
        str(tag["TagKey"]): str(tag.get("TagValue", ""))
        for page in pages
        for tag in page.get("Tags", [])
    }


def aliases(api: Api, region: str, key: str) -> Read[tuple[str, ...]]:
    """kms:ListAliases for the key: the alias names, sorted."""
    pages = api.pages("kms", "ListAliases", key, region=region, KeyId=key)
    if isinstance(pages, Unknown):
        return pages
    return tuple(
        sorted(str(a["AliasName"]) for page in pages for a in page.get("Aliases", []))
    )


def region_aliases(api: Api, region: str, key: str) -> Read[tuple[str, ...]]:
    """The key's alias names, from one ListAliases of the whole region.

    ListAliases without a KeyId lists every alias of the account and region
    (https://docs.aws.amazon.com/kms/latest/APIReference/API_ListAliases.html).
    The listing is memoized, so a fleet of N keys pays one listing (a page per
    100 aliases) instead of N calls; a single key is cheaper with :func:`aliases`.
    """
    pages = api.pages("kms", "ListAliases", region, region=region)
    if isinstance(pages, Unknown):
        return pages
    bare = key.rsplit("key/", 1)[-1]
    return tuple(
        sorted(
            str(a["AliasName"])
            for page in pages
            for a in page.get("Aliases", [])
            if a.get("TargetKeyId") == bare
        )
    )


def grants(api: Api, region: str, key: str) -> Read[tuple[Grant, ...]]:
    """kms:ListGrants for the key."""
    pages = api.pages("kms", "ListGrants", key, region=region, KeyId=key)
    if isinstance(pages, Unknown):
        return pages
    return tuple(
        Grant(
            grant_id=str(g.get("GrantId", "")),
            grantee=str(g.get("GranteePrincipal", "")),
            operations=tuple(str(op) for op in g.get("Operations", [])),
            constraints=dict(g.get("Constraints") or {}),
            retiring_principal=g.get("RetiringPrincipal"),
            issuing_account=g.get("IssuingAccount"),
            name=g.get("Name") or None,
        )
        for page in pages
        for g in page.get("Grants", [])
    )


def resolve_key(api: Api, region: str, ref: str) -> Read[str]:
    """The ARN of the key that ``ref`` (id, ARN, alias name or alias ARN) names."""
    info = describe_key(api, region, ref)
    return info if isinstance(info, Unknown) else info.arn


def key_arns(api: Api, region: str) -> list[str] | Unknown:
    """kms:ListKeys: the ARN of every key in ``region``, AWS managed ones too."""
    pages = api.pages("kms", "ListKeys", region, region=region)
    if isinstance(pages, Unknown):
        return pages
    return [str(k["KeyArn"]) for page in pages for k in page.get("Keys", [])]


def in_fleet(api: Api, region: str, arn: str) -> bool:
    """Whether a fleet audit covers the key: customer managed, not going away.

    A key whose DescribeKey failed is kept, so the audit shows it as unknown
    instead of silently skipping it.
    """
    info = describe_key(api, region, arn)
    if isinstance(info, Unknown):
        logger.info("keeping %s in the fleet: %s", arn, info.reason)
        return True
    return info.manager == "CUSTOMER" and info.state not in _GONE


def customer_keys(api: Api, region: str) -> list[str] | Unknown:
    """Customer managed keys in ``region`` that are not pending deletion.

    Returns:
        Key ARNs in ListKeys order; keys whose DescribeKey failed are kept.
    """
    arns = key_arns(api, region)
    if isinstance(arns, Unknown):
        return arns
    kept = api.fan([partial(in_fleet, api, region, arn) for arn in arns])
    return [arn for arn, keep in zip(arns, kept, strict=True) if keep]
