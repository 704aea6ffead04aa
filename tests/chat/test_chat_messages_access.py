"""chat_messages: participants read their threads' messages and insert only as themselves."""

from __future__ import annotations

import pytest

from pgpolicy.testing.assertions import assert_allowed, assert_denied, assert_filtered
from tests.chat.conftest import (
    ALICE_MONGO,
    BOB_MONGO,
    CAROL_MONGO,
    OUTSIDERS,
    Chat,
    insert_thread,
)

_SELECT = "select body from public.chat_messages order by created_at, id"
_INSERT = (
    "insert into public.chat_messages (thread_id, sender_supabase_id, sender_mongo_id,"
    " recipient_mongo_id, body) values (%s, %s, %s, %s, %s)"
)


@pytest.mark.parametrize("participant", ["alice", "bob"])
def test_participant_reads_own_threads_messages(chat: Chat, participant: str) -> None:
    result = assert_allowed(chat.caller(participant).execute(_SELECT))
    assert result.rows == [{"body": "hi bob"}, {"body": "hi alice"}]


def test_participant_does_not_read_other_threads_messages(chat: Chat) -> None:
    other = insert_thread(chat.db, chat.alice, ALICE_MONGO, chat.carol, CAROL_MONGO)
    chat.db.execute(
        "insert into public.chat_messages (thread_id, sender_supabase_id, sender_mongo_id,"
        " recipient_mongo_id, body) values (%s, %s, %s, %s, 'for alice only')",
        (other, chat.carol.id, CAROL_MONGO, ALICE_MONGO),
    )
    bodies = [row["body"] for row in chat.caller("bob").execute(_SELECT).rows]
    assert bodies == ["hi bob", "hi alice"]


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsider_reads_no_message(chat: Chat, outsider: str) -> None:
    assert_filtered(chat.caller(outsider).execute(_SELECT))


def test_service_role_reads_every_message(chat: Chat) -> None:
    assert_allowed(chat.caller("service_role").execute(_SELECT), rowcount=2)


@pytest.mark.parametrize(("sender", "recipient"), [("alice", "bob"), ("bob", "alice")])
def test_participant_inserts_directly_as_themself(chat: Chat, sender: str, recipient: str) -> None:
    actor = getattr(chat, sender)
    result = chat.caller(sender).execute(
        _INSERT + " returning sender_supabase_id",
        (chat.thread_id, actor.id, chat.mongo_id(sender), chat.mongo_id(recipient), "direct"),
    )
    assert_allowed(result, rowcount=1)
    assert (
        chat.count(
            "public.chat_messages", "body = 'direct' and sender_supabase_id = %s", (actor.id,)
        )
        == 1
    )


def test_direct_insert_with_spoofed_sender_id_is_denied(chat: Chat) -> None:
    with chat.db.unchanged("public.chat_messages"):
        assert_denied(
            chat.caller("alice").execute(
                _INSERT, (chat.thread_id, chat.bob.id, BOB_MONGO, ALICE_MONGO, "as bob")
            )
        )


def test_direct_insert_with_reversed_mongo_ids_is_denied(chat: Chat) -> None:
    with chat.db.unchanged("public.chat_messages"):
        assert_denied(
            chat.caller("alice").execute(
                _INSERT, (chat.thread_id, chat.alice.id, BOB_MONGO, ALICE_MONGO, "mixed")
            )
        )


def test_direct_insert_naming_a_third_party_recipient_is_denied(chat: Chat) -> None:
    with chat.db.unchanged("public.chat_messages"):
        assert_denied(
            chat.caller("alice").execute(
                _INSERT, (chat.thread_id, chat.alice.id, ALICE_MONGO, CAROL_MONGO, "to carol")
            )
        )


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsider_direct_insert_is_denied(chat: Chat, outsider: str) -> None:
    carol = chat.carol
    with chat.db.unchanged("public.chat_messages"):
        assert_denied(
            chat.caller(outsider).execute(
                _INSERT, (chat.thread_id, carol.id, CAROL_MONGO, ALICE_MONGO, "intrusion")
            )
        )


@pytest.mark.parametrize("actor", ["alice", "bob", *OUTSIDERS])
def test_nobody_edits_a_message_through_the_api(chat: Chat, actor: str) -> None:
    with chat.db.unchanged("public.chat_messages"):
        assert_filtered(
            chat.caller(actor).execute("update public.chat_messages set body = 'x' where true")
        )


@pytest.mark.parametrize("actor", ["alice", "bob", *OUTSIDERS])
def test_nobody_deletes_a_message_through_the_api(chat: Chat, actor: str) -> None:
    with chat.db.unchanged("public.chat_messages"):
        assert_filtered(chat.caller(actor).execute("delete from public.chat_messages where true"))


def test_service_role_writes_messages(chat: Chat) -> None:
    caller = chat.caller("service_role")
    assert_allowed(
        caller.execute(
            _INSERT, (chat.thread_id, chat.alice.id, ALICE_MONGO, BOB_MONGO, "from a job")
        ),
        rowcount=1,
    )
    assert_allowed(
        caller.execute("update public.chat_messages set body = 'edited' where true"), rowcount=3
    )
    assert_allowed(
        caller.execute("delete from public.chat_messages where id = %s", (chat.message_ids[0],)),
        rowcount=1,
    )


