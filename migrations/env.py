"""Alembic environment: URL from the environment, safety settings, Supabase prerequisites."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool, text

from pgpolicy.migrate.settings import (
    MIGRATION_LOCK_KEY,
    MigrationSettings,
    prerequisite_error,
    sqlalchemy_url,
)

config = context.config
if config.config_file_name and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
settings = MigrationSettings.from_environment(context.get_x_argument(as_dictionary=True))


def _session_settings_sql() -> list[str]:
    return [
        f"set lock_timeout = '{settings.lock_timeout}'",
        f"set statement_timeout = '{settings.statement_timeout}'",
    ]


def run_migrations_offline() -> None:
    """Write the SQL a DBA reviews and applies with `psql -v ON_ERROR_STOP=1`."""
    context.configure(
        url=sqlalchemy_url(settings.url) if settings.url else "postgresql+psycopg://",
        dialect_name="postgresql",
        literal_binds=True,
        transaction_per_migration=True,
        dialect_opts={"paramstyle": "named"},
    )
    for statement in _session_settings_sql():
        context.execute(statement)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Apply migrations, one transaction per revision, under a session advisory lock."""
    if not settings.url:
        raise SystemExit(
            "no database URL: pass `alembic -x url=postgresql://...` or set DATABASE_URL"
        )
    engine = create_engine(sqlalchemy_url(settings.url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        for statement in _session_settings_sql():
            connection.exec_driver_sql(statement)
        # A second upgrade started at the same time waits here, then finds nothing to do.
        connection.execute(text("select pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()
        try:
            problem = prerequisite_error(connection, settings.url)
            if problem:
                raise SystemExit(problem)
            context.configure(connection=connection, transaction_per_migration=True)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            connection.rollback()
            connection.execute(
                text("select pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
