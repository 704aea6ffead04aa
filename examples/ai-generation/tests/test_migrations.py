"""The migrations go down to nothing and back up to head, as a DBA would run them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from pgpolicy.migrate.runner import current_revisions, downgrade, upgrade
from pgpolicy.testing.harness import Database

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"
TABLES = ("public.generations", "public.generation_ai_logs", "public.generation_proposals")


def _existing(db: Database) -> list[str]:
    return [table for table in TABLES if db.scalar("select to_regclass(%s)", (table,))]


@pytest.mark.commit
def test_downgrade_to_base_leaves_no_table_and_upgrade_restores_head(db: Database) -> None:
    assert _existing(db) == list(TABLES)
    downgrade(ALEMBIC_INI, db.url, "base")
    assert _existing(db) == []
    assert current_revisions(db.url) == []
    upgrade(ALEMBIC_INI, db.url, "head")
    assert _existing(db) == list(TABLES)
    assert current_revisions(db.url) == ["0001"]


@pytest.mark.commit
def test_upgrade_queued_behind_a_lock_gives_up_and_changes_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Revision 0001's foreign keys lock auth.users: the app's traffic holding it must not
    # make the migration wait (and every request queue behind the migration) indefinitely.
    downgrade(ALEMBIC_INI, db.url, "base")
    monkeypatch.setenv("PGPOLICY_LOCK_TIMEOUT", "200ms")
    blocker = db.connect()
    with blocker.transaction():
        blocker.execute("lock table auth.users in access exclusive mode")
        with pytest.raises(OperationalError) as failure:
            upgrade(ALEMBIC_INI, db.url, "head")
    assert getattr(failure.value.orig, "sqlstate", None) == "55P03"  # lock_not_available
    assert _existing(db) == []
    assert current_revisions(db.url) == []
    upgrade(ALEMBIC_INI, db.url, "head")
    assert current_revisions(db.url) == ["0001"]


def test_the_api_roles_cannot_touch_the_version_table(db: Database) -> None:
    for role in ("anon", "authenticated", "service_role"):
        assert not db.scalar(
            "select has_table_privilege(%s, 'public.alembic_version', 'select, update')", (role,)
        )
