"""Alembic environment of this example: URL from ``-x url=`` or DATABASE_URL.

One transaction per revision; the engine opens one connection and closes it (NullPool).
Online and in the offline SQL (``--sql``), as in the toolkit's own migrations: one migrator
at a time (the toolkit's session advisory lock: a second CI job waits for the first), and
``lock_timeout``/``statement_timeout`` on every migration statement (same defaults, same
``-x lock_timeout=`` / ``PGPOLICY_LOCK_TIMEOUT`` overrides), so a revision that queues behind
the app's traffic gives up instead of blocking it.
Afterwards the API roles are kept away from alembic_version: Supabase's default privileges
grant them ALL on every new table in public, so anon could otherwise rewrite the revision.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

from pgpolicy.migrate.session import (
    client_check_sql,
    lock_sql,
    migration_lock,
    timeout_sql,
    unlock_sql,
)
from pgpolicy.migrate.settings import MigrationSettings, sqlalchemy_url
from pgpolicy.migrate.version_table import version_table_hardening_sql

config = context.config
if config.config_file_name and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

# The same `-x` / environment resolution (URL, timeouts) as the toolkit's own migrations.
settings = MigrationSettings.from_environment(context.get_x_argument(as_dictionary=True))
url = sqlalchemy_url(settings.url) if settings.url else ""

if context.is_offline_mode():
    context.configure(
        url=url or "postgresql+psycopg://",
        literal_binds=True,
        transaction_per_migration=True,
        dialect_opts={"paramstyle": "named"},
    )
    # Session settings, written before the first BEGIN: lock first (no timeout is set yet, so
    # it waits), then bound every revision after them.
    context.execute(client_check_sql())
    context.execute(lock_sql())
    for statement in timeout_sql(settings):
        context.execute(statement)
    with context.begin_transaction():
        context.run_migrations()
    for statement in version_table_hardening_sql():
        context.execute(statement)
    context.execute(unlock_sql())
else:
    if not url:
        raise SystemExit(
            "no database URL: pass `alembic -x url=postgresql://...` or set DATABASE_URL"
        )
    engine = create_engine(url, poolclass=pool.NullPool)
    # The lock is waited for without a timeout; the timeouts are set once it is held.
    with engine.connect() as connection, migration_lock(connection, settings):
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
        for statement in version_table_hardening_sql():
            connection.exec_driver_sql(statement)
        connection.commit()
