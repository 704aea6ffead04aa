"""Postgres Changes where only the WAL knows: unchanged TOAST, commit times, 413 sizing.

Committing tests read the changes from a logical slot, as Realtime does; the payloads below
are the ones Realtime sends for the same changes (wal2json format 2 through
``realtime.apply_rls``).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import psycopg
import pytest

from pgpolicy.postgrest.identity import as_service_role
from pgpolicy.realtime import slot
from pgpolicy.realtime.changes import (
    ERROR_PAYLOAD_TOO_LARGE,
    MAX_RECORD_BYTES,
    SubscriptionError,
)
from pgpolicy.testing.harness import Database

_DOCS = """
create table public.docs (id int primary key, storage_path text, note text);
alter publication supabase_realtime add table public.docs;
"""
_COLUMNS = [
    {"name": "id", "type": "int4"},
    {"name": "storage_path", "type": "text"},
    {"name": "note", "type": "text"},
]
_MS = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'


@pytest.fixture(autouse=True)
def _decoding_where_committing(request: pytest.FixtureRequest) -> None:
    """Committing tests here read the WAL: on a server that cannot decode it (wal_level below
    logical, no REPLICATION) they would exercise the trigger path instead."""
    if request.node.get_closest_marker("commit") is None:
        return
    db: Database = request.getfixturevalue("db")
    if not slot.can_decode(db.conn):
        level = db.scalar("show wal_level")
        pytest.skip(f"this server cannot decode its WAL (wal_level={level}): trigger path only")


def _incompressible(size: int) -> str:
    """Random text: pglz cannot shrink it, so a row holding it is TOASTed out of line."""
    return secrets.token_urlsafe(size)[:size]


def _commit_timestamp(conn: psycopg.Connection[Any], table: str, id_: int) -> str:
    """The commit time of the row's transaction, in the format Realtime sends."""
    row = conn.execute(
        f"select pg_catalog.to_char(pg_catalog.pg_xact_commit_timestamp(xmin)"
        f" at time zone 'utc', '{_MS}') from {table} where id = %s",
        (id_,),
    ).fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.commit
def test_an_unchanged_toasted_value_is_missing_under_replica_identity_default(
    db: Database,
) -> None:
    db.execute(_DOCS)
    big, small = _incompressible(8192), "short/path"
    writer = db.connect()
    writer.execute("insert into public.docs values (1, %s, 'a'), (2, %s, 'a')", (big, small))
    stored = db.scalar(
        "select pg_catalog.pg_column_size(storage_path) from public.docs where id = 1"
    )
    assert stored >= 8192  # not compressed: stored out of line, in the TOAST table
    feed = db.subscribe("public.docs", as_=as_service_role())
    filtered = db.subscribe("public.docs", as_=as_service_role(), filter=f"storage_path=eq.{big}")
    writer.execute("update public.docs set note = 'b'")
    first, second = db.changes(feed)
    timestamp = _commit_timestamp(db.conn, "public.docs", 1)
    # wal2json leaves the unchanged TOASTed value out; the old tuple holds only the key.
    assert first.payload == {
        "schema": "public",
        "table": "docs",
        "type": "UPDATE",
        "commit_timestamp": timestamp,
        "columns": _COLUMNS,
        "record": {"id": 1, "note": "b"},
        "old_record": {"id": 1},
        "errors": None,
    }
    # A value stored inline is always in the WAL.
    assert second.record == {"id": 2, "storage_path": small, "note": "b"}
    # A filter on the missing column does not match (Realtime's filter sees the WAL's columns).
    assert db.changes(filtered) == []


@pytest.mark.commit
def test_an_unchanged_toasted_value_comes_from_the_old_row_under_replica_identity_full(
    db: Database,
) -> None:
    db.execute(_DOCS)
    db.execute("alter table public.docs replica identity full")
    big = _incompressible(8192)
    writer = db.connect()
    writer.execute("insert into public.docs values (1, %s, 'a')", (big,))
    feed = db.subscribe("public.docs", as_=as_service_role())
    writer.execute("update public.docs set note = 'b' where id = 1")
    writer.execute("update public.docs set storage_path = 'moved' where id = 1")
    unchanged, changed = db.changes(feed)
    assert unchanged.record == {"id": 1, "storage_path": big, "note": "b"}
    assert unchanged.old_record == {"id": 1, "storage_path": big, "note": "a"}
    assert changed.record == {"id": 1, "storage_path": "moved", "note": "b"}


@pytest.mark.commit
def test_commit_timestamp_is_the_transactions_commit_time(db: Database) -> None:
    db.execute(_DOCS)
    feed = db.subscribe("public.docs", as_=as_service_role())
    writer = db.connect()
    with writer.transaction():
        writer.execute("insert into public.docs values (1, 'p', 'a')")
        writer.execute("select pg_catalog.pg_sleep(0.01)")  # the commit comes later
        writer.execute("insert into public.docs values (2, 'p', 'a')")
    first, second = db.changes(feed)
    expected = _commit_timestamp(db.conn, "public.docs", 1)
    assert first.commit_timestamp == second.commit_timestamp == expected


