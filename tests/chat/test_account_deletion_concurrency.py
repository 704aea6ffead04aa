"""A message sent while the other participant's account is being deleted: each order of the
two transactions ends with the thread closed and no message that names the departed user.

Each interleaving is forced, not raced: one transaction holds its locks open while the other
is started on a second connection and runs until PostgreSQL makes it wait for the first.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest

from pgpolicy.postgrest.identity import Identity
from pgpolicy.postgrest.request import Request, Result
from pgpolicy.testing.assertions import assert_allowed, assert_raised
from tests.chat.conftest import ALICE_MONGO, BOB_MONGO, Chat

# A ceiling for a wait that normally ends at once; never a measurement.
BLOCKED_WITHIN_S = 30.0


def _wait_until_blocked_on_a_lock(observer: psycopg.Connection[Any], pid: int) -> None:
    """Return once backend ``pid`` waits for a lock another transaction holds."""
    for _ in range(int(BLOCKED_WITHIN_S / 0.01)):
        row = observer.execute(
            "select wait_event_type from pg_catalog.pg_stat_activity where pid = %s", (pid,)
        ).fetchone()
        if row is not None and row[0] == "Lock":
            return
        time.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited for a lock")


def _send(chat: Chat, conn: psycopg.Connection[Any], alice: Identity) -> Result:
    return Request(conn, alice).rpc(
        "insert_chat_message",
        _thread_id=chat.thread_id,
        _sender_mongo_id=ALICE_MONGO,
        _recipient_mongo_id=BOB_MONGO,
        _body="sent during the deletion",
    )


def _in_background(target: Any, *args: Any) -> threading.Thread:
    worker = threading.Thread(target=target, args=args)
    worker.start()
    return worker


def _messages_naming_bob(chat: Chat) -> int:
    return chat.count(
        "public.chat_messages", "%s in (user_a_supabase_id, user_b_supabase_id)", (chat.bob.id,)
    )


@pytest.mark.commit
def test_a_send_committed_before_the_deletion_is_kept_like_the_others(chat: Chat) -> None:
    sender, deleter = chat.db.connect(), chat.db.connect()
    alice = chat.db.as_user(chat.alice).identity
    with sender.transaction():
        assert_allowed(_send(chat, sender, alice))
        deletion = _in_background(
            deleter.execute, "delete from auth.users where id = %s", (chat.bob.id,)
        )
        # The deletion waits for the send: the message's participants key holds the thread.
        _wait_until_blocked_on_a_lock(chat.db.conn, deleter.info.backend_pid)
    deletion.join(timeout=BLOCKED_WITHIN_S)
    assert not deletion.is_alive()
    read = chat.caller("alice").execute("select body from public.chat_messages")
    bodies = assert_allowed(read).rows
    assert {"body": "sent during the deletion"} in bodies and len(bodies) == 3
    assert _messages_naming_bob(chat) == 0


@pytest.mark.commit
def test_a_send_racing_an_uncommitted_deletion_is_refused_once_it_commits(chat: Chat) -> None:
    sender, deleter = chat.db.connect(), chat.db.connect()
    alice = chat.db.as_user(chat.alice).identity
    results: list[Result] = []
    with deleter.transaction():
        deleter.execute("delete from auth.users where id = %s", (chat.bob.id,))
        sending = _in_background(lambda: results.append(_send(chat, sender, alice)))
        # The send saw the thread as it was, and its participants key waits for the deletion.
        _wait_until_blocked_on_a_lock(chat.db.conn, sender.info.backend_pid)
    sending.join(timeout=BLOCKED_WITHIN_S)
    assert not sending.is_alive()
    [result] = results
    assert_raised(result, "23503", status=409)
    assert chat.count("public.chat_messages") == 2
    assert _messages_naming_bob(chat) == 0
