"""Production-shaped chat data for the benchmark, loaded fast (generate_series, indexes after).

Two shapes at scale 1 (``scale`` multiplies the messages):
- ``busy_half``: alice and bob share one thread ("quiet": alice is in 1 thread) of 250,000
  messages; hub has 20,000 threads ("busy": one user in 20,000 threads, half of
  chat_thread_members); its thread with the next user holds 250,000 messages, the other
  19,999 threads 26 each; 20,001 threads, 1,019,974 messages in all.
- ``busy_tiny``: the same two long threads, hub in 200 threads, and 20,000 threads between
  other users with 26 messages each: the busy user holds 1% of chat_thread_members, so the
  planner's average share is far from it in the other direction.
Users are numbered: alice 1, bob 2, hub in the middle of its partners 3 .. 3 + partners, so
it is user_a of half its threads and user_b of the other half, as a busy user would be; the
other users' pairs come after them.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

__all__ = [
    "ALICE",
    "BOB",
    "Shape",
    "mongo_id",
    "mongo_sql",
    "seed",
    "thread_id",
    "user_id",
    "uuid_sql",
]

ALICE, BOB = 1, 2


def mongo_id(n: int) -> str:
    """The Mongo id of user ``n``: 24 hex digits, so byte order is numeric order."""
    return f"{n:024x}"


def user_id(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{n:012x}")


def thread_id(a: int, b: int) -> str:
    low, high = sorted((a, b))
    return f"{mongo_id(low)}__{mongo_id(high)}"


@dataclass(frozen=True)
class Shape:
    """How much data: the hub's thread count, the messages per long and short thread, and the
    threads between other users (the hub in none of them)."""

    partners: int
    big_thread_messages: int
    small_thread_messages: int
    other_threads: int = 0
    name: str = "custom"

    @classmethod
    def at_scale(cls, scale: int) -> Shape:
        """SCALE=1: 1,019,974 messages in 20,001 threads; SCALE=10: ten times the messages."""
        return cls.busy_half(scale)

    @classmethod
    def busy_half(cls, scale: int) -> Shape:
        """The busy user in 20,000 threads: half of chat_thread_members is its."""
        return cls(20_000, 250_000 * scale, 26 * scale, name="busy user holds half")

    @classmethod
    def busy_tiny(cls, scale: int) -> Shape:
        """The busy user in 200 of 20,201 threads: 1% of chat_thread_members."""
        return cls(200, 250_000 * scale, 26 * scale, 20_000, name="busy user holds 1%")

    @property
    def hub(self) -> int:
        return 3 + self.partners // 2

    @property
    def hub_partner(self) -> int:
        return self.hub + 1

    @property
    def first_other_user(self) -> int:
        return 4 + self.partners

    @property
    def users(self) -> int:
        return 3 + self.partners + 2 * self.other_threads

    @property
    def total_messages(self) -> int:
        short_threads = self.partners - 1 + self.other_threads
        return 2 * self.big_thread_messages + short_threads * self.small_thread_messages

    @property
    def threads(self) -> int:
        return self.partners + 1 + self.other_threads


# SQL expressions of the numbering above, for generate_series-driven inserts.
_MONGO = "lpad(to_hex({n}), 24, '0')"
_UUID = "('00000000-0000-4000-8000-' || lpad(to_hex({n}), 12, '0'))::uuid"


def mongo_sql(n: str) -> str:
    """SQL for mongo_id of the integer expression ``n``."""
    return _MONGO.format(n=n)


def uuid_sql(n: str) -> str:
    """SQL for user_id of the integer expression ``n``."""
    return _UUID.format(n=n)


_USERS = f"""
insert into auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data,
                        created_at, updated_at)
select {uuid_sql("n")}, 'authenticated', 'authenticated', 'user' || n || '@example.com',
       jsonb_build_object('mongoUserId', {mongo_sql("n")}), '{{}}'::jsonb, now(), now()
from generate_series(1, %(users)s) n
"""

# Every thread as a pair (a, b), a < b: user_a is the smaller Mongo id (= smaller n).
_PAIRS = """
select 1 as a, 2 as b, %(big)s as n
union all select %(hub)s, %(hub)s + 1, %(big)s
union all select least(p, %(hub)s), greatest(p, %(hub)s), %(small)s
from generate_series(3, 3 + %(partners)s) p where p not in (%(hub)s, %(hub)s + 1)
union all select %(first_other)s + 2 * i, %(first_other)s + 2 * i + 1, %(small)s
from generate_series(0, %(others)s - 1) i
"""

_THREADS = f"""
insert into public.chat_threads (thread_id, user_a_mongo_id, user_b_mongo_id,
                                 user_a_supabase_id, user_b_supabase_id, created_at)
