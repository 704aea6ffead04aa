"""The migrations go down to nothing and back up to head, as a DBA would run them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pgpolicy.migrate.failures import MigrationFailed
from pgpolicy.migrate.runner import current_revisions, downgrade, upgrade
from pgpolicy.migrate.session import lock_sessions_sql, lock_sql, unlock_sql
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
        with pytest.raises(MigrationFailed) as failure:
            upgrade(ALEMBIC_INI, db.url, "head")
    # One sentence naming the revision and statement, not a driver traceback.
    assert failure.value.sqlstate == "55P03"  # lock_not_available
    assert failure.value.revision == "0001"
    assert _existing(db) == []
    assert current_revisions(db.url) == []
    upgrade(ALEMBIC_INI, db.url, "head")
    assert current_revisions(db.url) == ["0001"]


def _waiting_for_the_migration_lock(db: Database) -> int:
    return int(db.scalar(lock_sessions_sql(granted=False)))


@pytest.mark.commit
def test_simultaneous_upgrades_wait_for_each_other_and_all_succeed(db: Database) -> None:
    # Two CI jobs deploying at once: each waits for the migration lock instead of racing the
    # other's DDL. The test holds the lock until all four upgrades queue behind it.
    downgrade(ALEMBIC_INI, db.url, "base")
    holder = db.connect()
    holder.execute(lock_sql())
    environment = {**os.environ, "DATABASE_URL": db.url}
    upgrades = [
        subprocess.Popen(
            [sys.executable, "-m", "alembic", "-c", str(ALEMBIC_INI), "upgrade", "head"],
            cwd=ALEMBIC_INI.parent,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        deadline = time.monotonic() + 60
        while _waiting_for_the_migration_lock(db) < len(upgrades):
            assert time.monotonic() < deadline, "the upgrades never queued for the lock"
            assert all(u.poll() is None for u in upgrades), "an upgrade ended without waiting"
            time.sleep(0.05)
        assert _existing(db) == []
    finally:
        holder.execute(unlock_sql())
    outcomes = [upgrade.communicate(timeout=120) for upgrade in upgrades]
    assert [u.returncode for u in upgrades] == [0, 0, 0, 0], [err for _out, err in outcomes]
    assert current_revisions(db.url) == ["0001"]
    assert _existing(db) == list(TABLES)


def test_the_api_roles_cannot_touch_the_version_table(db: Database) -> None:
    for role in ("anon", "authenticated", "service_role"):
        assert not db.scalar(
            "select has_table_privilege(%s, 'public.alembic_version', 'select, update')", (role,)
        )
