"""Postgres Changes: which subscriber receives which change, as Realtime computes it.

One small table per test, ``public.notes``: RLS lets a user read only their own notes.
"""

from __future__ import annotations

import re
import uuid

import pytest

from pgpolicy.postgrest.claims import Actor
from pgpolicy.postgrest.identity import as_anon, as_service_role
from pgpolicy.realtime.changes import (
    ERROR_NO_PRIMARY_KEY,
    ERROR_PAYLOAD_TOO_LARGE,
    ERROR_UNAUTHORIZED,
    ChangeEvent,
    EventFilter,
    SubscriptionError,
)
from pgpolicy.testing.assertions import assert_allowed, assert_raised
from pgpolicy.testing.harness import Database

_NOTES = """
create table public.notes (
  id int primary key,
  owner uuid not null,
  body text,
  priority int not null default 0,
  secret text
);
alter table public.notes enable row level security;
create policy notes_read_own on public.notes for select to authenticated
  using (owner = (select auth.uid()));
"""


EVENTS: tuple[EventFilter, ...] = ("*", "INSERT", "UPDATE", "DELETE")


def _notes(db: Database, *, published: bool = True, rls: bool = True) -> None:
    db.execute(_NOTES)
    if not rls:
        db.execute("alter table public.notes disable row level security")
    if published:
        db.execute("alter publication supabase_realtime add table public.notes")


def _insert(db: Database, id_: int, owner: Actor, *, priority: int = 0) -> None:
    db.execute(
        "insert into public.notes (id, owner, body, priority, secret) values (%s, %s, %s, %s, 's')",
        (id_, owner.id, f"note {id_}", priority),
    )


def _types(events: list[ChangeEvent]) -> list[str]:
    return [event.type for event in events]


def _ids(events: list[ChangeEvent]) -> list[object]:
    """The ``id`` of each event's new record."""
    return [(event.record or {}).get("id") for event in events]


# publication ---------------------------------------------------------------------------
def test_a_table_outside_the_publication_produces_no_change(db: Database) -> None:
    alice = db.create_user("alice")
    _notes(db, published=False, rls=False)
    feed = db.subscribe("public.notes", as_=alice)
    _insert(db, 1, alice)
    assert db.changes(feed) == []
    db.execute("alter publication supabase_realtime add table public.notes")
    _insert(db, 2, alice)
    assert _ids(db.changes(feed)) == [2]


def test_a_subscriber_receives_only_changes_made_after_it_subscribed(db: Database) -> None:
    alice = db.create_user("alice")
    _notes(db, rls=False)
    early = db.subscribe("public.notes", as_=alice)
    _insert(db, 1, alice)
    late = db.subscribe("public.notes", as_=alice)
    _insert(db, 2, alice)
    assert _ids(db.changes(early)) == [1, 2]
    assert _ids(db.changes(late)) == [2]


def test_a_request_that_fails_produces_no_change(db: Database) -> None:
    alice = db.create_user("alice")
    _notes(db, rls=False)
    feed = db.subscribe("public.notes", as_=alice)
    assert_raised(
        db.as_service_role().execute(
            "insert into public.notes (id, owner) values (1, %s), (1, %s)", (alice.id, alice.id)
        ),
        "23505",
    )
    assert db.changes(feed) == []


# RLS on INSERT and UPDATE ---------------------------------------------------------------
def test_insert_reaches_the_owner_and_not_another_user(db: Database) -> None:
    alice, bob = db.create_user("alice"), db.create_user("bob")
    _notes(db)
    alice_feed = db.subscribe("public.notes", as_=alice)
    bob_feed = db.subscribe("public.notes", as_=bob)
    _insert(db, 1, alice)
    assert _types(db.changes(alice_feed)) == ["INSERT"]
    assert db.changes(bob_feed) == []


def test_anon_socket_receives_nothing_when_the_policy_is_to_authenticated(db: Database) -> None:
    alice = db.create_user("alice")
    _notes(db)
    anon_feed = db.subscribe("public.notes", as_=as_anon())
    _insert(db, 1, alice)
    db.execute("update public.notes set body = 'edited'")
    assert db.changes(anon_feed) == []


def test_without_rls_every_subscription_receives_the_change(db: Database) -> None:
    alice, bob = db.create_user("alice"), db.create_user("bob")
    _notes(db, rls=False)
    feeds = [db.subscribe("public.notes", as_=who) for who in (alice, bob, as_anon())]
    _insert(db, 1, alice)
    assert [_types(db.changes(feed)) for feed in feeds] == [["INSERT"]] * 3


