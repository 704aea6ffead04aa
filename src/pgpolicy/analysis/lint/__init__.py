"""`pgpolicy lint`: security, performance and Realtime rules over the catalog and the parsed
policy expressions. One rule = one file under ``rules/``."""

from pgpolicy.analysis.lint.config import LintConfig, LintConfigError, find_config, load_config
from pgpolicy.analysis.lint.engine import LintReport, run_lint
from pgpolicy.analysis.lint.locations import SourceIndex, SourceLocation, project_sources
from pgpolicy.analysis.lint.model import Finding, Rule
from pgpolicy.analysis.lint.report import render_json, render_sarif, render_text
from pgpolicy.analysis.lint.rules import all_rules

__all__ = [
    "Finding",
    "LintConfig",
    "LintConfigError",
    "LintReport",
    "Rule",
    "SourceIndex",
    "SourceLocation",
    "all_rules",
    "find_config",
    "load_config",
    "project_sources",
    "render_json",
    "render_sarif",
    "render_text",
    "run_lint",
]
