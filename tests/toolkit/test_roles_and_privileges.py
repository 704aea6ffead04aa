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


# --- memberships as the server's major version records them (SUPABASE-FACTS.md) ---------

_API_ROLES = ("anon", "authenticated", "service_role")
_POSTGRES_SYSTEM_ROLES = ("pg_monitor", "pg_read_all_data", "pg_signal_backend")


def _require_shaped_postgres(db: Database) -> None:
    if db.scalar("select rolsuper from pg_roles where rolname = 'postgres'"):
        pytest.skip("postgres is this server's superuser: its memberships are its own")


def _memberships(db: Database, member: str, version: int) -> dict[str, tuple[object, ...]]:
    """Role granted -> (admin, inherit, set, grantor); 15 records neither inherit nor set."""
    options = (
        "m.inherit_option, m.set_option"
        if version >= 160000
        else "null as inherit_option, null as set_option"
    )
    rows = db.execute(
        f"select g.rolname as granted, m.admin_option, {options}, r.rolname as grantor"
        " from pg_auth_members m join pg_roles g on g.oid = m.roleid"
        " join pg_roles r on r.oid = m.grantor"
        " where m.member = (select oid from pg_roles where rolname = %s)",
        (member,),
    )
    return {
        row["granted"]: (
            row["admin_option"],
            row["inherit_option"],
            row["set_option"],
            row["grantor"],
        )
        for row in rows
    }


def test_postgres_memberships_have_supabase_options_on_this_major_version(
    db: Database, pg_server_version: int
) -> None:
    _require_shaped_postgres(db)
    found = _memberships(db, "postgres", pg_server_version)
    if pg_server_version >= 160000:
        # 16+: ADMIN OPTION on the API roles (16's CREATEROLE manages only those), and
        # pg_create_subscription; every grant inherits and may SET ROLE.
        expected = {role: (True, True, True, "supabase_admin") for role in _API_ROLES}
        expected |= {
            role: (False, True, True, "supabase_admin")
            for role in (*_POSTGRES_SYSTEM_ROLES, "pg_create_subscription")
        }
    else:
        expected = {
            role: (False, None, None, "supabase_admin")
            for role in (*_API_ROLES, *_POSTGRES_SYSTEM_ROLES)
        }
    assert {role: found.get(role) for role in expected} == expected


def test_authenticator_gets_no_api_role_privileges_without_set_role(
    db: Database, pg_server_version: int
) -> None:
    """16+ records the grants WITH INHERIT FALSE (as Supabase's 17); on 15 authenticator's
    NOINHERIT has the same effect. Either way SET ROLE still works."""
    found = _memberships(db, "authenticator", pg_server_version)
    for role in _API_ROLES:
        admin, inherit, may_set, _grantor = found[role]
        if pg_server_version >= 160000:
            assert (admin, inherit, may_set) == (False, False, True), role
        else:
            assert (
                db.scalar("select rolinherit from pg_roles where rolname = 'authenticator'")
                is False
            )
        may_become = "set" if pg_server_version >= 160000 else "member"  # 15 has no SET
        assert db.scalar("select pg_has_role('authenticator', %s, 'usage')", (role,)) is False
        assert db.scalar("select pg_has_role('authenticator', %s, %s)", (role, may_become)) is True


def test_supabase_realtime_admin_grants_do_not_inherit_on_16_and_later(
    db: Database, pg_server_version: int
) -> None:
    if pg_server_version < 160000:
        pytest.skip("15 records no INHERIT option on a grant")
    found = _memberships(db, "supabase_realtime_admin", pg_server_version)
    if not found:
        pytest.skip("supabase_realtime_admin is a member of no role here")
    assert {role: options[1] for role, options in found.items()} == dict.fromkeys(found, False)


def test_postgres_may_grant_the_api_roles_to_a_role_of_its_own(db: Database) -> None:
    """What the migrations of a Supabase project do; on 16+ it takes the ADMIN OPTION."""
    _require_shaped_postgres(db)
    db.execute("create role toolkit_reader nologin")
    db.execute("grant authenticated to toolkit_reader")
    assert db.scalar("select pg_has_role('toolkit_reader', 'authenticated', 'member')") is True
