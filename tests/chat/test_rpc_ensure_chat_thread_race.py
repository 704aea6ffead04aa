"""ensure_chat_thread under a real race: both participants open a new chat at the same instant.

Two threads, each on its own connection, call ensure_chat_thread as PostgREST does (one
transaction per request) for many pairs that have no thread yet, released together by a
barrier: one call from each side of every pair. Every call must succeed with the same row,
whichever unique constraint of chat_threads the losing insert meets first.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from pgpolicy.postgrest.claims import Actor
from pgpolicy.postgrest.identity import as_user
from pgpolicy.postgrest.request import Request, Result
from pgpolicy.testing.harness import Database

PAIRS = 300


def _mongo_id(n: int) -> str:
    return f"64c0ffee{n:016x}"


def _sign_up_pairs(db: Database) -> list[tuple[Actor, Actor]]:
    pairs = []
    for n in range(PAIRS):
        left = db.create_user(f"left{n}", app_metadata={"mongoUserId": _mongo_id(2 * n)})
        right = db.create_user(f"right{n}", app_metadata={"mongoUserId": _mongo_id(2 * n + 1)})
        pairs.append((left, right))
    return pairs


def _race(
    conn: psycopg.Connection[Any],
    callers: list[tuple[Actor, str]],
    barrier: threading.Barrier,
    results: list[Result],
) -> None:
    for caller, other_mongo_id in callers:
        barrier.wait(timeout=30)
        results.append(
            Request(conn, as_user(caller)).rpc("ensure_chat_thread", _other_mongo_id=other_mongo_id)
        )


@pytest.mark.commit
def test_both_participants_creating_a_thread_at_once_both_get_the_one_thread(
    db: Database,
) -> None:
    pairs = _sign_up_pairs(db)
    left_calls = [(left, _mongo_id(2 * n + 1)) for n, (left, _right) in enumerate(pairs)]
    right_calls = [(right, _mongo_id(2 * n)) for n, (_left, right) in enumerate(pairs)]
    barrier = threading.Barrier(2)
    left_results: list[Result] = []
    right_results: list[Result] = []
    racers = [
        threading.Thread(target=_race, args=(db.connect(), left_calls, barrier, left_results)),
        threading.Thread(target=_race, args=(db.connect(), right_calls, barrier, right_results)),
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=120)

    failed = [
        (result.sqlstate, result.message)
        for result in left_results + right_results
        if not result.ok
    ]
    assert failed == [], f"{len(failed)} of {2 * PAIRS} calls failed: {failed[:3]}"
    assert len(left_results) == len(right_results) == PAIRS
    for n, (left, right) in enumerate(zip(left_results, right_results, strict=True)):
        assert left.rows == right.rows, n
        assert left.rows[0]["thread_id"] == f"{_mongo_id(2 * n)}__{_mongo_id(2 * n + 1)}"
    assert db.scalar("select count(*) from public.chat_threads") == PAIRS
    assert db.scalar("select count(*) from public.chat_thread_members") == 2 * PAIRS
