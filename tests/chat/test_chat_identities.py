"""chat_identities: the server-controlled link between a Supabase user and a Mongo id."""

from __future__ import annotations

import json

import pytest

from pgpolicy.testing.assertions import assert_allowed, assert_denied, assert_filtered
from tests.chat.conftest import ALICE_MONGO, OUTSIDERS, Chat


def _mongo_id_of(chat: Chat, user_id: object) -> object:
    return chat.db.scalar(
        "select mongo_id from public.chat_identities where user_id = %s", (user_id,)
    )


def test_identity_is_synced_from_app_metadata(chat: Chat) -> None:
    assert _mongo_id_of(chat, chat.alice.id) == ALICE_MONGO


def test_identity_is_never_taken_from_user_metadata(chat: Chat) -> None:
    mallory = chat.db.create_user(
        "mallory", user_metadata={"mongoUserId": "64b0c0ffee00000000000009"}
    )
    assert _mongo_id_of(chat, mallory.id) is None


def test_editing_user_metadata_does_not_change_the_identity(chat: Chat) -> None:
    chat.db.execute(
        "update auth.users set raw_user_meta_data = %s where id = %s",
        (json.dumps({"mongoUserId": "64b0c0ffee00000000000009"}), chat.alice.id),
    )
    assert _mongo_id_of(chat, chat.alice.id) == ALICE_MONGO


def test_identity_follows_an_app_metadata_change(chat: Chat) -> None:
    newcomer = chat.db.create_user("newcomer")
    chat.db.execute(
        "update auth.users set raw_app_meta_data = raw_app_meta_data || %s where id = %s",
        (json.dumps({"mongoUserId": "64b0c0ffee00000000000008"}), newcomer.id),
    )
    assert _mongo_id_of(chat, newcomer.id) == "64b0c0ffee00000000000008"


def test_deleting_a_user_deletes_its_identity_and_leaves_its_threads(chat: Chat) -> None:
    """The other participant keeps the conversation (tests/chat/test_account_deletion.py)."""
    chat.db.execute("delete from auth.users where id = %s", (chat.alice.id,))
    assert _mongo_id_of(chat, chat.alice.id) is None
    assert chat.count("public.chat_threads", "user_a_supabase_id is null") == 1
    assert chat.count("public.chat_messages", "user_a_supabase_id is null") == 2


@pytest.mark.parametrize("user", ["alice", "bob", "carol"])
def test_signed_in_user_reads_only_own_identity(chat: Chat, user: str) -> None:
    result = assert_allowed(
        chat.caller(user).execute("select mongo_id from public.chat_identities")
    )
    assert result.rows == [{"mongo_id": chat.mongo_id(user)}]


@pytest.mark.parametrize("actor", ["anon", "no_sub"])
def test_no_user_reads_no_identity(chat: Chat, actor: str) -> None:
    assert_filtered(chat.caller(actor).execute("select mongo_id from public.chat_identities"))


@pytest.mark.parametrize("actor", ["alice", *OUTSIDERS])
def test_api_roles_cannot_claim_a_mongo_id(chat: Chat, actor: str) -> None:
    with chat.db.unchanged("public.chat_identities"):
        assert_denied(
            chat.caller(actor).execute(
                "update public.chat_identities set mongo_id = '64b0c0ffee00000000000009' where true"
            )
        )
        assert_denied(
            chat.caller(actor).execute(
                "insert into public.chat_identities (user_id, mongo_id) values (%s, 'x1')",
                (chat.carol.id,),
            )
        )
        assert_denied(chat.caller(actor).execute("delete from public.chat_identities where true"))


def test_service_role_writes_identities(chat: Chat) -> None:
    newcomer = chat.db.create_user("newcomer")
    assert_allowed(
        chat.caller("service_role").execute(
            "insert into public.chat_identities (user_id, mongo_id) values (%s, %s)",
            (newcomer.id, "64b0c0ffee00000000000007"),
        ),
        rowcount=1,
    )


def test_a_mongo_id_used_by_threads_cannot_be_reassigned(chat: Chat) -> None:
    result = chat.caller("service_role").execute(
        "update public.chat_identities set mongo_id = '64b0c0ffee00000000000009'"
        " where user_id = %s",
        (chat.alice.id,),
    )
    assert result.sqlstate == "23503"


def test_service_role_reads_every_identity(chat: Chat) -> None:
    result = assert_allowed(
        chat.caller("service_role").execute(
            "select mongo_id from public.chat_identities order by mongo_id"
        )
    )
    assert [row["mongo_id"] for row in result.rows] == [
        chat.mongo_id("alice"),
        chat.mongo_id("bob"),
        chat.mongo_id("carol"),
    ]


def test_service_role_unlinks_an_identity_and_leaves_its_threads(chat: Chat) -> None:
    assert_allowed(
        chat.caller("service_role").execute(
            "delete from public.chat_identities where user_id = %s", (chat.alice.id,)
        ),
        rowcount=1,
    )
    assert _mongo_id_of(chat, chat.alice.id) is None
    assert chat.count("public.chat_threads", "user_a_supabase_id is null") == 1
