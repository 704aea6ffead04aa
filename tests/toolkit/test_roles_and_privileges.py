"""Supabase's roles and default privileges, reproduced: what makes Supabase dangerous."""

from __future__ import annotations

from pgpolicy.testing.assertions import assert_allowed, assert_denied, assert_filtered
from pgpolicy.testing.harness import Database


def test_role_attributes_match_supabase(db: Database) -> None:
    rows = db.execute(
        "select rolname, rolcanlogin, rolinherit, rolbypassrls from pg_roles"
        " where rolname in ('anon', 'authenticated', 'service_role', 'authenticator',"
        " 'supabase_auth_admin', 'supabase_realtime_admin') order by rolname"
    )
    by_name = {row["rolname"]: row for row in rows}
    assert by_name["anon"]["rolcanlogin"] is False
    assert by_name["authenticated"]["rolcanlogin"] is False
    assert by_name["service_role"]["rolbypassrls"] is True
    assert by_name["authenticator"]["rolcanlogin"] is True
    assert by_name["authenticator"]["rolinherit"] is False
    assert by_name["supabase_auth_admin"]["rolbypassrls"] is False
    assert by_name["supabase_realtime_admin"]["rolcanlogin"] is False
    assert not any(row["rolbypassrls"] for row in rows if row["rolname"] != "service_role")


def test_authenticator_can_become_each_api_role(db: Database) -> None:
    for role in ("anon", "authenticated", "service_role"):
        assert db.scalar("select pg_has_role('authenticator', %s, 'member')", (role,)) is True


def _table_with_rls_and_a_row(db: Database) -> None:
    db.execute("create table public.toolkit_secrets (id int primary key, secret text)")
    db.execute("alter table public.toolkit_secrets enable row level security")
    db.execute("insert into public.toolkit_secrets values (1, 'hidden')")


def test_service_role_bypasses_rls(db: Database) -> None:
    _table_with_rls_and_a_row(db)
    result = db.as_service_role().execute("select id from public.toolkit_secrets")
    assert_allowed(result, rowcount=1)


def test_authenticated_does_not_bypass_rls(db: Database) -> None:
    _table_with_rls_and_a_row(db)
    alice = db.create_user("alice")
    assert_filtered(db.as_user(alice).execute("select id from public.toolkit_secrets"))


def test_new_public_table_is_granted_to_anon_so_only_rls_protects_it(db: Database) -> None:
    db.execute("create table public.toolkit_open (id int)")
    db.execute("insert into public.toolkit_open values (1)")
    assert_allowed(db.as_anon().execute("select id from public.toolkit_open"), rowcount=1)


def test_new_public_function_is_executable_by_anon(db: Database) -> None:
    db.execute(
        "create function public.toolkit_hello() returns text language sql as $$ select 'hi' $$"
    )
    result = assert_allowed(db.as_anon().rpc("toolkit_hello"))
    assert result.rows == [{"toolkit_hello": "hi"}]


def test_revoking_execute_from_public_and_anon_denies_anon(db: Database) -> None:
    db.execute(
        "create function public.toolkit_hello() returns text language sql as $$ select 'hi' $$"
    )
    db.execute("revoke execute on function public.toolkit_hello() from public, anon")
    assert_denied(db.as_anon().rpc("toolkit_hello"), status=401)
    alice = db.create_user("alice")
    assert_allowed(db.as_user(alice).rpc("toolkit_hello"))


def test_auth_users_is_not_readable_by_api_roles(db: Database) -> None:
    db.create_user("alice")
    assert_denied(db.as_anon().execute("select * from auth.users"))
