"""Run Alembic from Python against an explicit URL (tests, CLI), never via os.environ."""

from __future__ import annotations

import argparse
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, pool

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


def upgrade(ini_path: Path, url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(ini_path, url), revision)


def downgrade(ini_path: Path, url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(ini_path, url), revision)


def current_revisions(url: str) -> list[str]:
    """The revisions the database is at, as Alembic reads them ([] before the first upgrade)."""
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return sorted(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
