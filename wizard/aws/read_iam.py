"""IAM and STS reads: the caller, Harbor's role, OIDC providers, and the IAM
users a key policy names with their long-lived access keys.

IAM is global within a partition, so these reads are memoized per partition,
not per region (see ``readers.Api``). Principals in another account cannot be
read with this account's credentials; they come back as ``unsupported`` with
the account to audit from, never as an empty answer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from wizard.core.arn import parse_arn
from wizard.core.snapshot import CallerIdentity, Read, Role, Unknown, UserCredentials

if TYPE_CHECKING:
    from wizard.aws.readers import Api

logger = logging.getLogger(__name__)


def caller(api: Api, region: str | None) -> Read[CallerIdentity]:
    """sts:GetCallerIdentity (needs no permission, so it also tests credentials)."""
    found = api.call("sts", "GetCallerIdentity", "caller", region=region)
    if isinstance(found, Unknown):
        return found
    return CallerIdentity(
        account=str(found.get("Account", "")),
        arn=str(found.get("Arn", "")),
        user_id=str(found.get("UserId", "")),
    )


def role(api: Api, region: str, role_arn: str, account: str | None) -> Read[Role]:
    """iam:GetRole: the role's real ARN and its trust policy as JSON."""
    arn = parse_arn(role_arn)
    if arn is None or arn.service != "iam" or arn.resource_type != "role":
        return Unknown("not_configured", f"{role_arn!r} is not an IAM role ARN.")
    if account and arn.account != account:
        return _elsewhere("Harbor role", role_arn, arn.account, account, "iam:GetRole")
    found = api.call(
        "iam", "GetRole", role_arn, region=region, RoleName=arn.resource_name
    )
    if isinstance(found, Unknown):
        return found
    data: Mapping[str, Any] = found.get("Role", {})
    trust = _policy_document(data.get("AssumeRolePolicyDocument"))
    if trust is None:
        return Unknown(
            "error",
            f"The trust policy of {role_arn} is not a JSON object.",
            api="iam:GetRole",
        )
    return Role(arn=str(data.get("Arn", role_arn)), trust_policy=trust)


def oidc_providers(api: Api, region: str) -> Read[tuple[str, ...]]:
    """iam:ListOpenIDConnectProviders: the providers' ARNs, sorted."""
    found = api.call("iam", "ListOpenIDConnectProviders", "account", region=region)
    if isinstance(found, Unknown):
        return found
    return tuple(
        sorted(str(p["Arn"]) for p in found.get("OpenIDConnectProviderList", []))
    )


def policy_users(
    api: Api, region: str, policy: Read[Mapping[str, Any]], account: str | None
) -> Read[tuple[UserCredentials, ...]]:
    """IAM users the key policy names as principals, with active access keys.

    Any user that cannot be read makes the whole answer unknown: a check that
    no user has long-lived keys must not pass on a partial list.
    """
    if isinstance(policy, Unknown):
        return policy
    users = sorted(set(_user_principals(policy)))
    results = api.fan([partial(_user, api, region, arn, account) for arn in users])
    for result in results:
        if isinstance(result, Unknown):
            return result
    return tuple(r for r in results if isinstance(r, UserCredentials))


def _user(
    api: Api, region: str, user_arn: str, account: str | None
) -> Read[UserCredentials]:
    arn = parse_arn(user_arn)
    if arn is None:
        return Unknown("error", f"{user_arn!r} is not an ARN.")
    if account and arn.account != account:
        return _elsewhere(
            "IAM user", user_arn, arn.account, account, "iam:ListAccessKeys"
        )
    pages = api.pages(
        "iam", "ListAccessKeys", user_arn, region=region, UserName=arn.resource_name
    )
    if isinstance(pages, Unknown):
        return pages
    active = sum(
        1
        for page in pages
        for key in page.get("AccessKeyMetadata", [])
        if key.get("Status") == "Active"
    )
    return UserCredentials(arn=user_arn, active_access_keys=active)


def _user_principals(policy: Mapping[str, Any]) -> Iterator[str]:
    """IAM user ARNs in the ``Principal`` elements of a policy."""
    statements = policy.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    for statement in statements if isinstance(statements, list) else []:
        principal = (
            statement.get("Principal") if isinstance(statement, Mapping) else None
        )
        if not isinstance(principal, Mapping):
            continue  # "*" or absent
        named = principal.get("AWS", [])
        for text in [named] if isinstance(named, str) else named:
            arn = parse_arn(str(text))
            if arn is not None and arn.service == "iam" and arn.resource_type == "user":
                yield str(text)


def _policy_document(document: Any) -> Mapping[str, Any] | None:
    """A policy document as JSON, whether boto3 decoded it already or not.

    IAM returns policies URL-encoded (RFC 3986); botocore decodes them for
    GetRole, but the raw form is handled too:
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html
    """
    if isinstance(document, Mapping):
        return document
    if not isinstance(document, str):
        return None
    try:
        parsed = json.loads(unquote(document))
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _elsewhere(what: str, arn: str, owner: str, account: str, api: str) -> Unknown:
    return Unknown(
        "unsupported",
        f"{what} {arn} is in account {owner}, but the credentials are for account "
        f"{account}; audit it with credentials for {owner}.",
        api=api,
    )
