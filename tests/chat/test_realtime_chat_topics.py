"""chat:<thread_id> topics: participants join and track presence; only the database broadcasts."""

from __future__ import annotations

import psycopg
import pytest

from pgpolicy.postgrest.identity import Identity, as_anon, as_service_role, as_signed_in_without_sub
from tests.chat.conftest import ALICE_MONGO, BOB_MONGO, Chat


def _identity(chat: Chat, actor: str) -> Identity:
    return chat.caller(actor).identity


@pytest.mark.parametrize("participant", ["alice", "bob"])
def test_participant_joins_own_thread_topic(chat: Chat, participant: str) -> None:
    access = chat.db.join(f"chat:{chat.thread_id}", as_=_identity(chat, participant))
    assert access.can_join
    assert access.read == {"broadcast": True, "presence": True}
    assert access.error is None


@pytest.mark.parametrize("participant", ["alice", "bob"])
def test_participant_tracks_presence_but_cannot_send_broadcasts(
    chat: Chat, participant: str
) -> None:
    access = chat.db.join(f"chat:{chat.thread_id}", as_=_identity(chat, participant))
    assert access.write == {"broadcast": False, "presence": True}


@pytest.mark.parametrize(
    "identity",
    [None, as_anon(), as_signed_in_without_sub()],
    ids=["other-signed-in-user", "anon", "session-without-sub"],
)
def test_outsider_join_is_denied(chat: Chat, identity: Identity | None) -> None:
    access = chat.db.join(f"chat:{chat.thread_id}", as_=identity or _identity(chat, "carol"))
    assert not access.can_join
    assert access.write == {"broadcast": False, "presence": False}
    assert access.error is None


@pytest.mark.parametrize(
    "topic",
    [
        "chat:",
        "chat:../x",
        f"chat:../{ALICE_MONGO}__{BOB_MONGO}",
        f"other:{ALICE_MONGO}__{BOB_MONGO}",
        f"CHAT:{ALICE_MONGO}__{BOB_MONGO}",
        f"chat:{ALICE_MONGO}__{BOB_MONGO}/x",
        f"chat:{ALICE_MONGO}__{BOB_MONGO} ",
        f"chat:{ALICE_MONGO}%",
        f"realtime:chat:{ALICE_MONGO}__{BOB_MONGO}",
        "",
    ],
)
def test_malformed_topic_is_a_clean_deny(chat: Chat, topic: str) -> None:
    access = chat.db.join(topic, as_=_identity(chat, "alice"))
    assert access.error is None
    assert not access.can_join
    assert access.write == {"broadcast": False, "presence": False}


def test_service_role_joins_any_thread_topic(chat: Chat) -> None:
    # service_role bypasses RLS, so Realtime lets it in: the backend may listen to any thread.
    access = chat.db.join(f"chat:{chat.thread_id}", as_=as_service_role())
    assert access.can_join


def test_join_checks_leave_no_rows_behind(chat: Chat) -> None:
    before = chat.count("realtime.messages")
    chat.db.join(f"chat:{chat.thread_id}", as_=_identity(chat, "alice"))
    chat.db.join(f"chat:{chat.thread_id}", as_=_identity(chat, "carol"))
    assert chat.count("realtime.messages") == before


def _presence_write(chat: Chat, actor: str, event: str | None, payload: str | None) -> str | None:
    """SQLSTATE of a presence row written as ``actor`` on its thread topic (None: accepted)."""
    identity = _identity(chat, actor)
    topic = f"chat:{chat.thread_id}"
    conn = chat.db.conn
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(
                "select set_config('role', %s, true), set_config('realtime.topic', %s, true),"
                " set_config('request.jwt.claims', %s, true),"
                " set_config('request.jwt.claim.sub', %s, true)",
                (identity.role, topic, identity.claims_json(), identity.sub or ""),
            )
            conn.execute(
                "insert into realtime.messages (topic, extension, event, payload)"
                " values (%s, 'presence', %s, %s::jsonb)",
                (topic, event, payload),
            )
    except psycopg.Error as error:
        return error.sqlstate or repr(error)
    return None


@pytest.mark.parametrize("participant", ["alice", "bob"])
def test_participant_presence_row_without_event_or_payload_is_accepted(
    chat: Chat, participant: str
) -> None:
    assert _presence_write(chat, participant, None, None) is None


@pytest.mark.parametrize("participant", ["alice", "bob"])
@pytest.mark.parametrize(
    ("event", "payload"),
    [("message", None), (None, '{"record": {"body": "forged"}}'), ("INSERT", '{"x": 1}')],
    ids=["event", "payload", "event-and-payload"],
)
def test_participant_presence_row_with_event_or_payload_is_denied(
    chat: Chat, participant: str, event: str | None, payload: str | None
) -> None:
    before = len(chat.db.broadcasts(f"chat:{chat.thread_id}"))
    assert _presence_write(chat, participant, event, payload) == "42501"
    assert len(chat.db.broadcasts(f"chat:{chat.thread_id}")) == before
