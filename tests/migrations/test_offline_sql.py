"""`alembic upgrade --sql` is complete: applied with psql it builds the same schema."""

from __future__ import annotations

from pathlib import Path

from pgpolicy.catalog import Catalog, diff
from pgpolicy.migrate import runner
from pgpolicy.migrate.runner import current_revisions
from tests.migrations.conftest import MakeDatabase
from tests.migrations.support import (
    ALEMBIC_INI,
    apply_with_psql,
    catalog,
    offline_sql,
    revisions,
)

REVISIONS = revisions()
HEAD = REVISIONS[-1]


def test_offline_upgrade_sql_builds_the_online_schema(
    make_database: MakeDatabase, head_catalog: Catalog, tmp_path: Path
) -> None:
    url = make_database()
    apply_with_psql(url, offline_sql("upgrade", "head", path=tmp_path / "upgrade.sql"))
    assert current_revisions(url) == [HEAD]
    assert diff(head_catalog, catalog(url)) == []


def test_offline_range_applies_on_top_of_an_online_upgrade(
    make_database: MakeDatabase, head_catalog: Catalog, tmp_path: Path
) -> None:
    start = REVISIONS[1]
    url = make_database()
    runner.upgrade(ALEMBIC_INI, url, start)
    apply_with_psql(url, offline_sql("upgrade", f"{start}:head", path=tmp_path / "range.sql"))
    assert current_revisions(url) == [HEAD]
    assert diff(head_catalog, catalog(url)) == []


def test_offline_downgrade_sql_leaves_no_trace(
    make_database: MakeDatabase, compat_catalog: Catalog, tmp_path: Path
) -> None:
    url = make_database()
    runner.upgrade(ALEMBIC_INI, url, "head")
    apply_with_psql(url, offline_sql("downgrade", "head:base", path=tmp_path / "down.sql"))
    assert current_revisions(url) == []
    assert diff(compat_catalog, catalog(url)) == []
