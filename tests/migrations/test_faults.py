"""Rude failures in the middle of an upgrade leave a clean revision, and upgrading again works.

Each fault strikes while revision 0003 (chat realtime) is half done: it has created its
realtime policies and function and waits, behind a lock this test holds, to create its
trigger on public.chat_messages. Then the server is SIGKILLed, or the migrating backend is
terminated, or the alembic process is killed, or lock_timeout fires. Afterwards the database
must be exactly at 0002 (catalog equal to 0002's), and `alembic upgrade head` must complete.

These run on a private cluster (tests/migrations/crashable.py), never on the shared server:
one of them kills it, and one counts DDL with an event trigger (which needs a superuser).
"""

from __future__ import annotations

import re
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from pgpolicy.catalog import Catalog, diff
from pgpolicy.migrate import runner
from pgpolicy.migrate.runner import current_revisions
from pgpolicy.migrate.session import lock_sessions_sql, lock_sql, unlock_sql
from pgpolicy.provision import (
    PgVersion,
    create_database,
    server_bindir,
    unique_database_name,
)
from pgpolicy.supabase import install_compat
from tests.migrations.crashable import CrashableCluster, crashable_cluster
from tests.migrations.support import (
    ALEMBIC_INI,
    ROOT,
    alembic_command,
    alembic_env,
    catalog,
    error_lines,
    fetch_one,
    revisions,
    run_alembic,
)

REVISIONS = revisions()
PREVIOUS, BLOCKED, HEAD = REVISIONS[1], REVISIONS[2], REVISIONS[-1]
# 0003 creates its policies on realtime.messages, then a trigger on this table.
BLOCKING_TABLE = "public.chat_messages"
WAIT = 30.0
CONCURRENT_UPGRADES = 20

Conn = psycopg.Connection[tuple[Any, ...]]


@pytest.fixture(scope="module")
def cluster(pg_version: PgVersion) -> Iterator[CrashableCluster]:
    bindir = server_bindir(pg_version.major)
    if bindir is None:
        pytest.skip(f"no PostgreSQL {pg_version.major} server binaries for a private cluster")
    with crashable_cluster(bindir) as running:
        yield running


def _new_database(cluster: CrashableCluster) -> str:
    """A database with the compat layer, installed as the cluster's bootstrap superuser."""
    name = unique_database_name("pgpolicy_faults")
    create_database(cluster.server, name)
    install_compat(cluster.server.admin().url(name))
    return cluster.server.url(name)


@pytest.fixture(scope="module")
def catalogs(cluster: CrashableCluster) -> dict[str, Catalog]:
    """Each revision's catalog on this cluster, from a database upgraded one step at a time."""
    url = _new_database(cluster)
    found = {}
    for revision in REVISIONS:
        runner.upgrade(ALEMBIC_INI, url, revision)
        found[revision] = catalog(url)
    return found


def _as_superuser(cluster: CrashableCluster, url: str) -> str:
    return cluster.server.admin().url(url.rsplit("/", 1)[1])


