"""Every committed message yields exactly one deliverable private broadcast; nothing else does.

These tests commit, so what a subscriber would receive is read from another connection:
Realtime streams only committed inserts.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest

from pgpolicy.postgrest.identity import as_user
from pgpolicy.postgrest.request import Request, Result
from pgpolicy.realtime.channels import Broadcast, delivered_broadcasts
from pgpolicy.testing.assertions import assert_allowed, assert_raised
from tests.chat.conftest import ALICE_MONGO, BOB_MONGO, Chat

pytestmark = pytest.mark.commit


def _delivered(chat: Chat) -> list[Broadcast]:
    with psycopg.connect(chat.db.url) as observer:
        return delivered_broadcasts(observer, f"chat:{chat.thread_id}")


def _by_message(chat: Chat, message_id: uuid.UUID) -> list[Broadcast]:
    return [b for b in _delivered(chat) if b.payload["record"]["id"] == str(message_id)]


def _rpc_send(
    chat: Chat, conn: psycopg.Connection[object] | None = None, body: str = "hi"
) -> Result:
    return Request(conn or chat.db.conn, as_user(chat.alice)).rpc(
        "insert_chat_message",
        _thread_id=chat.thread_id,
        _sender_mongo_id=ALICE_MONGO,
        _recipient_mongo_id=BOB_MONGO,
        _body=body,
    )


def test_rpc_message_yields_one_broadcast_with_the_client_payload(chat: Chat) -> None:
    row = assert_allowed(_rpc_send(chat, body="over the wire")).rows[0]
    [broadcast] = _by_message(chat, row["id"])
    assert broadcast.private is True
    assert broadcast.event == "INSERT"
    assert broadcast.topic == f"chat:{chat.thread_id}"
    payload = broadcast.payload
    assert (payload["operation"], payload["table"], payload["schema"]) == (
        "INSERT",
        "chat_messages",
        "public",
    )
    assert payload["old_record"] is None
    record = payload["record"]
    assert record["body"] == "over the wire"
    assert record["thread_id"] == chat.thread_id
    assert record["sender_supabase_id"] == str(chat.alice.id)
    assert (record["sender_mongo_id"], record["recipient_mongo_id"]) == (ALICE_MONGO, BOB_MONGO)


def test_direct_insert_yields_one_broadcast(chat: Chat) -> None:
    result = chat.db.as_user(chat.bob).execute(
        "insert into public.chat_messages (thread_id, sender_supabase_id, sender_mongo_id,"
        " recipient_mongo_id, body) values (%s, %s, %s, %s, 'direct') returning id",
        (chat.thread_id, chat.bob.id, BOB_MONGO, ALICE_MONGO),
    )
    [row] = assert_allowed(result).rows
    assert len(_by_message(chat, row["id"])) == 1


def test_each_committed_message_yields_exactly_one_broadcast(chat: Chat) -> None:
    for n in range(5):
        assert_allowed(_rpc_send(chat, body=f"n{n}"))
    message_ids = [row["id"] for row in chat.db.execute("select id from public.chat_messages")]
    delivered = [b.payload["record"]["id"] for b in _delivered(chat)]
    assert sorted(delivered) == sorted(str(message_id) for message_id in message_ids)


def test_rolled_back_send_yields_no_broadcast(chat: Chat) -> None:
    before = _delivered(chat)
    conn = chat.db.connect()
    with conn.transaction(force_rollback=True):
        assert_allowed(_rpc_send(chat, conn, body="never committed"))
    assert _delivered(chat) == before
    assert chat.count("public.chat_messages", "body = 'never committed'") == 0


def test_refused_send_yields_no_broadcast(chat: Chat) -> None:
    before = _delivered(chat)
    assert_raised(_rpc_send(chat, body="   "), "22023")
    assert _delivered(chat) == before


def test_broadcasts_are_not_delivered_on_the_public_channel(chat: Chat) -> None:
    with psycopg.connect(chat.db.url) as observer:
        public = delivered_broadcasts(observer, f"chat:{chat.thread_id}", private=False)
    assert public == []
    assert len(_delivered(chat)) == 2  # the two fixture messages, privately
