"""The chat schema under `pgpolicy lint`: clean at head (with reasoned suppressions), the
nested-policy cost trap found at revision 0004, and the command's outputs and exit statuses."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from pgpolicy.analysis.lint import (
    LintConfigError,
    find_config,
    load_config,
    render_sarif,
    run_lint,
)
from pgpolicy.cli import main
from pgpolicy.migrate.runner import upgrade
from pgpolicy.testing.harness import Database

ROOT = Path(__file__).resolve().parents[2]
CHAT_MESSAGES_READ = (
    'policy "chat participants read messages of their threads" on public.chat_messages'
)


@pytest.fixture(scope="module")
def chat_at_0004(pg_new_session_database: Callable[..., str]) -> str:
    """A fresh database migrated to revision 0004 exactly (before the policy was keyed)."""
    url = pg_new_session_database("pgpolicy_lint0004")
    upgrade(ROOT / "alembic.ini", url, "0004")
    return url


def test_the_nested_policy_trap_is_found_at_revision_0004(chat_at_0004: str) -> None:
    with psycopg.connect(chat_at_0004, autocommit=True) as conn:
        report = run_lint(conn)
    nested = [f for f in report.findings if f.rule.id == "L014"]
    assert [f.object for f in nested] == [CHAT_MESSAGES_READ]
    assert "public.chat_threads" in nested[0].message


def test_the_chat_schema_lints_clean_at_head(db: Database) -> None:
    config = load_config(find_config(ROOT))
    report = run_lint(db.conn, config)
    assert report.active == [], [f.message for f in report.active]
    assert all(f.suppressed_because for f in report.findings)


def test_a_suppression_without_a_reason_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "pgpolicy-lint.toml"
    config.write_text('[[suppress]]\nrule = "L012"\nobject = "*"\nreason = " "\n')
    with pytest.raises(LintConfigError, match="no reason"):
        load_config(config)


def test_sarif_output_is_2_1_0_with_suppressions_justified(db: Database) -> None:
    report = run_lint(db.conn, load_config(find_config(ROOT)))
    sarif = json.loads(render_sarif(report))
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} >= {"L001", "L018"}
    assert run["results"], "the chat's suppressed findings are reported as suppressed"
    for result in run["results"]:
        assert result["suppressions"][0]["justification"]
        assert result["level"] in ("error", "warning", "note")


def _lint_exit(*args: str) -> int:
    with pytest.raises(SystemExit) as stopped:
        main(["lint", *args])
    return int(stopped.value.code or 0)


@pytest.mark.commit
def test_lint_command_exits_0_on_the_chat_and_2_on_a_seeded_defect(
    db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    assert _lint_exit("--url", db.url) == 0
    db.execute("create table public.defect (id int primary key)")
    assert _lint_exit("--url", db.url) == 2
    assert "L001" in capsys.readouterr().out
    assert _lint_exit("--url", db.url, "--disable", "L001") == 0
    payload = json.loads(_run_json(db.url, capsys))
    assert any(f["object"] == "public.defect" for f in payload["findings"])


def _run_json(url: str, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    _lint_exit("--url", url, "--format", "json")
    return capsys.readouterr().out
