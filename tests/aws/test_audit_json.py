"""The audit's JSON and SARIF writer gives exactly what ``json.dumps(...,
indent=2, default=str)`` gives: on real reports from the sandbox (one key, a
fleet, SARIF) and on values a report could hold.
"""

from __future__ import annotations

import enum
import io
import json
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from wizard.aws.sandbox import Sandbox, SeedResult
from wizard.cli import main
from wizard.commands import audit
from wizard.core import store

Seeder = Callable[..., SeedResult]
ClientFactory = Callable[..., Any]


class Color(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Status(enum.StrEnum):
    PASS = "pass"


def reference(document: Any) -> str:
    return json.dumps(document, indent=2, default=str)


@pytest.fixture(autouse=True)
def sandbox_credentials(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Point boto3 at the sandbox; never at a real account or profile."""
    for name, value in sandbox.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield


@pytest.mark.parametrize(
    "document",
    [
        {},
        [],
        "",
        None,
        0,
        {"a": [], "b": {}, "c": [[], {}], "d": [{"e": [1, 2.5, None]}]},
        {"text": 'quote " backslash \\ tab \t newline \n nul \0 é ✓ 𝄞'},
        {"floats": [0.1, -0.0, 1e300, 1e-300, math.nan, math.inf, -math.inf]},
        {"bools": [True, False], "ints": [0, -1, 2**70], True: 1, False: 2},
        {1: "int key", 2.5: "float key", None: "none key", math.inf: "inf"},
        {"tuple": (1, (2, 3), ()), "nested": [[[[{"deep": "x"}]]]]},
        {"enum": Color.RED, "int_enum": Level.HIGH, "str_enum": Status.PASS},
        {"at": datetime(2024, 5, 1, 12, 0, tzinfo=UTC), "path": Path("/tmp/x")},
        {Status.PASS: Level.HIGH, Level.HIGH: [Color.RED, {"set": {1}}]},
    ],
)
def test_indented_json_matches_json_dumps(document: Any) -> None:
    assert audit._indented_json(document) == reference(document)


def test_indented_json_refuses_the_keys_json_refuses() -> None:
    with pytest.raises(TypeError, match="keys must be str"):
        reference({(1, 2): "tuple key"})
    with pytest.raises(TypeError, match="keys must be str"):
        audit._indented_json({(1, 2): "tuple key"})


@pytest.mark.parametrize(
    ("scenario", "argv"),
    [
        ("guide-as-written", ["--format", "json"]),
        ("hardened", ["--format", "json", "--all-keys"]),
        ("guide-as-written", ["--format", "sarif", "--all-keys"]),
    ],
)
def test_real_reports_match_json_dumps(
    sandbox: Sandbox,
    seeded: Seeder,
    boto_client: ClientFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scenario: str,
    argv: list[str],
) -> None:
    result = seeded(scenario)
    boto_client("kms").create_key(Description="a second key")
    config = tmp_path / "harbor-kms.toml"
    store.save(result.values(), config)
    documents: list[Any] = []
    written = audit._indented_json

    def checked(document: Any) -> str:
        documents.append(document)
        return written(document)

    monkeypatch.setattr(audit, "_indented_json", checked)
    out = io.StringIO()
    argv = ["--endpoint-url", sandbox.endpoint_url, "--config", str(config), *argv]
    code = main(["audit", *argv], out, io.StringIO())

    assert code in (0, 1)
    (document,) = documents
    assert out.getvalue() == reference(document) + "\n"
