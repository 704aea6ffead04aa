"""Fresh databases for migration proofs, reference catalogs, and pytest-alembic's fixtures.

Every test gets databases of its own (never the shared template): most start from the
Supabase compat layer alone, as a new project would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import alembic.config
import pytest
from sqlalchemy import Engine, create_engine, pool

from pgpolicy.catalog import Catalog
from pgpolicy.migrate import runner
from pgpolicy.migrate.settings import sqlalchemy_url
from pgpolicy.provision import Server, create_database, drop_database, unique_database_name
from pgpolicy.supabase import install_compat
from tests.migrations.support import ALEMBIC_INI, catalog, revisions

MakeDatabase = Callable[..., str]


def _databases(server: Server, names: list[str]) -> MakeDatabase:
    def make(*, compat: bool = True) -> str:
        name = unique_database_name("pgpolicy_migrations")
        create_database(server, name)
        names.append(name)
        url = server.url(name)
        if compat:
            install_compat(url)
        return url

    return make


@pytest.fixture(scope="session")
def make_session_database(pg_server: Server) -> Iterator[MakeDatabase]:
    names: list[str] = []
    yield _databases(pg_server, names)
    for name in names:
        drop_database(pg_server, name)


@pytest.fixture
def make_database(pg_server: Server) -> Iterator[MakeDatabase]:
    """``make_database(compat=True)``: a new database (compat layer installed), dropped after."""
    names: list[str] = []
    yield _databases(pg_server, names)
    for name in names:
        drop_database(pg_server, name)


@pytest.fixture(scope="session")
def reference_catalogs(make_session_database: MakeDatabase) -> dict[str, Catalog]:
    """The catalog at "base" (compat layer only) and after each revision, upgraded in order."""
    url = make_session_database()
    catalogs = {"base": catalog(url)}
    for revision in revisions():
        runner.upgrade(ALEMBIC_INI, url, revision)
        catalogs[revision] = catalog(url)
    return catalogs


@pytest.fixture(scope="session")
def compat_catalog(reference_catalogs: dict[str, Catalog]) -> Catalog:
    return reference_catalogs["base"]


@pytest.fixture(scope="session")
def head_catalog(reference_catalogs: dict[str, Catalog]) -> Catalog:
    return reference_catalogs[revisions()[-1]]


# pytest-alembic: its runner drives our env.py through this config (-x url=...).
@pytest.fixture
def alembic_database(make_database: MakeDatabase) -> str:
    return make_database()


@pytest.fixture
def alembic_engine(alembic_database: str) -> Iterator[Engine]:
    engine = create_engine(sqlalchemy_url(alembic_database), poolclass=pool.NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def alembic_config(alembic_database: str) -> alembic.config.Config:
    return runner.alembic_config(ALEMBIC_INI, alembic_database)
