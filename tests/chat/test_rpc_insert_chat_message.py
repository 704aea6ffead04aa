"""insert_chat_message: the frontend's call works; every refusal leaves nothing behind."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from pgpolicy.testing.assertions import assert_allowed, assert_denied, assert_raised
from tests.chat.conftest import ALICE_MONGO, BOB_MONGO, CAROL_MONGO, Chat
from tests.chat.test_chat_messages_access import INVISIBLE_BODIES


@contextmanager
def nothing_left_behind(chat: Chat) -> Iterator[None]:
    """No message, no thread, no broadcast may come out of the block."""
    broadcasts = len(chat.db.broadcasts(f"chat:{chat.thread_id}"))
    with chat.db.unchanged("public.chat_messages", "public.chat_threads"):
        yield
    assert len(chat.db.broadcasts(f"chat:{chat.thread_id}")) == broadcasts


def _send(chat: Chat, actor: str, **overrides: object) -> object:
    args: dict[str, object] = {
        "_thread_id": chat.thread_id,
        "_sender_mongo_id": ALICE_MONGO,
        "_recipient_mongo_id": BOB_MONGO,
        "_body": "hello from the frontend",
    }
    args.update(overrides)
    return chat.caller(actor).rpc("insert_chat_message", **args)


def test_frontend_call_inserts_and_returns_the_message(chat: Chat) -> None:
    result = assert_allowed(
        chat.caller("alice").rpc(
            "insert_chat_message",
            _thread_id=chat.thread_id,
            _sender_mongo_id=ALICE_MONGO,
            _recipient_mongo_id=BOB_MONGO,
            _body="hello bob",
        )
    )
    [row] = result.rows
    assert row["body"] == "hello bob"
    assert row["sender_supabase_id"] == chat.alice.id
    assert (row["sender_mongo_id"], row["recipient_mongo_id"]) == (ALICE_MONGO, BOB_MONGO)
    assert (
        chat.count(
            "public.chat_messages",
            "id = %s and sender_supabase_id = %s",
            (row["id"], chat.alice.id),
        )
        == 1
    )


def test_the_other_participant_answers(chat: Chat) -> None:
    result = assert_allowed(
        _send(chat, "bob", _sender_mongo_id=BOB_MONGO, _recipient_mongo_id=ALICE_MONGO)
    )
    assert result.rows[0]["sender_supabase_id"] == chat.bob.id


def test_a_message_moves_last_message_at(chat: Chat) -> None:
    row = assert_allowed(_send(chat, "alice")).rows[0]
    last = chat.db.scalar(
        "select last_message_at from public.chat_threads where thread_id = %s", (chat.thread_id,)
    )
    assert last == row["created_at"]


def test_a_body_of_exactly_4000_characters_is_accepted(chat: Chat) -> None:
    assert_allowed(_send(chat, "alice", _body="x" * 4000))


@pytest.mark.parametrize(
    ("actor", "status"), [("anon", 401), ("no_sub", 403), ("service_role", 403)]
)
def test_no_signed_in_user_is_denied(chat: Chat, actor: str, status: int) -> None:
    with nothing_left_behind(chat):
        assert_denied(_send(chat, actor), status=status)


def test_non_participant_is_denied(chat: Chat) -> None:
    with nothing_left_behind(chat):
        assert_denied(
            _send(chat, "carol", _sender_mongo_id=CAROL_MONGO, _recipient_mongo_id=ALICE_MONGO),
            status=403,
        )


def test_missing_thread_gets_the_same_answer_as_a_foreign_one(chat: Chat) -> None:
    foreign = _send(chat, "carol", _sender_mongo_id=CAROL_MONGO, _recipient_mongo_id=ALICE_MONGO)
    with nothing_left_behind(chat):
        missing = _send(
            chat,
            "alice",
            _thread_id=f"{ALICE_MONGO}__{CAROL_MONGO}",
            _recipient_mongo_id=CAROL_MONGO,
        )
        assert_denied(missing, status=403)
    assert (
        chat.count("public.chat_threads", "thread_id = %s", (f"{ALICE_MONGO}__{CAROL_MONGO}",)) == 0
    )
    assert (missing.message, missing.sqlstate) == (foreign.message, foreign.sqlstate)


def test_spoofed_sender_is_denied(chat: Chat) -> None:
    with nothing_left_behind(chat):
        assert_denied(
            _send(chat, "alice", _sender_mongo_id=BOB_MONGO, _recipient_mongo_id=ALICE_MONGO),
            status=403,
        )


def test_recipient_outside_the_thread_is_denied(chat: Chat) -> None:
    with nothing_left_behind(chat):
        assert_denied(_send(chat, "alice", _recipient_mongo_id=CAROL_MONGO), status=403)


def test_message_to_oneself_is_denied(chat: Chat) -> None:
    with nothing_left_behind(chat):
        assert_denied(_send(chat, "alice", _recipient_mongo_id=ALICE_MONGO), status=403)


@pytest.mark.parametrize(
    "body",
    ["", "   ", "\n\t ", "x" * 4001, None],
    ids=["empty", "spaces", "whitespace", "4001", "null"],
)
def test_blank_or_too_long_body_is_invalid_parameter(chat: Chat, body: str | None) -> None:
    with nothing_left_behind(chat):
        result = _send(chat, "alice", _body=body)
        assert_raised(result, "22023", status=400)


@pytest.mark.parametrize("body", list(INVISIBLE_BODIES.values()), ids=list(INVISIBLE_BODIES))
def test_invisible_body_is_blank_and_an_invalid_parameter(chat: Chat, body: str) -> None:
    with nothing_left_behind(chat):
        assert_raised(_send(chat, "alice", _body=body), "22023", status=400)


def test_retry_with_the_same_client_id_inserts_once(chat: Chat) -> None:
    message_id = uuid.uuid4()
    args = {
        "_message_id": message_id,
        "_thread_id": chat.thread_id,
        "_sender_mongo_id": ALICE_MONGO,
        "_recipient_mongo_id": BOB_MONGO,
        "_body": "sent twice",
    }
    first = assert_allowed(chat.caller("alice").rpc("insert_chat_message_once", **args))
    broadcasts = len(chat.db.broadcasts(f"chat:{chat.thread_id}"))
    with nothing_left_behind(chat):
        second = assert_allowed(chat.caller("alice").rpc("insert_chat_message_once", **args))
    assert first.rows == second.rows
    assert first.rows[0]["id"] == message_id
    assert len(chat.db.broadcasts(f"chat:{chat.thread_id}")) == broadcasts


def test_retry_id_reused_by_another_user_is_denied(chat: Chat) -> None:
    message_id = uuid.uuid4()
    assert_allowed(
        chat.caller("alice").rpc(
            "insert_chat_message_once",
            _message_id=message_id,
            _thread_id=chat.thread_id,
            _sender_mongo_id=ALICE_MONGO,
            _recipient_mongo_id=BOB_MONGO,
            _body="mine",
        )
    )
    with nothing_left_behind(chat):
        assert_denied(
            chat.caller("bob").rpc(
                "insert_chat_message_once",
                _message_id=message_id,
                _thread_id=chat.thread_id,
                _sender_mongo_id=BOB_MONGO,
                _recipient_mongo_id=ALICE_MONGO,
                _body="mine",
            )
        )


@pytest.mark.parametrize(
    ("actor", "status"), [("anon", 401), ("no_sub", 403), ("service_role", 403)]
)
def test_retry_safe_send_without_a_signed_in_user_is_denied(
    chat: Chat, actor: str, status: int
) -> None:
    with nothing_left_behind(chat):
        assert_denied(
            chat.caller(actor).rpc(
                "insert_chat_message_once",
                _message_id=uuid.uuid4(),
                _thread_id=chat.thread_id,
                _sender_mongo_id=ALICE_MONGO,
                _recipient_mongo_id=BOB_MONGO,
                _body="no user",
            ),
            status=status,
        )


# docs/access.md promises a message and a hint a person understands for each refusal.
@pytest.mark.parametrize(
    ("actor", "overrides", "message", "hint"),
    [
        (
            "no_sub",
            {},
            "not signed in",
            "Call this with a signed-in user's access token; the session has no user.",
        ),
        (
            "carol",
            {"_sender_mongo_id": CAROL_MONGO, "_recipient_mongo_id": ALICE_MONGO},
            "chat thread not found, or you are not one of its participants",
            "Open the thread with ensure_chat_thread() and send to its thread_id.",
        ),
        (
            "alice",
            {"_sender_mongo_id": BOB_MONGO, "_recipient_mongo_id": ALICE_MONGO},
            "sender and recipient must be you and the other participant",
            "Send from your own Mongo id to the other participant's Mongo id.",
        ),
    ],
)
def test_each_refusal_says_why_and_what_to_do(
    chat: Chat, actor: str, overrides: dict[str, str], message: str, hint: str
) -> None:
    with nothing_left_behind(chat):
        assert_denied(_send(chat, actor, **overrides), message=message, hint=hint)


def test_a_blank_body_says_why_and_what_to_do(chat: Chat) -> None:
    assert_raised(
        _send(chat, "alice", _body="   "),
        psycopg.errors.InvalidParameterValue,
        status=400,
        message="the message is empty",
        hint="Send at least one visible character.",
    )
