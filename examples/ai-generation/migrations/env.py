"""Alembic environment of this example: URL from ``-x url=`` or DATABASE_URL.

One transaction per revision; the engine opens one connection and closes it (NullPool).
Online and in the offline SQL (``--sql``), ``lock_timeout`` and ``statement_timeout`` bound
every migration statement, as in the toolkit's own migrations (same defaults, same
``-x lock_timeout=`` / ``PGPOLICY_LOCK_TIMEOUT`` overrides): a revision that queues behind the
app's traffic gives up instead of blocking it.
Afterwards the API roles are kept away from alembic_version: Supabase's default privileges
grant them ALL on every new table in public, so anon could otherwise rewrite the revision.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

from pgpolicy.migrate.session import timeout_sql
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
    # Session settings, written before the first BEGIN: they bound every revision after them.
    for statement in timeout_sql(settings):
        context.execute(statement)
    with context.begin_transaction():
        context.run_migrations()
    for statement in version_table_hardening_sql():
        context.execute(statement)
else:
    if not url:
        raise SystemExit(
            "no database URL: pass `alembic -x url=postgresql://...` or set DATABASE_URL"
        )
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        # Session settings (not `set local`): committed here, they bound every revision's
        # transaction on this connection.
        with connection.begin():
            for statement in timeout_sql(settings):
                connection.exec_driver_sql(statement)
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
        for statement in version_table_hardening_sql():
            connection.exec_driver_sql(statement)
        connection.commit()