def test_commit_timestamp_in_a_rolled_back_test_is_its_transactions_start(db: Database) -> None:
    db.execute(_DOCS)
    feed = db.subscribe("public.docs", as_=as_service_role())
    db.execute("insert into public.docs values (1, 'p', 'a')")
    db.execute("select pg_catalog.pg_sleep(0.01)")
    db.execute("insert into public.docs values (2, 'p', 'a')")
    expected = db.scalar(f"select pg_catalog.to_char(now() at time zone 'utc', '{_MS}')")
    assert [event.commit_timestamp for event in db.changes(feed)] == [expected, expected]


# 413 -------------------------------------------------------------------------------------
def _jsonb_text_size(message: dict[str, Any]) -> int:
    """The bytes of a message as jsonb's text form writes it: a space after ':' and ','."""
    return len(json.dumps(message, separators=(", ", ": "), ensure_ascii=False).encode())


def _timestamp_text(db: Database) -> str:
    """now() as wal2json writes a commit time (ISO, UTC)."""
    return str(db.scalar("select (now() at time zone 'utc')::text || '+00'"))


_NARROW = "create table public.blobs (id int primary key, body text)"
_WIDE = """
create table public.blobs (
  id int primary key, body text, label varchar(20), amount numeric(10,2), big bigint,
  ok boolean, day date, meta jsonb, tags int[], ref uuid, ratio float8, gone text
)
"""
_WIDE_VALUES = (
    ", 'label', 12.25, 9000000000, true, '2026-01-02', '{\"a\": [1, 2]}', '{1,2,3}',"
    " '00000000-0000-0000-0000-000000000001', 0.5, null"
)


def _narrow_message(timestamp: str, id_: int, body: str) -> dict[str, Any]:
    return {
        "action": "I",
        "timestamp": timestamp,
        "schema": "public",
        "table": "blobs",
        "columns": [
            {"name": "id", "type": "integer", "typeoid": 23, "value": id_},
            {"name": "body", "type": "text", "typeoid": 25, "value": body},
        ],
        "pk": [{"name": "id", "type": "integer", "typeoid": 23}],
    }


def _wide_message(timestamp: str, id_: int, body: str) -> dict[str, Any]:
    message = _narrow_message(timestamp, id_, body)
    message["columns"] += [
        {"name": "label", "type": "character varying(20)", "typeoid": 1043, "value": "label"},
        {"name": "amount", "type": "numeric(10,2)", "typeoid": 1700, "value": 12.25},
        {"name": "big", "type": "bigint", "typeoid": 20, "value": 9000000000},
        {"name": "ok", "type": "boolean", "typeoid": 16, "value": True},
        {"name": "day", "type": "date", "typeoid": 1082, "value": "2026-01-02"},
        {"name": "meta", "type": "jsonb", "typeoid": 3802, "value": '{"a": [1, 2]}'},
        {"name": "tags", "type": "integer[]", "typeoid": 1007, "value": "{1,2,3}"},
        {
            "name": "ref",
            "type": "uuid",
            "typeoid": 2950,
            "value": "00000000-0000-0000-0000-000000000001",
        },
        {"name": "ratio", "type": "double precision", "typeoid": 701, "value": 0.5},
        {"name": "gone", "type": "text", "typeoid": 25, "value": None},
    ]
    return message


@pytest.mark.parametrize(
    ("create", "values", "message"),
    [(_NARROW, "", _narrow_message), (_WIDE, _WIDE_VALUES, _wide_message)],
    ids=["narrow", "wide"],
)
def test_413_is_sent_exactly_when_wal2json_text_is_over_1mb(
    db: Database, create: str, values: str, message: Any
) -> None:
    db.execute(create)
    db.execute("alter publication supabase_realtime add table public.blobs")
    feed = db.subscribe("public.blobs", as_=as_service_role())
    timestamp = _timestamp_text(db)
    # The body that makes the message exactly 1 MB (Realtime's test is "more than").
    fixed = _jsonb_text_size(message(timestamp, 1, ""))
    at_limit = MAX_RECORD_BYTES - fixed
    for id_, extra in ((1, -1), (2, 0), (3, 1)):
        body = "x" * (at_limit + extra)
        assert _jsonb_text_size(message(timestamp, id_, body)) == MAX_RECORD_BYTES + extra
        db.execute(
            f"insert into public.blobs values ({id_}, %s{values})",
            (body,),
        )
    under, at, over = db.changes(feed)
    assert (under.errors, at.errors, over.errors) == ((), (), (ERROR_PAYLOAD_TOO_LARGE,))
    assert at.record is not None and len(at.record["body"]) == at_limit
    assert over.record is not None and "body" not in over.record and over.record["id"] == 3