def test_update_is_checked_against_the_row_after_the_change(db: Database) -> None:
    alice, bob = db.create_user("alice"), db.create_user("bob")
    _notes(db)
    _insert(db, 1, alice)
    alice_feed = db.subscribe("public.notes", as_=alice)
    bob_feed = db.subscribe("public.notes", as_=bob)
    db.execute("update public.notes set owner = %s where id = 1", (bob.id,))
    assert db.changes(alice_feed) == []
    assert _types(db.changes(bob_feed)) == ["UPDATE"]


def test_rls_check_sets_only_role_and_claims_not_the_legacy_claim_settings(
    db: Database,
) -> None:
    # A policy reading the legacy per-claim setting sees NULL when Realtime checks it.
    alice = db.create_user("alice")
    db.execute(_NOTES.replace("(select auth.uid())", "auth.uid()"))
    db.execute(
        "create policy notes_read_legacy on public.notes for select to authenticated"
        " using (owner::text = current_setting('request.jwt.claim.sub', true))"
    )
    db.execute("alter policy notes_read_own on public.notes using (false)")
    db.execute("alter publication supabase_realtime add table public.notes")
    feed = db.subscribe("public.notes", as_=alice)
    _insert(db, 1, alice)
    assert db.changes(feed) == []
    db.execute("alter policy notes_read_own on public.notes using (owner = auth.uid())")
    _insert(db, 2, alice)
    assert _ids(db.changes(feed)) == [2]


def test_rls_is_checked_when_realtime_polls_not_when_the_row_was_written(db: Database) -> None:
    alice = db.create_user("alice")
    _notes(db)
    feed = db.subscribe("public.notes", as_=alice)
    _insert(db, 1, alice)
    db.execute("delete from public.notes where id = 1")
    # By the time Realtime checks the INSERT, the row is gone: only the DELETE arrives.
    assert _types(db.changes(feed)) == ["DELETE"]


# DELETE ---------------------------------------------------------------------------------
def test_delete_is_never_checked_and_keeps_only_the_key_under_rls(db: Database) -> None:
    alice, bob = db.create_user("alice"), db.create_user("bob")
    _notes(db)
    db.execute("alter table public.notes replica identity full")
    _insert(db, 1, alice)
    feeds = [db.subscribe("public.notes", as_=who) for who in (alice, bob, as_anon())]
    db.execute("delete from public.notes where id = 1")
    for feed in feeds:
        [event] = db.changes(feed)
        assert event.type == "DELETE"
        assert event.old_record == {"id": 1}
        assert "record" not in event.payload


def test_delete_without_rls_carries_the_old_row_replica_identity_logs(db: Database) -> None:
    alice = db.create_user("alice")
    _notes(db, rls=False)
    _insert(db, 1, alice)
    _insert(db, 2, alice)
    feed = db.subscribe("public.notes", as_=alice)
    db.execute("delete from public.notes where id = 1")
    db.execute("alter table public.notes replica identity full")
    db.execute("delete from public.notes where id = 2")
    first, second = db.changes(feed)
    assert first.old_record == {"id": 1}
    assert second.old_record == {
        "id": 2,
        "owner": str(alice.id),
        "body": "note 2",
        "priority": 0,
        "secret": "s",
    }


def test_update_old_record_needs_replica_identity_full(db: Database) -> None:
    alice = db.create_user("alice")
    _notes(db, rls=False)
    _insert(db, 1, alice)
    feed = db.subscribe("public.notes", as_=alice)
    db.execute("update public.notes set body = 'default identity' where id = 1")
    db.execute("alter table public.notes replica identity full")
    db.execute("update public.notes set body = 'full identity' where id = 1")
    first, second = db.changes(feed)
    # Nothing older than the key is logged; wal2json writes the key from the new tuple.
    assert first.old_record == {"id": 1}
    assert first.payload["old_record"] == {"id": 1}
    assert first.record is not None and first.record["body"] == "default identity"
    assert second.old_record is not None and second.old_record["body"] == "default identity"


def test_update_under_default_identity_that_changes_the_key_sends_the_old_key(
    db: Database,
) -> None:
    alice = db.create_user("alice")
    _notes(db, rls=False)
    _insert(db, 1, alice)
    feed = db.subscribe("public.notes", as_=alice)
    db.execute("update public.notes set id = 5, body = 'moved' where id = 1")
    [event] = db.changes(feed)
    assert (event.old_record, (event.record or {}).get("id")) == ({"id": 1}, 5)


