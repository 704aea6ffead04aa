"""supautils' policy locks, as Supabase runs them: every CREATE, ALTER or DROP POLICY by
postgres, on any table (the test's own included), takes ACCESS EXCLUSIVE on the tables of
its policy_grants list until the transaction ends, so a sign-up waits for that transaction."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgpolicy.auth import SignUpBlocked
from pgpolicy.auth.signup import insert_user, new_actor
from pgpolicy.testing.harness import Database

# On every Supabase-shaped database (Auth's and Realtime's tables; storage is not emulated).
LOCKED_EVERYWHERE = {"auth.users", "realtime.messages"}

_OWN_TABLE = """
create table public.own_notes (id int primary key, owner uuid);
alter table public.own_notes enable row level security;
create policy own_notes_read on public.own_notes for select to authenticated using (false);
"""

_HELD = """
select l.relation::regclass::text
from pg_catalog.pg_locks l
where l.pid = %s and l.locktype = 'relation' and l.granted and l.mode = 'AccessExclusiveLock'
  and l.relation::regclass::text = any(%s)
"""


@pytest.fixture
def supautils(db: Database) -> None:
    if db.scalar("select rolsuper from pg_catalog.pg_roles where rolname = current_user"):
        pytest.skip("the working role is a superuser here: no supautils, no policy_grants locks")


def _held(db: Database, conn: psycopg.Connection[Any]) -> set[str]:
    rows = db.conn.execute(_HELD, (conn.info.backend_pid, sorted(LOCKED_EVERYWHERE))).fetchall()
    return {row[0] for row in rows}


@pytest.mark.commit
@pytest.mark.parametrize(
    "statement",
    [
        "create policy own_notes_write on public.own_notes for insert to authenticated"
        " with check (false)",
        "alter policy own_notes_read on public.own_notes using (owner is null)",
        "drop policy own_notes_read on public.own_notes",
    ],
    ids=["create", "alter", "drop"],
)
def test_a_policy_statement_on_the_tests_own_table_locks_auth_users_until_it_commits(
    db: Database, supautils: None, statement: str
) -> None:
    db.execute(_OWN_TABLE)
    migration = db.connect()
    migration.autocommit = False
    migration.execute(statement)
    assert _held(db, migration) == LOCKED_EVERYWHERE
    migration.commit()
    assert _held(db, migration) == set()


@pytest.mark.commit
def test_a_sign_up_waits_for_the_policy_statements_transaction(
    db: Database, supautils: None
) -> None:
    db.execute(_OWN_TABLE)
    migration = db.connect()
    migration.autocommit = False
    migration.execute("alter policy own_notes_read on public.own_notes using (true)")
    auth = db.auth.connection()
    auth.execute("set lock_timeout = '200ms'")
    try:
        with pytest.raises(SignUpBlocked) as blocked:
            insert_user(auth, new_actor("waiting"))
        assert isinstance(blocked.value.__cause__, psycopg.errors.LockNotAvailable)  # 55P03
        migration.rollback()
        assert insert_user(auth, new_actor("after"))
    finally:
        auth.execute("reset lock_timeout")


def test_signing_up_after_a_policy_statement_in_the_same_transaction_says_why(
    db: Database, supautils: None
) -> None:
    db.execute(_OWN_TABLE)
    with pytest.raises(SignUpBlocked, match=r"'late' would wait forever: .*auth\.users.*") as err:
        db.create_user("late")
    assert "Sign users up before the first policy statement" in str(err.value)
    # Asked, not waited for: the test's transaction is still usable.
    assert db.scalar("select count(*) from public.own_notes") == 0


def test_users_signed_up_before_the_policy_statement_need_no_wait(
    db: Database, supautils: None
) -> None:
    alice = db.create_user("alice")
    db.execute(_OWN_TABLE)
    assert db.scalar("select count(*) from auth.users where id = %s", (alice.id,)) == 1
