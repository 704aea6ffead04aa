"""chat_threads: participants read their own threads; nobody else sees or changes anything."""

from __future__ import annotations

import pytest

from pgpolicy.testing.assertions import assert_allowed, assert_denied, assert_filtered
from tests.chat.conftest import ALICE_MONGO, CAROL_MONGO, OUTSIDERS, Chat, insert_thread

_SELECT = "select thread_id from public.chat_threads order by thread_id"
_INSERT = (
    "insert into public.chat_threads (thread_id, user_a_mongo_id, user_b_mongo_id,"
    " user_a_supabase_id, user_b_supabase_id) values (%s, %s, %s, %s, %s)"
)


@pytest.mark.parametrize("participant", ["alice", "bob"])
def test_participant_reads_own_thread(chat: Chat, participant: str) -> None:
    result = assert_allowed(chat.caller(participant).execute(_SELECT))
    assert result.rows == [{"thread_id": chat.thread_id}]


def test_participant_reads_only_own_threads(chat: Chat) -> None:
    other = insert_thread(chat.db, chat.alice, ALICE_MONGO, chat.carol, CAROL_MONGO)
    assert [row["thread_id"] for row in chat.caller("alice").execute(_SELECT).rows] == sorted(
        [chat.thread_id, other]
    )
    assert chat.caller("bob").execute(_SELECT).rows == [{"thread_id": chat.thread_id}]
    assert chat.caller("carol").execute(_SELECT).rows == [{"thread_id": other}]


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsider_sees_no_thread(chat: Chat, outsider: str) -> None:
    assert_filtered(chat.caller(outsider).execute(_SELECT))


def test_service_role_reads_every_thread(chat: Chat) -> None:
    insert_thread(chat.db, chat.alice, ALICE_MONGO, chat.carol, CAROL_MONGO)
    assert_allowed(chat.caller("service_role").execute(_SELECT), rowcount=2)


@pytest.mark.parametrize("actor", ["alice", "carol", "anon", "no_sub"])
def test_nobody_creates_a_thread_directly(chat: Chat, actor: str) -> None:
    with chat.db.unchanged("public.chat_threads"):
        result = chat.caller(actor).execute(
            _INSERT,
            (
                f"{ALICE_MONGO}__{CAROL_MONGO}",
                ALICE_MONGO,
                CAROL_MONGO,
                chat.alice.id,
                chat.carol.id,
            ),
        )
        assert_denied(result)


def test_service_role_creates_a_thread_directly(chat: Chat) -> None:
    result = chat.caller("service_role").execute(
        _INSERT,
        (f"{ALICE_MONGO}__{CAROL_MONGO}", ALICE_MONGO, CAROL_MONGO, chat.alice.id, chat.carol.id),
    )
    assert_allowed(result, rowcount=1)


@pytest.mark.parametrize("actor", ["alice", "bob", *OUTSIDERS])
def test_nobody_updates_a_thread_through_the_api(chat: Chat, actor: str) -> None:
    with chat.db.unchanged("public.chat_threads"):
        assert_filtered(
            chat.caller(actor).execute(
                "update public.chat_threads set last_message_at = now() where true"
            )
        )


@pytest.mark.parametrize("actor", ["alice", "bob", *OUTSIDERS])
def test_nobody_deletes_a_thread_through_the_api(chat: Chat, actor: str) -> None:
    with chat.db.unchanged("public.chat_threads", "public.chat_messages"):
        assert_filtered(chat.caller(actor).execute("delete from public.chat_threads where true"))


def test_service_role_updates_and_deletes_threads(chat: Chat) -> None:
    caller = chat.caller("service_role")
    assert_allowed(
        caller.execute("update public.chat_threads set last_message_at = now() where true"),
        rowcount=1,
    )
    assert_allowed(caller.execute("delete from public.chat_threads where true"), rowcount=1)
    assert chat.count("public.chat_messages") == 0  # messages go with their thread
