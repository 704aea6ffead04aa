"""ensure_chat_thread(_other_mongo_id): the caller's thread with another user, made once."""

from __future__ import annotations

import threading
import time

import pytest

from pgpolicy.postgrest.identity import as_user
from pgpolicy.postgrest.request import Request, Result
from pgpolicy.testing.assertions import assert_allowed, assert_denied, assert_raised
from pgpolicy.testing.harness import Database
from tests.chat.conftest import ALICE_MONGO, BOB_MONGO, CAROL_MONGO, Chat

NEW_THREAD = f"{ALICE_MONGO}__{CAROL_MONGO}"


def test_user_creates_a_thread_with_the_smaller_mongo_id_as_user_a(chat: Chat) -> None:
    row = assert_allowed(
        chat.caller("carol").rpc("ensure_chat_thread", _other_mongo_id=ALICE_MONGO)
    ).rows[0]
    assert row["thread_id"] == NEW_THREAD
    assert (row["user_a_mongo_id"], row["user_b_mongo_id"]) == (ALICE_MONGO, CAROL_MONGO)
    assert (row["user_a_supabase_id"], row["user_b_supabase_id"]) == (chat.alice.id, chat.carol.id)
    assert chat.count("public.chat_threads", "thread_id = %s", (NEW_THREAD,)) == 1


def test_ensure_is_idempotent_from_either_side(chat: Chat) -> None:
    first = chat.caller("carol").rpc("ensure_chat_thread", _other_mongo_id=ALICE_MONGO).rows
    again = chat.caller("carol").rpc("ensure_chat_thread", _other_mongo_id=ALICE_MONGO).rows
    other_side = chat.caller("alice").rpc("ensure_chat_thread", _other_mongo_id=CAROL_MONGO).rows
    assert first == again == other_side
    assert chat.count("public.chat_threads", "thread_id = %s", (NEW_THREAD,)) == 1


def test_ensure_returns_the_existing_thread_unchanged(chat: Chat) -> None:
    with chat.db.unchanged("public.chat_threads"):
        row = assert_allowed(
            chat.caller("bob").rpc("ensure_chat_thread", _other_mongo_id=ALICE_MONGO)
        ).rows[0]
    assert row["thread_id"] == chat.thread_id


@pytest.mark.parametrize(
    ("actor", "status"), [("anon", 401), ("no_sub", 403), ("service_role", 403)]
)
def test_ensure_without_a_user_is_denied_and_creates_nothing(
    chat: Chat, actor: str, status: int
) -> None:
    with chat.db.unchanged("public.chat_threads"):
        assert_denied(
            chat.caller(actor).rpc("ensure_chat_thread", _other_mongo_id=CAROL_MONGO), status=status
        )


def test_ensure_by_a_user_without_chat_identity_is_denied(chat: Chat) -> None:
    stranger = chat.db.create_user("stranger")
    with chat.db.unchanged("public.chat_threads"):
        assert_denied(
            chat.db.as_user(stranger).rpc("ensure_chat_thread", _other_mongo_id=ALICE_MONGO),
            status=403,
        )


@pytest.mark.parametrize(
    "other",
    [ALICE_MONGO, "64b0c0ffee0000000000dead", "", "   ", None],
    ids=["own-id", "unknown-id", "empty", "blank", "null"],
)
def test_ensure_with_an_invalid_other_id_is_invalid_parameter(
    chat: Chat, other: str | None
) -> None:
    with chat.db.unchanged("public.chat_threads"):
        result = chat.caller("alice").rpc("ensure_chat_thread", _other_mongo_id=other)
        assert_raised(result, "22023", status=400)
        assert result.message


@pytest.mark.commit
def test_two_racing_calls_make_exactly_one_thread(db: Database) -> None:
    alice = db.create_user("alice", app_metadata={"mongoUserId": ALICE_MONGO})
    db.create_user("bob", app_metadata={"mongoUserId": BOB_MONGO})
    first_conn, second_conn = db.connect(), db.connect()
    second_pid = second_conn.info.backend_pid
    second_result: list[Result] = []

    with first_conn.transaction():
        first = Request(first_conn, as_user(alice)).rpc(
            "ensure_chat_thread", _other_mongo_id=BOB_MONGO
        )
        # The second call starts while the first transaction still holds the new row.
        racer = threading.Thread(
            target=lambda: second_result.append(
                Request(second_conn, as_user(alice)).rpc(
                    "ensure_chat_thread", _other_mongo_id=BOB_MONGO
                )
            )
        )
        racer.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            waiting = db.scalar(
                "select wait_event_type = 'Lock' from pg_stat_activity where pid = %s",
                (second_pid,),
            )
            if waiting:
                break
            time.sleep(0.02)
        else:
            pytest.fail("the second call never waited for the first one's row")
    racer.join(timeout=10)

    assert_allowed(first)
    [second] = second_result
    assert_allowed(second)
    assert first.rows == second.rows
    assert db.scalar("select count(*) from public.chat_threads") == 1
