"""The runbook: golden files from the sandbox, completeness, escaping, secrets.

The golden runbooks are built from real inputs: the sandbox seeded with the
``guide-as-written`` and ``hardened`` scenarios, audited with the checklist
engine (``audit --format json``'s document), then applied with the apply engine
(its real journal and backups), then audited again. Random parts (the key id,
the temporary folder, times, backup hashes) are replaced by placeholders, so a
golden file changes only when the runbook does. ``UPDATE_GOLDEN=1`` rewrites
them.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

import pytest

from tests.factories import guide_values
from wizard import cli
from wizard.aws.apply_exec import BotoAdapter
from wizard.aws.readers import AccountReader
from wizard.aws.sandbox import Sandbox, seed
from wizard.aws.session import AwsTarget, Clients
from wizard.core import store
from wizard.core.apply.backup import state_dir
from wizard.core.apply.plan import make_plan
from wizard.core.apply.run import apply_plan
from wizard.core.checklist import engine, report
from wizard.core.runbook import (
    RunbookError,
    build_view,
    load_catalog,
    read_journal_files,
    render_runbook,
)
from wizard.core.runbook_journal import JournalFile
from wizard.core.values import Values

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


# -- sandbox inputs --------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """One sandbox for the module; each scenario resets it."""
    with Sandbox() as running:
        yield running


@pytest.fixture
def aws_env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The sandbox's test credentials in the environment (boto3's chain)."""
    for name, value in sandbox.environment().items():
        monkeypatch.setenv(name, value)
    return sandbox


def audit_document(endpoint: str, values: Values) -> dict[str, Any]:
    """What ``harbor-kms audit --format json`` writes for one key."""
    reader = AccountReader(AwsTarget(region=values.region, endpoint_url=endpoint))
    snapshot = reader.snapshot(values)
    items = engine.load_items()
    verdicts = engine.evaluate(items, snapshot, values, now=NOW)
    key = report.key_json(snapshot, values)
    return report.audit_json(report.KeyAudit(key, items, verdicts))


def run_apply(endpoint: str, values: Values, config: Path) -> None:
    """What ``harbor-kms apply --yes`` does: plan, backups, journal, calls."""
    target = AwsTarget(region=values.region, endpoint_url=endpoint)
    snapshot = AccountReader(target).snapshot(values)
    plan = make_plan(snapshot, values)
    result = apply_plan(
        plan, values, BotoAdapter(Clients(target), values), state_dir(config), now=NOW
    )
    assert result.outcome in ("complete", "nothing"), result.message


def normalise(text: str, values: Values, tmp: Path) -> str:
    """The runbook with its run-specific parts replaced by placeholders."""
    key_id = values.bare_key_id
    for form in (str(tmp), str(tmp).replace("_", "\\_")):  # raw and Markdown
        text = text.replace(form, "{TMP}")
    text = text.replace(key_id, "{KEY-ID}")
    text = text.replace(key_id[:8], "{KEY8}")
    text = re.sub(
        r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?( UTC|[+-]\d\d:\d\d)?",
        "{TIME}",
        text,
    )
    text = re.sub(r"\d{8}T\d{6}\d*Z", "{STAMP}", text)
    return re.sub(r"-[0-9a-f]{12}\.json", "-{HASH}.json", text)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{name} is missing; create it with UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} differs; if the change is intended, rerun with UPDATE_GOLDEN=1"
    )


def runbook_for(
    config: Path, values: Values, audit: dict[str, Any] | None, fmt: str = "markdown"
) -> str:
    journals, _ = read_journal_files(config, values)
    view = build_view(
        values,
        audit=audit,
        audit_source="audit.json" if audit else "",
        journal=journals,
        catalog=load_catalog(),
        config_path=config,
        now=NOW,
    )
    return render_runbook(view, "html" if fmt == "html" else "markdown")


