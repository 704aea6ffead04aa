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
    project_sources,
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


def _sarif_results(report_sarif: str) -> dict[str, dict[str, object]]:
    run = json.loads(report_sarif)["runs"][0]
    return {
        result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]: result["locations"][0]
        for result in run["results"]
    }


def test_sarif_results_point_at_the_declared_file_and_line(db: Database) -> None:
    report = run_lint(db.conn, load_config(find_config(ROOT)))
    locations = _sarif_results(render_sarif(report, project_sources(ROOT)))
    realtime = [name for name in locations if name.endswith(" on realtime.messages")]
    assert realtime, "the chat's suppressed realtime.messages findings"
    for name in realtime:
        physical = locations[name]["physicalLocation"]
        assert isinstance(physical, dict)
        assert physical["artifactLocation"]["uri"] == "policies/realtime.messages.sql"
        line = physical["region"]["startLine"]
        text = (ROOT / "policies/realtime.messages.sql").read_text().splitlines()[line - 1]
        policy_name = name.removeprefix("policy ").split(" on ")[0]
        assert text == f"create policy {policy_name}"


def test_sarif_results_fall_back_to_the_revision_then_to_a_logical_location(
    db: Database, tmp_path: Path
) -> None:
    (tmp_path / "rpc").mkdir()
    (tmp_path / "rpc" / "public.lint_declared.sql").write_text(
        "-- who may call it\n\ncreate or replace function public.lint_declared()\n"
        "  returns int language sql as $$ select 1 $$;\n"
    )
    (tmp_path / "supabase" / "migrations").mkdir(parents=True)
    (tmp_path / "supabase" / "migrations" / "20240101000000_init.sql").write_text(
        "create extension if not exists pgcrypto;\n"
        "create function lint_migrated() returns int language sql as $$ select 1 $$;\n"
    )
    for name in ("lint_declared", "lint_migrated", "lint_nowhere"):
        db.execute(f"create function public.{name}() returns int language sql as $$ select 1 $$")
    locations = _sarif_results(render_sarif(run_lint(db.conn), project_sources(tmp_path)))
    declared = locations["public.lint_declared()"]["physicalLocation"]
    migrated = locations["public.lint_migrated()"]["physicalLocation"]
    assert declared == {
        "artifactLocation": {"uri": "rpc/public.lint_declared.sql", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 3},
    }
    assert migrated == {
        "artifactLocation": {
            "uri": "supabase/migrations/20240101000000_init.sql",
            "uriBaseId": "%SRCROOT%",
        },
        "region": {"startLine": 2},
    }
    assert "physicalLocation" not in locations["public.lint_nowhere()"]


def test_sarif_results_point_into_the_newest_alembic_revision_creating_it(
    db: Database, tmp_path: Path
) -> None:
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    function = "create or replace function public.lint_revised() returns int"
    for number, parent in (("0001", None), ("0002", "0001")):
        (versions / f"{number}_lint.py").write_text(
            f"revision = {number!r}\ndown_revision = {parent!r}\n\n\n"
            'def upgrade() -> None:\n    SQL = """\n'
            f'{function} language sql as $$ select 1 $$\n"""\n'
        )
    db.execute(f"{function} language sql as $$ select 1 $$")
    locations = _sarif_results(render_sarif(run_lint(db.conn), project_sources(tmp_path)))
    assert locations["public.lint_revised()"]["physicalLocation"] == {
        "artifactLocation": {"uri": "migrations/versions/0002_lint.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 7},
    }


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