# filters --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("column_filter", "expected"),
    [
        ("priority=eq.3", [3]),
        ("priority=neq.3", [1, 2, 4, 5]),
        ("priority=lt.3", [1, 2]),
        ("priority=lte.3", [1, 2, 3]),
        ("priority=gt.3", [4, 5]),
        ("priority=gte.3", [3, 4, 5]),
        ("priority=in.(1,5)", [1, 5]),
    ],
)
def test_column_filter_delivers_only_matching_rows(
    db: Database, column_filter: str, expected: list[int]
) -> None:
    alice = db.create_user("alice")
    _notes(db, rls=False)
    feed = db.subscribe("public.notes", as_=alice, filter=column_filter)
    for priority in range(1, 6):
        _insert(db, priority, alice, priority=priority)
    assert [(e.record or {}).get("priority") for e in db.changes(feed)] == expected


def test_update_filter_is_evaluated_on_the_new_row(db: Database) -> None:
    alice = db.create_user("alice")
    _notes(db, rls=False)
    _insert(db, 1, alice, priority=1)
    feed = db.subscribe("public.notes", as_=alice, filter="priority=eq.1")
    db.execute("update public.notes set priority = 2 where id = 1")
    assert db.changes(feed) == []


def test_delete_filter_on_a_non_key_column_needs_replica_identity_full(db: Database) -> None:
    alice = db.create_user("alice")
    _notes(db, rls=False)
    _insert(db, 1, alice, priority=1)
    _insert(db, 2, alice, priority=1)
    feed = db.subscribe("public.notes", as_=alice, filter="priority=eq.1")
    db.execute("delete from public.notes where id = 1")
    db.execute("alter table public.notes replica identity full")
    db.execute("delete from public.notes where id = 2")
    assert [e.old_record for e in db.changes(feed)] == [
        {"id": 2, "owner": str(alice.id), "body": "note 2", "priority": 1, "secret": "s"}
    ]


def test_event_filter_delivers_only_that_action(db: Database) -> None:
    alice = db.create_user("alice")
    _notes(db, rls=False)
    feeds = {event: db.subscribe("public.notes", as_=alice, event=event) for event in EVENTS}
    _insert(db, 1, alice)
    db.execute("update public.notes set body = 'b'")
    db.execute("delete from public.notes")
    assert {event: _types(db.changes(feed)) for event, feed in feeds.items()} == {
        "*": ["INSERT", "UPDATE", "DELETE"],
        "INSERT": ["INSERT"],
        "UPDATE": ["UPDATE"],
        "DELETE": ["DELETE"],
    }


@pytest.mark.parametrize(
    "bad", ["nope=eq.1", "priority=eq.high", "priority=like.1", "priority", "id=in.1"]
)
def test_a_bad_filter_is_refused_when_subscribing(db: Database, bad: str) -> None:
    alice = db.create_user("alice")
    _notes(db)
    with pytest.raises(SubscriptionError):
        db.subscribe("public.notes", as_=alice, filter=bad)


def test_an_update_error_event_carries_an_empty_old_record(db: Database) -> None:
    alice = db.create_user("alice")
    _notes(db)
    db.execute("revoke select on public.notes from authenticated")
    db.execute("grant select (owner, body) on public.notes to authenticated")
    _insert(db, 1, alice)
    feed = db.subscribe("public.notes", as_=alice)
    db.execute("update public.notes set body = 'b' where id = 1")
    [update] = db.changes(feed)
    assert update.payload == {
        "schema": "public",
        "table": "notes",
        "type": "UPDATE",
        "commit_timestamp": None,
        "columns": [],
        "record": {},
        "old_record": {},
        "errors": [ERROR_UNAUTHORIZED],
    }


def test_a_filter_on_a_column_the_role_cannot_select_is_refused(db: Database) -> None:
    alice = db.create_user("alice")
    _notes(db)
    db.execute("revoke select on public.notes from authenticated")
    db.execute("grant select (id, owner, body) on public.notes to authenticated")
    with pytest.raises(SubscriptionError, match=r"^invalid column for filter priority$"):
        db.subscribe("public.notes", as_=alice, filter="priority=eq.1")
    # service_role may select it: the same filter is accepted and delivers.
    service = db.subscribe("public.notes", as_=as_service_role(), filter="priority=eq.1")
    _insert(db, 1, alice, priority=1)
    assert _ids(db.changes(service)) == [1]


