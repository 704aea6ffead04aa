"""Deleting an account: the other participant keeps the conversation, the departed account's
tokens read nothing, nobody sends into the thread again, and a new account that is given the
departed Mongo id inherits nothing.

bob leaves (his auth.users row is deleted); alice, who did nothing, keeps the thread and both
sides' messages. alice holds the smaller Mongo id, so she is user_a and bob's side is user_b.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from pgpolicy.auth.signup import insert_user, new_actor
from pgpolicy.postgrest.claims import Actor
from pgpolicy.postgrest.request import Request, Result
from pgpolicy.testing.assertions import (
    assert_allowed,
    assert_denied,
    assert_filtered,
    assert_raised,
)
from tests.chat.conftest import ALICE_MONGO, BOB_MONGO, CAROL_MONGO, Chat

DEPARTED = "23503"
DEPARTED_MESSAGE = "the other participant has deleted their account"
CLOSED_MESSAGE = "the conversation with this person was closed when an account was deleted"
TABLES = ("chat_threads", "chat_messages", "chat_identities", "chat_thread_members")


def _delete_account(chat: Chat, actor: Actor) -> None:
    chat.db.execute("delete from auth.users where id = %s", (actor.id,))


def _token_of(chat: Chat, actor: Actor) -> Request:
    """A request carrying the access token ``actor`` was issued before the account went."""
    identity = chat.db.as_user(actor).identity
    return chat.db.request(identity)


def _service_sees_the_conversation(chat: Chat) -> None:
    """The thread and both messages are still stored (the backend bypasses RLS)."""
    service = chat.caller("service_role")
    threads = assert_allowed(service.execute("select thread_id from public.chat_threads")).rows
    assert threads == [{"thread_id": chat.thread_id}]
    messages = assert_allowed(service.execute("select id from public.chat_messages")).rows
    assert len(messages) == 2


@contextmanager
def nothing_left_behind(chat: Chat, thread_id: str) -> Iterator[None]:
    """No message, no thread, no membership and no broadcast may come out of the block."""
    broadcasts = len(chat.db.broadcasts(f"chat:{thread_id}"))
    with chat.db.unchanged(
        "public.chat_messages", "public.chat_threads", "public.chat_thread_members"
    ):
        yield
    assert len(chat.db.broadcasts(f"chat:{thread_id}")) == broadcasts


def test_remaining_participant_still_reads_the_thread_and_both_sides_messages(
    chat: Chat,
) -> None:
    _delete_account(chat, chat.bob)
    alice = chat.caller("alice")
    [thread] = assert_allowed(alice.execute("select * from public.chat_threads")).rows
    # The client sees that the other side is gone: its user id is NULL, its Mongo id stays.
    assert thread["thread_id"] == chat.thread_id
    assert (thread["user_a_supabase_id"], thread["user_b_supabase_id"]) == (chat.alice.id, None)
    assert (thread["user_a_mongo_id"], thread["user_b_mongo_id"]) == (ALICE_MONGO, BOB_MONGO)
    messages = assert_allowed(
        alice.execute("select body, sender_supabase_id from public.chat_messages order by body")
    ).rows
    assert messages == [
        {"body": "hi alice", "sender_supabase_id": chat.bob.id},
        {"body": "hi bob", "sender_supabase_id": chat.alice.id},
    ]
    page = assert_allowed(alice.rpc("chat_history", _thread_id=chat.thread_id)).rows
    assert [row["body"] for row in page] == ["hi alice", "hi bob"]
    members = alice.execute("select user_id, thread_id from public.chat_thread_members")
    assert assert_allowed(members).rows == [{"user_id": chat.alice.id, "thread_id": chat.thread_id}]
    assert chat.db.join(f"chat:{chat.thread_id}", chat.alice).read["broadcast"]


def test_unlinking_the_mongo_id_leaves_the_conversation_to_the_other_participant(
    chat: Chat,
) -> None:
    chat.db.execute(
        "update auth.users set raw_app_meta_data = raw_app_meta_data - 'mongoUserId' where id = %s",
        (chat.bob.id,),
    )
    alice = chat.caller("alice")
    [thread] = assert_allowed(alice.execute("select * from public.chat_threads")).rows
    assert thread["user_b_supabase_id"] is None
    assert len(assert_allowed(alice.execute("select id from public.chat_messages")).rows) == 2
    for table in TABLES:
        assert_filtered(chat.caller("bob").execute(f"select * from public.{table}"))


def test_departed_users_token_reads_nothing(chat: Chat) -> None:
    token = _token_of(chat, chat.bob)
    _delete_account(chat, chat.bob)
    _service_sees_the_conversation(chat)
    for table in TABLES:
        assert_filtered(token.execute(f"select * from public.{table}"))
    assert_filtered(token.rpc("chat_history", _thread_id=chat.thread_id))
    assert_denied(token.rpc("ensure_chat_thread", _other_mongo_id=ALICE_MONGO))
    with nothing_left_behind(chat, chat.thread_id):
        assert_denied(
            token.rpc(
                "insert_chat_message",
                _thread_id=chat.thread_id,
                _sender_mongo_id=BOB_MONGO,
                _recipient_mongo_id=ALICE_MONGO,
                _body="still here?",
            )
        )
    access = chat.db.join(f"chat:{chat.thread_id}", token.identity)
    assert access.error is None
    assert not any(access.read.values()) and not any(access.write.values())


def _send_as_alice(chat: Chat, path: str) -> Result:
    args = {
        "_thread_id": chat.thread_id,
        "_sender_mongo_id": ALICE_MONGO,
        "_recipient_mongo_id": BOB_MONGO,
        "_body": "are you there?",
    }
    alice = chat.caller("alice")
    if path == "insert_chat_message":
        return alice.rpc("insert_chat_message", **args)
    if path == "insert_chat_message_once":
        return alice.rpc("insert_chat_message_once", _message_id=uuid.uuid4(), **args)
    return alice.execute(
        "insert into public.chat_messages (thread_id, sender_supabase_id, sender_mongo_id,"
        " recipient_mongo_id, body) values (%s, %s, %s, %s, %s)",
        (chat.thread_id, chat.alice.id, ALICE_MONGO, BOB_MONGO, args["_body"]),
    )


@pytest.mark.parametrize("path", ["insert_chat_message", "insert_chat_message_once", "direct"])
def test_sending_to_a_departed_partner_is_refused_with_sqlstate_23503(
    chat: Chat, path: str
) -> None:
    _delete_account(chat, chat.bob)
    with nothing_left_behind(chat, chat.thread_id):
        assert_raised(
            _send_as_alice(chat, path),
            DEPARTED,
            status=409,
            message=DEPARTED_MESSAGE,
            hint="The conversation stays readable but takes no new messages.",
        )


def test_backend_cannot_send_into_a_departed_thread_either(chat: Chat) -> None:
    _delete_account(chat, chat.bob)
    with nothing_left_behind(chat, chat.thread_id):
        result = chat.caller("service_role").execute(
            "insert into public.chat_messages (thread_id, sender_supabase_id, sender_mongo_id,"
            " recipient_mongo_id, body) values (%s, %s, %s, %s, 'from the backend')",
            (chat.thread_id, chat.alice.id, ALICE_MONGO, BOB_MONGO),
        )
        assert_raised(result, DEPARTED, message=DEPARTED_MESSAGE)


def test_a_stranger_inserting_into_a_departed_thread_learns_nothing(chat: Chat) -> None:
    """The insert policy answers first: 42501, as for any thread carol is not in."""
    _delete_account(chat, chat.bob)
    with nothing_left_behind(chat, chat.thread_id):
        assert_denied(
            chat.caller("carol").execute(
                "insert into public.chat_messages (thread_id, sender_supabase_id,"
                " sender_mongo_id, recipient_mongo_id, body) values (%s, %s, %s, %s, 'hi')",
                (chat.thread_id, chat.carol.id, CAROL_MONGO, BOB_MONGO),
            )
        )


def test_retrying_a_message_stored_before_the_departure_returns_it(chat: Chat) -> None:
    message_id = uuid.uuid4()
    args = {
        "_message_id": message_id,
        "_thread_id": chat.thread_id,
        "_sender_mongo_id": ALICE_MONGO,
        "_recipient_mongo_id": BOB_MONGO,
        "_body": "sent just in time",
    }
    assert_allowed(chat.caller("alice").rpc("insert_chat_message_once", **args))
    _delete_account(chat, chat.bob)
    with nothing_left_behind(chat, chat.thread_id):
        [row] = assert_allowed(chat.caller("alice").rpc("insert_chat_message_once", **args)).rows
    assert row["id"] == message_id


def _sign_up_with_bobs_mongo_id(chat: Chat) -> Actor:
    """A new account the backend links to the departed Mongo id.

    Written on the test's own connection: bob's identity was deleted there, uncommitted, so
    an Auth sign-up on another connection would wait on its unique Mongo id.
    """
    newcomer = new_actor("bob again", app_metadata={"mongoUserId": BOB_MONGO})
    insert_user(chat.db.conn, newcomer)
    linked = chat.db.scalar(
        "select mongo_id from public.chat_identities where user_id = %s", (newcomer.id,)
    )
    assert linked == BOB_MONGO
    return newcomer


def test_a_new_account_with_the_same_mongo_id_does_not_see_the_old_thread(chat: Chat) -> None:
    _delete_account(chat, chat.bob)
    newcomer = chat.db.as_user(_sign_up_with_bobs_mongo_id(chat))
    for table in ("chat_threads", "chat_messages", "chat_thread_members"):
        assert_filtered(newcomer.execute(f"select * from public.{table}"))
    assert_filtered(newcomer.rpc("chat_history", _thread_id=chat.thread_id))
    with nothing_left_behind(chat, chat.thread_id):
        # Neither side gets the old thread handed over, nor a new one under its id.
        assert_raised(
            newcomer.rpc("ensure_chat_thread", _other_mongo_id=ALICE_MONGO),
            DEPARTED,
            status=409,
            message=CLOSED_MESSAGE,
        )
        assert_raised(
            chat.caller("alice").rpc("ensure_chat_thread", _other_mongo_id=BOB_MONGO),
            DEPARTED,
            message=CLOSED_MESSAGE,
        )
        assert_denied(
            newcomer.rpc(
                "insert_chat_message",
                _thread_id=chat.thread_id,
                _sender_mongo_id=BOB_MONGO,
                _recipient_mongo_id=ALICE_MONGO,
                _body="hi, it's me again",
            )
        )
    access = chat.db.join(f"chat:{chat.thread_id}", newcomer.identity)
    assert not any(access.read.values()) and not any(access.write.values())
    _service_sees_the_conversation(chat)


def test_once_the_backend_removes_the_closed_thread_the_pair_may_start_again(
    chat: Chat,
) -> None:
    _delete_account(chat, chat.bob)
    newcomer = _sign_up_with_bobs_mongo_id(chat)
    assert_allowed(
        chat.caller("service_role").execute(
            "delete from public.chat_threads where thread_id = %s", (chat.thread_id,)
        ),
        rowcount=1,
    )
    [thread] = assert_allowed(
        chat.db.as_user(newcomer).rpc("ensure_chat_thread", _other_mongo_id=ALICE_MONGO)
    ).rows
    assert (thread["user_a_supabase_id"], thread["user_b_supabase_id"]) == (
        chat.alice.id,
        newcomer.id,
    )
    assert_filtered(chat.db.as_user(newcomer).execute("select * from public.chat_messages"))


def test_ensure_chat_thread_with_a_departed_mongo_id_is_refused(chat: Chat) -> None:
    _delete_account(chat, chat.bob)
    with nothing_left_behind(chat, chat.thread_id):
        assert_raised(
            chat.caller("alice").rpc("ensure_chat_thread", _other_mongo_id=BOB_MONGO),
            "22023",
            message="no chat user has this id",
        )


def test_when_the_second_participant_leaves_the_thread_is_deleted(chat: Chat) -> None:
    """Nobody could read it any more: it keeps no one's messages for no reader."""
    _delete_account(chat, chat.bob)
    _service_sees_the_conversation(chat)
    chat.db.execute(
        "update auth.users set raw_app_meta_data = %s where id = %s",
        (json.dumps({}), chat.alice.id),
    )
    for table in ("chat_threads", "chat_messages", "chat_thread_members"):
        assert chat.count(f"public.{table}") == 0
