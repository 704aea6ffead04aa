"""Supabase's roles and default privileges, reproduced: what makes Supabase dangerous."""

from __future__ import annotations

import pytest

from pgpolicy.supabase.roles import SUPABASE_ROLES, RoleShape, role_differences, unmanaged_roles
from pgpolicy.testing.assertions import assert_allowed, assert_denied, assert_filtered
from pgpolicy.testing.harness import Database


@pytest.mark.parametrize("shape", SUPABASE_ROLES, ids=lambda shape: shape.name)
def test_role_has_supabase_attributes_memberships_and_settings(
    db: Database, shape: RoleShape
) -> None:
    differences = role_differences(db.conn, shape)
    if differences and shape.name in unmanaged_roles(db.conn):
        pytest.skip(f"this server's own role {shape.name}, left as it is: {differences}")
    assert differences == []


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