@pytest.mark.parametrize(
    ("column_filter", "expected"),
    [
        ("priority=gte.2,id=lt.5", [2, 3, 4]),
        ("priority=in.(1,3,5),id=gt.1", [3, 5]),
        ("id=in.(2,4), priority=neq.4", [2]),
    ],
)
def test_filters_separated_by_commas_must_all_match(
    db: Database, column_filter: str, expected: list[int]
) -> None:
    alice = db.create_user("alice")
    _notes(db, rls=False)
    feed = db.subscribe("public.notes", as_=alice, filter=column_filter)
    for priority in range(1, 6):
        _insert(db, priority, alice, priority=priority)
    assert _ids(db.changes(feed)) == expected


@pytest.mark.parametrize("bad", ["priority=eq.1,", "priority=eq.1,,id=eq.1", "id=eq.1,nope=eq.2"])
def test_a_bad_segment_of_a_multi_filter_refuses_the_subscription(db: Database, bad: str) -> None:
    alice = db.create_user("alice")
    _notes(db)
    with pytest.raises(SubscriptionError):
        db.subscribe("public.notes", as_=alice, filter=bad)


def test_subscribing_to_a_missing_table_is_refused(db: Database) -> None:
    with pytest.raises(SubscriptionError, match="no table"):
        db.subscribe("public.missing", as_=as_anon())


# columns and errors -------------------------------------------------------------------
def test_payload_has_realtime_shape_and_only_selectable_columns(db: Database) -> None:
    alice = db.create_user("alice")
    _notes(db)
    db.execute("revoke select on public.notes from authenticated")
    db.execute("grant select (id, owner, body, priority) on public.notes to authenticated")
    feed = db.subscribe("public.notes", as_=alice)
    _insert(db, 1, alice, priority=7)
    [event] = db.changes(feed)
    payload = event.payload
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", payload.pop("commit_timestamp"))
    assert payload == {
        "schema": "public",
        "table": "notes",
        "type": "INSERT",
        "columns": [
            {"name": "id", "type": "int4"},
            {"name": "owner", "type": "uuid"},
            {"name": "body", "type": "text"},
            {"name": "priority", "type": "int4"},
        ],
        "record": {"id": 1, "owner": str(alice.id), "body": "note 1", "priority": 7},
        "errors": None,
    }


def test_a_role_that_cannot_select_the_key_gets_401_but_still_deletes(db: Database) -> None:
    alice = db.create_user("alice")
    _notes(db)
    db.execute("revoke select on public.notes from authenticated")
    db.execute("grant select (owner, body) on public.notes to authenticated")
    service = db.subscribe("public.notes", as_=as_service_role())
    feed = db.subscribe("public.notes", as_=alice)
    _insert(db, 1, alice)
    db.changes()  # Realtime polls (and checks RLS) before the row is deleted
    db.execute("delete from public.notes")
    insert, delete = db.changes(feed)
    # Realtime's poller sends every field of its record, filled where its SQL left them out.
    assert insert.payload == {
        "schema": "public",
        "table": "notes",
        "type": "INSERT",
        "commit_timestamp": None,
        "columns": [],
        "record": {},
        "errors": [ERROR_UNAUTHORIZED],
    }
    assert (delete.type, delete.errors, delete.old_record) == ("DELETE", (), {})
    assert delete.payload["old_record"] == {}
    assert "record" not in delete.payload
    assert [e.errors for e in db.changes(service)] == [(), ()]


def test_a_table_without_primary_key_gives_400_except_for_delete(db: Database) -> None:
    db.execute("create table public.logs (line text)")
    db.execute("alter table public.logs replica identity full")
    db.execute("alter publication supabase_realtime add table public.logs")
    feed = db.subscribe("public.logs", as_=as_anon())
    db.execute("insert into public.logs values ('a')")
    db.execute("delete from public.logs")
    insert, delete = db.changes(feed)
    assert insert.errors == (ERROR_NO_PRIMARY_KEY,)
    assert insert.payload == {
        "schema": "public",
        "table": "logs",
        "type": "INSERT",
        "commit_timestamp": None,
        "columns": [],
        "record": {},
        "errors": [ERROR_NO_PRIMARY_KEY],
    }
    assert (delete.errors, delete.old_record) == ((), {"line": "a"})


