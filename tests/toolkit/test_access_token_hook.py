"""Claims go through public.custom_access_token_hook when it exists, as Supabase Auth does.

Auth calls the hook on its own connection (as supabase_auth_admin), which sees only committed
work: the tests that create a hook commit it.
"""

from __future__ import annotations

import psycopg
import pytest

from pgpolicy.auth import HookError
from pgpolicy.testing.assertions import assert_allowed
from pgpolicy.testing.harness import Database

_HOOK = """
create function public.custom_access_token_hook(event jsonb) returns jsonb
language plpgsql stable as $$
begin
  return jsonb_build_object('claims', (event -> 'claims')
    || jsonb_build_object('minted_by', current_user, 'method', event ->> 'authentication_method'));
end $$
"""


def test_without_a_hook_claims_are_the_default_set(db: Database) -> None:
    alice = db.create_user("alice")
    row = assert_allowed(db.as_user(alice).execute("select auth.jwt() as jwt")).rows[0]
    assert "minted_by" not in row["jwt"]
    assert row["jwt"]["sub"] == str(alice.id)


@pytest.mark.commit
def test_hook_claims_reach_the_policies(db: Database) -> None:
    db.execute(_HOOK)
    db.execute(
        "grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin"
    )
    alice = db.create_user("alice")
    row = assert_allowed(db.as_user(alice).execute("select auth.jwt() as jwt")).rows[0]
    assert row["jwt"]["minted_by"] == "supabase_auth_admin"
    assert row["jwt"]["method"] == "password"
    assert row["jwt"]["sub"] == str(alice.id)


@pytest.mark.commit
def test_hook_runs_as_supabase_auth_admin_so_it_needs_the_grant(db: Database) -> None:
    db.execute(_HOOK)
    db.execute(
        "revoke execute on function public.custom_access_token_hook(jsonb)"
        " from public, supabase_auth_admin"
    )
    alice = db.create_user("alice")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.as_user(alice)


@pytest.mark.commit
def test_a_hook_error_refuses_the_token(db: Database) -> None:
    db.execute(
        "create function public.custom_access_token_hook(event jsonb) returns jsonb"
        " language sql as $$ select jsonb_build_object('error',"
        " jsonb_build_object('http_code', 403, 'message', 'no')) $$"
    )
    alice = db.create_user("alice")
    with pytest.raises(HookError, match="refused"):
        db.as_user(alice)


def test_a_hook_is_not_called_over_the_tests_own_uncommitted_work(db: Database) -> None:
    alice = db.create_user("alice")
    # Auth's own connection would not see this hook, nor any row the test wrote: refused,
    # naming the fix, rather than minting claims that ignore the test's own work.
    db.execute(_HOOK)
    with pytest.raises(HookError, match="mark the test commit"):
        db.as_user(alice)


_ROLE_HOOK = """
create table public.toolkit_roles (user_id uuid primary key, role text not null);
grant select on public.toolkit_roles to supabase_auth_admin;
create table public.toolkit_unrelated (note text);
create function public.custom_access_token_hook(event jsonb) returns jsonb
language sql stable as $$
  select jsonb_build_object('claims', (event -> 'claims') || jsonb_build_object('user_role',
    (select r.role from public.toolkit_roles r where r.user_id = (event ->> 'user_id')::uuid)))
$$;
grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;
"""


@pytest.mark.commit
def test_rows_the_hook_does_not_read_do_not_stop_it_in_a_rolled_back_transaction(
    db: Database,
) -> None:
    db.execute(_ROLE_HOOK)
    with psycopg.connect(db.url) as conn:
        rolled_back = Database(conn=conn, url=db.url, rolled_back=True)
        try:
            alice = rolled_back.create_user("alice")
            conn.execute("insert into public.toolkit_unrelated values ('not read by the hook')")
            claims = rolled_back.claims_for(alice)
        finally:
            conn.rollback()
            rolled_back.close()
    assert claims["sub"] == str(alice.id)
    assert claims["user_role"] is None


@pytest.mark.commit
def test_rows_the_hook_reads_in_a_rolled_back_transaction_raise_naming_the_claim(
    db: Database,
) -> None:
    db.execute(_ROLE_HOOK)
    with psycopg.connect(db.url) as conn:
        rolled_back = Database(conn=conn, url=db.url, rolled_back=True)
        try:
            alice = rolled_back.create_user("alice")
            conn.execute("insert into public.toolkit_roles values (%s, 'moderator')", (alice.id,))
            with pytest.raises(HookError, match=r"claims user_role differ.*mark the test commit"):
                rolled_back.claims_for(alice)
        finally:
            conn.rollback()
            rolled_back.close()
