"""pytest fixtures: a server per session, a migrated template, a database per test.

Where the database comes from: ``--pg-url`` or ``DATABASE_URL``, else an embedded throwaway
Supabase-shaped cluster, else Docker via testcontainers (testing/target.py names the kinds).
Tests run in a transaction that is rolled back; a test marked ``@pytest.mark.commit`` gets
its own clone of the template instead. On a real Supabase database that cannot be cloned,
every test runs in place in a rolled-back transaction and committing tests are skipped.
The run's header line says which of these it is.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgpolicy.auth import (
    AUTH_ADMIN_ENV,
    AuthAdmin,
    HookConfig,
    resolve_auth_admin,
    resolve_hook_config,
)
from pgpolicy.postgrest.claims import Actor
from pgpolicy.postgrest.version import (
    POSTGREST_VERSION_ENV,
    SUPABASE_CLI_POSTGREST,
    PostgrestVersion,
    PostgrestVersionError,
    resolve_postgrest_version,
)
from pgpolicy.provision import (
    PG_VERSION_ENV,
    SUPPORTED_PG_VERSIONS,
    PgVersion,
    ProvisionError,
    Server,
    provide_server,
    resolve_pg_version,
    server_from_url,
    temporary_database,
    with_shaped_cluster_admin,
)
from pgpolicy.supabase import install_compat
from pgpolicy.testing.coverage import add_coverage_options, configure_coverage
from pgpolicy.testing.harness import Database
from pgpolicy.testing.pgtap import pg_pgtap_database as pg_pgtap_database  # pgTAP items
from pgpolicy.testing.pgtap import pytest_collect_file as pytest_collect_file
from pgpolicy.testing.target import Target, resolve_target
from pgpolicy.testing.template_source import TemplateSource, resolve_template_source

_IN_PLACE_COMMIT = (
    "runs in place on a real Supabase database that cannot be cloned ({why}): a committing "
    "test would leave its rows behind"
)
_IN_PLACE_NEW_DATABASE = (
    "needs a database of its own, and this real Supabase database cannot be cloned ({why})"
)

MakeDatabase = Callable[..., str]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pgpolicy", "pgpolicy database harness")
    group.addoption(
        "--pg-url",
        default=None,
        help="PostgreSQL server URL to create test databases on (default: $DATABASE_URL, "
        "else an embedded throwaway cluster, else Docker)",
    )
    group.addoption(
        "--pg-auth-admin-url",
        default=None,
        help="URL logging in as supabase_auth_admin, for sign-ups and the access token hook "
        f"(default: ${AUTH_ADMIN_ENV}, else the server's URL as supabase_auth_admin with "
        "the same password, as a local `supabase start` stack has it)",
    )
    group.addoption(
        "--pg-version",
        default=None,
        choices=SUPPORTED_PG_VERSIONS,
        help="PostgreSQL major version of the embedded cluster (default: "
        f"${PG_VERSION_ENV}, else supabase/config.toml's [db] major_version, else 17); a URL's "
        "server is used as it is",
    )
    group.addoption(
        "--postgrest-version",
        default=None,
        help="PostgREST release whose requests are emulated: 12.2.x or "
        f"{SUPABASE_CLI_POSTGREST} (default: ${POSTGREST_VERSION_ENV}, else "
        f"{SUPABASE_CLI_POSTGREST}, the Supabase CLI's)",
    )
    add_coverage_options(parser, group)
    parser.addini(
        "pgpolicy_db_pre_request",
        default="",
        help="PostgREST's db-pre-request: a function (schema.name) every request calls after "
        "its settings are set (default: $PGPOLICY_DB_PRE_REQUEST, else none)",
    )
    parser.addini(
        "pgpolicy_alembic_ini",
        default="alembic.ini",
        help="alembic.ini (relative to rootdir) whose head the template database is migrated "
        "to; the template has only the Supabase compat layer when the file does not exist",
    )
    parser.addini(
        "pgpolicy_schema_source",
        default="auto",
        help="where the template's schema comes from: auto (alembic.ini when it exists, else "
        "supabase/migrations/*.sql), alembic, or supabase-cli",
    )


_VERSION_KEY = pytest.StashKey[PgVersion]()
_POSTGREST_KEY = pytest.StashKey[PostgrestVersion]()


def pytest_configure(config: pytest.Config) -> None:
    configure_coverage(config)
    try:
        config.stash[_VERSION_KEY] = resolve_pg_version(
            config.getoption("--pg-version"), project_dir=Path(config.rootpath)
        )
    except ProvisionError as error:
        raise pytest.UsageError(str(error)) from error
    try:
        config.stash[_POSTGREST_KEY] = resolve_postgrest_version(
            config.getoption("--postgrest-version")
        )
    except PostgrestVersionError as error:
        raise pytest.UsageError(str(error)) from error
    config.addinivalue_line(
        "markers",
        "commit: the test gets its own database cloned from the template and may commit",
    )


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [_database_header(config), _postgrest_header(config)]


def _postgrest_header(config: pytest.Config) -> str:
    version = config.stash[_POSTGREST_KEY]
    pinned = " (the Supabase CLI's)" if version == SUPABASE_CLI_POSTGREST else ""
    pre_request = _db_pre_request(config)
    hook = f", db-pre-request {pre_request}" if pre_request else ""
    return f"pgpolicy PostgREST: requests as v{version}{pinned}{hook}"


def _db_pre_request(config: pytest.Config) -> str | None:
    return str(config.getini("pgpolicy_db_pre_request")).strip() or None


def _database_header(config: pytest.Config) -> str:
    url = config.getoption("--pg-url") or os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return (
            f"pgpolicy database: embedded Supabase-shaped cluster, "
            f"{config.stash[_VERSION_KEY].describe()} (bootstrap superuser supabase_admin; "
            "migrations and tests as postgres), else Docker"
        )
    try:
        server = with_shaped_cluster_admin(server_from_url(url))
        target = resolve_target(server)
    except (psycopg.Error, RuntimeError) as error:
        return f"pgpolicy database: {url} does not answer ({error})"
    return "pgpolicy database: " + target.describe(server)


_MODE_KEY = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Repeat the mode at the end, where it shows even with -q (which hides the header)."""
    mode = config.stash.get(_MODE_KEY, None)
    if mode is not None:
        terminalreporter.write_line(f"pgpolicy database: {mode}")


