"""`pgpolicy import`: an Alembic baseline that builds what the CLI builds, and never more."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgpolicy.cli import main
from pgpolicy.migrate.runner import downgrade, upgrade
from pgpolicy.supabase_cli.apply import apply_cli_project
from pgpolicy.supabase_cli.project import find_cli_project

EXAMPLE = Path(__file__).parents[2] / "examples" / "supabase-cli-app"

_OBJECTS = """
select 'column', c.table_name || '.' || c.column_name || ' ' || c.data_type
       || ' ' || coalesce(c.column_default, '') || ' ' || c.is_nullable
from information_schema.columns c
where c.table_schema = 'public' and c.table_name <> 'alembic_version'
union all
select 'policy', tablename || '.' || policyname || ' ' || cmd || ' ' || roles::text || ' '
       || coalesce(qual, '') || ' ' || coalesce(with_check, '')
from pg_policies where schemaname = 'public'
union all
select 'rls', relname || ' ' || relrowsecurity from pg_class
where relnamespace = 'public'::regnamespace and relkind = 'r' and relname <> 'alembic_version'
union all
select 'function', p.oid::regprocedure::text || ' ' || p.prosrc || ' '
       || coalesce(p.proconfig::text, '') || ' ' || coalesce(p.proacl::text, '')
from pg_proc p where p.pronamespace = 'public'::regnamespace
union all
select 'constraint', conrelid::regclass::text || ' ' || pg_get_constraintdef(oid)
from pg_constraint
where connamespace = 'public'::regnamespace and conrelid::regclass::text <> 'alembic_version'
order by 1, 2
"""


def _objects(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(_OBJECTS).fetchall()


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return root


def test_the_baseline_builds_the_same_objects_as_the_cli_migrations(
    app: Path, pg_new_database: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    main(["import", "--root", str(app)])
    assert "wrote" in capsys.readouterr().out
    project = find_cli_project(app)
    assert project is not None
    by_cli, by_alembic = pg_new_database(), pg_new_database()
    apply_cli_project(by_cli, project, seed=False)
    upgrade(app / "alembic.ini", by_alembic, "head")
    objects = _objects(by_alembic)
    assert any(kind == "policy" for kind, _ in objects)
    assert objects == _objects(by_cli)


def test_the_baseline_downgrade_refuses_with_a_sentence_and_removes_nothing(
    app: Path, pg_new_database: Callable[..., str]
) -> None:
    main(["import", "--root", str(app)])
    url = pg_new_database()
    upgrade(app / "alembic.ini", url, "head")
    before = _objects(url)
    with pytest.raises(RuntimeError, match="cannot be downgraded: it created the whole schema"):
        downgrade(app / "alembic.ini", url, "base")
    assert _objects(url) == before


def test_import_never_overwrites_an_alembic_ini(
    app: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (app / "alembic.ini").write_text("[alembic]\nscript_location = mine\n")
    with pytest.raises(SystemExit):
        main(["import", "--root", str(app)])
    assert "exists already: pgpolicy import never overwrites" in capsys.readouterr().err
    assert (app / "alembic.ini").read_text() == "[alembic]\nscript_location = mine\n"
    assert not (app / "migrations").exists()


def test_import_refuses_a_file_with_its_own_transaction_control_naming_the_line(
    app: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (app / "supabase" / "migrations" / "20240105000000_txn.sql").write_text(
        "create table public.t (id int);\n\ncommit;\n"
    )
    with pytest.raises(SystemExit):
        main(["import", "--root", str(app)])
    err = capsys.readouterr().err
    assert "supabase/migrations/20240105000000_txn.sql:3: 'commit' controls the transaction" in err
    assert not (app / "alembic.ini").exists()
