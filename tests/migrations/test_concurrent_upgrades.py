"""Two `alembic upgrade head` started at once: one waits, both succeed, nothing runs twice."""

from __future__ import annotations

import subprocess
import time

import psycopg

from pgpolicy.catalog import Catalog, diff
from pgpolicy.migrate.runner import current_revisions
from pgpolicy.migrate.session import lock_sessions_sql, lock_sql, unlock_sql
from tests.migrations.conftest import MakeDatabase
from tests.migrations.support import (
    ROOT,
    alembic_command,
    alembic_env,
    catalog,
    fetch_one,
    revisions,
)

_WAITERS = lock_sessions_sql(granted=False)


def _wait_for_waiters(conn: psycopg.Connection[tuple[object, ...]], count: int) -> None:
    deadline = time.monotonic() + 20
    while fetch_one(conn, _WAITERS) < count:
        assert time.monotonic() < deadline, f"fewer than {count} upgrades wait for the lock"
        time.sleep(0.05)


def test_simultaneous_upgrades_take_turns_and_apply_each_revision_once(
    make_database: MakeDatabase, head_catalog: Catalog
) -> None:
    url = make_database()
    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute(lock_sql())
        # A short lock_timeout: waiting for the migration lock must not be bounded by it.
        env = alembic_env({"PGPOLICY_LOCK_TIMEOUT": "200ms"})
        upgrades = [
            subprocess.Popen(
                alembic_command("upgrade", "head", url=url),
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        try:
            _wait_for_waiters(holder, 2)
            time.sleep(0.5)  # longer than lock_timeout: both still wait
            assert fetch_one(holder, _WAITERS) == 2
            assert [upgrade.poll() for upgrade in upgrades] == [None, None]
            assert current_revisions(url) == []
        finally:
            holder.execute(unlock_sql())
        outputs = [upgrade.communicate(timeout=60) for upgrade in upgrades]

    assert [upgrade.returncode for upgrade in upgrades] == [0, 0], outputs
    applied = [stderr.count("Running upgrade") for _stdout, stderr in outputs]
    # One ran every revision; the other found head already applied and ran none.
    assert sorted(applied) == [0, len(revisions())], outputs
    assert current_revisions(url) == [revisions()[-1]]
    assert diff(head_catalog, catalog(url)) == []
