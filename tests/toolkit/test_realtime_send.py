"""realtime.send and realtime.broadcast_changes behave as Supabase's: errors become WARNINGs."""

from __future__ import annotations

import datetime as dt
import json

import psycopg
import pytest

from pgpolicy.provision import Server
from pgpolicy.testing.assertions import assert_allowed, assert_raised
from pgpolicy.testing.harness import Database
from pgpolicy.testing.target import Target


def _messages(db: Database, topic: str) -> list[dict[str, object]]:
    return db.execute(
        "select topic, event, payload, private, extension from realtime.messages where topic = %s",
        (topic,),
    )


def test_send_adds_an_id_to_the_payload_and_inserts_a_private_broadcast(db: Database) -> None:
    assert_allowed(
        db.as_service_role().execute(
            "select realtime.send('{\"text\": \"hi\"}'::jsonb, 'greeting', 'room:1')"
        )
    )
    [row] = db.execute(
        "select id, payload, event, private, extension from realtime.messages"
        " where topic = 'room:1'"
    )
    assert row["payload"] == {"text": "hi", "id": str(row["id"])}
    assert (row["event"], row["private"], row["extension"]) == ("greeting", True, "broadcast")


def test_send_keeps_an_id_the_payload_already_has(db: Database) -> None:
    db.as_service_role().execute(
        "select realtime.send('{\"id\": \"mine\"}'::jsonb, 'e', 'room:2', false)"
    )
    [row] = _messages(db, "room:2")
    assert row["payload"] == {"id": "mine"}
    assert row["private"] is False


def test_send_sets_realtime_topic_for_the_policies(db: Database) -> None:
    alice = db.create_user("alice")
    db.execute(
        "create policy toolkit_topic_seen on realtime.messages for insert to authenticated"
        " with check (realtime.topic() = 'room:3')"
    )
    result = assert_allowed(
        db.as_user(alice).execute(
            "select realtime.send('{}'::jsonb, 'e', 'room:3'), realtime.topic() as topic"
        )
    )
    assert result.rows[0]["topic"] == "room:3"
    assert result.notices == []
    assert len(_messages(db, "room:3")) == 1


def test_send_swallows_a_denied_insert_as_a_warning_and_leaves_no_row(db: Database) -> None:
    alice = db.create_user("alice")
    result = assert_allowed(
        db.as_user(alice).execute("select realtime.send('{}'::jsonb, 'e', 'room:4')")
    )
    assert any(
        notice.startswith("WARNING") and "row-level security" in notice for notice in result.notices
    ), result.notices
    assert _messages(db, "room:4") == []


@pytest.mark.commit
def test_send_swallows_a_missing_partition_as_a_warning_and_leaves_no_row(
    db: Database, pg_server: Server, pg_target: Target
) -> None:
    if pg_target.kind == "supabase":
        pytest.skip("removing a partition of Supabase's realtime.messages needs its owner")
    today = db.scalar("select now()::timestamp::date")
    assert isinstance(today, dt.date)
    # Only the table's owner may detach a partition (postgres may not, as on Supabase).
    with psycopg.connect(pg_server.admin().url(db.conn.info.dbname), autocommit=True) as admin:
        admin.execute(
            f"alter table realtime.messages detach partition realtime.messages_{today:%Y_%m_%d}"
        )
    result = assert_allowed(
        db.as_service_role().execute("select realtime.send('{}'::jsonb, 'e', 'room:5')")
    )
    assert any("no partition" in notice for notice in result.notices), result.notices
    assert _messages(db, "room:5") == []


def test_insert_outside_existing_partitions_fails_with_23514(db: Database) -> None:
    result = db.as_service_role().execute(
        "insert into realtime.messages (topic, extension, inserted_at)"
        " values ('room:6', 'broadcast', '1999-01-01')"
    )
    assert_raised(result, "23514")


def _table_broadcasting_changes(db: Database) -> None:
    db.execute("create table public.toolkit_notes (id int primary key, note text)")
    db.execute(
        "create function public.toolkit_notes_broadcast() returns trigger language plpgsql"
        " security definer set search_path = '' as $$ begin"
        " perform realtime.broadcast_changes('notes', tg_op, tg_op, tg_table_name,"
        " tg_table_schema, new, old); return null; end $$"
    )
    db.execute(
        "create trigger toolkit_notes_broadcast after insert or update or delete"
        " on public.toolkit_notes for each row execute function public.toolkit_notes_broadcast()"
    )


def test_broadcast_changes_sends_record_operation_table_schema(db: Database) -> None:
    _table_broadcasting_changes(db)
    db.execute("insert into public.toolkit_notes values (1, 'first')")
    db.execute("update public.toolkit_notes set note = 'second' where id = 1")
    db.execute("delete from public.toolkit_notes where id = 1")
    sent = db.broadcasts("notes")
    assert [message.event for message in sent] == ["INSERT", "UPDATE", "DELETE"]
    payloads = [{k: v for k, v in message.payload.items() if k != "id"} for message in sent]
    assert payloads[0] == {
        "old_record": None,
        "record": {"id": 1, "note": "first"},
        "operation": "INSERT",
        "table": "toolkit_notes",
        "schema": "public",
    }
    assert payloads[1]["old_record"] == {"id": 1, "note": "first"}
    assert payloads[1]["record"] == {"id": 1, "note": "second"}
    assert payloads[2]["record"] is None
    assert all(message.private for message in sent)


def test_broadcast_changes_refuses_statement_level(db: Database) -> None:
    result = db.as_service_role().execute(
        "select realtime.broadcast_changes('t', 'e', 'INSERT', 'x', 'public', null::record,"
        " null::record, 'STATEMENT')"
    )
    assert_raised(result, "P0001")
    assert result.message is not None and "for each row" in result.message


def test_broadcast_changes_refuses_other_operations(db: Database) -> None:
    result = db.as_service_role().execute(
        "select realtime.broadcast_changes('t', 'e', 'TRUNCATE', 'x', 'public', null::record,"
        " null::record)"
    )
    assert_raised(result, "P0001")
    assert result.message is not None and "TRUNCATE" in result.message
    assert json.dumps(_messages(db, "t")) == "[]"
