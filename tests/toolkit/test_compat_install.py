"""`pgpolicy compat install`: idempotent, complete, and hands-off on a real Supabase database."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

from pgpolicy.provision import Server, create_database, temporary_database
from pgpolicy.provision.binaries import find_pg_bindir
from pgpolicy.provision.embedded import throwaway_cluster
from pgpolicy.supabase import SupabaseDetected, install_compat, missing_prerequisites
from pgpolicy.supabase.install import compat_sql_files, server_differences
from pgpolicy.testing.target import Target

_CATALOG = """
select 'fn' as kind, p.oid::regprocedure::text as name,
       md5(pg_get_functiondef(p.oid)) || coalesce(p.proacl::text, '') as detail
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname in ('auth', 'realtime')
union all
select 'rel', c.oid::regclass::text,
       c.relkind::text || coalesce(c.relacl::text, '') || c.relrowsecurity::text
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname in ('auth', 'realtime')
union all
select 'role', rolname, rolcanlogin::text || rolbypassrls || rolinherit
from pg_roles where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')
union all
select 'defacl', defaclrole::regrole::text || defaclobjtype::text, defaclacl::text
from pg_default_acl
order by 1, 2
"""


@pytest.fixture
def empty_database(pg_server: Server, pg_target: Target) -> Iterator[str]:
    """A new empty database, reached as the role that installs the compat layer."""
    if pg_target.kind == "supabase":
        pytest.skip("the compat layer is never installed on a real Supabase database")
    with temporary_database(pg_server, "pgpolicy_compat") as name:
        yield pg_server.admin().url(name)


def _catalog(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(_CATALOG).fetchall()


def test_install_provides_every_prerequisite(empty_database: str) -> None:
    install_compat(empty_database)
    with psycopg.connect(empty_database) as conn:
        assert missing_prerequisites(conn) == []


def test_install_twice_changes_nothing(empty_database: str) -> None:
    install_compat(empty_database)
    first = _catalog(empty_database)
    install_compat(empty_database)
    assert _catalog(empty_database) == first


def test_realtime_messages_is_partitioned_by_day_with_no_default(empty_database: str) -> None:
    install_compat(empty_database)
    with psycopg.connect(empty_database) as conn:
        strategy = conn.execute(
            "select partstrat from pg_partitioned_table"
            " where partrelid = 'realtime.messages'::regclass"
        ).fetchone()
        assert strategy == ("r",)
        partitions = conn.execute(
            "select count(*), count(*) filter (where pg_get_expr(c.relpartbound, c.oid)"
            " = 'DEFAULT') from pg_inherits i join pg_class c on c.oid = i.inhrelid"
            " where i.inhparent = 'realtime.messages'::regclass"
        ).fetchone()
        assert partitions == (5, 0)  # yesterday .. today + 3, no default partition
        rls = conn.execute(
            "select relrowsecurity, (select count(*) from pg_policies"
            " where schemaname = 'realtime' and tablename = 'messages')"
            " from pg_class where oid = 'realtime.messages'::regclass"
        ).fetchone()
        assert rls == (True, 0)


def test_install_refuses_a_supabase_database_and_changes_nothing(empty_database: str) -> None:
    with psycopg.connect(empty_database, autocommit=True) as conn:
        conn.execute("create schema auth")
        conn.execute("create table auth.schema_migrations (version text)")
    with pytest.raises(SupabaseDetected, match="auth"):
        install_compat(empty_database)
    with psycopg.connect(empty_database) as conn:
        assert conn.execute("select to_regclass('auth.users')").fetchone() == (None,)
        assert conn.execute("select to_regnamespace('realtime')").fetchone() == (None,)


def test_missing_prerequisites_are_named_on_plain_postgres(empty_database: str) -> None:
    with psycopg.connect(empty_database) as conn:
        missing = missing_prerequisites(conn)
    assert "table auth.users" in missing
    assert "table realtime.messages" in missing


def test_a_role_the_layer_did_not_create_is_left_as_it_is_and_reported(
    pg_server: Server, pg_target: Target
) -> None:
    if pg_target.kind != "embedded":
        pytest.skip("needs the embedded cluster's superuser to fake a pre-existing role")
    with psycopg.connect(pg_server.admin().url()) as conn:  # one transaction, rolled back
        # As if dashboard_user had existed before the layer, in a shape of its own.
        conn.execute("comment on role dashboard_user is null")
        conn.execute("alter role dashboard_user nocreatedb")
        conn.execute(dict(compat_sql_files())["010_roles.sql"].encode())
        assert conn.execute(
            "select rolcreatedb from pg_roles where rolname = 'dashboard_user'"
        ).fetchone() == (False,)
        assert "dashboard_user is NOCREATEDB" in server_differences(conn)
        conn.rollback()


def test_two_installs_at_once_on_a_new_server_both_succeed(pg_target: Target) -> None:
    """As two pytest-xdist workers on one --pg-url server do: the roles are the cluster's."""
    if pg_target.kind != "embedded":
        pytest.skip("needs server binaries to start a server the layer was never installed on")
    bindir = find_pg_bindir()
    assert bindir is not None
    with throwaway_cluster(bindir) as server:
        for name in ("worker_a", "worker_b"):
            create_database(server, name)
        barrier = threading.Barrier(2)
        failures: list[str] = []

        def install(name: str) -> None:
            barrier.wait()
            try:
                install_compat(server.admin().url(name))
            except psycopg.Error as error:
                failures.append(f"{name}: {error.sqlstate} {error}")

        workers = [threading.Thread(target=install, args=(n,)) for n in ("worker_a", "worker_b")]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert failures == []
        for name in ("worker_a", "worker_b"):
            with psycopg.connect(server.admin().url(name)) as conn:
                assert missing_prerequisites(conn) == []
