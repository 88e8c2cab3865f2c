"""The values file: round trip, strict checking, comments kept, atomic writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import guide_values
from wizard.core import store
from wizard.core.errors import ConfigError
from wizard.core.fsutil import write_atomic
from wizard.core.values import PolicyOptions

EXAMPLE = Path(__file__).parents[2] / "examples" / "harbor-kms.toml"


def test_example_file_loads_without_problems() -> None:
    loaded = store.load(EXAMPLE)
    assert loaded.problems == []
    assert loaded.values.principal_org_id == "o-a1b2c3d4e5"
    assert loaded.values.source_ip == ("10.0.0.0/8",)


def test_round_trip_keeps_every_value(tmp_path: Path) -> None:
    values = guide_values(
        principal_org_id="o-a1b2c3d4e5",
        source_vpce=("vpce-0a1b2c3d4e5f67890",),
        break_glass_principals=("arn:aws:iam::111122223333:role/BreakGlass",),
        rotation_period_days=180,
        alarm_email="ops@example.com",
        options=PolicyOptions(
            deny_decrypt_without_s3_context=True, encryption_context="both"
        ),
    )
    path = tmp_path / "harbor-kms.toml"
    store.save(values, path)
    loaded = store.load(path)
    assert loaded.problems == []
    assert loaded.values == values


def test_unknown_and_mistyped_keys_are_reported_with_file_and_key(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        'version = 1\n[aws]\naccount_id = 111122223333\nzone = "a"\n'
        '[harbor]\nbucket_key_enabled = "yes"\n[policy]\nmagic = true\n'
        "[extras]\nx = 1\n"
    )
    fields = {p.field for p in store.load(path).problems}
    for key in (
        "aws.account_id",
        "aws.zone",
        "harbor.bucket_key_enabled",
        "policy.magic",
        "extras",
    ):
        assert f"{path}: {key}" in fields


def test_invalid_value_is_located_by_dotted_key(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    store.save(guide_values(source_ip=("10.0.0.1/8",)), path)
    problems = store.load(path).problems
    assert [p.field for p in problems] == [f"{path}: conditions.source_ip[0]"]


def test_wrong_version_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("version = 7\n")
    assert any("version" in p.field for p in store.load(path).problems)


@pytest.mark.parametrize("text", ["version = = 1", "[aws\n", "\x00"])
def test_broken_toml_is_one_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="not valid TOML"):
        store.load(path)


def test_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        store.load(tmp_path / "none.toml")


def test_save_keeps_comments_unknown_keys_and_foreign_sections(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '# team note\nversion = 1\n[aws]\nregion = "us-east-1" # our region\n'
        'custom = 1\n[attestations]\nrotation_documented = "alice"\n'
    )
    loaded = store.load(path)
    store.save(guide_values(), path, loaded.extra)
    text = path.read_text()
    assert "# team note" in text
    assert "# our region" in text
    assert "custom = 1" in text
    assert 'rotation_documented = "alice"' in text
    assert store.load(path).values.account_id == "111122223333"


def test_failed_write_leaves_old_file_intact(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    store.save(guide_values(), path)
    before = path.read_text()
    # A lone surrogate cannot be encoded: the write fails half-way through.
    with pytest.raises(UnicodeEncodeError):
        write_atomic(path, "version = 1\n" * 1000 + "\ud800")
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.toml"]


def test_unwritable_directory_is_a_config_error(tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "c.toml"
    with pytest.raises(ConfigError, match="cannot be written"):
        store.save(guide_values(), target)