@pytest.mark.commit
@pytest.mark.parametrize(
    ("create", "values", "message"),
    [(_NARROW, "", _narrow_message), (_WIDE, _WIDE_VALUES, _wide_message)],
    ids=["narrow", "wide"],
)
def test_413_in_a_committing_test_is_measured_with_the_real_commit_time(
    db: Database, create: str, values: str, message: Any
) -> None:
    db.execute(create)
    db.execute("alter publication supabase_realtime add table public.blobs")
    feed = db.subscribe("public.blobs", as_=as_service_role())
    # wal2json's commit time drops trailing zeros (29 bytes at most, 22 at least), so the
    # bodies span the boundary whatever time the commit gets.
    longest = "2026-01-01 00:00:00.123456+00"
    at_limit = MAX_RECORD_BYTES - _jsonb_text_size(message(longest, 1, ""))
    extras = range(-1, 9)
    writer = db.connect()
    with writer.transaction():
        for id_, extra in enumerate(extras, start=1):
            writer.execute(
                f"insert into public.blobs values (%s, %s{values})", (id_, "x" * (at_limit + extra))
            )
    committed = str(
        db.scalar(
            "select (pg_catalog.pg_xact_commit_timestamp(xmin) at time zone 'utc')::text || '+00'"
            " from public.blobs where id = 1"
        )
    )
    sizes = [
        _jsonb_text_size(message(committed, id_, "x" * (at_limit + extra)))
        for id_, extra in enumerate(extras, start=1)
    ]
    assert {MAX_RECORD_BYTES, MAX_RECORD_BYTES + 1} <= set(sizes)
    expected = [(ERROR_PAYLOAD_TOO_LARGE,) if size > MAX_RECORD_BYTES else () for size in sizes]
    assert [event.errors for event in db.changes(feed)] == expected


@pytest.mark.commit
def test_old_record_from_the_wal_under_replica_identity_default(db: Database) -> None:
    db.execute(_DOCS)
    writer = db.connect()
    writer.execute("insert into public.docs values (1, 'p', 'a')")
    feed = db.subscribe("public.docs", as_=as_service_role())
    writer.execute("update public.docs set note = 'b' where id = 1")
    writer.execute("update public.docs set id = 5 where id = 1")
    writer.execute("delete from public.docs where id = 5")
    kept, moved, deleted = db.changes(feed)
    # No old tuple is logged when the key is kept: wal2json writes the key from the new row.
    assert (kept.old_record, kept.record) == (
        {"id": 1},
        {"id": 1, "storage_path": "p", "note": "b"},
    )
    assert (moved.old_record, (moved.record or {}).get("id")) == ({"id": 1}, 5)
    assert deleted.old_record == {"id": 5}


@pytest.mark.commit
def test_closing_the_database_drops_its_logical_slot(db: Database) -> None:
    db.execute(_DOCS)
    db.subscribe("public.docs", as_=as_service_role())
    slots = (
        "select count(*) from pg_catalog.pg_replication_slots where database = current_database()"
    )
    assert db.scalar(slots) == 1
    db.close()
    assert db.scalar(slots) == 0


@pytest.mark.commit
def test_subscribing_while_a_write_is_open_is_refused_clearly(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A new slot waits for the transactions running; one the test holds open never ends.
    monkeypatch.setattr(slot, "_CREATE_TIMEOUT", "1s")
    db.execute(_DOCS)
    writer = db.connect()
    with writer.transaction():
        writer.execute("insert into public.docs values (1, 'p', 'a')")
        with pytest.raises(SubscriptionError, match="another transaction is open"):
            db.subscribe("public.docs", as_=as_service_role())
    feed = db.subscribe("public.docs", as_=as_service_role())
    writer.execute("insert into public.docs values (2, 'p', 'a')")
    assert [event.record for event in db.changes(feed)] == [
        {"id": 2, "storage_path": "p", "note": "a"}
    ]


def test_a_role_without_replication_cannot_decode(db: Database) -> None:
    if db.scalar("show wal_level") != "logical":
        pytest.skip("this server's wal_level is not logical: nobody can decode here")
    assert slot.can_decode(db.conn)
    db.execute("set local role authenticated")
    assert not slot.can_decode(db.conn)


@pytest.mark.commit
def test_a_stored_generated_column_is_in_the_record(db: Database) -> None:
    db.execute(_DOCS)
    db.execute(
        "alter table public.docs add column shout text generated always as (upper(note)) stored"
    )
    feed = db.subscribe("public.docs", as_=as_service_role())
    writer = db.connect()
    writer.execute("insert into public.docs (id, storage_path, note) values (1, 'p', 'a')")
    writer.execute("insert into public.docs (id, storage_path) values (2, 'p')")
    writer.execute("update public.docs set note = 'b' where id = 1")
    # wal2json sends the stored value (pgoutput before 18 leaves it out of the WAL stream).
    assert [event.record for event in db.changes(feed)] == [
        {"id": 1, "storage_path": "p", "note": "a", "shout": "A"},
        {"id": 2, "storage_path": "p", "note": None, "shout": None},
        {"id": 1, "storage_path": "p", "note": "b", "shout": "B"},
    ]
