"""safeupdate on PostgREST's connections: an UPDATE or DELETE without a WHERE clause is refused
with 21000 (HTTP 400) for every API role, whatever RLS would do; the privileged role is not."""

from __future__ import annotations

import pytest

from pgpolicy.postgrest.claims import Actor
from pgpolicy.postgrest.identity import as_anon, as_service_role
from pgpolicy.testing.assertions import assert_allowed, assert_raised
from pgpolicy.testing.harness import Database

_NOTES = """
create table public.su_notes (id int primary key, owner uuid, body text not null);
alter table public.su_notes enable row level security;
grant select, update, delete on public.su_notes to anon, authenticated, service_role;
create policy su_notes_own on public.su_notes for all to authenticated
  using (owner = (select auth.uid()));
"""


@pytest.fixture
def alice(db: Database) -> Actor:
    return db.create_user("alice")  # before the policy statement below, which locks auth.users


@pytest.fixture
def notes(db: Database, alice: Actor) -> None:
    db.execute(_NOTES)
    db.execute("insert into public.su_notes values (1, null, 'one'), (2, null, 'two')")


def _bodies(db: Database) -> list[str]:
    return [row["body"] for row in db.execute("select body from public.su_notes order by id")]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("update public.su_notes set body = 'x'", "UPDATE requires a WHERE clause"),
        ("delete from public.su_notes", "DELETE requires a WHERE clause"),
        (
            "with gone as (delete from public.su_notes returning id) select count(*) from gone",
            "DELETE requires a WHERE clause",
        ),
        ("update public.su_notes n set body = 'x' from (select 1) one", "UPDATE requires"),
    ],
    ids=["update", "delete", "delete-in-with", "update-from"],
)
def test_a_user_writing_without_where_gets_21000_and_400_and_nothing_changes(
    db: Database, alice: Actor, notes: None, statement: str, message: str
) -> None:
    result = assert_raised(db.as_user(alice).execute(statement, method="PATCH"), "21000")
    assert result.message is not None and result.message.startswith(message)
    assert result.status == 400
    assert _bodies(db) == ["one", "two"]


def test_service_role_and_anon_are_refused_too(db: Database, notes: None) -> None:
    for identity in (as_service_role(), as_anon()):
        result = db.request(identity).execute("delete from public.su_notes", method="DELETE")
        assert (result.sqlstate, result.status) == ("21000", 400)
    assert _bodies(db) == ["one", "two"]


def test_a_filter_every_row_passes_is_a_where_clause(db: Database, notes: None) -> None:
    result = db.as_service_role().execute(
        "update public.su_notes set body = 'x' where id is not null", method="PATCH"
    )
    assert_allowed(result)
    assert _bodies(db) == ["x", "x"]


def test_an_upsert_is_not_an_update(db: Database, notes: None) -> None:
    db.execute("grant insert on public.su_notes to service_role")
    result = db.as_service_role().execute(
        "insert into public.su_notes values (1, null, 'y')"
        " on conflict (id) do update set body = excluded.body",
        method="POST",
    )
    assert_allowed(result)
    assert _bodies(db) == ["y", "two"]


def test_the_privileged_role_is_not_affected(db: Database, notes: None) -> None:
    db.execute("update public.su_notes set body = 'z'")
    assert _bodies(db) == ["z", "z"]
