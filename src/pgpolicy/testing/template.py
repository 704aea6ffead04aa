"""The migrated template database every test database is cloned from."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg

from pgpolicy.migrate.runner import current_revisions, downgrade, upgrade
from pgpolicy.provision import Server, create_database, drop_database, temporary_database
from pgpolicy.supabase import install_compat

__all__ = ["TemplateBusyError", "build_template", "migrated_in_place", "migrated_template"]

# A client that closed its connection leaves pg_stat_activity a moment later.
_SESSIONS_GONE_SECONDS = 5.0


class TemplateBusyError(RuntimeError):
    """The migration left sessions open on the template, so it cannot be cloned."""


@contextmanager
def migrated_template(
    server: Server, alembic_ini: Path | None, *, base: str | None
) -> Iterator[str]:
    """A template at head for the length of the block: a clone of ``base`` (a database that
    already has Supabase's objects) or, without one, a new database given the compat layer
    by the server's admin role; migrated as the working role; dropped at the end."""
    with temporary_database(server, "pgpolicy_tmpl", template=base) as name:
        if base is None:
            install_compat(server.admin().url(name))
        if alembic_ini is not None:
            upgrade(alembic_ini, server.url(name), "head")
            _wait_until_nobody_is_connected(server, name, alembic_ini)
        yield name


def build_template(server: Server, name: str, alembic_ini: Path | None) -> None:
    """Create ``name`` with the compat layer (installed by the server's admin role) and, when
    an alembic.ini is given, migrate it to head as the working role.

    The database is left to the caller; on failure it is dropped again.
    """
    with ExitStack() as undo:
        create_database(server, name)
        undo.callback(drop_database, server, name)
        install_compat(server.admin().url(name))
        if alembic_ini is not None:
            upgrade(alembic_ini, server.url(name), "head")
            _wait_until_nobody_is_connected(server, name, alembic_ini)
        undo.pop_all()  # built: from here on the caller owns it


@contextmanager
def migrated_in_place(server: Server, alembic_ini: Path | None) -> Iterator[str]:
    """The server's own database (a real Supabase one that cannot be cloned) at head for the
    length of the block, then back at the revision it was at, or at base with Alembic's
    version table removed when it had none: the migrations leave nothing behind, even when
    one of them fails half-way."""
    url = server.url()
    had_version_table = _has_version_table(url)
    before = current_revisions(url)
    try:
        if alembic_ini is not None:
            upgrade(alembic_ini, url, "head")
        yield server.maintenance_db
    finally:
        if alembic_ini is not None and current_revisions(url) != before:
            downgrade(alembic_ini, url, before[0] if before else "base")
        if not had_version_table:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("drop table if exists public.alembic_version")


def _has_version_table(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("select to_regclass('public.alembic_version') is not null").fetchone()
    return bool(row and row[0])


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
