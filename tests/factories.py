"""Values used across tests, and a hypothesis strategy for random valid values."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import strategies as st

from wizard.core.regions import REGIONS, partition_of
from wizard.core.values import PolicyOptions, Values

ACCOUNT = "111122223333"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
HARBOR_ROLE = f"arn:aws:iam::{ACCOUNT}:role/HarborS3Role"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/KMSAdminRole"
BUCKET = f"harbor-registry-storage-{ACCOUNT}-us-east-1"


def guide_values(**changes: Any) -> Values:
    """The guide's example environment, with changes."""
    base = Values(
        account_id=ACCOUNT,
        region="us-east-1",
        key_id=KEY_ID,
        harbor_role_arn=HARBOR_ROLE,
        bucket=BUCKET,
        bucket_key_enabled=True,
        admin_principals=(ADMIN_ROLE,),
    )
    return replace(base, **changes)


_hex = "0123456789abcdef"
accounts = st.from_regex(r"\A[0-9]{12}\Z")
regions = st.sampled_from(sorted(REGIONS))
names = st.from_regex(r"\A[A-Za-z][A-Za-z0-9+=,.@_-]{0,20}\Z")
buckets = st.from_regex(r"\A[a-z0-9][a-z0-9-]{2,40}[a-z0-9]\Z").filter(
    lambda b: not b.startswith(("xn--", "sthree-")) and not b.endswith("-s3alias")
)
vpces = st.text(_hex, min_size=17, max_size=17).map(lambda h: f"vpce-{h}")
cidrs = st.sampled_from(
    [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.10.0/24",
        "2001:db8::/32",
        "203.0.113.7/32",
    ]
)
options = st.builds(
    PolicyOptions,
    root_delegation=st.booleans(),
    harbor_describe_key=st.booleans(),
    deny_direct_use=st.booleans(),
    deny_decrypt_without_s3_context=st.booleans(),
    s3_service_principal=st.booleans(),
    restrict_encryption_context_keys=st.booleans(),
    encryption_context=st.sampled_from(["auto", "object", "bucket", "both"]),
)


def _form_fits(values: Values) -> bool:
    """False for a context form that contradicts Bucket Keys (a value error)."""
    form = values.options.encryption_context
    return not (form == "bucket" and not values.bucket_key_enabled) and not (
        form == "object" and values.bucket_key_enabled
    )


@st.composite
def _any_values(draw: st.DrawFn) -> Values:
    account = draw(accounts)
    region = draw(regions)
    part = partition_of(region)
    admins = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    glass = draw(st.lists(names.map(lambda n: f"Glass{n}"), max_size=1))
    return Values(
        account_id=account,
        region=region,
        key_id=KEY_ID,
        harbor_role_arn=f"arn:{part}:iam::{account}:role/Harbor{draw(names)}",
        bucket=draw(buckets),
        bucket_key_enabled=draw(st.booleans()),
        admin_principals=tuple(f"arn:{part}:iam::{account}:role/{a}" for a in admins),
        break_glass_principals=tuple(
            f"arn:{part}:iam::{account}:role/{g}" for g in glass
        ),
        principal_org_id=draw(st.none() | st.from_regex(r"\Ao-[a-z0-9]{10}\Z")),
        source_vpce=tuple(draw(st.lists(vpces, max_size=2, unique=True))),
        source_ip=tuple(draw(st.lists(cidrs, max_size=2, unique=True))),
        grants_for_aws_resources_only=draw(st.booleans()),
        options=draw(options),
    )


valid_values = _any_values().filter(_form_fits)
"""Random values that pass validation, with random options."""
