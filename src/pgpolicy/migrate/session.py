"""The migrating session: one migrator at a time, and never an unbounded wait on a lock.

The advisory lock is taken with no timeout (a second CI job waits for the first instead of
failing), and only then are ``lock_timeout``/``statement_timeout`` set, so a migration that
queues behind production traffic gives up instead of blocking it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

from pgpolicy.migrate.settings import MIGRATION_LOCK_KEY, MigrationSettings

__all__ = ["lock_sql", "migration_lock", "timeout_sql", "unlock_sql"]


def timeout_sql(settings: MigrationSettings) -> list[str]:
    """Session settings for the migration statements (values validated by settings)."""
    return [
        f"set lock_timeout = '{settings.lock_timeout}'",
        f"set statement_timeout = '{settings.statement_timeout}'",
    ]


def lock_sql() -> str:
    return f"select pg_advisory_lock({MIGRATION_LOCK_KEY})"


def unlock_sql() -> str:
    return f"select pg_advisory_unlock({MIGRATION_LOCK_KEY})"


@contextmanager
def migration_lock(connection: Connection, settings: MigrationSettings) -> Iterator[None]:
    """Hold the migration advisory lock (waiting as long as it takes), timeouts set inside."""
    with connection.begin():
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
