"""The migrating session: one migrator at a time, and never an unbounded wait on a lock.

The advisory lock is taken with no timeout (a second CI job waits for the first instead of
failing), and only then are ``lock_timeout``/``statement_timeout`` set, so a migration that
queues behind production traffic gives up instead of blocking it.

The session also checks that its client is still there while it waits or works
(``client_connection_check_interval``): a migrator killed mid-revision (a cancelled CI job)
would otherwise leave a backend that keeps the migration lock and the locks of its
half-made revision until a timeout fires, or forever when the timeouts are off.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

from pgpolicy.migrate.settings import MIGRATION_LOCK_KEY, MigrationSettings

__all__ = [
    "client_check_sql",
    "lock_sessions_sql",
    "lock_sql",
    "migration_lock",
    "timeout_sql",
    "unlock_sql",
]

CLIENT_CHECK_INTERVAL = "1s"


def timeout_sql(settings: MigrationSettings) -> list[str]:
    """Session settings for the migration statements (values validated by settings)."""
    return [
        f"set lock_timeout = '{settings.lock_timeout}'",
        f"set statement_timeout = '{settings.statement_timeout}'",
    ]


def client_check_sql() -> str:
    """Notice a vanished client within CLIENT_CHECK_INTERVAL (a no-op before PostgreSQL 14)."""
    return (
        "select pg_catalog.set_config("
        f"'client_connection_check_interval', '{CLIENT_CHECK_INTERVAL}', false)"
        " where pg_catalog.current_setting('server_version_num')::integer >= 140000"
    )


def lock_sql() -> str:
    return f"select pg_advisory_lock({MIGRATION_LOCK_KEY})"


def unlock_sql() -> str:
    return f"select pg_advisory_unlock({MIGRATION_LOCK_KEY})"


def lock_sessions_sql(*, granted: bool) -> str:
    """How many sessions of the current database hold (``granted``) or wait for the
    migration lock. pg_locks shows a bigint advisory key as its high and low 32 bits
    (classid, objid) with objsubid 1."""
    return (
        "select count(*) from pg_catalog.pg_locks"
        f" where locktype = 'advisory' and {'' if granted else 'not '}granted"
        " and database = (select oid from pg_catalog.pg_database"
        " where datname = pg_catalog.current_database())"
        f" and classid = {MIGRATION_LOCK_KEY >> 32}"
        f" and objid = {MIGRATION_LOCK_KEY & 0xFFFFFFFF} and objsubid = 1"
    )


@contextmanager
def migration_lock(connection: Connection, settings: MigrationSettings) -> Iterator[None]:
    """Hold the migration advisory lock (waiting as long as it takes), timeouts set inside."""
    with connection.begin():
        connection.exec_driver_sql(client_check_sql())
        # Local to this transaction: the wait for the lock itself is not bounded.
        connection.exec_driver_sql("set local lock_timeout = 0")
        connection.exec_driver_sql("set local statement_timeout = 0")
        connection.exec_driver_sql(lock_sql())
    try:
        with connection.begin():
            for statement in timeout_sql(settings):
                connection.exec_driver_sql(statement)
        yield
    finally:
        # A lost connection has released the lock already; do not mask the error with another.
        if not connection.invalidated:
            if connection.in_transaction():
                connection.rollback()
            with connection.begin():
                connection.exec_driver_sql(unlock_sql())
