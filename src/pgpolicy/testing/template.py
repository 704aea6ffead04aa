"""The migrated template database every test database is cloned from."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg

from pgpolicy.migrate.runner import current_revisions, downgrade, upgrade
from pgpolicy.provision import Server, create_database, drop_database, temporary_database
from pgpolicy.supabase import install_compat

__all__ = ["build_template", "migrated_in_place", "migrated_template"]


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
