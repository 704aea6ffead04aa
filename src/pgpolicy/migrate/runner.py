"""Run Alembic from Python against an explicit URL (tests, CLI), never via os.environ."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, event, pool

from pgpolicy.migrate.settings import sqlalchemy_url


def alembic_config(ini_path: Path, url: str, **x_args: str) -> Config:
    """An Alembic config for ``ini_path`` whose env.py sees ``-x url=<url>``."""
    config = Config(str(ini_path))
    config.cmd_opts = argparse.Namespace(
        x=[f"url={url}", *(f"{key}={value}" for key, value in x_args.items())]
    )
    # Callers have their own logging; env.py leaves it alone when told so.
    config.attributes["configure_logger"] = False
    return config


@contextmanager
def closing_what_it_opens() -> Iterator[None]:
    """Close every database connection SQLAlchemy opens inside the block, on the way out.

    A project's env.py may keep its engine's default pool and never dispose of it; its
    connection would then stay open on the migrated database (and a template with a
    session on it cannot be cloned). Whatever env.py does, nothing it opened outlives it.
    """
    opened: list[Any] = []

    def remember(dbapi_connection: Any, _record: Any) -> None:
        opened.append(dbapi_connection)

    event.listen(pool.Pool, "connect", remember)
    try:
        yield
    finally:
        event.remove(pool.Pool, "connect", remember)
        for dbapi_connection in opened:
            dbapi_connection.close()


def upgrade(ini_path: Path, url: str, revision: str = "head") -> None:
    with closing_what_it_opens():
        command.upgrade(alembic_config(ini_path, url), revision)


def downgrade(ini_path: Path, url: str, revision: str = "base") -> None:
    with closing_what_it_opens():
        command.downgrade(alembic_config(ini_path, url), revision)


def current_revisions(url: str) -> list[str]:
    """The revisions the database is at, as Alembic reads them ([] before the first upgrade)."""
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return sorted(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