def test_a_record_over_1mb_gives_413_and_drops_values_over_64_bytes(db: Database) -> None:
    alice = db.create_user("alice")
    _notes(db, rls=False)
    feed = db.subscribe("public.notes", as_=alice)
    db.execute(
        "insert into public.notes (id, owner, body, secret)"
        " values (1, %s, repeat('x', 1100000), %s)",
        (alice.id, "x" * 62),
    )
    db.execute(
        "insert into public.notes (id, owner, body, secret)"
        " values (2, %s, repeat('x', 1000), null)",
        (alice.id,),
    )
    big, small = db.changes(feed)
    assert big.errors == (ERROR_PAYLOAD_TOO_LARGE,)
    # body (1.1 MB) is dropped; "x" * 62 is 64 bytes as JSON text, so it stays.
    assert big.record == {"id": 1, "owner": str(alice.id), "priority": 0, "secret": "x" * 62}
    assert small.errors == ()
    assert small.record is not None and small.record["secret"] is None


# claims ---------------------------------------------------------------------------------
def test_claims_are_cached_until_the_token_is_refreshed(db: Database) -> None:
    alice = db.create_user("alice", app_metadata={"team": "red"})
    bob = db.create_user("bob")
    db.execute(_NOTES)
    db.execute(
        "create policy notes_read_team on public.notes for select to authenticated"
        " using ((select auth.jwt()) -> 'app_metadata' ->> 'team' = 'red')"
    )
    db.execute("alter publication supabase_realtime add table public.notes")
    feed = db.subscribe("public.notes", as_=alice)
    db.execute(
        'update auth.users set raw_app_meta_data = \'{"team": "blue"}\' where id = %s',
        (alice.id,),
    )
    _insert(db, 1, bob)
    assert _types(db.changes(feed)) == ["INSERT"]  # still the red team's token
    demoted = Actor(id=alice.id, email=alice.email, app_metadata={"team": "blue"}, label="alice")
    refreshed = db.refresh_token(feed, demoted)
    _insert(db, 2, bob)
    assert db.changes(refreshed) == []


# commit mode ----------------------------------------------------------------------------
@pytest.mark.commit
def test_only_committed_changes_of_other_connections_are_delivered(db: Database) -> None:
    alice = db.create_user("alice")
    _notes(db)
    feed = db.subscribe("public.notes", as_=alice)
    writer = db.connect()
    with writer.transaction(force_rollback=True):
        writer.execute("insert into public.notes (id, owner) values (1, %s)", (alice.id,))
    assert db.changes(feed) == []
    with writer.transaction():
        writer.execute("insert into public.notes (id, owner) values (2, %s)", (alice.id,))
        writer.execute("insert into public.notes (id, owner) values (3, %s)", (uuid.uuid4(),))
    assert _ids(db.changes(feed)) == [2]


def test_the_api_roles_write_through_the_capture(db: Database) -> None:
    alice = db.create_user("alice")
    _notes(db)
    db.execute(
        "create policy notes_write_own on public.notes for insert to authenticated"
        " with check (owner = (select auth.uid()))"
    )
    feed = db.subscribe("public.notes", as_=alice)
    assert_allowed(
        db.as_user(alice).execute(
            "insert into public.notes (id, owner) values (1, %s)", (alice.id,)
        ),
        rowcount=1,
    )
    assert _types(db.changes(feed)) == ["INSERT"]


@pytest.mark.commit
def test_a_transaction_that_commits_after_a_later_one_is_still_delivered(db: Database) -> None:
    alice = db.create_user("alice")
    _notes(db, rls=False)
    feed = db.subscribe("public.notes", as_=alice)
    slow, fast = db.connect(), db.connect()
    with slow.transaction():
        slow.execute("insert into public.notes (id, owner) values (1, %s)", (alice.id,))
        with fast.transaction():
            fast.execute("insert into public.notes (id, owner) values (2, %s)", (alice.id,))
        assert _ids(db.changes(feed)) == [2]
    assert _ids(db.changes(feed)) == [2, 1]


def test_an_unknown_event_is_refused_when_subscribing(db: Database) -> None:
    _notes(db)
    with pytest.raises(SubscriptionError, match="unknown event"):
        db.subscribe("public.notes", as_=as_anon(), event="TRUNCATE")  # type: ignore[arg-type]


def test_publication_membership_and_actions_count_when_realtime_polls(db: Database) -> None:
    alice = db.create_user("alice")
    _notes(db, rls=False)
    feed = db.subscribe("public.notes", as_=alice)
    _insert(db, 1, alice)
    db.execute("alter publication supabase_realtime drop table public.notes")
    assert db.changes(feed) == []  # read past while the table was out: never sent
    db.execute("alter publication supabase_realtime add table public.notes")
    _insert(db, 2, alice)
    db.execute("update public.notes set body = 'b' where id = 2")
    db.execute("alter publication supabase_realtime set (publish = 'insert')")
    assert _types(db.changes(feed)) == ["INSERT"]
