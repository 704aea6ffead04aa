"""chat_thread_members: each participant reads their own memberships; only the trigger writes.

The rows mirror chat_threads (one per participant, with the thread's last_message_at), so a
thread list read through them shows exactly the threads chat_threads' policy would.
"""

from __future__ import annotations

import pytest

from pgpolicy.testing.assertions import assert_allowed, assert_denied, assert_filtered
from tests.chat.conftest import ALICE_MONGO, BOB_MONGO, CAROL_MONGO, OUTSIDERS, Chat, insert_thread

_SELECT = (
    "select user_id, thread_id, last_message_at from public.chat_thread_members"
    " order by last_message_at desc nulls first, thread_id"
)


def _memberships(chat: Chat, thread_id: str) -> list[dict[str, object]]:
    rows = chat.db.execute(
        "select user_id, last_message_at from public.chat_thread_members"
        " where thread_id = %s order by user_id",
        (thread_id,),
    )
    return [dict(row) for row in rows]


def _last_message_at(chat: Chat, thread_id: str) -> object:
    return chat.db.scalar(
        "select last_message_at from public.chat_threads where thread_id = %s", (thread_id,)
    )


@pytest.mark.parametrize("participant", ["alice", "bob"])
def test_participant_reads_only_their_own_membership(chat: Chat, participant: str) -> None:
    actor = getattr(chat, participant)
    result = assert_allowed(chat.caller(participant).execute(_SELECT), rowcount=1)
    assert result.rows == [
        {
            "user_id": actor.id,
            "thread_id": chat.thread_id,
            "last_message_at": _last_message_at(chat, chat.thread_id),
        }
    ]


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsider_reads_no_membership(chat: Chat, outsider: str) -> None:
    result = chat.caller(outsider).execute(_SELECT)
    if outsider == "anon":
        assert_denied(result)
    else:
        assert_filtered(result)


def test_a_new_thread_adds_one_membership_per_participant(chat: Chat) -> None:
    result = assert_allowed(
        chat.caller("alice").execute("select * from public.ensure_chat_thread(%s)", (CAROL_MONGO,))
    )
    thread_id = result.rows[0]["thread_id"]
    assert _memberships(chat, thread_id) == sorted(
        [
            {"user_id": chat.alice.id, "last_message_at": None},
            {"user_id": chat.carol.id, "last_message_at": None},
        ],
        key=lambda row: str(row["user_id"]),
    )
    carol_rows = chat.caller("carol").execute(_SELECT).rows
    assert [row["thread_id"] for row in carol_rows] == [thread_id]


def test_a_message_sets_last_message_at_on_both_memberships(chat: Chat) -> None:
    other = insert_thread(chat.db, chat.alice, ALICE_MONGO, chat.carol, CAROL_MONGO)
    before = [row["thread_id"] for row in chat.caller("alice").execute(_SELECT).rows]
    assert before == [other, chat.thread_id]  # no message yet: null sorts first
    chat.add_message("bob", "the newest message")
    newest = _last_message_at(chat, chat.thread_id)
    assert {row["last_message_at"] for row in _memberships(chat, chat.thread_id)} == {newest}


@pytest.mark.parametrize("actor", ["alice", "bob", *OUTSIDERS])
@pytest.mark.parametrize(
    "statement",
    [
        "insert into public.chat_thread_members (user_id, thread_id)"
        " values ('ca701000-0000-4000-8000-000000000003', '"
        + f"{ALICE_MONGO}__64b0c0ffee00000000000002')",
        "update public.chat_thread_members set last_message_at = 'infinity' where true",
        "delete from public.chat_thread_members where true",
    ],
    ids=["insert", "update", "delete"],
)
def test_nobody_writes_a_membership_through_the_api(chat: Chat, actor: str, statement: str) -> None:
    with chat.db.unchanged("public.chat_thread_members"):
        assert_denied(chat.caller(actor).execute(statement))


def test_deleting_a_thread_deletes_its_memberships(chat: Chat) -> None:
    assert len(_memberships(chat, chat.thread_id)) == 2
    assert_allowed(
        chat.caller("service_role").execute(
            "delete from public.chat_threads where thread_id = %s", (chat.thread_id,)
        ),
        rowcount=1,
    )
    assert _memberships(chat, chat.thread_id) == []


def test_a_thread_rewritten_by_the_backend_moves_its_memberships(chat: Chat) -> None:
    # A thread without messages (their foreign key pins a thread's participants otherwise).
    other = insert_thread(chat.db, chat.alice, ALICE_MONGO, chat.carol, CAROL_MONGO)
    moved = f"{BOB_MONGO}__{CAROL_MONGO}"
    assert_allowed(
        chat.caller("service_role").execute(
            "update public.chat_threads set thread_id = %s, user_a_mongo_id = %s,"
            " user_a_supabase_id = %s where thread_id = %s",
            (moved, BOB_MONGO, chat.bob.id, other),
        ),
        rowcount=1,
    )
    assert _memberships(chat, other) == []
    assert {row["user_id"] for row in _memberships(chat, moved)} == {chat.bob.id, chat.carol.id}


def test_service_role_reads_every_membership(chat: Chat) -> None:
    result = assert_allowed(chat.caller("service_role").execute(_SELECT), rowcount=2)
    assert {row["user_id"] for row in result.rows} == {chat.alice.id, chat.bob.id}


def test_service_role_repairs_memberships_for_backend_jobs(chat: Chat) -> None:
    # The trusted backend may rebuild a membership by hand: delete, insert back, update.
    service = chat.caller("service_role")
    mine = "user_id = %s and thread_id = %s"
    key = (chat.alice.id, chat.thread_id)
    assert_allowed(
        service.execute(f"delete from public.chat_thread_members where {mine}", key), rowcount=1
    )
    assert_allowed(
        service.execute(
            "insert into public.chat_thread_members (user_id, thread_id) values (%s, %s)", key
        ),
        rowcount=1,
    )
    assert_allowed(
        service.execute(
            f"update public.chat_thread_members set last_message_at = now() where {mine}", key
        ),
        rowcount=1,
    )
    assert [row["user_id"] for row in _memberships(chat, chat.thread_id)] == sorted(
        [chat.alice.id, chat.bob.id], key=str
    )
