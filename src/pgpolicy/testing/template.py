"""The migrated template database every test database is cloned from."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pgpolicy.migrate.runner import upgrade
from pgpolicy.provision import Server, create_database, drop_database, temporary_database
from pgpolicy.supabase import install_compat

__all__ = ["build_template", "migrated_template"]


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
    create_database(server, name)
    try:
        install_compat(server.admin().url(name))
        if alembic_ini is not None:
            upgrade(alembic_ini, server.url(name), "head")
    except BaseException:
        drop_database(server, name)
        raise
