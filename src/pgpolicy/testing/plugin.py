"""pytest fixtures: a server per session, a migrated template, a database per test.

Where the database comes from: ``--pg-url`` or ``DATABASE_URL`` (the harness creates and
drops its own uniquely-named databases there), else an embedded throwaway cluster, else
Docker via testcontainers. Tests run in a transaction that is rolled back; a test marked
``@pytest.mark.commit`` gets its own clone of the template instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgpolicy.postgrest.claims import Actor
from pgpolicy.provision import (
    Server,
    create_database,
    drop_database,
    provide_server,
    unique_database_name,
)
from pgpolicy.testing.coverage import add_coverage_options, configure_coverage
from pgpolicy.testing.harness import Database
from pgpolicy.testing.template import build_template


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pgpolicy", "pgpolicy database harness")
    group.addoption(
        "--pg-url",
        default=None,
        help="PostgreSQL server URL to create test databases on (default: $DATABASE_URL, "
        "else an embedded throwaway cluster, else Docker)",
    )
    add_coverage_options(parser, group)
    parser.addini(
        "pgpolicy_alembic_ini",
        default="alembic.ini",
        help="alembic.ini (relative to rootdir) whose head the template database is migrated "
        "to; the template has only the Supabase compat layer when the file does not exist",
    )


def pytest_configure(config: pytest.Config) -> None:
    configure_coverage(config)
    config.addinivalue_line(
        "markers",
        "commit: the test gets its own database cloned from the template and may commit",
    )


@dataclass
class _SharedDatabase:
    """The clone that rolled-back tests share, with its one long-lived connection."""

    name: str
    url: str
    conn: psycopg.Connection[Any]


@pytest.fixture(scope="session")
def pg_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """The PostgreSQL server this session creates its databases on."""
    with provide_server(request.config.getoption("--pg-url")) as server:
        yield server


@pytest.fixture(scope="session")
def pg_alembic_ini(request: pytest.FixtureRequest) -> Path | None:
    """The alembic.ini whose head the template is migrated to (None: compat layer only)."""
    path = Path(request.config.rootpath) / str(request.config.getini("pgpolicy_alembic_ini"))
    return path if path.is_file() else None


@pytest.fixture(scope="session")
def pg_template(pg_server: Server, pg_alembic_ini: Path | None) -> Iterator[str]:
    """Name of the database migrated once per session; every test database is its clone."""
    name = unique_database_name("pgpolicy_tmpl")
    build_template(pg_server, name, pg_alembic_ini)
    yield name
    drop_database(pg_server, name)


@pytest.fixture(scope="session")
def _pg_shared(pg_server: Server, pg_template: str) -> Iterator[_SharedDatabase]:
    name = unique_database_name("pgpolicy_test")
    create_database(pg_server, name, template=pg_template)
    url = pg_server.url(name)
    conn = psycopg.connect(url, autocommit=True)
    try:
        yield _SharedDatabase(name=name, url=url, conn=conn)
    finally:
        conn.close()
        drop_database(pg_server, name)


@pytest.fixture
def db(request: pytest.FixtureRequest, pg_server: Server, pg_template: str) -> Iterator[Database]:
    """This test's database, connected as the privileged harness role."""
    if request.node.get_closest_marker("commit") is not None:
        name = unique_database_name("pgpolicy_commit")
        create_database(pg_server, name, template=pg_template)
        url = pg_server.url(name)
        conn = psycopg.connect(url, autocommit=True)
        database = Database(conn=conn, url=url, committing=True)
        try:
            yield database
        finally:
            database.close()
            conn.close()
            drop_database(pg_server, name)
        return
    shared: _SharedDatabase = request.getfixturevalue("_pg_shared")
    with shared.conn.transaction(force_rollback=True):
        database = Database(conn=shared.conn, url=shared.url)
        try:
            yield database
        finally:
            database.close()


@pytest.fixture
def make_user(db: Database) -> Callable[..., Actor]:
    """Factory creating auth.users rows: ``make_user("alice", app_metadata={...})``."""
    return db.create_user
