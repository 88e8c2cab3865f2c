"""Prefilling values from Harbor's Helm values.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import guide_values
from wizard.core.errors import InputError
from wizard.core.helm import prefill, read_harbor_values
from wizard.core.values import Values

CHART = """
persistence:
  imageChartStorage:
    type: s3
    s3:
      region: eu-west-1
      bucket: harbor-eu-bucket
      encrypt: true
      keyid: arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "values.yaml"
    path.write_text(text)
    return path


def test_reads_region_bucket_and_key(tmp_path: Path) -> None:
    storage = read_harbor_values(_write(tmp_path, CHART))
    assert (storage.region, storage.bucket, storage.encrypt) == (
        "eu-west-1",
        "harbor-eu-bucket",
        True,
    )
    assert storage.notes == ()
    filled = prefill(Values(), storage)
    assert filled.region == "eu-west-1"
    assert filled.account_id == "444455556666"
    assert filled.key_id.endswith("1234567890ab")


def test_user_values_win_over_the_chart(tmp_path: Path) -> None:
    storage = read_harbor_values(_write(tmp_path, CHART))
    filled = prefill(guide_values(), storage)
    assert filled == guide_values()


def test_notes_when_harbor_does_not_encrypt_with_kms(tmp_path: Path) -> None:
    text = CHART.replace("type: s3", "type: filesystem").replace(
        "encrypt: true", "encrypt: false"
    )
    notes = read_harbor_values(_write(tmp_path, text)).notes
    assert any("not 's3'" in n for n in notes)
    assert any("encrypt is not true" in n for n in notes)


def test_encrypt_without_keyid_is_noted_as_sse_s3(tmp_path: Path) -> None:
    # The distribution driver asks for AES256 then, overriding the bucket default.
    text = CHART.replace(
        "keyid: arn:aws:kms:eu-west-1:444455556666:key/"
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        "keyid: ''",
    )
    (note,) = read_harbor_values(_write(tmp_path, text)).notes
    assert "SSE-S3 (AES256)" in note
    assert "overrides the bucket's default" in note


def test_alias_key_is_not_used_as_key_id(tmp_path: Path) -> None:
    text = CHART.replace(
        "keyid: arn:aws:kms:eu-west-1:444455556666:key/"
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        "keyid: alias/harbor",
    )
    assert prefill(Values(), read_harbor_values(_write(tmp_path, text))).key_id == ""


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a: [1, 2", "not valid YAML"),
        ("persistence: 3", "no persistence"),
        ("persistence:\n  imageChartStorage:\n    type: s3\n", "no persistence.image"),
    ],
)
def test_unusable_files_are_one_clear_error(
    tmp_path: Path, text: str, words: str
) -> None:
    with pytest.raises(InputError, match=words):
        read_harbor_values(_write(tmp_path, text))
