"""The keys ``audit --all-keys`` covers, in one region or several.

``--region`` stays one region for every command; only with ``--all-keys`` may
it list several, comma separated (``--region us-east-1,eu-west-1``). Each key
is then audited in its own region, with the same values file: the bucket and
Harbor's role are the deployment's, so the cross-resource items say how each
key relates to that one deployment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wizard.core.errors import InputError, WizardError
from wizard.core.snapshot import Unknown
from wizard.core.values import check_region

if TYPE_CHECKING:
    from wizard.aws.readers import AccountReader


def parse_regions(option: str | None, *, all_keys: bool) -> list[str]:
    """The regions ``--region`` names, in order, without repeats.

    Raises:
        InputError: several regions without ``--all-keys``, an empty entry, or
            a region that breaks the naming rule (the region is named).
    """
    if not option:
        return []
    regions = list(dict.fromkeys(part.strip() for part in option.split(",")))
    if "" in regions:
        raise InputError(f"--region {option!r}: an entry of the list is empty.")
    if len(regions) > 1 and not all_keys:
        raise InputError(
            "--region: several regions can only be given with --all-keys; "
            "audit one key in its own region."
        )
    for region in regions:
        if problem := check_region(region):
            raise InputError(f"--region {region}: {problem}")
    return regions


def fleet_keys(reader: AccountReader, regions: list[str]) -> list[str]:
    """Every key ListKeys returns in each region, region by region.

    Which of them the audit covers (customer managed, not going away) is
    decided per key as its audit starts, so snapshots begin while other keys
    are still being described.

    Raises:
        WizardError: a region's keys cannot be listed (the region is named).
    """
    keys: list[str] = []
    for region in regions:
        found = reader.list_keys(region)
        if isinstance(found, Unknown):
            raise WizardError(f"The keys of {region} cannot be listed: {found.reason}")
        keys.extend(found)
    return keys


def key_region(key: str, default: str) -> str:
    """The region in a key ARN; ``default`` for a bare key id."""
    parts = key.split(":")
    return parts[3] if key.startswith("arn:") and len(parts) > 5 else default
