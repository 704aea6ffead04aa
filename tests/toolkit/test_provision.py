"""Proofs for pgpolicy.provision: where the database comes from, and what is left behind."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

import pgpolicy.provision.provide as provide_module
from pgpolicy.provision import (
    ProvisionError,
    Server,
    create_database,
    dev_cluster_status,
    docker_available,
    drop_database,
    find_pg_bindir,
    provide_server,
    server_from_url,
    start_dev_cluster,
    stop_dev_cluster,
    unique_database_name,
)
from pgpolicy.testing.target import resolve_target

IS_ROOT = os.geteuid() == 0
needs_binaries = pytest.mark.skipif(
    find_pg_bindir() is None, reason="no PostgreSQL server binaries (pg_ctl/initdb/postgres)"
)


def _scalar(server: Server, query: str, dbname: str | None = None) -> object:
    with psycopg.connect(server.url(dbname), connect_timeout=10) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


def _database_exists(server: Server, name: str) -> bool:
    with psycopg.connect(server.url()) as conn:
        row = conn.execute("select count(*) from pg_database where datname = %s", (name,))
        return row.fetchone() == (1,)


def _fail_if_called(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("an explicit URL must win before any local source is tried")


@pytest.fixture(scope="module")
def embedded() -> Iterator[Server]:
    """One throwaway cluster shared by the tests that only need *a* server."""
    if find_pg_bindir() is None:
        pytest.skip("no PostgreSQL server binaries (pg_ctl/initdb/postgres)")
    with provide_server(env={}) as server:
        yield server


@pytest.fixture
def world_readable_tmp() -> Iterator[Path]:
    """pytest's tmp_path is 0700 (root only); the server's OS user must get through."""
    path = Path(tempfile.mkdtemp(prefix="pgpolicy-test-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --- explicit URLs ------------------------------------------------------------------------


def test_server_from_url_reads_every_part_and_round_trips() -> None:
    server = server_from_url(
        "postgresql://alice:p%40ss%3Aw%2Fd@db.example:6543/app?sslmode=require"
    )

    assert (server.host, server.port, server.user, server.password) == (
        "db.example",
        6543,
        "alice",
        "p@ss:w/d",
    )
    assert (server.maintenance_db, server.source) == ("app", "url")
    assert conninfo_to_dict(server.url("other db")) == {
        "user": "alice",
        "password": "p@ss:w/d",
        "host": "db.example",
        "port": "6543",
        "dbname": "other db",
        "sslmode": "require",
    }
    assert "p@ss" not in repr(server)  # passwords stay out of logs


def test_server_without_dbname_uses_postgres_and_prints_a_psql_line() -> None:
    server = server_from_url("postgresql://postgres@127.0.0.1:54321")

    assert server.maintenance_db == "postgres"
    assert server.password is None
    assert server.url() == "postgresql://postgres@127.0.0.1:54321/postgres"
    assert server.psql_command("pgpolicy_dev") == (
        "psql 'postgresql://postgres@127.0.0.1:54321/pgpolicy_dev'"
    )


def test_explicit_url_is_used_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provide_module, "server_bindir", _fail_if_called)
    env = {"DATABASE_URL": "postgresql://env@envhost:1/envdb"}

    with provide_server("postgresql://ci:secret@pg.ci:5433/ci", env=env) as server:
        assert server == server_from_url("postgresql://ci:secret@pg.ci:5433/ci")
        assert server.source == "url"


def test_database_url_in_env_wins_over_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provide_module, "server_bindir", _fail_if_called)

    with provide_server(env={"DATABASE_URL": "postgresql://u@staging:6000/db"}) as server:
        assert (server.host, server.port, server.maintenance_db) == ("staging", 6000, "db")


def test_no_source_at_all_names_the_three_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provide_module, "server_bindir", lambda _major: None)
    monkeypatch.setattr(provide_module, "docker_available", lambda: (False, "no engine (test)"))

    with pytest.raises(ProvisionError) as excinfo, provide_server(env={}):
        pytest.fail("no server should have been provided")

    message = str(excinfo.value)
    for way in ("--pg-url", "DATABASE_URL", "PostgreSQL server binaries", "Docker engine"):
        assert way in message
    assert "no engine (test)" in message


# --- embedded throwaway cluster -----------------------------------------------------------


@needs_binaries
def test_find_pg_bindir_has_the_three_programs() -> None:
    bindir = find_pg_bindir()
    assert bindir is not None
    for name in ("pg_ctl", "initdb", "postgres"):
        assert os.access(bindir / name, os.X_OK)


class _Sentinel(Exception):
    pass


@needs_binaries
def test_throwaway_cluster_is_fast_private_and_gone_after_an_exception() -> None:
    seen: dict[str, object] = {}

    def use_then_fail() -> None:
        started = time.monotonic()
        with provide_server(env={}) as server:
            seen["startup_seconds"] = time.monotonic() - started
            seen["server"] = server
            seen["data_dir"] = _scalar(server, "select current_setting('data_directory')")
            _assert_private_fast_cluster(server, Path(str(seen["data_dir"])))
            raise _Sentinel

    with pytest.raises(_Sentinel):
        use_then_fail()

    server = seen["server"]
    assert isinstance(server, Server)
    assert server.source == "embedded"
    assert isinstance(seen["startup_seconds"], float)
    assert seen["startup_seconds"] < 30
    data_dir = Path(str(seen["data_dir"]))
    assert not data_dir.exists()
    assert not data_dir.parent.exists()  # the whole temp dir, logs and socket included
    assert not _accepts_tcp(server.port)


def _assert_private_fast_cluster(server: Server, data_dir: Path) -> None:
    assert server.host == "127.0.0.1"
    assert _scalar(server, "select 1") == 1
    assert _scalar(server, "select inet_server_port()") == server.port
    assert _scalar(server, "show listen_addresses") == "127.0.0.1"
    for setting in ("fsync", "synchronous_commit", "full_page_writes"):
        assert _scalar(server, f"show {setting}") == "off"
    assert _scalar(server, "show server_encoding") == "UTF8"
    socket_dir = str(_scalar(server, "show unix_socket_directories"))
    assert socket_dir.startswith(str(data_dir.parent))  # its own, not /var/run/postgresql
    if IS_ROOT:  # the server runs as, and its files belong to, an unprivileged OS user
        backend_pid = _scalar(server, "select pg_backend_pid()")
        owner = data_dir.stat().st_uid
        assert owner != 0
        assert Path(f"/proc/{backend_pid}").stat().st_uid == owner


def _accepts_tcp(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@needs_binaries
def test_throwaway_clusters_get_distinct_free_ports(embedded: Server) -> None:
    assert _accepts_tcp(embedded.port)
    assert embedded.port != 5432
    with provide_server(env={}) as second:
        assert second.port != embedded.port
        assert _scalar(second, "select 1") == 1


# --- databases ----------------------------------------------------------------------------


def test_unique_database_names_are_valid_and_distinct() -> None:
    names = {unique_database_name("PgPolicy-Test") for _ in range(20)}

    assert len(names) == 20
    for name in names:
        assert name.startswith(f"pgpolicy_test_{os.getpid()}_")
    long_name = unique_database_name("x" * 200)
    assert len(long_name.encode()) <= 63
    assert unique_database_name("1st")[0].isalpha()


@needs_binaries
def test_create_clone_and_drop_databases(embedded: Server) -> None:
    template = unique_database_name("pgpolicy_tmpl")
    clone = unique_database_name("pgpolicy_clone")
    create_database(embedded, template)
    try:
        with psycopg.connect(embedded.url(template), autocommit=True) as conn:
            conn.execute("create table proof (note text)")
            conn.execute("insert into proof values ('cloned')")

        # A session still connected to the template (e.g. a migration closing) blocks cloning
        # with 55006 for a moment; create_database must wait it out.
        blocker = psycopg.connect(embedded.url(template))
        closer = threading.Timer(0.5, blocker.close)
        closer.start()
        try:
            create_database(embedded, clone, template=template)
        finally:
            closer.join()
        assert _scalar(embedded, "select note from proof", clone) == "cloned"

        with psycopg.connect(embedded.url(clone)):  # dropping ends leftover sessions
            drop_database(embedded, clone)
        assert not _database_exists(embedded, clone)
        drop_database(embedded, clone)  # IF EXISTS: a second drop is fine
    finally:
        drop_database(embedded, clone)
        drop_database(embedded, template)
    assert not _database_exists(embedded, template)


# --- persistent development cluster -------------------------------------------------------


@needs_binaries
def test_dev_cluster_survives_stop_and_start(world_readable_tmp: Path) -> None:
    datadir = world_readable_tmp / ".pgdata"
    assert dev_cluster_status(datadir) is None
    try:
        server = start_dev_cluster(datadir)
        assert server.maintenance_db == "postgres"
        assert _scalar(server, "show fsync") == "on"  # durable, unlike the throwaway cluster
        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute("create table kept (answer int)")
            conn.execute("insert into kept values (42)")
        started_at = _scalar(server, "select pg_postmaster_start_time()")

        assert start_dev_cluster(datadir) == server  # idempotent: no restart
        assert _scalar(server, "select pg_postmaster_start_time()") == started_at
        assert dev_cluster_status(datadir) == server

        assert stop_dev_cluster(datadir) is True
        assert dev_cluster_status(datadir) is None
        assert stop_dev_cluster(datadir) is False
        assert (datadir / "data" / "PG_VERSION").is_file()  # stopping never deletes data

        again = start_dev_cluster(datadir)
        assert again.port == server.port  # the recorded port was still free
        assert _scalar(again, "select answer from kept") == 42
    finally:
        stop_dev_cluster(datadir)


@pytest.mark.skipif(not IS_ROOT, reason="only root must hand the cluster to another OS user")
def test_dev_cluster_explains_an_untraversable_parent(world_readable_tmp: Path) -> None:
    private = world_readable_tmp / "private"
    private.mkdir(mode=0o700)

    with pytest.raises(ProvisionError, match=r"chmod o\+x") as excinfo:
        start_dev_cluster(private / ".pgdata")
    assert str(private) in str(excinfo.value)


# --- Docker -------------------------------------------------------------------------------


def test_docker_probe_is_quick_and_never_raises() -> None:
    started = time.monotonic()
    available, reason = docker_available()
    assert time.monotonic() - started < 2.5
    assert isinstance(available, bool)
    assert reason


def test_container_server_when_docker_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    available, reason = docker_available()
    if not available:
        pytest.skip(reason)
    monkeypatch.setattr(provide_module, "server_bindir", lambda _major: None)
    image = os.environ.get("PGPOLICY_DOCKER_IMAGE", "postgres:15")

    with provide_server(env={"PGPOLICY_DOCKER_IMAGE": image}) as server:
        assert server.source == "container"
        assert _scalar(server, "select 1") == 1


def test_a_supabase_image_is_taken_for_a_real_supabase_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    available, reason = docker_available()
    if not available:
        pytest.skip(reason)
    monkeypatch.setattr(provide_module, "server_bindir", lambda _major: None)
    image = os.environ.get("PGPOLICY_SUPABASE_IMAGE", "supabase/postgres:15.8.1.085")

    with provide_server(env={"PGPOLICY_DOCKER_IMAGE": image}) as server:
        assert server.user == "postgres"
        target = resolve_target(server)
        assert target.kind == "supabase", target
