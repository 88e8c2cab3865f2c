"""The values file (``harbor-kms.toml``): load, check, save.

A user-facing format that teams keep beside their infrastructure code, so it is
strict and friendly at once: every unknown or invalid key is reported with the
file and the key's dotted name (never dropped), comments survive a rewrite
(tomlkit), and writes are atomic. Sections other parts of the tool own
(``[attestations]``, ``[session]``) are kept as they are.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import tomlkit

from wizard.core.errors import ConfigError
from wizard.core.fsutil import write_atomic
from wizard.core.values import ContextForm, PolicyOptions, Problem, Values, validate

DEFAULT_PATH = Path("harbor-kms.toml")
VERSION = 1

# (section, key) -> (Values field or "options.<field>", type)
_SCALARS: dict[tuple[str, str], tuple[str, type]] = {
    ("aws", "account_id"): ("account_id", str),
    ("aws", "region"): ("region", str),
    ("aws", "key_id"): ("key_id", str),
    ("harbor", "role_arn"): ("harbor_role_arn", str),
    ("harbor", "bucket"): ("bucket", str),
    ("harbor", "bucket_key_enabled"): ("bucket_key_enabled", bool),
    ("admins", "principals"): ("admin_principals", list),
    ("admins", "break_glass"): ("break_glass_principals", list),
    ("conditions", "principal_org_id"): ("principal_org_id", str),
    ("conditions", "source_vpce"): ("source_vpce", list),
    ("conditions", "source_ip"): ("source_ip", list),
    ("conditions", "grants_for_aws_resources_only"): (
        "grants_for_aws_resources_only",
        bool,
    ),
    ("rotation", "period_days"): ("rotation_period_days", int),
    ("monitoring", "alarm_email"): ("alarm_email", str),
}
_SECTIONS = {s for s, _ in _SCALARS} | {"policy"}
_OPTION_FIELDS = {f.name: f for f in dataclasses.fields(PolicyOptions)}
# Sections owned by other parts of the tool: kept verbatim, checked there.
_FOREIGN = ("attestations", "session")


@dataclass
class LoadedConfig:
    """What a config file gave: values, problems, and the document for rewrites."""

    path: Path
    values: Values
    problems: list[Problem] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def load(path: Path = DEFAULT_PATH, *, check_values: bool = True) -> LoadedConfig:
    """Read ``path``; raise ConfigError only if it cannot be read as TOML at all.

    Unknown keys, wrong types and invalid values come back as problems whose
    ``field`` is ``FILE: section.key``, so the user can find each one.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"Config file {path} does not exist; create it with the wizard "
            "or pass --config PATH."
        ) from None
    except OSError as error:
        raise ConfigError(
            f"Config file {path} cannot be read: {error.strerror}."
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"Config file {path} is not valid TOML: {error}.") from None
    return from_dict(data, path, check_values=check_values)


def from_dict(
    data: dict[str, Any], path: Path, *, check_values: bool = True
) -> LoadedConfig:
    """Turn a parsed config document into values and problems."""
    problems: list[Problem] = []
    kwargs: dict[str, Any] = {}
    options: dict[str, Any] = {}

    def report(key: str, message: str) -> None:
        problems.append(Problem(f"{path}: {key}", message))

    version = data.get("version")
    if version != VERSION:
        report("version", f"version must be {VERSION}, not {version!r}.")
    for section, table in data.items():
        if section == "version" or section in _FOREIGN:
            continue
        if section not in _SECTIONS:
            report(section, f"unknown section [{section}]; see the README.")
            continue
        if not isinstance(table, dict):
            report(section, f"{section} must be a table ([{section}]).")
            continue
        for key, value in table.items():
            dotted = f"{section}.{key}"
            if section == "policy":
                _read_option(key, value, options, lambda m, d=dotted: report(d, m))
                continue
            target = _SCALARS.get((section, key))
            if target is None:
                report(dotted, f"unknown key {dotted}; see the README for the keys.")
                continue
            name, kind = target
            converted = _convert(value, kind)
            if converted is None:
                report(dotted, f"{dotted} must be {_type_words(kind)}.")
                continue
            kwargs[name] = converted
    values = Values(**kwargs, options=PolicyOptions(**options))
    if check_values:
        problems.extend(locate_problems(validate(values), path))
    extra = {k: data[k] for k in _FOREIGN if k in data}
    return LoadedConfig(Path(path), values, problems, extra)


