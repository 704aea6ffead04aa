"""Supabase CLI projects read and applied as the CLI does: order, one transaction per file,
the seed after, a failure naming file and line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from pgpolicy.cli import main
from pgpolicy.supabase_cli.apply import CliMigrationError, apply_cli_project
from pgpolicy.supabase_cli.project import find_cli_project
from pgpolicy.supabase_cli.statements import split_statements

EXAMPLE = Path(__file__).parents[2] / "examples" / "supabase-cli-app"


def _project(root: Path, migrations: dict[str, str], seed: str | None = None) -> Path:
    folder = root / "supabase" / "migrations"
    folder.mkdir(parents=True)
    for name, sql in migrations.items():
        (folder / name).write_text(sql)
    if seed is not None:
        (root / "supabase" / "seed.sql").write_text(seed)
    return root


def test_statements_split_on_semicolons_outside_quotes_bodies_and_comments() -> None:
    text = (
        "create table t (a text default 'x;y');\n"
        "-- a comment; not a statement\n"
        "create function f() returns int language plpgsql as $body$\n"
        "begin return 1; end $body$;\n"
        '/* block; */ select 1 as "a;b";\n'
        "select E'it\\'s; fine';\n"
    )
    statements = split_statements(text)
    assert [s.line for s in statements] == [1, 3, 5, 6]
    assert statements[1].sql.endswith("end $body$")
    assert statements[3].sql == "select E'it\\'s; fine'"


ATOMIC_FUNCTION = (
    "create function public.grade(score int) returns text language sql\n"
    "begin atomic\n"
    "  select case when score >= 50 then 'pass' else 'fail' end;\n"
    "end;\n"
)


def test_a_begin_atomic_body_and_parentheses_keep_their_semicolons() -> None:
    text = ATOMIC_FUNCTION + (
        "create rule keep_log as on insert to public.log do also (\n"
        "  insert into public.audit values (1); insert into public.audit values (2));\n"
        "select 1 as äpfel;\n"
    )
    statements = split_statements(text)
    assert [s.line for s in statements] == [1, 5, 7]
    assert statements[2].sql == "select 1 as äpfel"
    assert statements[0].sql.endswith("end;\nend")
    assert statements[1].sql.endswith("values (2))")


def test_migrations_are_the_versioned_files_in_name_order(tmp_path: Path) -> None:
    _project(
        tmp_path,
        {
            "20240102000000_second.sql": "",
            "20240101000000_first.sql": "",
            "notes.sql": "",
        },
        seed="",
    )
    project = find_cli_project(tmp_path)
    assert project is not None
    assert [m.version for m in project.migrations] == ["20240101000000", "20240102000000"]
    assert [p.name for p in project.skipped] == ["notes.sql"]
    assert [p.name for p in project.seeds] == ["seed.sql"]
    assert project.exposed_schemas == ("public", "graphql_public")


def test_config_toml_names_the_exposed_schemas_and_the_seed_files(tmp_path: Path) -> None:
    _project(tmp_path, {"1_a.sql": ""})
    (tmp_path / "supabase" / "seeds").mkdir()
    for name in ("b.sql", "a.sql"):
        (tmp_path / "supabase" / "seeds" / name).write_text("")
    (tmp_path / "supabase" / "config.toml").write_text(
        '[api]\nschemas = ["public", "api"]\n[db.seed]\nsql_paths = ["./seeds/*.sql"]\n'
    )
    project = find_cli_project(tmp_path)
    assert project is not None
    assert project.exposed_schemas == ("public", "api")
    assert [p.name for p in project.seeds] == ["a.sql", "b.sql"]


def test_a_disabled_seed_is_not_applied(tmp_path: Path) -> None:
    _project(tmp_path, {"1_a.sql": ""}, seed="select 1;")
    (tmp_path / "supabase" / "config.toml").write_text("[db.seed]\nenabled = false\n")
    project = find_cli_project(tmp_path)
    assert project is not None and project.seeds == ()


def test_the_example_builds_with_every_file_recorded_and_the_seed_applied(
    tmp_path: Path, pg_new_database: Callable[..., str]
) -> None:
    project = find_cli_project(EXAMPLE)
    assert project is not None
    url = pg_new_database()
    apply_cli_project(url, project)
    with psycopg.connect(url) as conn:
        versions = conn.execute(
            "select version from supabase_migrations.schema_migrations order by version"
        ).fetchall()
        shared = conn.execute(
            "select count(*) from information_schema.columns"
            " where table_name = 'notes' and column_name = 'shared'"
        ).fetchone()
        categories = conn.execute("select name from public.categories order by id").fetchall()
    assert versions == [(m.version,) for m in project.migrations]
    assert shared == (1,)
    assert categories == [("work",), ("home; garden",)]


def test_a_failing_file_names_file_and_line_and_is_rolled_back_alone(
    tmp_path: Path, pg_new_database: Callable[..., str]
) -> None:
    _project(
        tmp_path,
        {
            "1_ok.sql": "create table public.kept (id int);\n",
            "2_broken.sql": (
                "create table public.half (id int);\n\n"
                "insert into public.half\n  values ('not a number');\n"
            ),
            "3_never.sql": "create table public.never (id int);\n",
        },
    )
    project = find_cli_project(tmp_path)
    assert project is not None
    url = pg_new_database()
    with pytest.raises(CliMigrationError) as failure:
        apply_cli_project(url, project)
    assert failure.value.sqlstate == "22P02"
    assert str(failure.value).startswith(
        "supabase/migrations/2_broken.sql:4: statement 2 failed, the file was rolled back:"
    )
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "select relname::text from pg_class where relname in ('kept', 'half', 'never')"
        ).fetchall()
        versions = conn.execute(
            "select version from supabase_migrations.schema_migrations"
        ).fetchall()
    assert tables == [("kept",)]
    assert versions == [("1",)]


def test_a_file_with_a_begin_atomic_function_applies_and_the_function_answers(
    tmp_path: Path, pg_new_database: Callable[..., str]
) -> None:
    _project(tmp_path, {"1_grade.sql": ATOMIC_FUNCTION + "select public.grade(70);\n"})
    project = find_cli_project(tmp_path)
    assert project is not None
    url = pg_new_database()
    apply_cli_project(url, project)
    with psycopg.connect(url) as conn:
        grades = conn.execute("select public.grade(70), public.grade(10)").fetchone()
    assert grades == ("pass", "fail")


def test_lint_takes_the_exposed_schemas_from_config_toml(
    tmp_path: Path,
    pg_new_database: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _project(tmp_path, {"1_api.sql": ""})
    (tmp_path / "supabase" / "config.toml").write_text('[api]\nschemas = ["public", "api"]\n')
    url = pg_new_database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema api")
        conn.execute("create table api.open_to_all (id int)")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        main(["lint", "--url", url])
    assert "api.open_to_all is exposed through the API without RLS" in capsys.readouterr().out
