"""chat_history: newest first, keyset pages on (created_at, id), capped, participants only."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from pgpolicy.testing.assertions import (
    assert_allowed,
    assert_denied,
    assert_filtered,
    assert_raised,
)
from tests.chat.conftest import Chat

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def _seed(chat: Chat, count: int, *, same_time_every: int = 1) -> list[uuid.UUID]:
    """Insert ``count`` messages; groups of ``same_time_every`` share one created_at."""
    chat.db.execute("delete from public.chat_messages")
    return [
        chat.add_message(
            "alice" if n % 2 else "bob",
            f"message {n}",
            created_at=T0 + dt.timedelta(seconds=n // same_time_every),
        )
        for n in range(count)
    ]


def _expected_order(chat: Chat) -> list[uuid.UUID]:
    """Newest first, ties broken by id, computed independently of chat_history."""
    rows = chat.db.execute("select id, created_at from public.chat_messages")
    return [
        row["id"]
        for row in sorted(rows, key=lambda row: (row["created_at"], row["id"]), reverse=True)
    ]


def _page(chat: Chat, actor: str = "alice", **cursor: object) -> list[uuid.UUID]:
    result = assert_allowed(
        chat.caller(actor).rpc("chat_history", _thread_id=chat.thread_id, **cursor)
    )
    return [row["id"] for row in result.rows]


def test_history_is_newest_first(chat: Chat) -> None:
    _seed(chat, 5)
    bodies = [
        row["body"]
        for row in chat.caller("bob").rpc("chat_history", _thread_id=chat.thread_id).rows
    ]
    assert bodies == [f"message {n}" for n in (4, 3, 2, 1, 0)]


def test_ties_on_created_at_are_broken_by_id(chat: Chat) -> None:
    _seed(chat, 6, same_time_every=6)
    assert _page(chat) == _expected_order(chat)


def test_consecutive_pages_neither_overlap_nor_skip(chat: Chat) -> None:
    _seed(chat, 47, same_time_every=3)
    walked: list[uuid.UUID] = []
    cursor: dict[str, object] = {}
    while True:
        result = chat.caller("alice").rpc(
            "chat_history", _thread_id=chat.thread_id, _limit=10, **cursor
        )
        rows = assert_allowed(result).rows
        if not rows:
            break
        walked.extend(row["id"] for row in rows)
        cursor = {"_before_created_at": rows[-1]["created_at"], "_before_id": rows[-1]["id"]}
    assert walked == _expected_order(chat)


def test_limit_is_capped_at_100(chat: Chat) -> None:
    _seed(chat, 120)
    assert len(_page(chat, _limit=1000)) == 100


def test_default_page_is_50(chat: Chat) -> None:
    _seed(chat, 60)
    assert len(_page(chat)) == 50


@pytest.mark.parametrize("limit", [0, -1, None])
def test_limit_below_one_is_invalid_parameter(chat: Chat, limit: int | None) -> None:
    result = chat.caller("alice").rpc("chat_history", _thread_id=chat.thread_id, _limit=limit)
    assert_raised(result, "22023", status=400)


def test_non_participant_gets_nothing(chat: Chat) -> None:
    assert_filtered(chat.caller("carol").rpc("chat_history", _thread_id=chat.thread_id))


def test_anon_is_denied(chat: Chat) -> None:
    assert_denied(chat.caller("anon").rpc("chat_history", _thread_id=chat.thread_id), status=401)


def test_session_without_sub_is_denied_not_silently_empty(chat: Chat) -> None:
    result = chat.caller("no_sub").rpc("chat_history", _thread_id=chat.thread_id)
    assert_denied(result, status=403)


def test_service_role_reads_history_for_backend_jobs(chat: Chat) -> None:
    assert len(_page(chat, "service_role")) == 2


# chat_history_page_size is reachable as an RPC too (EXECUTE for authenticated, service_role).
@pytest.mark.parametrize(("actor", "limit", "size"), [("alice", 10, 10), ("carol", 500, 100)])
def test_page_size_rpc_caps_the_limit_for_signed_in_users(
    chat: Chat, actor: str, limit: int, size: int
) -> None:
    result = assert_allowed(chat.caller(actor).rpc("chat_history_page_size", _limit=limit))
    assert result.rows == [{"chat_history_page_size": size}]


def test_page_size_rpc_serves_backend_jobs(chat: Chat) -> None:
    result = assert_allowed(chat.caller("service_role").rpc("chat_history_page_size", _limit=20))
    assert result.rows == [{"chat_history_page_size": 20}]


@pytest.mark.parametrize(("actor", "status"), [("anon", 401), ("no_sub", 403)])
def test_page_size_rpc_refuses_a_caller_without_a_user(chat: Chat, actor: str, status: int) -> None:
    assert_denied(chat.caller(actor).rpc("chat_history_page_size", _limit=10), status=status)


# chat_history_page_limit is reachable as an RPC as well (chat_history, SECURITY INVOKER, calls
# it as the caller): it must tell no one but a participant that a thread exists.
@pytest.mark.parametrize(("actor", "size"), [("alice", 10), ("service_role", 10)])
def test_page_limit_rpc_gives_the_page_size_to_whoever_may_see_the_thread(
    chat: Chat, actor: str, size: int
) -> None:
    result = assert_allowed(
        chat.caller(actor).rpc("chat_history_page_limit", _thread_id=chat.thread_id, _limit=10)
    )
    assert result.rows == [{"chat_history_page_limit": size}]


def test_page_limit_rpc_answers_zero_to_another_user_as_for_a_missing_thread(chat: Chat) -> None:
    carol = chat.caller("carol")
    theirs = assert_allowed(
        carol.rpc("chat_history_page_limit", _thread_id=chat.thread_id, _limit=10)
    )
    missing = assert_allowed(
        carol.rpc("chat_history_page_limit", _thread_id="no__such_thread", _limit=10)
    )
    assert theirs.rows == missing.rows == [{"chat_history_page_limit": 0}]


@pytest.mark.parametrize(("actor", "status"), [("anon", 401), ("no_sub", 403)])
def test_page_limit_rpc_refuses_a_caller_without_a_user(
    chat: Chat, actor: str, status: int
) -> None:
    result = chat.caller(actor).rpc("chat_history_page_limit", _thread_id=chat.thread_id, _limit=10)
    assert_denied(result, status=status)