@dataclass
class _SharedDatabase:
    """The database rolled-back tests share, with its one long-lived connection."""

    name: str
    url: str
    conn: psycopg.Connection[Any]


@pytest.fixture(scope="session")
def pg_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """The PostgreSQL server this session creates its databases on (as its working role)."""
    version = request.config.stash[_VERSION_KEY]
    with provide_server(request.config.getoption("--pg-url"), pg_version=version.major) as server:
        yield server


@pytest.fixture(scope="session")
def pg_version(request: pytest.FixtureRequest) -> PgVersion:
    """The major version an embedded cluster of this run has (--pg-version, …, else 17)."""
    return request.config.stash[_VERSION_KEY]


@pytest.fixture(scope="session")
def pg_server_version(pg_server: Server) -> int:
    """The server's ``server_version_num`` (170011 for 17.11): proofs whose catalog answer
    depends on the major version read it here."""
    with psycopg.connect(pg_server.url(), connect_timeout=10) as conn:
        row = conn.execute("select pg_catalog.current_setting('server_version_num')::int")
        value = row.fetchone()
    assert value is not None
    return int(value[0])


@pytest.fixture(scope="session")
def pg_target(request: pytest.FixtureRequest, pg_server: Server) -> Target:
    """What kind of server this is, and whether tests run in place."""
    target = resolve_target(pg_server)
    request.config.stash[_MODE_KEY] = target.describe(pg_server)
    return target


@pytest.fixture(scope="session")
def pg_auth_admin(request: pytest.FixtureRequest, pg_server: Server) -> AuthAdmin:
    """How sign-ups and the access token hook log in as supabase_auth_admin (or why not)."""
    explicit = request.config.getoption("--pg-auth-admin-url") or os.environ.get(AUTH_ADMIN_ENV, "")
    return resolve_auth_admin(pg_server, explicit.strip() or None)


@pytest.fixture(scope="session")
def pg_alembic_ini(request: pytest.FixtureRequest) -> Path | None:
    """The alembic.ini whose head the template is migrated to (None: compat layer only)."""
    path = Path(request.config.rootpath) / str(request.config.getini("pgpolicy_alembic_ini"))
    return path if path.is_file() else None


@pytest.fixture(scope="session")
def pg_template_source(
    request: pytest.FixtureRequest, pg_alembic_ini: Path | None
) -> TemplateSource:
    """What the template is built from: the alembic.ini, or the Supabase CLI migrations."""
    choice = str(request.config.getini("pgpolicy_schema_source"))
    return resolve_template_source(Path(request.config.rootpath), pg_alembic_ini, choice)


def skip_if_in_place(target: Target) -> None:
    """Skip a test that needs databases of its own when the target cannot give any."""
    if target.in_place:
        pytest.skip(_IN_PLACE_NEW_DATABASE.format(why=target.why_in_place))


@pytest.fixture(scope="session")
def pg_base_template(pg_server: Server, pg_target: Target) -> Iterator[str]:
    """A database with Supabase's objects and nothing of the project's: the compat layer
    installed by the admin role, or a clone of the real Supabase database."""
    skip_if_in_place(pg_target)
    if pg_target.kind == "supabase":
        with temporary_database(
            pg_server, "pgpolicy_base", template=pg_server.maintenance_db
        ) as name:
            yield name
        return
    with temporary_database(pg_server, "pgpolicy_base") as name:
        install_compat(pg_server.admin().url(name))
        yield name


