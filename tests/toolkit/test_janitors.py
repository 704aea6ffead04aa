"""Nothing the harness makes outlives the test: databases, and users signed up by Auth."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from pgpolicy.auth import AuthAdmin
from pgpolicy.provision import Server, temporary_database
from pgpolicy.testing.harness import Database


def _database_exists(server: Server, name: str) -> bool:
    with psycopg.connect(server.url()) as conn:
        row = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
    return row is not None


def test_a_temporary_database_is_dropped_even_when_the_block_fails(pg_server: Server) -> None:
    names: list[str] = []
    with (  # noqa: PT012
        pytest.raises(RuntimeError, match="boom"),
        temporary_database(pg_server, "pgpolicy_janitor") as name,
    ):
        names.append(name)
        assert _database_exists(pg_server, name)
        raise RuntimeError("boom")
    assert not _database_exists(pg_server, names[0])


def test_a_sign_up_in_a_rolled_back_test_is_committed_then_deleted(
    pg_clone: Callable[..., str], pg_auth_admin: AuthAdmin
) -> None:
    if pg_auth_admin.server is None:
        pytest.skip(pg_auth_admin.unavailable)
    url = pg_clone("pgpolicy_janitor")
    with psycopg.connect(url, autocommit=True) as conn, psycopg.connect(url) as observer:
        database = Database(conn=conn, url=url, auth_admin=pg_auth_admin)
        with conn.transaction(force_rollback=True):
            alice = database.create_user("alice", app_metadata={"mongoUserId": "m-janitor"})
            # Auth's own connection committed it: another session sees it already.
            seen = observer.execute("select count(*) from auth.users where id = %s", (alice.id,))
            assert seen.fetchone() == (1,)
            observer.rollback()
        database.close()
        left = observer.execute("select count(*) from auth.users where id = %s", (alice.id,))
        assert left.fetchone() == (0,)


@pytest.mark.commit
def test_a_sign_up_runs_auth_users_triggers_as_supabase_auth_admin(db: Database) -> None:
    """The classic "Database error saving new user": an invoker trigger writing a table the
    Auth role was never granted fails the sign-up, and works once it is granted."""
    db.execute("create table public.toolkit_signups (who text)")
    db.execute(
        "create function public.toolkit_log_signup() returns trigger language plpgsql"
        " as $$ begin insert into public.toolkit_signups values (current_user); return new; end $$"
    )
    db.execute(
        "create trigger toolkit_log_signup after insert on auth.users"
        " for each row execute function public.toolkit_log_signup()"
    )
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="toolkit_signups"):
        db.create_user("alice")
    db.execute("grant insert on public.toolkit_signups to supabase_auth_admin")
    db.create_user("bob")
    assert db.execute("select who from public.toolkit_signups") == [{"who": "supabase_auth_admin"}]


@pytest.mark.commit
def test_the_janitor_removes_what_a_sign_up_trigger_wrote_without_cascade(db: Database) -> None:
    """A profile row per new user, its foreign key without ON DELETE CASCADE (a common
    Supabase pattern), and a row referring to the profile: nothing stays, nothing errors."""
    db.execute(
        "create table public.toolkit_profiles (id uuid primary key references auth.users (id));"
        " create table public.toolkit_avatars (id bigint generated always as identity primary key,"
        "   profile_id uuid not null references public.toolkit_profiles (id));"
        " create function public.toolkit_new_profile() returns trigger language plpgsql"
        "   security definer set search_path = '' as $$ begin"
        "   insert into public.toolkit_profiles values (new.id);"
        "   insert into public.toolkit_avatars (profile_id) values (new.id);"
        "   return new; end $$;"
        " create trigger toolkit_new_profile after insert on auth.users"
        "   for each row execute function public.toolkit_new_profile()"
    )
    with psycopg.connect(db.url) as conn:
        rolled_back = Database(conn=conn, url=db.url, rolled_back=True)
        alice = rolled_back.create_user("alice")
        conn.rollback()
        rolled_back.close()
    assert db.scalar("select count(*) from auth.users where id = %s", (alice.id,)) == 0
    assert db.scalar("select count(*) from public.toolkit_profiles") == 0
    assert db.scalar("select count(*) from public.toolkit_avatars") == 0
