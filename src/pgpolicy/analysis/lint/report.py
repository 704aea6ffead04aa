"""Lint output: text for people, JSON for scripts, SARIF 2.1.0 for code-scanning tools."""

from __future__ import annotations

import json
from typing import Any

from pgpolicy.analysis.lint.engine import LintReport
from pgpolicy.analysis.lint.locations import SourceIndex, SourceLocation
from pgpolicy.analysis.lint.model import Finding, Rule

__all__ = ["render_json", "render_sarif", "render_text"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SRCROOT = "%SRCROOT%"
_SARIF_LEVEL = {"error": "error", "warn": "warning", "info": "note"}


def _where(finding: Finding, sources: SourceIndex | None) -> SourceLocation | None:
    return None if sources is None else sources.locate(finding.object)


def render_text(report: LintReport, sources: SourceIndex | None = None) -> str:
    lines = []
    for finding in report.findings:
        mark = "suppressed" if finding.suppressed else finding.rule.level
        lines.append(f"{finding.rule.id} {mark:<10} {finding.rule.name}: {finding.message}")
        location = _where(finding, sources)
        if location is not None:
            lines.append(f"     at: {location.path}:{location.line}")
        if finding.suppressed:
            lines.append(f"     reason: {finding.suppressed_because}")
        else:
            lines.append(f"     fix: {finding.rule.remediation}")
    for suppression in report.unused_suppressions:
        lines.append(
            f"note: suppression of {suppression.rule} on {suppression.object!r} matched nothing"
        )
    counts = {level: 0 for level in ("error", "warn", "info")}
    for finding in report.active:
        counts[finding.rule.level] += 1
    suppressed = len(report.findings) - len(report.active)
    lines.append(
        f"{len(report.rules)} rules: {counts['error']} error(s), {counts['warn']} warning(s), "
        f"{counts['info']} info, {suppressed} suppressed"
    )
    return "\n".join(lines)


def _finding_json(finding: Finding, sources: SourceIndex | None) -> dict[str, Any]:
    location = _where(finding, sources)
    return {
        "rule": finding.rule.id,
        "name": finding.rule.name,
        "level": finding.rule.level,
        "category": finding.rule.category,
        "object": finding.object,
        "message": finding.message,
        "remediation": finding.rule.remediation,
        "suppressed": finding.suppressed_because,
        "file": None if location is None else location.path,
        "line": None if location is None else location.line,
    }


def render_json(report: LintReport, sources: SourceIndex | None = None) -> str:
    return json.dumps(
        {
            "rules": [rule.id for rule in report.rules],
            "findings": [_finding_json(finding, sources) for finding in report.findings],
        },
        indent=2,
    )


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.name.replace("_", " ")},
        "fullDescription": {"text": rule.description},
        "help": {"text": rule.remediation},
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.level]},
        "properties": {"category": rule.category},
    }


def _sarif_result(
    finding: Finding, index: dict[str, int], sources: SourceIndex | None
) -> dict[str, Any]:
    location: dict[str, Any] = {
        "logicalLocations": [{"fullyQualifiedName": finding.object, "kind": "object"}]
    }
    where = _where(finding, sources)
    if where is not None:
        location["physicalLocation"] = {
            "artifactLocation": {"uri": where.path, "uriBaseId": _SRCROOT},
            "region": {"startLine": where.line},
        }
    result: dict[str, Any] = {
        "ruleId": finding.rule.id,
        "ruleIndex": index[finding.rule.id],
        "level": _SARIF_LEVEL[finding.rule.level],
        "message": {"text": finding.message},
        "locations": [location],
    }
    if finding.suppressed:
        result["suppressions"] = [{"kind": "external", "justification": finding.suppressed_because}]
    return result


def render_sarif(report: LintReport, sources: SourceIndex | None = None) -> str:
    """SARIF 2.1.0; with ``sources``, each result names the file and line of its object
    (relative to %SRCROOT%, the project folder), as code-scanning tools show them."""
    index = {rule.id: number for number, rule in enumerate(report.rules)}
    return json.dumps(
        {
            "$schema": SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "pgpolicy-lint",
                            "rules": [_sarif_rule(rule) for rule in report.rules],
                        }
                    },
                    "results": [_sarif_result(f, index, sources) for f in report.findings],
                }
            ],
        },
        indent=2,
    )
