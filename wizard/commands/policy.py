"""``harbor-kms policy ...``: render, lint, simulate, scenarios, explain."""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from wizard.commands.common import load_values, read_json_file
from wizard.core.errors import InputError
from wizard.core.policy.formats import FORMATS

# Each handler imports the part of the core it uses, so that `policy lint`
# starts without the simulator and `policy simulate` without the linter.
if TYPE_CHECKING:
    from wizard.core.policy.lint import Finding
    from wizard.core.policy.scenarios import Outcome
    from wizard.core.policy.simulate import Evaluator


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register ``policy`` and its subcommands."""
    policy = subparsers.add_parser(
        "policy", help="render, lint and simulate key policies (no AWS needed)"
    )
    sub = policy.add_subparsers(dest="policy_command", required=True)
    values_args = argparse.ArgumentParser(add_help=False, parents=[common])
    values_args.add_argument(
        "--from-harbor-values",
        type=Path,
        metavar="FILE",
        help="prefill region, bucket and key from a Harbor Helm values.yaml",
    )

    render = sub.add_parser(
        "render", parents=[values_args], help="print the hardened key policy"
    )
    render.add_argument("--format", choices=FORMATS, default="json")
    render.set_defaults(handler=cmd_render)

    lint_p = sub.add_parser("lint", parents=[common], help="lint a key policy")
    lint_p.add_argument("policy", metavar="POLICY.json")
    lint_p.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    lint_p.set_defaults(handler=cmd_lint)

    simulate = sub.add_parser(
        "simulate", parents=[common], help="evaluate requests against a key policy"
    )
    simulate.add_argument(
        "policy",
        metavar="POLICY.json",
        help="the key policy ('-' when every request has one)",
    )
    simulate.add_argument("--principal", metavar="ARN")
    simulate.add_argument("--action", metavar="ACTION")
    simulate.add_argument("--resource", metavar="KEY_ARN")
    simulate.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="repeat a key to give a list",
    )
    simulate.add_argument(
        "--identity-policy", action="append", default=[], metavar="FILE", type=Path
    )
    simulate.add_argument(
        "--requests",
        metavar="REQUESTS.jsonl",
        help="one JSON request per line ('-' for stdin)",
    )
    simulate.add_argument("--format", choices=("text", "json"), default="text")
    simulate.set_defaults(handler=cmd_simulate)

    scenarios = sub.add_parser(
        "scenarios",
        parents=[values_args],
        help="replay Harbor's requests against a policy",
    )
    scenarios.add_argument("policy", metavar="POLICY.json")
    scenarios.add_argument("--format", choices=("text", "json"), default="text")
    scenarios.set_defaults(handler=cmd_scenarios)

    explain_p = sub.add_parser(
        "explain", parents=[values_args], help="say why each statement exists"
    )
    explain_p.set_defaults(handler=cmd_explain)


def cmd_render(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from wizard.core.policy import formats
    from wizard.core.policy.build import build_policy

    values = load_values(args.config, args.from_harbor_values, err=err)
    assert values is not None
    out.write(formats.render(build_policy(values), values, args.format))
    return 0


def cmd_explain(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from wizard.core.policy.explain import explain

    values = load_values(args.config, args.from_harbor_values, err=err)
    assert values is not None
    out.write(explain(values))
    return 0


def cmd_lint(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from wizard.core.policy import lint, sarif

    document = _read_policy(args.policy)
    values = load_values(args.config, required=False, err=err) if args.config else None
    try:
        findings = lint.lint_policy(document, values)
    except lint.PolicyInputError as error:
        raise InputError(f"{args.policy}: {error}") from None
    if args.format == "json":
        out.write(json.dumps(lint.findings_to_json(findings), indent=2) + "\n")
    elif args.format == "sarif":
        out.write(json.dumps(sarif.to_sarif(findings, args.policy), indent=2) + "\n")
    else:
        _lint_text(findings, args.policy, out)
    return 1 if lint.has_errors(findings) else 0


def _lint_text(findings: list[Finding], path: str, out: TextIO) -> None:
    if not findings:
        out.write(f"{path}: no findings\n")
        return
    for finding in findings:
        where = f" [{finding.statement}]" if finding.statement else ""
        out.write(
            f"{path}{where}: {finding.severity}: {finding.rule}: "
            f"{finding.message}\n    fix: {finding.fix}\n"
        )
    counts: dict[str, int] = defaultdict(int)
    for finding in findings:
        counts[finding.severity] += 1
    summary = ", ".join(f"{counts[s]} {s}" for s in ("error", "warning", "info"))
    out.write(f"{summary}\n")


def _read_policy(path: str) -> Any:
    document = read_json_file(path, "Policy file")
    if not isinstance(document, dict):
        raise InputError(f"Policy file {path} is not a policy: expected a JSON object.")
    return document


def cmd_simulate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from wizard.core.policy.simulate import Request, result_to_json

    values = load_values(args.config, required=False, err=err)
    resource = values.key_arn if values else "*"
    if args.requests:
        return _simulate_lines(args, resource, out)
    if not args.principal or not args.action:
        raise InputError("simulate needs --principal and --action, or --requests.")
    evaluator = _evaluator(_read_policy(args.policy), args.policy)
    request = Request(
        principal=args.principal,
        action=args.action,
        resource=args.resource or resource,
        context=_parse_context(args.context),
        identity_policies=tuple(
            read_json_file(str(p), "Identity policy") for p in args.identity_policy
        ),
        identity_policies_known=bool(args.identity_policy),
    )
    result = evaluator.evaluate(request)
    if args.format == "json":
        out.write(json.dumps(result_to_json(result)) + "\n")
    else:
        refs = ", ".join(r.label() for r in result.statements) or "no statement"
        out.write(f"{result.decision} ({refs})\n")
        for reason in result.reasons:
            out.write(f"  {reason}\n")
    return 0


def _simulate_lines(args: argparse.Namespace, resource: str, out: TextIO) -> int:
    default = (
        None
        if args.policy == "-"
        else _evaluator(_read_policy(args.policy), args.policy)
    )
    cache: dict[str, Evaluator] = {}
    if args.requests == "-":
        _write_results(sys.stdin, default, resource, cache, out)
        return 0
    try:
        with Path(args.requests).open(encoding="utf-8") as lines:
            _write_results(lines, default, resource, cache, out)
    except OSError as error:
        raise InputError(
            f"Requests file {args.requests} cannot be read: {error.strerror}."
        ) from None
    return 0


def _write_results(
    lines: Iterable[str],
    default: Evaluator | None,
    resource: str,
    cache: dict[str, Evaluator],
    out: TextIO,
) -> None:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            result = _simulate_one(line, number, default, resource, cache)
            out.write(json.dumps(result) + "\n")


def _simulate_one(
    line: str,
    number: int,
    default: Evaluator | None,
    resource: str,
    cache: dict[str, Evaluator],
) -> dict[str, Any]:
    """One JSONL request; a bad line gives an error object, not a stop."""
    from wizard.core.policy.simulate import (
        Evaluator,
        PolicyError,
        request_from_json,
        result_to_json,
    )

    try:
        obj = json.loads(line)
        if not isinstance(obj, dict):
            raise ValueError("a request must be a JSON object")
        request = request_from_json(obj, default_resource=resource)
        evaluator = default
        if "policy" in obj:
            key = json.dumps(obj["policy"], sort_keys=True)
            if key not in cache:
                cache[key] = Evaluator(obj["policy"])
            evaluator = cache[key]
        if evaluator is None:
            raise ValueError("no policy: give POLICY.json or a 'policy' on the line")
        return {"line": number, **result_to_json(evaluator.evaluate(request))}
    except (ValueError, PolicyError) as error:
        return {"line": number, "error": str(error)}


def _evaluator(document: Any, path: str) -> Evaluator:
    from wizard.core.policy.simulate import Evaluator, PolicyError

    try:
        return Evaluator(document)
    except PolicyError as error:
        raise InputError(f"{path}: {error}") from None


def _parse_context(pairs: list[str]) -> dict[str, str | list[str]]:
    context: dict[str, str | list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--context {pair!r} must be KEY=VALUE.")
        if key in context:
            previous = context[key]
            context[key] = [
                *([previous] if isinstance(previous, str) else previous),
                value,
            ]
        else:
            context[key] = value
    return context


def cmd_scenarios(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from wizard.core.policy.scenarios import outcome_to_json, run_scenarios
    from wizard.core.policy.simulate import PolicyError

    values = load_values(args.config, args.from_harbor_values, err=err)
    assert values is not None
    document = _read_policy(args.policy)
    try:
        outcomes = run_scenarios(document, values)
    except PolicyError as error:
        raise InputError(f"{args.policy}: {error}") from None
    if args.format == "json":
        out.write(json.dumps([outcome_to_json(o) for o in outcomes], indent=2) + "\n")
    else:
        write_scenarios_text(outcomes, out)
    return 0 if all(o.ok for o in outcomes) else 1


def write_scenarios_text(outcomes: list[Outcome], out: TextIO) -> None:
    """The scenario report as a grouped table of plain text."""
    group = None
    for outcome in outcomes:
        scenario = outcome.scenario
        if scenario.group != group:
            group = scenario.group
            out.write(f"\n{group}\n")
        mark = "ok  " if outcome.ok else "FAIL"
        decided = ", ".join(r.label() for r in outcome.result.statements)
        out.write(
            f"  {mark} {scenario.title}: {outcome.result.decision}"
            f" (expected {scenario.expect})"
            + (f" by {decided}" if decided else "")
            + "\n"
        )
        if not outcome.ok:
            out.write(f"       {scenario.why}\n")
            for reason in outcome.result.reasons[:3]:
                out.write(f"       {reason}\n")
    failed = sum(not o.ok for o in outcomes)
    out.write(f"\n{len(outcomes) - failed} of {len(outcomes)} scenarios as expected\n")