def test_message_bodies_are_checked_by_the_table_too(chat: Chat) -> None:
    for body in ("", "   ", "x" * 4001):
        result = chat.caller("service_role").execute(
            _INSERT, (chat.thread_id, chat.alice.id, ALICE_MONGO, BOB_MONGO, body)
        )
        assert result.sqlstate == "23514", (body[:10], result)


def test_message_for_a_missing_thread_is_refused_by_the_foreign_key(chat: Chat) -> None:
    result = chat.caller("service_role").execute(
        _INSERT, (f"{ALICE_MONGO}__{CAROL_MONGO}", chat.alice.id, ALICE_MONGO, CAROL_MONGO, "x")
    )
    assert result.sqlstate == "23503"
    assert result.status == 409


# Invisible-only bodies: fillers and blanks that render as nothing, joiners, zero-width marks.
INVISIBLE_BODIES = {
    "hangul-filler": "\u3164",
    "hangul-choseong-filler": "\u115f",
    "hangul-jungseong-filler": "\u1160",
    "halfwidth-hangul-filler": "\uffa0",
    "braille-blank": "\u2800\u2800",
    "zero-width-space": "\u200b",
    "byte-order-mark": "\ufeff",
    "zwj-zwnj": "\u200d\u200c",
    "word-joiner-and-spaces": " \u2060 \u00a0\u3000",
    "variation-selector": "\ufe0f",
    "tag-characters": "\U000e0041\U000e007f",
    "soft-hyphen-and-newline": "\u00ad\n",
}


@pytest.mark.parametrize("participant", ["alice", "bob"])
@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("id", "00000000-0000-4000-8000-000000000001"),
        ("created_at", "2001-01-01 00:00:00+00"),
        ("created_at", "infinity"),
        ("user_a_supabase_id", "00000000-0000-4000-8000-000000000001"),
    ],
    ids=["id", "backdated", "pinned-infinity", "participant-column"],
)
def test_direct_insert_naming_a_server_column_is_denied(
    chat: Chat, participant: str, column: str, value: str
) -> None:
    actor = getattr(chat, participant)
    recipient = "bob" if participant == "alice" else "alice"
    with chat.db.unchanged("public.chat_messages"):
        assert_denied(
            chat.caller(participant).execute(
                "insert into public.chat_messages (thread_id, sender_supabase_id,"
                f" sender_mongo_id, recipient_mongo_id, body, {column})"
                " values (%s, %s, %s, %s, 'mine', %s)",
                (
                    chat.thread_id,
                    actor.id,
                    chat.mongo_id(participant),
                    chat.mongo_id(recipient),
                    value,
                ),
            )
        )


def test_direct_insert_gets_the_servers_id_time_and_participants(chat: Chat) -> None:
    result = assert_allowed(
        chat.caller("alice").execute(
            _INSERT + " returning id, created_at <= now() + interval '1 minute' as now_ish,"
            " user_a_supabase_id, user_b_supabase_id",
            (chat.thread_id, chat.alice.id, ALICE_MONGO, BOB_MONGO, "server-stamped"),
        ),
        rowcount=1,
    )
    row = result.rows[0]
    assert row["id"] is not None
    assert row["now_ish"] is True
    assert (row["user_a_supabase_id"], row["user_b_supabase_id"]) == (chat.alice.id, chat.bob.id)


def test_service_role_still_sets_id_and_created_at(chat: Chat) -> None:
    assert_allowed(
        chat.caller("service_role").execute(
            "insert into public.chat_messages (id, created_at, thread_id, sender_supabase_id,"
            " sender_mongo_id, recipient_mongo_id, body)"
            " values (gen_random_uuid(), '2020-01-01', %s, %s, %s, %s, 'imported')",
            (chat.thread_id, chat.alice.id, ALICE_MONGO, BOB_MONGO),
        ),
        rowcount=1,
    )


@pytest.mark.parametrize("body", list(INVISIBLE_BODIES.values()), ids=list(INVISIBLE_BODIES))
def test_direct_insert_of_an_invisible_body_is_refused_by_the_table(chat: Chat, body: str) -> None:
    with chat.db.unchanged("public.chat_messages"):
        result = chat.caller("alice").execute(
            _INSERT, (chat.thread_id, chat.alice.id, ALICE_MONGO, BOB_MONGO, body)
        )
        assert result.sqlstate == "23514", result


@pytest.mark.parametrize("body", ["\u3164x", "a\u200db", "\U0001f600", "\u2800\u28ff"])
def test_a_body_with_one_visible_character_is_accepted(chat: Chat, body: str) -> None:
    assert_allowed(
        chat.caller("alice").execute(
            _INSERT, (chat.thread_id, chat.alice.id, ALICE_MONGO, BOB_MONGO, body)
        ),
        rowcount=1,
    )
