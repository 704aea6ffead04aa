"""Run the rule catalog against a database and apply the configuration."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

from pgpolicy.analysis.lint.catalog import load_catalog
from pgpolicy.analysis.lint.config import LintConfig, Suppression
from pgpolicy.analysis.lint.model import LEVELS, Finding, Level, Rule
from pgpolicy.analysis.lint.rules import all_rules

__all__ = ["LintReport", "run_lint"]


@dataclass(frozen=True)
class LintReport:
    rules: tuple[Rule, ...]  # the rules that ran
    findings: tuple[Finding, ...]  # suppressed ones included, marked
    unused_suppressions: tuple[Suppression, ...] = ()  # stale entries, worth removing

    @property
    def active(self) -> list[Finding]:
        return [finding for finding in self.findings if not finding.suppressed]

    def worst_level(self) -> Level | None:
        levels = [LEVELS.index(f.rule.level) for f in self.active]
        return LEVELS[max(levels)] if levels else None

    def exit_status(self, fail_on: Level = "warn") -> int:
        """0 clean; 1 worst unsuppressed finding is a warning; 2 an error (below fail_on: 0)."""
        worst = self.worst_level()
        if worst is None or LEVELS.index(worst) < LEVELS.index(fail_on):
            return 0
        return 2 if worst == "error" else 1


def run_lint(
    conn: psycopg.Connection[Any],
    config: LintConfig | None = None,
    *,
    disable: Iterable[str] = (),
) -> LintReport:
    """Lint the database ``conn`` is connected to; nothing is changed."""
    config = config or LintConfig()
    disabled = set(config.disable) | set(disable)
    rules = [rule for rule in all_rules() if rule.id not in disabled]
    catalog = load_catalog(conn, config.schemas)
    findings: list[Finding] = []
    for rule in rules:
        for hit in rule.check(catalog):
            suppression = config.suppression_for(rule.id, hit.object)
            findings.append(
                Finding(
                    rule=rule,
                    object=hit.object,
                    message=hit.message,
                    suppressed_because=None if suppression is None else suppression.reason,
                )
            )
    used = {config.suppression_for(f.rule.id, f.object) for f in findings if f.suppressed}
    unused = tuple(s for s in config.suppressions if s not in used and s.rule not in disabled)
    return LintReport(rules=tuple(rules), findings=tuple(findings), unused_suppressions=unused)
