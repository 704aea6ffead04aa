"""The migrated template database every test database is cloned from."""

from __future__ import annotations

from pathlib import Path

from pgpolicy.migrate.runner import upgrade
from pgpolicy.provision import Server, create_database, drop_database
from pgpolicy.supabase import install_compat


def build_template(server: Server, name: str, alembic_ini: Path | None) -> None:
    """Create ``name`` with the compat layer and, when an alembic.ini is given, head."""
    create_database(server, name)
    try:
        install_compat(server.url(name))
        if alembic_ini is not None:
            upgrade(alembic_ini, server.url(name), "head")
    except BaseException:
        drop_database(server, name)
        raise