select {mongo_sql("a")} || '__' || {mongo_sql("b")}, {mongo_sql("a")}, {mongo_sql("b")},
       {uuid_sql("a")}, {uuid_sql("b")}, timestamptz '2025-01-01'
from ({_PAIRS}) pairs
"""

# Messages of thread (a, b), alternating sender, one second apart from 2025-01-01.
_MESSAGES = f"""
insert into public.chat_messages (id, thread_id, sender_supabase_id, sender_mongo_id,
                                  recipient_mongo_id, body, created_at,
                                  user_a_supabase_id, user_b_supabase_id)
select gen_random_uuid(), {mongo_sql("t.a")} || '__' || {mongo_sql("t.b")},
       case when i %% 2 = 0 then {uuid_sql("t.a")} else {uuid_sql("t.b")} end,
       case when i %% 2 = 0 then {mongo_sql("t.a")} else {mongo_sql("t.b")} end,
       case when i %% 2 = 0 then {mongo_sql("t.b")} else {mongo_sql("t.a")} end,
       'message number ' || i || ' of a production-shaped chat thread',
       timestamptz '2025-01-01' + i * interval '1 second',
       {uuid_sql("t.a")}, {uuid_sql("t.b")}
from ({_PAIRS}) t,
     generate_series(1, t.n) i
"""

_INDEX_DEFINITIONS = """
select pg_get_indexdef(i.indexrelid)
from pg_index i
where i.indrelid = 'public.chat_messages'::regclass
  and not exists (select from pg_constraint c where c.conindid = i.indexrelid)
"""
_CONSTRAINT_DEFINITIONS = """
select c.conname, pg_get_constraintdef(c.oid), c.contype
from pg_constraint c
where c.conrelid = 'public.chat_messages'::regclass and c.contype in ('p', 'f', 'u')
order by case c.contype when 'p' then 0 when 'u' then 1 else 2 end
"""


def seed(conn: psycopg.Connection[Any], shape: Shape) -> dict[str, float]:
    """Load ``shape`` into a migrated, empty chat schema; returns seconds per step."""
    timings: dict[str, float] = {}

    def step(name: str, statement: str, params: dict[str, int] | None = None) -> None:
        start = time.perf_counter()
        conn.execute(statement, params)
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - start

    params = {
        "users": shape.users,
        "partners": shape.partners,
        "first_other": shape.first_other_user,
        "others": shape.other_threads,
        "big": shape.big_thread_messages,
        "small": shape.small_thread_messages,
        "hub": shape.hub,
    }
    step("users", _USERS, params)
    step("threads", _THREADS, params)
    indexes = [row[0] for row in conn.execute(_INDEX_DEFINITIONS)]
    constraints = list(conn.execute(_CONSTRAINT_DEFINITIONS))
    # Load without indexes, foreign keys or triggers (a broadcast per seeded row is not
    # what is measured; the participant columns are set as the trigger would set them); all
    # of them come back, from their own catalog definitions.
    for name, _definition, _kind in constraints:
        step("drop", f'alter table public.chat_messages drop constraint "{name}"')
    for definition in indexes:
        index = definition.split(" INDEX ", 1)[1].split(" ON ", 1)[0]
        step("drop", f"drop index public.{index}")
    step("drop", "alter table public.chat_messages disable trigger user")
    step("messages", _MESSAGES, params)
    step("index", "set maintenance_work_mem = '512MB'")
    for name, definition, _kind in constraints:
        step("index", f'alter table public.chat_messages add constraint "{name}" {definition}')
    for definition in indexes:
        step("index", definition)
    step("index", "alter table public.chat_messages enable trigger user")
    step(
        "threads",
        "update public.chat_threads t set last_message_at = m.latest"
        " from (select thread_id, max(created_at) as latest from public.chat_messages"
        " group by thread_id) m where m.thread_id = t.thread_id",
    )
    step(
        "analyze",
        "vacuum (analyze) public.chat_messages, public.chat_threads, public.chat_thread_members,"
        " public.chat_identities",
    )
    return timings
