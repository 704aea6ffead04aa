"""The Alembic environment every pgpolicy project runs (its migrations/env.py calls it).

Online: one migrator at a time (session advisory lock), lock_timeout/statement_timeout,
a one-sentence refusal when Supabase's objects are missing, one transaction per revision,
transaction control inside a revision refused, a failure that names the revision and
statement, and `alembic check` comparing the declared files. Offline (``--sql``): the same
lock and timeouts, written out for ``psql -v ON_ERROR_STOP=1``.
"""

from __future__ import annotations

from logging.config import fileConfig
from pathlib import Path

from alembic import context
from sqlalchemy import MetaData, create_engine, pool

from pgpolicy.migrate.autogen import include_no_tables, refuse_autogenerate
from pgpolicy.migrate.failures import StepTracker
from pgpolicy.migrate.session import (
    client_check_sql,
    lock_sql,
    migration_lock,
    timeout_sql,
    unlock_sql,
)
from pgpolicy.migrate.settings import MigrationSettings, prerequisite_error, sqlalchemy_url
from pgpolicy.migrate.transaction_control import refuse_transaction_control

# Importing it also gives Alembic's version table a text column (see the module).
from pgpolicy.migrate.version_table import version_table_hardening_sql
from pgpolicy.supabase.detect import prerequisites_check_sql


def run_environment() -> None:
    """Run the migrations Alembic asked for, online or offline (``--sql``)."""
    config = context.config
    if config.config_file_name and config.attributes.get("configure_logger", True):
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    settings = MigrationSettings.from_environment(context.get_x_argument(as_dictionary=True))
    # policies/ and rpc/ sit beside alembic.ini.
    root = Path(config.config_file_name).resolve().parent if config.config_file_name else Path()
    if context.is_offline_mode():
        run_migrations_offline(settings)
    else:
        run_migrations_online(settings, root)


def run_migrations_offline(settings: MigrationSettings) -> None:
    """Write the SQL a DBA reviews and applies with `psql -v ON_ERROR_STOP=1`."""
    context.configure(
        url=sqlalchemy_url(settings.url) if settings.url else "postgresql+psycopg://",
        dialect_name="postgresql",
        literal_binds=True,
        transaction_per_migration=True,
        dialect_opts={"paramstyle": "named"},
    )
    # Lock first (no timeout is set yet, so it waits), then bound every migration statement.
    context.execute(client_check_sql())
    context.execute(lock_sql())
    context.execute(prerequisites_check_sql())
    for statement in timeout_sql(settings):
        context.execute(statement)
    with context.begin_transaction():
        context.run_migrations()
    for statement in version_table_hardening_sql():
        context.execute(statement)
    context.execute(unlock_sql())


def run_migrations_online(settings: MigrationSettings, project_root: Path) -> None:
    """Apply migrations, one transaction per revision, under a session advisory lock."""
    if not settings.url:
        raise SystemExit(
            "no database URL: pass `alembic -x url=postgresql://...` or set DATABASE_URL"
        )
    engine = create_engine(sqlalchemy_url(settings.url), poolclass=pool.NullPool)
    with engine.connect() as connection, migration_lock(connection, settings):
        # Under the lock: an upgrade started at the same time as another waited above, and
        # reads the current revision (in run_migrations) only once the other one is done.
        with connection.begin():
            problem = prerequisite_error(connection)
        if problem:
            raise SystemExit(problem)
        context.configure(
            connection=connection,
            transaction_per_migration=True,
            # `alembic check`: tables are not modelled; the declared state is compared instead.
            target_metadata=MetaData(),
            include_object=include_no_tables,
            process_revision_directives=refuse_autogenerate,
            pgpolicy_declared_root=str(project_root),
        )
        tracker = StepTracker.attach(context.get_context())
        refuse_transaction_control(connection)
        try:
            with context.begin_transaction():
                context.run_migrations()
        except Exception as error:
            failure = tracker.failure(error)
            if failure is None:
                raise
            raise failure from error
        if connection.in_transaction():
            connection.commit()
        if connection.dialect.has_table(connection, "alembic_version", schema="public"):
            for statement in version_table_hardening_sql():
                connection.exec_driver_sql(statement)
            connection.commit()
