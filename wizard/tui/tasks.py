"""The blocking work behind the app's workers: sandbox, reads, lists.

Each function runs on a worker thread, calls the AWS adapter (``wizard.aws``)
or the core, and returns core objects; none touches a widget. The adapter is
imported inside each function, so the first screen paints before boto3 or the
emulator is loaded. This module imports no Textual.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wizard.core.values import Values

if TYPE_CHECKING:
    from wizard.aws.sandbox import Sandbox
    from wizard.aws.session import AwsTarget

DEMO_SCENARIO = "guide-as-written"
DEMO_REGION = "us-east-1"
# The sandbox accepts any credentials; these keep real ones from being sent to
# it (and make a demo work on a machine with none).
_SANDBOX_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}
_CREDENTIAL_OVERRIDES = ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")


@dataclass(frozen=True)
class DemoAccount:
    """A running, seeded sandbox and the values that describe its account."""

    sandbox: Sandbox
    endpoint_url: str
    values: Values
    scenario: str


def start_demo(scenario: str = DEMO_SCENARIO, region: str = DEMO_REGION) -> DemoAccount:
    """Start the sandbox, seed ``scenario`` and point the SDK's credentials at it."""
    from wizard.aws.sandbox import Sandbox, seed

    for name in _CREDENTIAL_OVERRIDES:
        os.environ.pop(name, None)
    os.environ.update(_SANDBOX_CREDENTIALS)
    sandbox = Sandbox(region=region).start()
    try:
        result = seed(sandbox.endpoint_url, scenario, region)
    except Exception:
        sandbox.stop()
        raise
    return DemoAccount(sandbox, sandbox.endpoint_url, result.values(), scenario)


def target_for(values: Values, endpoint_url: str | None) -> AwsTarget:
    """Where the calls for ``values`` go: their region, the sandbox in a demo."""
    from wizard.aws.session import AwsTarget

    return AwsTarget.from_env_and_args(
        region=values.region or None, endpoint_url=endpoint_url
    )


@dataclass(frozen=True)
class AccountRead:
    """One read of the account: the snapshot, who read it, what was denied."""

    snapshot: Any
    identity: Any
    missing_permissions: tuple[str, ...]
    checked_permissions: tuple[str, ...]


def read_account(values: Values, endpoint_url: str | None) -> AccountRead:
    """Read everything the steps show about ``values``' key, bucket and role.

    The adapter never raises for an AWS error: a denied or failed read is an
    Unknown in its field, and the denied actions are the missing permissions.
    """
    from wizard.aws.readers import AccountReader, missing_permissions

    reader = AccountReader(target_for(values, endpoint_url))
    snapshot = reader.snapshot(values)
    # ApiCall.api is "service:Operation", which is also the IAM action for
    # every API the readers call; only answered calls prove a permission.
    checked = tuple(sorted({c.api for c in snapshot.calls if c.outcome == "ok"}))
    return AccountRead(
        snapshot=snapshot,
        identity=snapshot.caller,
        missing_permissions=tuple(missing_permissions(reader)),
        checked_permissions=checked,
    )


def list_choices(field_name: str, values: Values, endpoint_url: str | None) -> Any:
    """Values the account offers for ``field_name`` (a tuple, or an Unknown).

    Keys come from the adapter's key listing; roles and buckets from its
    generic paginated call, one page set each.
    """
    from wizard.aws.readers import AccountReader
    from wizard.core.snapshot import Unknown

    reader = AccountReader(target_for(values, endpoint_url))
    region = values.region or reader.default_region() or ""
    if field_name == "key_id":
        keys = reader.list_customer_keys(region)
        return keys if isinstance(keys, Unknown) else tuple(keys)
    if field_name == "harbor_role_arn":
        pages = reader.api.pages("iam", "ListRoles", "roles", region=region)
        if isinstance(pages, Unknown):
            return pages
        return tuple(r["Arn"] for page in pages for r in page.get("Roles", ()))
    if field_name == "bucket":
        found = reader.api.call("s3", "ListBuckets", "buckets", region=region)
        if isinstance(found, Unknown):
            return found
        return tuple(b["Name"] for b in found.get("Buckets", ()))
    return Unknown("not_configured", f"There is no list for {field_name}.")