def _read_option(key: str, value: Any, options: dict[str, Any], report: Any) -> None:
    spec = _OPTION_FIELDS.get(key)
    if spec is None:
        report(f"unknown key policy.{key}; see the README for the keys.")
        return
    if key == "encryption_context":
        allowed = get_args(ContextForm)
        if value not in allowed:
            report(f"policy.{key} must be one of {', '.join(allowed)}.")
            return
    elif not isinstance(value, bool):
        report(f"policy.{key} must be true or false.")
        return
    options[key] = value


def _convert(value: Any, kind: type) -> Any:
    if kind is bool:
        return value if isinstance(value, bool) else None
    if kind is int:
        return value if type(value) is int else None
    if kind is str:
        return value if isinstance(value, str) else None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def _type_words(kind: type) -> str:
    return {bool: "true or false", int: "a whole number", str: "a string"}.get(
        kind, "a list of strings"
    )


_FIELD_KEYS = {name: f"{s}.{k}" for (s, k), (name, _) in _SCALARS.items()}


def locate_problems(problems: list[Problem], path: Path) -> list[Problem]:
    """Rename value problems from field names to the file's dotted keys."""
    located = []
    for problem in problems:
        name, _, index = problem.field.partition("[")
        key = _FIELD_KEYS.get(name, name)
        suffix = f"[{index}" if index else ""
        located.append(
            Problem(f"{path}: {key}{suffix}", problem.message, problem.severity)
        )
    return located


def to_dict(values: Values) -> dict[str, Any]:
    """The config document for ``values`` (empty and default values left out)."""
    doc: dict[str, Any] = {"version": VERSION}
    for (section, key), (name, _) in _SCALARS.items():
        value = getattr(values, name)
        if value in (None, "", ()):
            continue
        doc.setdefault(section, {})[key] = (
            list(value) if isinstance(value, tuple) else value
        )
    defaults = PolicyOptions()
    for name in _OPTION_FIELDS:
        value = getattr(values.options, name)
        if value != getattr(defaults, name):
            doc.setdefault("policy", {})[name] = value
    return doc


def save(
    values: Values, path: Path = DEFAULT_PATH, extra: dict[str, Any] | None = None
) -> None:
    """Write ``values`` to ``path`` atomically, keeping comments and foreign sections.

    Keys the tool owns are rewritten; comments on them and any ``extra`` sections
    (attestations, session) are kept.
    """
    path = Path(path)
    try:
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
        document = tomlkit.parse(existing) if existing else tomlkit.document()
    except (OSError, tomlkit.exceptions.ParseError):
        document = tomlkit.document()
    fresh = to_dict(values)
    document["version"] = VERSION
    for section in {s for s, _ in _SCALARS} | {"policy"}:
        _merge_section(document, section, fresh.get(section, {}))
    for section, table in (extra or {}).items():
        document[section] = table
    try:
        write_atomic(path, tomlkit.dumps(document))
    except OSError as error:
        raise ConfigError(
            f"Config file {path} cannot be written: {error.strerror}."
        ) from None


def _merge_section(document: Any, section: str, table: dict[str, Any]) -> None:
    owned = [k for (s, k) in _SCALARS if s == section]
    if section == "policy":
        owned = list(_OPTION_FIELDS)
    if section not in document:
        if not table:
            return
        document[section] = tomlkit.table()
    target = document[section]
    for key in owned:
        if key in table:
            target[key] = table[key]
        elif key in target:
            del target[key]
    if not target:
        del document[section]
