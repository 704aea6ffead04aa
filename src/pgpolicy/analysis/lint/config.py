"""Lint settings: exposed schemas, disabled rules, suppressions (each with its reason).

Read from ``pgpolicy-lint.toml`` or from ``[tool.pgpolicy.lint]`` in ``pyproject.toml``::

    schemas = ["public"]
    disable = ["L013"]

    [[suppress]]                       # [[tool.pgpolicy.lint.suppress]] in pyproject.toml
    rule = "L012"
    object = 'policy * on realtime.messages'   # fnmatch pattern on the finding's object
    reason = "Realtime reads realtime.messages by primary key only"
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["LintConfig", "LintConfigError", "Suppression", "find_config", "load_config"]

CONFIG_FILE = "pgpolicy-lint.toml"


class LintConfigError(ValueError):
    """The configuration cannot be used as written (e.g. a suppression without a reason)."""


@dataclass(frozen=True)
class Suppression:
    rule: str
    object: str
    reason: str

    def matches(self, rule_id: str, object_name: str) -> bool:
        return self.rule == rule_id and fnmatch.fnmatchcase(object_name, self.object)


@dataclass(frozen=True)
class LintConfig:
    schemas: tuple[str, ...] = ("public",)
    disable: frozenset[str] = frozenset()
    suppressions: tuple[Suppression, ...] = field(default_factory=tuple)
    source: Path | None = None

    def suppression_for(self, rule_id: str, object_name: str) -> Suppression | None:
        for suppression in self.suppressions:
            if suppression.matches(rule_id, object_name):
                return suppression
        return None


def find_config(directory: Path) -> Path | None:
    """``pgpolicy-lint.toml``, else a ``pyproject.toml`` with ``[tool.pgpolicy.lint]``."""
    candidate = directory / CONFIG_FILE
    if candidate.is_file():
        return candidate
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        with pyproject.open("rb") as handle:
            if "lint" in tomllib.load(handle).get("tool", {}).get("pgpolicy", {}):
                return pyproject
    return None


def load_config(path: Path | None) -> LintConfig:
    if path is None:
        return LintConfig()
    with path.open("rb") as handle:
        data: dict[str, Any] = tomllib.load(handle)
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("pgpolicy", {}).get("lint", {})
    unknown = set(data) - {"schemas", "disable", "suppress"}
    if unknown:
        raise LintConfigError(f"{path}: unknown lint setting(s) {sorted(unknown)}")
    suppressions = []
    for number, item in enumerate(data.get("suppress", []), start=1):
        reason = str(item.get("reason", "")).strip()
        if not item.get("rule") or not item.get("object"):
            raise LintConfigError(f"{path}: suppression #{number} needs `rule` and `object`")
        if not reason:
            raise LintConfigError(
                f"{path}: suppression #{number} ({item['rule']} on {item['object']}) has no "
                "reason: say why the finding is acceptable"
            )
        suppressions.append(Suppression(str(item["rule"]), str(item["object"]), reason))
    return LintConfig(
        schemas=tuple(data.get("schemas", ("public",))),
        disable=frozenset(data.get("disable", ())),
        suppressions=tuple(suppressions),
        source=path,
    )