@pytest.fixture(scope="session")
def pg_template(
    request: pytest.FixtureRequest,
    pg_server: Server,
    pg_target: Target,
    pg_template_source: TemplateSource,
) -> Iterator[str]:
    """Name of the database migrated to head once per session, as the working role.

    Every test database is its clone; in place on a real Supabase database it is that
    database itself, migrated to head for the session and brought back to the revision it
    was at (or base) at the end.
    """
    if pg_target.in_place:
        with pg_template_source.in_place(pg_server) as name:
            yield name
        return
    base: str = request.getfixturevalue("pg_base_template")
    with pg_template_source.migrated(pg_server, base=base) as name:
        yield name


def _databases(server: Server, target: Target, template: str) -> Iterator[MakeDatabase]:
    """A factory of clones of ``template`` that all get dropped when the factory ends."""
    with ExitStack() as janitor:

        def make(prefix: str = "pgpolicy_db") -> str:
            skip_if_in_place(target)
            name = janitor.enter_context(temporary_database(server, prefix, template=template))
            return server.url(name)

        yield make


def _new_databases(
    request: pytest.FixtureRequest, server: Server, target: Target
) -> Iterator[MakeDatabase]:
    skip_if_in_place(target)
    base: str = request.getfixturevalue("pg_base_template")
    yield from _databases(server, target, base)


@pytest.fixture
def pg_new_database(
    request: pytest.FixtureRequest, pg_server: Server, pg_target: Target
) -> Iterator[MakeDatabase]:
    """``pg_new_database()``: the URL of a new database holding Supabase's objects and none
    of the project's (a new project's database), dropped after the test."""
    yield from _new_databases(request, pg_server, pg_target)


@pytest.fixture(scope="session")
def pg_new_session_database(
    request: pytest.FixtureRequest, pg_server: Server, pg_target: Target
) -> Iterator[MakeDatabase]:
    """As ``pg_new_database``, the databases dropped at the end of the session."""
    yield from _new_databases(request, pg_server, pg_target)


@pytest.fixture
def pg_clone(pg_server: Server, pg_target: Target, pg_template: str) -> Iterator[MakeDatabase]:
    """``pg_clone()``: the URL of a new clone of the migrated template, dropped after."""
    yield from _databases(pg_server, pg_target, pg_template)


@pytest.fixture(scope="session")
def _pg_shared(
    request: pytest.FixtureRequest, pg_server: Server, pg_target: Target, pg_template: str
) -> Iterator[_SharedDatabase]:
    if pg_target.in_place:
        url = pg_server.url(pg_template)
        with psycopg.connect(url, autocommit=True) as conn:
            yield _SharedDatabase(name=pg_template, url=url, conn=conn)
        return
    with temporary_database(pg_server, "pgpolicy_test", template=pg_template) as name:
        url = pg_server.url(name)
        with psycopg.connect(url, autocommit=True) as conn:
            yield _SharedDatabase(name=name, url=url, conn=conn)


@pytest.fixture(scope="session")
def pg_access_token_hook(request: pytest.FixtureRequest) -> HookConfig:
    """The access token hook Auth calls: PGPOLICY_ACCESS_TOKEN_HOOK, else the project's
    supabase/config.toml, else public.custom_access_token_hook when it exists."""
    return resolve_hook_config(request.config.rootpath)


@pytest.fixture
def db(
    request: pytest.FixtureRequest,
    pg_server: Server,
    pg_target: Target,
    pg_auth_admin: AuthAdmin,
    pg_access_token_hook: HookConfig,
    pg_template: str,
) -> Iterator[Database]:
    """This test's database, connected as the working role (``postgres``)."""
    if request.node.get_closest_marker("commit") is not None:
        if pg_target.in_place:
            pytest.skip(_IN_PLACE_COMMIT.format(why=pg_target.why_in_place))
        with (
            temporary_database(pg_server, "pgpolicy_commit", template=pg_template) as name,
            psycopg.connect(pg_server.url(name), autocommit=True) as conn,
        ):
            database = Database(
                conn=conn,
                url=pg_server.url(name),
                committing=True,
                auth_admin=pg_auth_admin,
                access_token_hook=pg_access_token_hook,
                postgrest_version=request.config.stash[_POSTGREST_KEY],
                db_pre_request=_db_pre_request(request.config),
            )
            try:
                yield database
            finally:
                database.close()
        return
    shared: _SharedDatabase = request.getfixturevalue("_pg_shared")
    database = Database(
        conn=shared.conn,
        url=shared.url,
        auth_admin=pg_auth_admin,
        rolled_back=True,
        access_token_hook=pg_access_token_hook,
        postgrest_version=request.config.stash[_POSTGREST_KEY],
        db_pre_request=_db_pre_request(request.config),
    )
    try:
        with shared.conn.transaction(force_rollback=True):
            yield database
    finally:
        # After the rollback: the janitor deletes the users signed up (and committed).
        database.close()


@pytest.fixture
def make_user(db: Database) -> Callable[..., Actor]:
    """Factory creating auth.users rows: ``make_user("alice", app_metadata={...})``."""
    return db.create_user
