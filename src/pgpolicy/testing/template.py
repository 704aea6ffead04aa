"""The migrated template database every test database is cloned from."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg

from pgpolicy.migrate.runner import upgrade
from pgpolicy.provision import Server, create_database, drop_database
from pgpolicy.supabase import install_compat

__all__ = ["TemplateBusyError", "build_template"]

# A client that closed its connection leaves pg_stat_activity a moment later.
_SESSIONS_GONE_SECONDS = 5.0


class TemplateBusyError(RuntimeError):
    """The migration left sessions open on the template, so it cannot be cloned."""


def build_template(server: Server, name: str, alembic_ini: Path | None) -> None:
    """Create ``name`` with the compat layer and, when an alembic.ini is given, head."""
    create_database(server, name)
    try:
        install_compat(server.url(name))
        if alembic_ini is not None:
            upgrade(alembic_ini, server.url(name), "head")
            _wait_until_nobody_is_connected(server, name, alembic_ini)
    except BaseException:
        drop_database(server, name)
        raise


def _wait_until_nobody_is_connected(server: Server, name: str, alembic_ini: Path) -> None:
    deadline = time.monotonic() + _SESSIONS_GONE_SECONDS
    with psycopg.connect(server.url(), autocommit=True) as conn:
        while True:
            row = conn.execute(
                "select count(*) from pg_catalog.pg_stat_activity where datname = %s", (name,)
            ).fetchone()
            sessions = 0 if row is None else int(row[0])
            if sessions == 0:
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
    raise TemplateBusyError(
        f"the migrations of {alembic_ini} left {sessions} connection(s) open on the template"
        " database, so test databases cannot be cloned from it: make env.py close every"
        " connection it opens (e.g. create_engine(..., poolclass=pool.NullPool), or"
        " engine.dispose() after run_migrations)."
    )
