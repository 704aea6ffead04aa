"""On plain PostgreSQL without the compat layer, `alembic upgrade` refuses and touches nothing."""

from __future__ import annotations

from pathlib import Path

import psycopg

from pgpolicy.catalog import diff
from pgpolicy.migrate.runner import current_revisions
from tests.migrations.conftest import MakeDatabase
from tests.migrations.support import (
    catalog,
    error_lines,
    offline_sql,
    run_alembic,
    run_psql,
)


def test_upgrade_without_supabase_objects_names_compat_install_and_creates_nothing(
    make_database: MakeDatabase,
) -> None:
    url = make_database(compat=False)
    before = catalog(url)

    result = run_alembic("upgrade", "head", url=url)

    assert result.returncode != 0
    message = error_lines(result.stderr)
    assert len(message) == 1, result.stderr  # one sentence, no traceback
    assert "`pgpolicy compat install --url <url>`" in message[0]
    assert message[0].endswith("first.")
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("select to_regclass('public.alembic_version')").fetchone() == (None,)
    assert current_revisions(url) == []
    assert diff(before, catalog(url)) == []


def test_offline_sql_on_plain_postgres_stops_before_changing_anything(
    make_database: MakeDatabase, tmp_path: Path
) -> None:
    url = make_database(compat=False)
    before = catalog(url)
    script = offline_sql("upgrade", "head", path=tmp_path / "upgrade.sql")

    result = run_psql(url, script)

    assert result.returncode != 0
    assert "`pgpolicy compat install --url <url>`" in result.stderr
    assert current_revisions(url) == []
    assert diff(before, catalog(url)) == []
