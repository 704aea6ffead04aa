"""Production-shaped chat data for plan-shape tests, seeded in about a second.

One busy user (``hub``) in thousands of threads, half as user_a and half as user_b (its Mongo
id sits in the middle of its partners'), one of them long; ``alice`` in one long thread with
``bob``; every other thread short. Inserted with generate_series, triggers off (the
participant columns are filled as the trigger would), then analyzed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pgpolicy.postgrest.claims import Actor
from pgpolicy.testing.harness import Database

__all__ = [
    "ALICE_N",
    "BOB_N",
    "Shape",
    "World",
    "mongo_id",
    "mongo_sql",
    "seed",
    "user_id",
    "uuid_sql",
]

ALICE_N, BOB_N = 1, 2


def mongo_id(n: int) -> str:
    return f"{n:024x}"


def user_id(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{n:012x}")


@dataclass(frozen=True)
class Shape:
    """How many threads the busy user has and how long the long threads are."""

    hub_threads: int
    long_thread: int
    short_thread: int = 5

    @property
    def hub(self) -> int:
        return 3 + self.hub_threads // 2


@dataclass(frozen=True)
class World:
    shape: Shape
    alice: Actor
    hub: Actor
    alice_thread: str
    hub_thread: str


_MONGO = "lpad(to_hex({n}), 24, '0')"
_UUID = "('00000000-0000-4000-8000-' || lpad(to_hex({n}), 12, '0'))::uuid"


def mongo_sql(n: str) -> str:
    """SQL for mongo_id of the integer expression ``n`` (generate_series-driven inserts)."""
    return _MONGO.format(n=n)


def uuid_sql(n: str) -> str:
    """SQL for user_id of the integer expression ``n``."""
    return _UUID.format(n=n)


_PAIRS = """
select 1 as a, 2 as b, %(long)s as n
union all select %(hub)s, %(hub)s + 1, %(long)s
union all select least(p, %(hub)s), greatest(p, %(hub)s), %(short)s
from generate_series(3, 3 + %(partners)s) p where p not in (%(hub)s, %(hub)s + 1)
"""

_USERS = f"""
insert into auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data)
select {uuid_sql("n")}, 'authenticated', 'authenticated', 'user' || n || '@example.test',
       jsonb_build_object('mongoUserId', {mongo_sql("n")}), '{{}}'::jsonb
from generate_series(1, 3 + %(partners)s) n
"""

_THREADS = f"""
insert into public.chat_threads (thread_id, user_a_mongo_id, user_b_mongo_id,
                                 user_a_supabase_id, user_b_supabase_id)
select {mongo_sql("a")} || '__' || {mongo_sql("b")}, {mongo_sql("a")}, {mongo_sql("b")},
       {uuid_sql("a")}, {uuid_sql("b")}
from ({_PAIRS}) pairs
"""

_MESSAGES = f"""
insert into public.chat_messages (thread_id, sender_supabase_id, sender_mongo_id,
                                  recipient_mongo_id, body, created_at,
                                  user_a_supabase_id, user_b_supabase_id)
select {mongo_sql("t.a")} || '__' || {mongo_sql("t.b")},
       case when i %% 2 = 0 then {uuid_sql("t.a")} else {uuid_sql("t.b")} end,
       case when i %% 2 = 0 then {mongo_sql("t.a")} else {mongo_sql("t.b")} end,
       case when i %% 2 = 0 then {mongo_sql("t.b")} else {mongo_sql("t.a")} end,
       'message ' || i, timestamptz '2026-01-01' + (i / 3) * interval '1 second',
       {uuid_sql("t.a")}, {uuid_sql("t.b")}
from ({_PAIRS}) t, generate_series(1, t.n) i
"""


def _actor(n: int, label: str) -> Actor:
    return Actor(
        id=user_id(n),
        email=f"user{n}@example.test",
        app_metadata={"mongoUserId": mongo_id(n)},
        label=label,
    )


def seed(db: Database, shape: Shape) -> World:
    """Load ``shape`` into ``db`` (a committing handle on an empty, migrated database)."""
    params = {
        "partners": shape.hub_threads,
        "hub": shape.hub,
        "long": shape.long_thread,
        "short": shape.short_thread,
    }
    db.execute(_USERS, params)
    db.execute(_THREADS, params)
    # Seeded rows need no broadcast; the participant columns are set by the insert itself.
    db.execute("alter table public.chat_messages disable trigger user")
    db.execute(_MESSAGES, params)
    db.execute("alter table public.chat_messages enable trigger user")
    db.execute("analyze public.chat_threads")
    db.execute("analyze public.chat_thread_members")
    db.execute("analyze public.chat_messages")
    return World(
        shape=shape,
        alice=_actor(ALICE_N, "alice"),
        hub=_actor(shape.hub, "hub"),
        alice_thread=f"{mongo_id(ALICE_N)}__{mongo_id(BOB_N)}",
        hub_thread=f"{mongo_id(shape.hub)}__{mongo_id(shape.hub + 1)}",
    )