@pytest.mark.parametrize("scenario", ["guide-as-written", "hardened"])
def test_golden_runbooks_before_and_after_apply(
    scenario: str, aws_env: Sandbox, tmp_path: Path
) -> None:
    aws_env.reset()
    values = seed(aws_env.endpoint_url, scenario, aws_env.region).values()
    config = tmp_path / "harbor-kms.toml"
    store.save(values, config)

    before = runbook_for(config, values, audit_document(aws_env.endpoint_url, values))
    check_golden(f"{scenario}-before.md", normalise(before, values, tmp_path))

    run_apply(aws_env.endpoint_url, values, config)
    after_audit = audit_document(aws_env.endpoint_url, values)
    after = runbook_for(config, values, after_audit)
    check_golden(f"{scenario}-after.md", normalise(after, values, tmp_path))
    page = runbook_for(config, values, after_audit, "html")
    check_golden(f"{scenario}-after.html", normalise(page, values, tmp_path))


def test_the_command_reads_audit_and_journals_and_warns_on_a_torn_line(
    aws_env: Sandbox, tmp_path: Path
) -> None:
    aws_env.reset()
    values = seed(aws_env.endpoint_url, "guide-as-written", aws_env.region).values()
    config = tmp_path / "harbor-kms.toml"
    store.save(values, config)
    run_apply(aws_env.endpoint_url, values, config)
    audit = tmp_path / "audit.json"
    audit.write_text(json.dumps(audit_document(aws_env.endpoint_url, values)))
    journals = state_dir(config) / "journals"
    with next(journals.glob("*.jsonl")).open("a", encoding="utf-8") as torn:
        torn.write('{"type": "step", "change": "put-key')

    out, err = StringIO(), StringIO()
    args = ["runbook", "--config", str(config), "--audit", str(audit)]
    args += ["--journal", str(journals), "--format", "html", "--output", "-"]
    assert cli.main(args, out=out, err=err) == 0
    assert "the last line was cut off" in err.getvalue()
    page = out.getvalue()
    assert page.startswith("<!DOCTYPE html>")
    assert "Applied on" in page and "audit.json" in page
    assert f"harbor-kms rollback --config {config}" in page


def test_an_unusable_audit_file_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "harbor-kms.toml"
    store.save(guide_values(), config)
    audit = tmp_path / "audit.json"
    audit.write_text('{"items": [{"title": "no id"}]}')
    err = StringIO()
    args = ["runbook", "--config", str(config), "--audit", str(audit)]
    code = cli.main([*args, "--output", str(tmp_path / "r.md")], err=err)
    assert code == 2
    assert "Audit item 0 has no 'id'" in err.getvalue()
    assert not (tmp_path / "r.md").exists()


# -- completeness ------------------------------------------------------------


STATUS_CYCLE = ("pass", "fail", "unknown", "attested", "not_attested")


def made_audit(values: Values) -> dict[str, Any]:
    """An audit in ``audit --format json``'s shape, every status used."""
    items = []
    for number, item in enumerate(load_catalog()):
        status = STATUS_CYCLE[number % len(STATUS_CYCLE)]
        items.append(
            {
                "id": item.id,
                "section": item.section,
                "title": item.title,
                "status": status,
                "evidence": [
                    {
                        "api": "kms:GetKeyPolicy",
                        "fields": {"n": number},
                        "at": "2026-01-15T09:00:00+00:00",
                    }
                ],
                "reason": f"reason {number}",
                "remediation": {
                    "console": "c",
                    "cli": "aws kms x --key-id {key_id}",
                    "apply": "",
                },
            }
        )
    return {"key": {"arn": values.key_arn}, "items": items, "summary": {}}


def rows_of(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("| **")]


def test_every_checklist_item_appears_with_its_status() -> None:
    values = guide_values()
    audit = made_audit(values)
    text = render_runbook(build_view(values, audit=audit, catalog=load_catalog()))
    rows = rows_of(text)
    for item in audit["items"]:
        word = item["status"].replace("_", " ").upper()
        matching = [r for r in rows if f"(`{item['id']}`)" in r]
        assert len(matching) == 1, item["id"]
        assert matching[0].startswith(f"| **{word}** |"), matching[0]
    assert len(rows) == len(load_catalog())


def test_without_an_audit_every_item_is_listed_as_not_checked() -> None:
    text = render_runbook(build_view(guide_values(), catalog=load_catalog()))
    rows = rows_of(text)
    assert len(rows) == len(load_catalog()) > 0
    assert all(r.startswith("| **NOT CHECKED** |") for r in rows)


