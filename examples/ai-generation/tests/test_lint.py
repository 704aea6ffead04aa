"""`pgpolicy lint` has nothing to say about this schema (security, performance, Realtime)."""

from __future__ import annotations

from pgpolicy.analysis.lint import render_text, run_lint
from pgpolicy.testing.harness import Database


def test_pgpolicy_lint_finds_nothing(db: Database) -> None:
    report = run_lint(db.conn)
    assert report.active == [], render_text(report)
