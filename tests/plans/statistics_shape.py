"""Chat data in the shapes and statistics states that used to choose the plan (issue 19).

A busy user (``HUB``) holds either half of chat_thread_members (every partner in exactly one
thread with it) or a tiny share of it (200 threads among 10,000 others'); last_message_at is
either NULL everywhere (threads nobody wrote in) or set everywhere; the statistics are fresh
(ANALYZE after the load), stale (ANALYZE after the first 2% of the threads, the rest loaded
after) or absent (never analyzed). Rows are stored in a hashed order, as threads created over
time by many users would be, never in the order of the indexes. Bulk-loaded with
generate_series; autovacuum is off on the tables so the statistics stay as seeded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import psycopg

from tests.chat.production_shape import mongo_id, mongo_sql, user_id, uuid_sql

__all__ = ["HUB", "QUIET", "Seeding", "claims", "long_thread", "mongo_id", "seed", "user_id"]

Share = Literal["half", "tiny"]
LastMessageAt = Literal["null", "set"]
Statistics = Literal["fresh", "stale", "absent"]

# The busy user sits in the middle of its partners' numbers: user_a of half its threads and
# user_b of the others. QUIET is one of its partners, in that one thread only.
HUB = 500_000
QUIET = HUB - 1
HALF_THREADS = 10_000
TINY_THREADS = 200
OTHER_THREADS = 10_000
LONG_THREAD_MESSAGES = 3_000
TABLES = ("public.chat_threads", "public.chat_thread_members", "public.chat_messages")


def thread_of(a: int, b: int) -> str:
    low, high = sorted((a, b))
    return f"{mongo_id(low)}__{mongo_id(high)}"


def long_thread() -> str:
    """The hub's thread with HUB + 1: the one with a long history."""
    return thread_of(HUB, HUB + 1)


def claims(n: int) -> str:
    """request.jwt.claims of user ``n`` as Auth issues them (the fields the chat reads)."""
    return json.dumps(
        {
            "sub": str(user_id(n)),
            "role": "authenticated",
            "aud": "authenticated",
            "app_metadata": {"mongoUserId": mongo_id(n)},
        }
    )


@dataclass(frozen=True)
class Seeding:
    share: Share
    last_message_at: LastMessageAt
    statistics: Statistics

    @property
    def hub_threads(self) -> int:
        return HALF_THREADS if self.share == "half" else TINY_THREADS

    def __str__(self) -> str:
        return f"{self.share}-share, last_message_at {self.last_message_at}, {self.statistics}"


# Every thread as (a, b), a < b; ``phase`` 1 is 2% of them, phase 2 the rest.
_PAIRS = """
select a, b from (
  select least(p, %(hub)s) as a, greatest(p, %(hub)s) as b
  from generate_series(%(hub)s - %(half)s, %(hub)s + %(half)s) p where p <> %(hub)s
  union all
  select 1000000 + 2 * i, 1000001 + 2 * i from generate_series(1, %(others)s) i
) pairs
where (case when %(phase)s = 0 then true
            when %(phase)s = 1 then (a + b) %% 50 = 0
            else (a + b) %% 50 <> 0 end)
"""

_USERS = f"""
insert into auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data)
select {uuid_sql("n")}, 'authenticated', 'authenticated', 'user' || n || '@example.test',
       jsonb_build_object('mongoUserId', {mongo_sql("n")}), '{{}}'::jsonb
from (select a as n from ({_PAIRS}) p union select b from ({_PAIRS}) p) users
on conflict (id) do nothing
"""

_THREADS = f"""
insert into public.chat_threads (thread_id, user_a_mongo_id, user_b_mongo_id,
                                 user_a_supabase_id, user_b_supabase_id)
select {mongo_sql("a")} || '__' || {mongo_sql("b")}, {mongo_sql("a")}, {mongo_sql("b")},
       {uuid_sql("a")}, {uuid_sql("b")}
from ({_PAIRS}) pairs
order by md5(a || '-' || b)
"""

# Two messages a thread, LONG_THREAD_MESSAGES in the hub's thread with HUB + 1.
_MESSAGES = f"""
insert into public.chat_messages (thread_id, sender_supabase_id, sender_mongo_id,
                                  recipient_mongo_id, body, created_at,
                                  user_a_supabase_id, user_b_supabase_id)
select {mongo_sql("t.a")} || '__' || {mongo_sql("t.b")},
       case when i %% 2 = 0 then {uuid_sql("t.a")} else {uuid_sql("t.b")} end,
       case when i %% 2 = 0 then {mongo_sql("t.a")} else {mongo_sql("t.b")} end,
       case when i %% 2 = 0 then {mongo_sql("t.b")} else {mongo_sql("t.a")} end,
       'message ' || i, timestamptz '2026-01-01' + (i * 7 + t.a %% 1000) * interval '1 second',
       {uuid_sql("t.a")}, {uuid_sql("t.b")}
from ({_PAIRS}) t,
     generate_series(1, case when t.a = %(hub)s and t.b = %(hub)s + 1
                             then %(long)s else 2 end) i
order by md5(t.a || '-' || t.b || '-' || i)
"""

_LAST_MESSAGE_AT = """
update public.chat_threads t set last_message_at = m.latest
from (select thread_id, max(created_at) as latest from public.chat_messages group by thread_id) m
where m.thread_id = t.thread_id and t.last_message_at is null
"""


# chat_thread_members rewritten in a hashed order: memberships written over months by many
# users' threads, so one user's rows are spread over the whole table (low correlation).
_SPREAD_MEMBERS = (
    "create temporary table spread_members on commit drop as"
    " select * from public.chat_thread_members order by md5(user_id::text || thread_id)",
    "delete from public.chat_thread_members",
    "insert into public.chat_thread_members select * from spread_members",
)


def _spread_members(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction():
        for statement in _SPREAD_MEMBERS:
            conn.execute(statement)  # type: ignore[arg-type]


def _load(conn: psycopg.Connection[Any], seeding: Seeding, phase: int) -> None:
    params = {
        "hub": HUB,
        "half": seeding.hub_threads // 2,
        "others": OTHER_THREADS,
        "long": LONG_THREAD_MESSAGES,
        "phase": phase,
    }
    conn.execute(_USERS, params)
    conn.execute(_THREADS, params)
    # Seeded rows need no broadcast; the participant columns are set as the trigger sets them.
    conn.execute("alter table public.chat_messages disable trigger user")
    conn.execute(_MESSAGES, params)
    conn.execute("alter table public.chat_messages enable trigger user")
    if seeding.last_message_at == "set":
        # Through the trigger, as each message's touch would: chat_thread_members follows.
        conn.execute(_LAST_MESSAGE_AT)
    _spread_members(conn)


def seed(conn: psycopg.Connection[Any], seeding: Seeding) -> None:
    """Load ``seeding`` into an empty, migrated database (``conn``: autocommit, table owner)."""
    for table in TABLES:
        conn.execute(f"alter table {table} set (autovacuum_enabled = false)")  # type: ignore[arg-type]
    if seeding.statistics == "stale":
        _load(conn, seeding, phase=1)
        conn.execute("vacuum (analyze) " + ", ".join(TABLES))  # type: ignore[arg-type]
        _load(conn, seeding, phase=2)
        return
    _load(conn, seeding, phase=0)
    if seeding.statistics == "fresh":
        # Compacted, as a table long vacuumed is: every page full and all-visible.
        conn.execute("vacuum (full, analyze) " + ", ".join(TABLES))  # type: ignore[arg-type]
