"""The chat world every proof starts from: two participants, a stranger, one thread.

Actors (the rows of the access table):
- ``alice`` and ``bob``: participants of ``thread`` (alice holds the smaller Mongo id);
- ``carol``: another signed-in user with her own chat identity;
- ``anon``: no session (the anon API key);
- ``no_sub``: role ``authenticated`` whose claims lost ``sub`` (auth.uid() is NULL);
- ``service_role``: a trusted backend job.
Fixtures insert with the harness's privileges, so no proof depends on the code it checks.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from pgpolicy.postgrest.claims import Actor
from pgpolicy.postgrest.request import Request
from pgpolicy.testing.harness import Database

ALICE_MONGO = "64b0c0ffee00000000000001"
BOB_MONGO = "64b0c0ffee00000000000002"
CAROL_MONGO = "64b0c0ffee00000000000003"
THREAD_ID = f"{ALICE_MONGO}__{BOB_MONGO}"
CAROL_ALICE_THREAD = f"{ALICE_MONGO}__{CAROL_MONGO}"

OUTSIDERS = ["carol", "anon", "no_sub"]


@dataclass
class Chat:
    """Handles on the chat world of one test."""

    db: Database
    alice: Actor
    bob: Actor
    carol: Actor
    thread_id: str = THREAD_ID
    message_ids: list[uuid.UUID] = field(default_factory=list)

    def caller(self, name: str) -> Request:
        """The request for a named actor of the access table."""
        if name in ("alice", "bob", "carol"):
            actor: Actor = getattr(self, name)
            return self.db.as_user(actor)
        if name == "anon":
            return self.db.as_anon()
        if name == "no_sub":
            return self.db.as_signed_in_without_sub()
        if name == "service_role":
            return self.db.as_service_role()
        raise ValueError(f"unknown actor {name!r}")

    def mongo_id(self, name: str) -> str:
        return {"alice": ALICE_MONGO, "bob": BOB_MONGO, "carol": CAROL_MONGO}[name]

    def add_message(
        self,
        sender: str = "alice",
        body: str = "hello",
        *,
        created_at: dt.datetime | None = None,
        thread_id: str | None = None,
    ) -> uuid.UUID:
        """Insert a message with the harness's privileges (the trigger broadcasts it)."""
        recipient = "bob" if sender == "alice" else "alice"
        sender_actor: Actor = getattr(self, sender)
        message_id = uuid.uuid4()
        self.db.execute(
            "insert into public.chat_messages (id, thread_id, sender_supabase_id,"
            " sender_mongo_id, recipient_mongo_id, body, created_at)"
            " values (%s, %s, %s, %s, %s, %s, coalesce(%s, clock_timestamp()))",
            (
                message_id,
                thread_id or self.thread_id,
                sender_actor.id,
                self.mongo_id(sender),
                self.mongo_id(recipient),
                body,
                created_at,
            ),
        )
        self.message_ids.append(message_id)
        return message_id

    def count(self, table: str, where: str = "true", params: Any = None) -> int:
        value = self.db.scalar(f"select count(*) from {table} where {where}", params)
        return int(value)


def insert_thread(db: Database, a: Actor, a_mongo: str, b: Actor, b_mongo: str) -> str:
    """Insert a thread with the harness's privileges; return its id."""
    thread_id = f"{a_mongo}__{b_mongo}"
    db.execute(
        "insert into public.chat_threads (thread_id, user_a_mongo_id, user_b_mongo_id,"
        " user_a_supabase_id, user_b_supabase_id) values (%s, %s, %s, %s, %s)",
        (thread_id, a_mongo, b_mongo, a.id, b.id),
    )
    return thread_id


@pytest.fixture
def chat(db: Database) -> Chat:
    alice = db.create_user("alice", app_metadata={"mongoUserId": ALICE_MONGO})
    bob = db.create_user("bob", app_metadata={"mongoUserId": BOB_MONGO})
    carol = db.create_user("carol", app_metadata={"mongoUserId": CAROL_MONGO})
    insert_thread(db, alice, ALICE_MONGO, bob, BOB_MONGO)
    world = Chat(db=db, alice=alice, bob=bob, carol=carol)
    world.add_message("alice", "hi bob")
    world.add_message("bob", "hi alice")
    return world