def test_attested_items_show_who_attested() -> None:
    values = guide_values()
    attestations = {
        "rotation_documented": {
            "by": "alice@example.com",
            "at": datetime(2026, 1, 10, 8, 0, tzinfo=UTC),
            "note": "wiki/harbor-kms",
        }
    }
    view = build_view(values, attestations=attestations, catalog=load_catalog())
    text = render_runbook(view)
    section = text.split("## Attested items", 1)[1].split("## Re-verify", 1)[0]
    assert "alice@example.com" in section
    assert "2026-01-10 08:00:00 UTC" in section
    assert "`rotation_documented`" in section


# -- the fenced policy is `policy render` ------------------------------------


def fenced_policy(markdown: str) -> str:
    section = markdown.split("## Final key policy", 1)[1]
    match = re.search(r"^(`{3,})json\n(.*?)^\1$", section, re.S | re.M)
    assert match, "no fenced json block under Final key policy"
    return match.group(2)


def test_fenced_policy_equals_policy_render(tmp_path: Path) -> None:
    config = tmp_path / "harbor-kms.toml"
    store.save(guide_values(source_ip=("10.0.0.0/8",)), config)
    rendered = StringIO()
    assert cli.main(["policy", "render", "--config", str(config)], out=rendered) == 0
    output = tmp_path / "RUNBOOK.md"
    code = cli.main(
        ["runbook", "--config", str(config), "--output", str(output)],
        err=StringIO(),
    )
    assert code == 0
    fenced = fenced_policy(output.read_text(encoding="utf-8"))
    assert fenced == rendered.getvalue()
    assert json.loads(fenced) == json.loads(rendered.getvalue())


def test_html_policy_is_the_same_json(tmp_path: Path) -> None:
    values = guide_values()
    page = render_runbook(build_view(values, catalog=load_catalog()), "html")
    block = re.search(r'<code class="language-json">(.*?)</code>', page, re.S)
    assert block
    markdown = render_runbook(build_view(values, catalog=load_catalog()))
    assert html.unescape(block.group(1)) == fenced_policy(markdown)