def _start_upgrade(url: str, *x: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        alembic_command("upgrade", "head", url=url, x=x),
        cwd=ROOT,
        env=alembic_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _holding_lock(url: str) -> Conn:
    """A connection whose open transaction holds an ACCESS EXCLUSIVE lock on the table."""
    holder = psycopg.connect(url)
    holder.execute(f"lock table {BLOCKING_TABLE} in access exclusive mode")
    return holder


def _blocked_migrator(admin: Conn, url: str) -> int:
    """The pid of the migrating backend once it waits for BLOCKING_TABLE, mid-revision."""
    deadline = time.monotonic() + WAIT
    while True:
        pid = fetch_one(
            admin,
            "select a.pid from pg_stat_activity a"
            " join pg_locks l on l.pid = a.pid and not l.granted"
            f" where a.datname = current_database() and l.relation = '{BLOCKING_TABLE}'::regclass",
        )
        if pid is not None:
            break
        assert time.monotonic() < deadline, "the upgrade never reached the blocked statement"
        time.sleep(0.05)
    # Half done: it holds the lock its realtime policies took, uncommitted.
    held = fetch_one(
        admin,
        "select count(*) from pg_locks"
        f" where pid = {pid} and granted and relation = 'realtime.messages'::regclass",
    )
    assert held > 0, "the blocked revision had not created its policies yet"
    assert current_revisions(url) == [PREVIOUS]
    return int(pid)


def _backend_exists(admin: Conn, pid: int) -> bool:
    return bool(fetch_one(admin, f"select count(*) from pg_stat_activity where pid = {pid}"))


def _migration_lock_held(admin: Conn) -> bool:
    return bool(fetch_one(admin, lock_sessions_sql(granted=True)))


def _assert_clean_at(url: str, revision: str, catalogs: dict[str, Catalog]) -> None:
    __tracebackhide__ = True
    assert current_revisions(url) == [revision]
    assert diff(catalogs[revision], catalog(url)) == [], f"not the catalog of {revision}"


def _assert_upgrades_again(url: str, catalogs: dict[str, Catalog]) -> None:
    __tracebackhide__ = True
    again = run_alembic("upgrade", "head", url=url)
    assert again.returncode == 0, again.stderr
    _assert_clean_at(url, HEAD, catalogs)


def _prepared(cluster: CrashableCluster) -> str:
    url = _new_database(cluster)
    runner.upgrade(ALEMBIC_INI, url, PREVIOUS)
    return url


def test_server_killed_mid_revision_recovers_at_the_previous_revision(
    cluster: CrashableCluster, catalogs: dict[str, Catalog]
) -> None:
    url = _prepared(cluster)
    holder = _holding_lock(url)
    # lock_timeout=0: nothing but the kill ends the wait.
    upgrade = _start_upgrade(url, "lock_timeout=0")
    with psycopg.connect(url, autocommit=True) as admin:
        _blocked_migrator(admin, url)
        cluster.kill()
    _stdout, stderr = upgrade.communicate(timeout=WAIT)
    holder.close()

    assert upgrade.returncode != 0
    assert f"revision {BLOCKED} (chat realtime) failed" in "\n".join(error_lines(stderr)), stderr
    log_before = cluster.layout.log_file.stat().st_size
    cluster.restart()
    restart_log = cluster.layout.log_file.read_text(errors="replace")[log_before:]
    assert "automatic recovery in progress" in restart_log, "the server did not crash"
    _assert_clean_at(url, PREVIOUS, catalogs)
    _assert_upgrades_again(url, catalogs)


def test_migrating_backend_terminated_mid_revision_leaves_the_previous_revision(
    cluster: CrashableCluster, catalogs: dict[str, Catalog]
) -> None:
    url = _prepared(cluster)
    holder = _holding_lock(url)
    upgrade = _start_upgrade(url, "lock_timeout=0")
    with psycopg.connect(url, autocommit=True) as admin:
        pid = _blocked_migrator(admin, url)
        assert fetch_one(admin, f"select pg_terminate_backend({pid})") is True
        _stdout, stderr = upgrade.communicate(timeout=WAIT)
        assert not _migration_lock_held(admin)
    holder.rollback()
    holder.close()

    assert upgrade.returncode != 0
    message = "\n".join(error_lines(stderr))
    assert f"revision {BLOCKED} (chat realtime) failed: 57P01 " in message, stderr
    _assert_clean_at(url, PREVIOUS, catalogs)
    _assert_upgrades_again(url, catalogs)


def test_killed_alembic_process_leaves_no_backend_holding_locks(
    cluster: CrashableCluster, catalogs: dict[str, Catalog]
) -> None:
    # No timeout at all: only noticing the lost client ends the orphaned backend's wait,
    # which otherwise keeps the migration lock and its half-made revision's locks forever.
    url = _prepared(cluster)
    holder = _holding_lock(url)
    upgrade = _start_upgrade(url, "lock_timeout=0", "statement_timeout=0")
    with psycopg.connect(url, autocommit=True) as admin:
        pid = _blocked_migrator(admin, url)
        upgrade.kill()
        upgrade.communicate(timeout=WAIT)
        deadline = time.monotonic() + 10
        while _backend_exists(admin, pid):
            assert time.monotonic() < deadline, "the orphaned migrating backend is still there"
            time.sleep(0.1)
        assert not _migration_lock_held(admin)
    holder.rollback()
    holder.close()
    _assert_clean_at(url, PREVIOUS, catalogs)
    _assert_upgrades_again(url, catalogs)


def test_lock_timeout_mid_revision_leaves_the_previous_revision(
    cluster: CrashableCluster, catalogs: dict[str, Catalog]
) -> None:
    url = _prepared(cluster)
    holder = _holding_lock(url)
    result = run_alembic("upgrade", "head", url=url, x=["lock_timeout=300ms"], timeout=WAIT)
    holder.rollback()
    holder.close()

    assert result.returncode != 0
    message = "\n".join(error_lines(result.stderr))
    assert f"revision {BLOCKED} (chat realtime) failed: 55P03 " in message, result.stderr
    _assert_clean_at(url, PREVIOUS, catalogs)
    _assert_upgrades_again(url, catalogs)


# Every DDL command, with the transaction that ran it. An event trigger needs a superuser:
# created as the cluster's bootstrap superuser; the migrating role may write the log.
_RECORD_DDL = """
create schema faultlog;
grant usage on schema faultlog to public;
create table faultlog.ddl (
  xid xid8 not null default pg_catalog.pg_current_xact_id(),
  command_tag text not null,
  object_identity text
);
create function faultlog.record_ddl() returns event_trigger language plpgsql as $$
begin
  insert into faultlog.ddl (command_tag, object_identity)
  select c.command_tag, c.object_identity from pg_catalog.pg_event_trigger_ddl_commands() c;
end;
$$;
grant select, insert on faultlog.ddl to public;
create event trigger faultlog_record_ddl on ddl_command_end
  execute function faultlog.record_ddl();
"""

# The DDL of the transactions that changed an object besides Alembic's own table, which
# every run hardens afterwards (a REVOKE, whose object_identity is NULL, and an ALTER TABLE).
_MIGRATION_DDL = """
with migration as (
  select distinct xid from faultlog.ddl
  where object_identity is not null and object_identity <> 'public.alembic_version'
)
select d.xid::text, d.command_tag, coalesce(d.object_identity, '') from faultlog.ddl d
where d.xid in (select xid from migration)
"""


def _recording_ddl(cluster: CrashableCluster) -> str:
    url = _new_database(cluster)
    with psycopg.connect(_as_superuser(cluster, url), autocommit=True) as superuser:
        superuser.execute(_RECORD_DDL)
    return url


def _migration_ddl(cluster: CrashableCluster, url: str) -> tuple[int, Counter[tuple[str, str]]]:
    """(how many transactions ran revisions, how often each DDL command ran), then the
    event trigger is dropped so that the catalog compares as usual."""
    with psycopg.connect(_as_superuser(cluster, url), autocommit=True) as superuser:
        rows = superuser.execute(_MIGRATION_DDL).fetchall()
        superuser.execute("drop event trigger faultlog_record_ddl")
    return len({xid for xid, _tag, _name in rows}), Counter((t, n) for _x, t, n in rows)


_WAITERS = lock_sessions_sql(granted=False)


def test_twenty_simultaneous_upgrades_all_succeed_and_apply_each_revision_once(
    cluster: CrashableCluster, catalogs: dict[str, Catalog]
) -> None:
    # What one upgrade alone runs: the DDL the twenty together must run, no more.
    alone = _recording_ddl(cluster)
    assert run_alembic("upgrade", "head", url=alone).returncode == 0
    transactions_alone, ddl_alone = _migration_ddl(cluster, alone)
    assert transactions_alone == len(REVISIONS)

    url = _recording_ddl(cluster)
    with psycopg.connect(url, autocommit=True) as admin:
        # Hold the migration lock until all have queued, so that they really race for it.
        admin.execute(lock_sql())
        upgrades = [_start_upgrade(url) for _ in range(CONCURRENT_UPGRADES)]
        try:
            # Twenty Python interpreters starting on a busy CI machine: minutes, not seconds.
            deadline = time.monotonic() + 180
            while fetch_one(admin, _WAITERS) < CONCURRENT_UPGRADES:
                assert time.monotonic() < deadline, "not every upgrade reached the lock"
                time.sleep(0.1)
        finally:
            admin.execute(unlock_sql())
        outputs = [upgrade.communicate(timeout=120) for upgrade in upgrades]

    assert [upgrade.returncode for upgrade in upgrades] == [0] * CONCURRENT_UPGRADES, [
        stderr for _stdout, stderr in outputs if stderr
    ]
    applied = Counter(
        match.group(1)
        for _stdout, stderr in outputs
        for match in re.finditer(r"Running upgrade \S* -> (\S+),", stderr)
    )
    assert applied == Counter(REVISIONS), "each revision must run exactly once"
    # The database's own record: one transaction per revision, each DDL command as often as
    # one upgrade alone runs it.
    transactions, ddl = _migration_ddl(cluster, url)
    assert transactions == len(REVISIONS)
    assert ddl == ddl_alone, ddl - ddl_alone
    _assert_clean_at(url, HEAD, catalogs)
