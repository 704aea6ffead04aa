"""Fresh databases for migration proofs, reference catalogs, and pytest-alembic's fixtures.

Every test gets databases of its own (never the shared template): most start from the
Supabase compat layer alone, as a new project would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import alembic.config
import pytest
from sqlalchemy import Engine, create_engine, pool

from pgpolicy.catalog import Catalog
from pgpolicy.migrate import runner
from pgpolicy.migrate.settings import sqlalchemy_url
from pgpolicy.provision import Server, temporary_database
from pgpolicy.testing.plugin import skip_if_in_place
from pgpolicy.testing.target import Target
from tests.migrations.support import ALEMBIC_INI, catalog, revisions

MakeDatabase = Callable[..., str]


def _databases(
    server: Server, target: Target, janitor: ExitStack, with_supabase: MakeDatabase
) -> MakeDatabase:
    def make(*, compat: bool = True) -> str:
        if compat:
            return with_supabase("pgpolicy_migrations")
        skip_if_in_place(target)
        name = janitor.enter_context(temporary_database(server, "pgpolicy_migrations"))
        return server.url(name)

    return make


@pytest.fixture(scope="session")
def make_session_database(
    pg_server: Server, pg_target: Target, pg_new_session_database: MakeDatabase
) -> Iterator[MakeDatabase]:
    with ExitStack() as janitor:
        yield _databases(pg_server, pg_target, janitor, pg_new_session_database)


@pytest.fixture
def make_database(
    pg_server: Server, pg_target: Target, pg_new_database: MakeDatabase
) -> Iterator[MakeDatabase]:
    """``make_database(compat=True)``: a new database (with Supabase's objects unless
    ``compat=False``: then an empty one), dropped after."""
    with ExitStack() as janitor:
        yield _databases(pg_server, pg_target, janitor, pg_new_database)


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