class _TagBalance(HTMLParser):
    """Records end tags that do not close the innermost open element."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.mismatched: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open[-1] == tag:
            self.open.pop()
        else:
            self.mismatched.append(tag)


def test_html_is_self_contained_and_has_the_same_items() -> None:
    values = guide_values()
    view = build_view(values, audit=made_audit(values), catalog=load_catalog())
    page = render_runbook(view, "html")
    markdown = render_runbook(view)
    assert "<style>" in page
    balance = _TagBalance()
    balance.feed(page)
    assert balance.mismatched == [] and balance.open == []
    assert not re.search(r'(src|href)="(https?:)?//', page)
    for item in load_catalog():
        assert f"<code>{item.id}</code>" in page
        assert f"`{item.id}`" in markdown
    for statement in view.statements:
        assert statement.sid in page and statement.sid in markdown


# -- commands are real and safe to paste --------------------------------------


def test_verify_commands_name_the_real_resources() -> None:
    values = guide_values()
    view = build_view(values, catalog=load_catalog())
    commands = [c for group in view.verify for c in group.commands]
    assert commands
    for command in commands:
        assert "{" not in command, command
        assert "--region us-east-1" in command or command.startswith("aws iam")
    joined = "\n".join(commands)
    assert values.key_arn in joined and values.bucket in joined
    assert "role-name HarborS3Role" in joined


# -- escaping ---------------------------------------------------------------

NASTY = "a|b <script>alert(1)</script> `tick` ``` **bold** [link](x)\n# heading"


def cells(row: str) -> list[str]:
    """Cells of a Markdown table row, split on unescaped pipes."""
    return re.split(r"(?<!\\)\|", row.strip().strip("|"))


def outside_fences(markdown: str) -> str:
    return re.sub(r"^(`{3,}).*?^\1$", "", markdown, flags=re.S | re.M)


def nasty_view() -> Any:
    values = replace(guide_values(), bucket="harbor|bucket<script>x</script>`")
    audit = made_audit(values)
    audit["items"][0]["evidence"] = NASTY
    audit["items"][1]["reason"] = NASTY
    attestations = {"doc_incident_response": {"by": NASTY, "note": NASTY}}
    return build_view(
        values, audit=audit, attestations=attestations, catalog=load_catalog()
    )


def test_user_values_cannot_break_the_markdown() -> None:
    markdown = render_runbook(nasty_view())
    prose = outside_fences(markdown)
    assert "<script>" not in prose
    assert "\n# heading" not in markdown
    bucket_row = next(r for r in prose.splitlines() if r.startswith("| Bucket |"))
    assert len(cells(bucket_row)) == 2
    attested = prose.split("## Attested items", 1)[1].split("## Re-verify")[0]
    row = next(r for r in attested.splitlines() if "doc_incident_response" in r)
    assert len(cells(row)) == 4
    for line in prose.splitlines():
        if line.startswith("| **"):
            assert len(cells(line)) == 4, line


def test_user_values_are_escaped_in_html() -> None:
    page = render_runbook(nasty_view(), "html")
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def test_commands_quote_a_value_the_shell_would_split() -> None:
    view = nasty_view()
    commands = [c for group in view.verify for c in group.commands]
    assert any("'harbor|bucket<script>x</script>`'" in c for c in commands)


# -- strictness -------------------------------------------------------------


def test_a_missing_value_fails_loudly() -> None:
    with pytest.raises(RunbookError, match="missing"):
        render_runbook(SimpleNamespace(key_arn="arn"))  # type: ignore[arg-type]
    view = build_view(guide_values(), catalog=load_catalog())
    with pytest.raises(RunbookError, match="missing"):
        render_runbook(replace(view, bucket=None))  # type: ignore[arg-type]


def test_an_audit_of_another_key_is_refused() -> None:
    values = guide_values()
    audit = made_audit(values)
    audit["key"]["arn"] = values.key_arn.replace("1234abcd", "9999abcd")
    with pytest.raises(RunbookError, match="another|same config|values name"):
        build_view(values, audit=audit, catalog=load_catalog())


# -- secrets ----------------------------------------------------------------

SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjE" + "A" * 300
ACCESS_KEY = "ASIAIOSFODNN7EXAMPLE"


def test_secrets_never_appear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    values = guide_values()
    audit = made_audit(values)
    audit["items"][0]["evidence"] = [
        {"api": "sts:GetCallerIdentity", "fields": {"SessionToken": TOKEN}}
    ]
    audit["items"][1]["reason"] = f"AWS_SECRET_ACCESS_KEY={SECRET_KEY} {ACCESS_KEY}"
    audit["items"][2]["evidence"] = f"aws_session_token = {TOKEN}"
    journal = JournalFile(
        "j.jsonl",
        (
            {
                "type": "start",
                "command": "apply",
                "caller": {
                    "Arn": "arn:aws:sts::111122223333:assumed-role/a/b",
                    "SecretAccessKey": SECRET_KEY,
                },
            },
            {
                "type": "step",
                "change": "put-key-policy",
                "index": 0,
                "status": "failed",
                "error": f"credentials {ACCESS_KEY}:{SECRET_KEY}",
            },
        ),
    )
    view = build_view(
        values,
        audit=audit,
        journal=[journal],
        identity={"Arn": "arn:aws:iam::111122223333:user/x", "SessionToken": TOKEN},
        attestations={"doc_incident_response": {"by": "x", "note": SECRET_KEY}},
        catalog=load_catalog(),
    )
    for fmt in ("markdown", "html"):
        text = render_runbook(view, fmt)
        for secret in (SECRET_KEY, TOKEN, TOKEN[:60], ACCESS_KEY):
            assert secret not in text, (fmt, secret[:20])
        assert "redacted" in text


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_framework_adds_the_control_table_and_says_it_certifies_nothing(
    fmt: Literal["markdown", "html"],
) -> None:
    values = guide_values()
    view = build_view(
        values, audit=made_audit(values), catalog=load_catalog(), framework="soc2"
    )
    text = render_runbook(view, fmt)
    assert "SOC 2" in text and "CC6.1" in text
    assert "certif" in text.lower()
    assert "controls" in text


def test_framework_without_an_audit_is_a_clear_error() -> None:
    with pytest.raises(RunbookError, match="needs an audit"):
        build_view(guide_values(), catalog=load_catalog(), framework="hipaa")
