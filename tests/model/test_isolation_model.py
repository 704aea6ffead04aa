"""Random worlds, random requests by every actor: the database answers what the model says.

Each hypothesis example is one world, built and queried inside a savepoint that is rolled
back (cheap: no new database). Steps either change the world with the harness's privileges
(users with and without chat identities, relinks, deletions, threads, messages; from
revision 0011 a deletion or unlink leaves each thread to its other participant) or make a
request as a random actor (a participant, another signed-in user, a deleted user's token,
anon, a session without sub, service_role): every table command on the three chat tables,
every RPC with valid and invalid arguments, history pages with cursors, realtime joins and
the broadcasts a subscriber receives. ``tests/model/model.py`` predicts each answer; any
difference fails with the shrunk sequence of steps.

Profiles (tests/model/conftest.py): ``ci`` in the normal run, ``fuzz`` for ``make fuzz``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import Counter
from contextlib import ExitStack
from typing import Any

import psycopg
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)
from psycopg import sql

from pgpolicy.postgrest.claims import Actor
from pgpolicy.postgrest.request import Request, Result
from pgpolicy.testing.harness import Database
from tests.model.model import (
    DEFAULT_PAGE,
    Caller,
    Message,
    Outcome,
    Rules,
    User,
    World,
    thread_id_of,
)

MONGO_IDS = ("m1", "m2", "m3", "m4")
# Every thread id the Mongo ids can spell (most never exist), and names of no thread at all.
THREAD_IDS = sorted({thread_id_of(a, b) for a in MONGO_IDS for b in MONGO_IDS if a != b})
TOPICS = [f"chat:{t}" for t in THREAD_IDS] + ["chat:", "chat:../x", "chat:m1", "other:m1__m2"]
BODIES = [
    "hello",
    "x" * 4000,
    "x" * 4001,
    "",
    " \t\n",
    "\u00a0\u3000",
    "\u200b",
    "\u3164",
    "\u2800\u115f",
    "a\u3164",
]
PAST = [dt.datetime(2020, 1, 1, tzinfo=dt.UTC), dt.datetime(2021, 6, 1, 12, tzinfo=dt.UTC)]
# A broadcast's record, compared with World.received().
RECORD_FIELDS = (
    "id",
    "thread_id",
    "sender_supabase_id",
    "sender_mongo_id",
    "recipient_mongo_id",
    "body",
)
# Users' ids follow from their labels (u1, u2 …): a world replays with the same ids, so the
# orders they decide (service_role's page, the memberships drawn from) replay too and a
# failure shrinks. Each world is rolled back, so the next one may reuse them.
USER_IDS = uuid.UUID("5a1c7e2e-7d2b-4f8e-9a31-0c6f3b1d2e40")
# A user id nobody has.
STRANGER = uuid.UUID("00000000-0000-4000-8000-000000000000")
TABLES = {"chat_threads": "thread_id", "chat_messages": "id", "chat_identities": "user_id"}
# Answers the worlds must reach (any one of each group), so that a run collecting only
# refusals fails. Each group is reached dozens of times in a ci run.
EXERCISED = [
    ("user select chat_threads: rows",),
    ("user select chat_messages: rows",),
    ("user select chat_identities: rows",),
    ("user insert chat_messages: ok",),
    ("user insert chat_messages: 42501",),
    ("user insert_chat_message: rows", "user insert_chat_message_once: rows"),
    ("user insert_chat_message: 22023", "user insert_chat_message_once: 22023"),
    ("user insert_chat_message: 42501", "user insert_chat_message_once: 42501"),
    ("user ensure_chat_thread: rows",),
    ("user ensure_chat_thread: 22023",),
    ("user chat_history: rows",),
    ("user chat_history: 22023",),
    ("user join: allowed",),
    ("user join: denied",),
    ("user write presence: allowed",),
    ("user write broadcast: denied",),
    ("service_role join: allowed",),
    tuple(f"service_role select {table}: rows" for table in TABLES),
]
# The same for chat_thread_members, from revision 0008 on.
THREAD_MEMBERS_EXERCISED = [
    ("user select chat_thread_members: rows",),
    ("no_sub select chat_thread_members: ok",),
    ("anon select chat_thread_members: 42501",),
    ("service_role select chat_thread_members: rows",),
    ("user insert chat_thread_members: 42501",),
    ("user update chat_thread_members: 42501",),
    ("user delete chat_thread_members: 42501",),
    (
        "service_role delete chat_thread_members: rows",
        "service_role update chat_thread_members: rows",
    ),
]
# The same for departures (revision 0011): a thread whose participant left takes no message.
DEPARTURES_EXERCISED = [
    ("user insert_chat_message: 23503", "user insert_chat_message_once: 23503"),
    ("user insert chat_messages: 23503",),
    ("user ensure_chat_thread: 23503",),
]
# A no-op assignment per table: the UPDATE is checked, nothing changes.
NOOP_UPDATE = {"chat_threads": "thread_id", "chat_messages": "body", "chat_identities": "mongo_id"}


class ChatWorlds(RuleBasedStateMachine):
    """One world per example; the database is the system under test, World the model."""

    def __init__(self, db: Database, rules: Rules, tally: Counter[str]) -> None:
        super().__init__()
        self.db = db
        self.tally = tally
        tally["worlds"] += 1
        self.world = World(rules=rules)
        self._savepoint = ExitStack()
        self._savepoint.enter_context(db.conn.transaction(force_rollback=True))

    def teardown(self) -> None:
        self._savepoint.close()

    # --- drawing arguments ----------------------------------------------------------------
    def _caller(self, data: st.DataObject) -> Caller:
        # Drawn by name so that a shrunk example reads "caller: 'u2'"; half of the time a
        # participant, as most requests are a participant's and most of the rules are theirs.
        callers = {user.actor.label: Caller("user", user) for user in self.world.users}
        participants = [name for name, c in callers.items() if self.world.visible_threads(c)]
        if participants and not data.draw(st.booleans(), label="anyone"):
            return callers[data.draw(st.sampled_from(participants), label="caller")]
        callers.update({kind: Caller(kind) for kind in ("anon", "no_sub", "service_role")})
        return callers[data.draw(st.sampled_from(list(callers)), label="caller")]

    def _live_user(self, data: st.DataObject) -> User:
        users = {user.actor.label: user for user in self.world.live_users()}
        return users[data.draw(st.sampled_from(list(users)), label="user")]

    def _thread_id(self, data: st.DataObject, caller: Caller) -> str:
        """Often one of the caller's own threads, else any existing one, else any spelling."""
        own = sorted(t.thread_id for t in self.world.visible_threads(caller))
        if own and not data.draw(st.booleans(), label="any thread"):
            return data.draw(st.sampled_from(own), label="thread_id")
        existing = sorted(self.world.threads)
        return data.draw(st.sampled_from(existing + THREAD_IDS), label="thread_id")

    def _topic(self, data: st.DataObject, caller: Caller) -> str:
        """Often the topic of one of the caller's threads, else any topic, malformed ones too."""
        own = sorted(f"chat:{t.thread_id}" for t in self.world.visible_threads(caller))
        if own and not data.draw(st.booleans(), label="any topic"):
            return data.draw(st.sampled_from(own), label="topic")
        return data.draw(st.sampled_from(TOPICS), label="topic")

    @staticmethod
    def _body(data: st.DataObject, *extra: str | None) -> Any:
        if not data.draw(st.booleans(), label="another body"):
            return "hello"
        return data.draw(st.sampled_from([*BODIES, *extra]), label="body")

    def _linked_pair(self, data: st.DataObject) -> tuple[User, User]:
        linked = {u.actor.label: u for u in self.world.live_users() if u.mongo_id is not None}
        first = data.draw(st.sampled_from(list(linked)), label="first")
        second = data.draw(st.sampled_from([n for n in linked if n != first]), label="second")
        return linked[first], linked[second]

    def _direction(
        self, data: st.DataObject, caller: Caller, thread_id: str, *, own: bool = True
    ) -> tuple[str, str]:
        """The caller's own direction in the thread (unless ``own`` is false), or one id of it
        changed, or any two."""
        thread = self.world.threads.get(thread_id)
        side = thread.side(caller.uid) if thread is not None else None
        if side is None:
            side = (thread_id.split("__")[0], thread_id.split("__")[-1])
        mine, theirs = side
        anyone = st.sampled_from(MONGO_IDS)
        shapes = ["reversed", "other sender", "other recipient", "any"]
        shape = data.draw(
            st.sampled_from(["own", "own", *shapes] if own else shapes), label="direction"
        )
        if shape == "own":
            return mine, theirs
        if shape == "reversed":
            return theirs, mine
        if shape == "other sender":
            return data.draw(anyone, label="sender_mongo_id"), theirs
        if shape == "other recipient":
            return mine, data.draw(anyone, label="recipient_mongo_id")
        return data.draw(anyone, label="sender_mongo_id"), data.draw(anyone, label="recipient")

    def _message_id(self, data: st.DataObject) -> uuid.UUID | None:
        reuse = sorted(self.world.messages)
        choice = data.draw(
            st.sampled_from(["fresh", "none", *(["reuse"] if reuse else [])]), label="message id"
        )
        if choice == "reuse":
            return data.draw(st.sampled_from(reuse), label="reused id")
        return uuid.uuid4() if choice == "fresh" else None

    # --- running and comparing ------------------------------------------------------------
    def _request(self, caller: Caller) -> Request:
        if caller.user is not None:
            return self.db.as_user(caller.user.actor)
        if caller.kind == "anon":
            return self.db.as_anon()
        if caller.kind == "no_sub":
            return self.db.as_signed_in_without_sub()
        return self.db.as_service_role()

    def _sign_up(self, label: str, mongo_id: str | None) -> tuple[str | None, Actor]:
        """An auth.users row written in the world's savepoint, so the world rolls it back.

        (``db.create_user`` signs up on a connection of its own, committed: worlds would
        leak into one another.) The sync trigger on auth.users fires all the same.
        """
        metadata = {"mongoUserId": mongo_id} if mongo_id is not None else {}
        actor = Actor(
            id=uuid.uuid5(USER_IDS, label),
            email=f"{label}@example.test",
            app_metadata=metadata,
            label=label,
        )
        sqlstate, _ = self._privileged(
            "insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data,"
            " raw_user_meta_data, is_anonymous, created_at, updated_at)"
            " values ('00000000-0000-0000-0000-000000000000', %s, 'authenticated',"
            " 'authenticated', %s, %s, '{}', false, now(), now())",
            (actor.id, actor.email, json.dumps(metadata)),
        )
        return sqlstate, actor

    def _privileged(self, query: Any, params: Any = None) -> tuple[str | None, list[Any]]:
        """Run a world-changing statement in a savepoint: (SQLSTATE or None, rows)."""
        try:
            with self.db.conn.transaction():
                return None, self.db.execute(query, params)
        except psycopg.Error as error:
            return error.sqlstate, []

    def _expect(
        self, outcome: Outcome, result: Result, rows: list[Any] | None, caller: Caller, what: str
    ) -> None:
        __tracebackhide__ = True
        answer = result.sqlstate or ("rows" if rows and rows != [0] else "ok")
        self.tally[f"{caller.kind} {what.split('(')[0]}: {answer}"] += 1
        what = f"{caller!r} {what}"
        said = f"{result.sqlstate} ({result.message})" if not result.ok else f"rows {rows!r}"
        assert result.sqlstate == outcome.sqlstate, (
            f"{what}: model says {outcome.sqlstate or 'allowed'}, database said {said}"
        )
        if outcome.ok and outcome.rows is not None:
            assert rows == outcome.rows, f"{what}: model says rows {outcome.rows!r}, got {rows!r}"

    def _record(self, row: dict[str, Any]) -> None:
        self.world.add_message(
            Message(
                id=row["id"] if isinstance(row["id"], uuid.UUID) else uuid.UUID(row["id"]),
                thread_id=row["thread_id"],
                sender=uuid.UUID(str(row["sender_supabase_id"])),
                sender_mongo=row["sender_mongo_id"],
                recipient_mongo=row["recipient_mongo_id"],
                body=row["body"],
                created_at=_timestamp(row["created_at"]),
            )
        )

    def _assert_broadcasts(self, topic: str) -> None:
        __tracebackhide__ = True
        # Sorted: delivery order is commit order, which one transaction's rows do not show.
        received = sorted(
            tuple(str(b.payload["record"][name]) for name in RECORD_FIELDS)
            for b in self.db.broadcasts(topic)
        )
        assert received == self.world.received(topic), f"broadcasts on {topic}"
        for broadcast in self.db.broadcasts(topic):
            payload = broadcast.payload
            assert broadcast.event == "INSERT"
            assert (payload["operation"], payload["schema"], payload["table"]) == (
                "INSERT",
                "public",
                "chat_messages",
            )

    # --- the world ------------------------------------------------------------------------
    @initialize(data=st.data())
    def founders(self, data: st.DataObject) -> None:
        """Every world starts with two linked users in a thread, and a third user."""
        mongo_ids = data.draw(st.permutations(MONGO_IDS), label="founders' Mongo ids")
        third_linked = data.draw(st.booleans(), label="third user linked")
        for number, mongo_id in enumerate([*mongo_ids[:2], mongo_ids[2] if third_linked else None]):
            sqlstate, actor = self._sign_up(f"u{number + 1}", mongo_id)
            assert sqlstate is None, sqlstate
            self.world.users.append(User(actor, mongo_id))
        first, second = self.world.users[:2]
        sqlstate, _ = self._privileged(*_thread_insert(first, second, ordered=True))
        assert sqlstate is None, sqlstate
        self.world.add_thread(first, second)
        for _ in range(data.draw(st.integers(0, 2), label="messages in their thread")):
            self.message_sent_earlier(data)

    @rule(data=st.data())
    def sign_up(self, data: st.DataObject) -> None:
        mongo_id = data.draw(st.none() | st.sampled_from(MONGO_IDS), label="mongoUserId")
        outcome = self.world.link_outcome(None, mongo_id)
        sqlstate, actor = self._sign_up(f"u{len(self.world.users) + 1}", mongo_id)
        assert sqlstate == outcome.sqlstate, f"sign-up with {mongo_id}: {sqlstate}"
        if sqlstate is None:
            self.world.users.append(User(actor, mongo_id))

    @precondition(lambda self: self.world.live_users())
    @rule(data=st.data())
    def relink(self, data: st.DataObject) -> None:
        user = self._live_user(data)
        mongo_id = data.draw(st.none() | st.sampled_from(MONGO_IDS), label="mongoUserId")
        outcome = self.world.link_outcome(user, mongo_id)
        metadata = {"mongoUserId": mongo_id} if mongo_id is not None else {}
        sqlstate, _ = self._privileged(
            "update auth.users set raw_app_meta_data = %s::jsonb where id = %s",
            (json.dumps(metadata), user.id),
        )
        assert sqlstate == outcome.sqlstate, f"relink {user} to {mongo_id}: {sqlstate}"
        if sqlstate is None:
            self.world.link(user, mongo_id)

    @precondition(lambda self: self.world.live_users())
    @rule(data=st.data())
    def delete_user(self, data: st.DataObject) -> None:
        user = self._live_user(data)
        sqlstate, _ = self._privileged("delete from auth.users where id = %s", (user.id,))
        assert sqlstate is None
        self.world.delete_user(user)

    @precondition(lambda self: any(not t.closed for t in self.world.threads.values()))
    @rule(data=st.data())
    def partner_leaves(self, data: st.DataObject) -> None:
        """A participant of an open thread deletes their account (the case deletions are
        about, drawn more often than a random user's deletion would be)."""
        open_threads = sorted(t.thread_id for t in self.world.threads.values() if not t.closed)
        thread = self.world.threads[data.draw(st.sampled_from(open_threads), label="thread")]
        leaver = thread.a_user if data.draw(st.booleans(), label="user_a leaves") else thread.b_user
        user = next(u for u in self.world.live_users() if u.id == leaver)
        sqlstate, _ = self._privileged("delete from auth.users where id = %s", (user.id,))
        assert sqlstate is None
        self.world.delete_user(user)

    @precondition(lambda self: sum(u.mongo_id is not None for u in self.world.live_users()) >= 2)
    @rule(data=st.data())
    def open_thread(self, data: st.DataObject) -> None:
        first, second = self._linked_pair(data)
        outcome = self.world.new_thread_outcome(first, second)
        sqlstate, _ = self._privileged(*_thread_insert(first, second, ordered=True))
        assert sqlstate == outcome.sqlstate, f"thread {first}, {second}: {sqlstate}"
        if sqlstate is None:
            self.world.add_thread(first, second)

    @precondition(lambda self: self.world.threads)
    @rule(data=st.data())
    def message_sent_earlier(self, data: st.DataObject) -> None:
        thread = self.world.threads[data.draw(st.sampled_from(sorted(self.world.threads)))]
        from_a = data.draw(st.booleans(), label="from user_a")
        if thread.closed:  # from the participant who is left (a closed thread has one)
            from_a = thread.a_user is not None
        sender = thread.a_user if from_a else thread.b_user
        mongo = (thread.a_mongo, thread.b_mongo) if from_a else (thread.b_mongo, thread.a_mongo)
        sqlstate, rows = self._privileged(
            "insert into public.chat_messages (thread_id, sender_supabase_id, sender_mongo_id,"
            " recipient_mongo_id, body) values (%s, %s, %s, %s, 'earlier') returning *",
            (thread.thread_id, sender, *mongo),
        )
        outcome = self.world.stored_message_outcome(thread.thread_id)
        assert sqlstate == outcome.sqlstate, f"a message stored in {thread}: {sqlstate}"
        if sqlstate is None:
            self._record(rows[0])

    # --- table commands -------------------------------------------------------------------
    @rule(data=st.data())
    def select(self, data: st.DataObject) -> None:
        caller = self._caller(data)
        table = data.draw(st.sampled_from(sorted(TABLES)), label="table")
        query = sql.SQL("select {}::text as key from {}").format(
            sql.Identifier(TABLES[table]), sql.Identifier("public", table)
        )
        result = self._request(caller).execute(query, method="GET")
        rows = sorted(row["key"] for row in result.rows)
        self._expect(self.world.select(caller, table), result, rows, caller, f"select {table}")

    @rule(data=st.data())
    def update_or_delete(self, data: st.DataObject) -> None:
        caller = self._caller(data)
        table = data.draw(st.sampled_from(sorted(TABLES)), label="table")
        command = data.draw(st.sampled_from(["update", "delete"]), label="command")
        keys: list[Any] = {
            "chat_threads": sorted(self.world.threads),
            "chat_messages": sorted(self.world.messages),
            "chat_identities": [u.id for u in self.world.live_users() if u.mongo_id],
        }[table]
        key: Any = "missing"
        if keys and not data.draw(st.booleans(), label="a missing row"):
            key = data.draw(st.sampled_from(keys), label="key")
        matching = 0 if key == "missing" else 1
        column = sql.Identifier(TABLES[table])
        target = sql.Identifier("public", table)
        if command == "update":
            change = sql.Identifier(NOOP_UPDATE[table])
            query = sql.SQL("update {} set {} = {} where {}::text = %s").format(
                target, change, change, column
            )
        else:
            query = sql.SQL("delete from {} where {}::text = %s").format(target, column)
        result = self._request(caller).execute(query, (str(key),), method=command.upper())
        outcome = self.world.update_or_delete(caller, table, matching)
        self._expect(outcome, result, [result.rowcount], caller, f"{command} {table}")
        if result.ok and command == "delete" and result.rowcount:
            self._forget(table, key)

    @rule(data=st.data())
    def truncate(self, data: st.DataObject) -> None:
        caller = self._caller(data)
        table = data.draw(st.sampled_from(sorted(TABLES)), label="table")
        query = sql.SQL("truncate {}").format(sql.Identifier("public", table))
        result = self._request(caller).execute(query, method="DELETE")
        self._expect(self.world.truncate(caller, table), result, None, caller, f"truncate {table}")
        if result.ok:
            self.world.messages.clear()

    @precondition(lambda self: self.world.users)
    @rule(data=st.data())
    def insert_identity(self, data: st.DataObject) -> None:
        caller = self._caller(data)
        users = {user.actor.label: user for user in self.world.users}
        user = users[data.draw(st.sampled_from(list(users)), label="user")]
        mongo_id = data.draw(st.sampled_from(MONGO_IDS), label="mongo_id")
        result = self._request(caller).execute(
            "insert into public.chat_identities (user_id, mongo_id) values (%s, %s)",
            (user.id, mongo_id),
        )
        outcome = self.world.insert_identity(caller, user, mongo_id)
        self._expect(outcome, result, None, caller, "insert chat_identities")
        if result.ok:
            user.mongo_id = mongo_id

    def _forget(self, table: str, key: Any) -> None:
        if table == "chat_messages":
            del self.world.messages[key]
        elif table == "chat_threads":
            self.world.drop_threads([self.world.threads[key]])
        else:
            user = next(u for u in self.world.live_users() if u.id == key)
            self.world.link(user, None)

    @precondition(lambda self: sum(u.mongo_id is not None for u in self.world.live_users()) >= 2)
    @rule(data=st.data())
    def insert_thread(self, data: st.DataObject) -> None:
        caller = self._caller(data)
        first, second = self._linked_pair(data)
        ordered = data.draw(st.booleans(), label="ordered")
        query, params = _thread_insert(first, second, ordered=ordered)
        result = self._request(caller).execute(query, params)
        outcome = self.world.insert_thread(caller, first, second, ordered=ordered)
        self._expect(outcome, result, None, caller, "insert chat_threads")
        if result.ok:
            self.world.add_thread(first, second)

    @rule(data=st.data())
    def insert_message(self, data: st.DataObject) -> None:
        caller = self._caller(data)
        thread_id = self._thread_id(data, caller)
        # Half the attempts are the caller's own message, as the client writes it.
        tampered = data.draw(st.booleans(), label="tampered")
        thread = self.world.threads.get(thread_id)
        side = thread.side(caller.uid) if thread is not None else None
        if side is not None and not tampered:
            sender_mongo, recipient_mongo = side
        else:
            sender_mongo, recipient_mongo = self._direction(
                data, caller, thread_id, own=side is None
            )
        senders = {"stranger": STRANGER} | {u.actor.label: u.id for u in self.world.users}
        if caller.uid is not None and not (
            tampered and data.draw(st.booleans(), label="another sender")
        ):
            sender = caller.uid
        else:
            sender = senders[data.draw(st.sampled_from(list(senders)), label="sender_supabase_id")]
        body = self._body(data)
        # Mostly a content-only insert, as supabase-js makes it; else one naming server columns.
        message_id, created_at = None, None
        if data.draw(st.booleans(), label="names id or created_at"):
            message_id = self._message_id(data)
            created_at = data.draw(st.none() | st.sampled_from(PAST), label="created_at")
        values: dict[str, Any] = {
            "thread_id": thread_id,
            "sender_supabase_id": sender,
            "sender_mongo_id": sender_mongo,
            "recipient_mongo_id": recipient_mongo,
            "body": body,
        }
        if message_id is not None:
            values["id"] = message_id
        if created_at is not None:
            values["created_at"] = created_at
        query = sql.SQL("insert into public.chat_messages ({}) values ({}) returning *").format(
            sql.SQL(", ").join(map(sql.Identifier, values)),
            sql.SQL(", ").join(sql.Placeholder() * len(values)),
        )
        outcome = self.world.insert_message(
            caller,
            thread_id=thread_id,
            sender=sender,
            sender_mongo=sender_mongo,
            recipient_mongo=recipient_mongo,
            body=body,
            message_id=message_id,
            created_at=created_at,
        )
        result = self._request(caller).execute(query, list(values.values()))
        self._expect(outcome, result, None, caller, "insert chat_messages")
        if result.ok:
            self._record(result.rows[0])
        self._assert_broadcasts(f"chat:{thread_id}")

    # --- chat_thread_members (revision 0008) ------------------------------------------------
    @precondition(lambda self: self.world.rules.thread_members)
    @rule(data=st.data())
    def thread_list(self, data: st.DataObject) -> None:
        """The caller's thread list, as the client reads it: newest first, one page.

        user_id ends the order only so that service_role's page (both members of a thread
        tie) is one exact list; a user's rows differ in thread_id already.
        """
        caller = self._caller(data)
        limit = data.draw(st.sampled_from([DEFAULT_PAGE, 1, 2]), label="limit")
        result = self._request(caller).execute(
            "select user_id::text, thread_id, last_message_at from public.chat_thread_members"
            " order by last_message_at desc nulls first, thread_id, user_id limit %s",
            (limit,),
            method="GET",
        )
        rows = [
            (
                row["user_id"],
                row["thread_id"],
                None if row["last_message_at"] is None else _timestamp(row["last_message_at"]),
            )
            for row in result.rows
        ]
        outcome = self.world.thread_list(caller, limit)
        self._expect(outcome, result, rows, caller, "select chat_thread_members")

    @precondition(lambda self: self.world.rules.thread_members)
    @rule(data=st.data())
    def write_membership(self, data: st.DataObject) -> None:
        """A client's (or the backend's) insert, update or delete of one membership.

        Run in a savepoint rolled back afterwards: only the trigger on chat_threads keeps
        memberships in the model, so even service_role's allowed repairs leave no trace.
        """
        caller = self._caller(data)
        command = data.draw(st.sampled_from(["insert", "update", "delete"]), label="command")
        members = sorted(self.world.memberships())
        users = {"stranger": STRANGER} | {u.actor.label: u.id for u in self.world.users}
        if members and not data.draw(st.booleans(), label="another key"):
            key = data.draw(st.sampled_from(members), label="membership")
        else:
            user = users[data.draw(st.sampled_from(list(users)), label="user_id")]
            key = (user, self._thread_id(data, caller))
        if command == "insert":
            query = "insert into public.chat_thread_members (user_id, thread_id) values (%s, %s)"
        elif command == "update":
            query = (
                "update public.chat_thread_members set last_message_at = last_message_at"
                " where user_id = %s and thread_id = %s"
            )
        else:
            query = "delete from public.chat_thread_members where user_id = %s and thread_id = %s"
        with self.db.conn.transaction(force_rollback=True):
            result = self._request(caller).execute(query, key, method=command.upper())
        outcome = self.world.write_membership(caller, command, key)
        rows = None if command == "insert" else [result.rowcount]
        self._expect(outcome, result, rows, caller, f"{command} chat_thread_members")

    # --- RPCs -----------------------------------------------------------------------------
    @rule(data=st.data())
    def send(self, data: st.DataObject) -> None:
        caller = self._caller(data)
        thread_id = self._thread_id(data, caller)
        sender_mongo, recipient_mongo = self._direction(data, caller, thread_id)
        self._send(data, caller, thread_id, (sender_mongo, recipient_mongo), self._body(data, None))

    @precondition(lambda self: any(t.closed for t in self.world.threads.values()))
    @rule(data=st.data())
    def reply_to_departed(self, data: st.DataObject) -> None:
        """The participant who is left replies in a thread whose other side has gone."""
        closed = sorted(t.thread_id for t in self.world.threads.values() if t.closed)
        thread = self.world.threads[data.draw(st.sampled_from(closed), label="thread")]
        stayer = next(u for u in self.world.users if u.id in (thread.a_user, thread.b_user))
        caller = Caller("user", stayer)
        side = thread.side(stayer.id)
        assert side is not None
        self._send(data, caller, thread.thread_id, side, "are you there?")

    def _send(
        self,
        data: st.DataObject,
        caller: Caller,
        thread_id: str,
        direction: tuple[str, str],
        body: str | None,
    ) -> None:
        sender_mongo, recipient_mongo = direction
        once = data.draw(st.booleans(), label="insert_chat_message_once")
        args: dict[str, Any] = {
            "_thread_id": thread_id,
            "_sender_mongo_id": sender_mongo,
            "_recipient_mongo_id": recipient_mongo,
            "_body": body,
        }
        message_id = self._message_id(data) if once else uuid.uuid4()
        if once:
            args["_message_id"] = message_id
        function = "insert_chat_message_once" if once else "insert_chat_message"
        outcome = self.world.send(
            caller,
            message_id=message_id,
            thread_id=thread_id,
            sender_mongo=sender_mongo,
            recipient_mongo=recipient_mongo,
            body=body,
        )
        result = self._request(caller).rpc(function, **args)
        returned = [uuid.UUID(str(row["id"])) for row in result.rows]
        if not once and result.ok:
            returned = [message_id] if returned else returned  # its id is the server's
        self._expect(outcome, result, returned, caller, function)
        if result.ok and uuid.UUID(str(result.rows[0]["id"])) not in self.world.messages:
            self._record(result.rows[0])
        self._assert_broadcasts(f"chat:{thread_id}")

    def _departed_mongo_ids(self) -> list[str]:
        """Mongo ids of closed threads' departed sides that no live user holds now."""
        departed = {
            t.a_mongo if t.a_user is None else t.b_mongo
            for t in self.world.threads.values()
            if t.closed
        }
        return sorted(m for m in departed if self.world.owner_of(m) is None)

    @precondition(lambda self: self._departed_mongo_ids())
    @rule(data=st.data())
    def newcomer_with_a_departed_mongo_id(self, data: st.DataObject) -> None:
        """A new account linked to the Mongo id of someone who left, then either side of the
        closed thread asks for the pair's thread: it is never handed over or reopened."""
        mongo_id = data.draw(st.sampled_from(self._departed_mongo_ids()), label="mongoUserId")
        sqlstate, actor = self._sign_up(f"u{len(self.world.users) + 1}", mongo_id)
        assert sqlstate is None, sqlstate
        newcomer = User(actor, mongo_id)
        self.world.users.append(newcomer)
        [thread] = [
            t
            for t in self.world.threads.values()
            if t.closed and mongo_id in (t.a_mongo, t.b_mongo)
        ][:1]
        stayer_mongo = thread.b_mongo if thread.a_mongo == mongo_id else thread.a_mongo
        stayer = self.world.owner_of(stayer_mongo)
        if stayer is not None and data.draw(st.booleans(), label="the stayer asks"):
            self._ensure_thread(Caller("user", stayer), mongo_id)
        else:
            self._ensure_thread(Caller("user", newcomer), stayer_mongo)

    @rule(data=st.data())
    def ensure_thread(self, data: st.DataObject) -> None:
        caller = self._caller(data)
        other = data.draw(st.sampled_from([*MONGO_IDS, "m9", " ", None]), label="_other_mongo_id")
        self._ensure_thread(caller, other)

    def _ensure_thread(self, caller: Caller, other: str | None) -> None:
        outcome = self.world.ensure_chat_thread(caller, other)
        result = self._request(caller).rpc("ensure_chat_thread", _other_mongo_id=other)
        rows = [row["thread_id"] for row in result.rows]
        self._expect(outcome, result, rows, caller, f"ensure_chat_thread({other!r})")
        if result.ok and rows[0] not in self.world.threads:
            assert caller.user is not None and other is not None
            owner = self.world.owner_of(other)
            assert owner is not None
            self.world.add_thread(caller.user, owner)

    @rule(data=st.data())
    def history(self, data: st.DataObject) -> None:
        caller = self._caller(data)
        thread_id = self._thread_id(data, caller)
        args: dict[str, Any] = {"_thread_id": thread_id}
        cursor = data.draw(st.sampled_from(["none", "full", "time only"]), label="cursor")
        before: tuple[dt.datetime | None, uuid.UUID | None] = (None, None)
        if cursor != "none" and self.world.messages:
            ids = sorted(self.world.messages)
            message = self.world.messages[data.draw(st.sampled_from(ids), label="cursor row")]
            before = (message.created_at, message.id if cursor == "full" else None)
            args["_before_created_at"] = message.created_at
            if cursor == "full":
                args["_before_id"] = message.id
        limit = data.draw(st.sampled_from(["omitted", 1, 2, 3, 101, 0, -1, None]), label="limit")
        if limit != "omitted":
            args["_limit"] = limit
        page = DEFAULT_PAGE if limit == "omitted" else limit
        assert not isinstance(page, str)
        outcome = self.world.chat_history(caller, thread_id, before, page)
        result = self._request(caller).rpc("chat_history", **args)
        rows = [str(row["id"]) for row in result.rows]
        self._expect(outcome, result, rows, caller, f"chat_history({args})")

    # --- realtime -------------------------------------------------------------------------
    @rule(data=st.data())
    def join(self, data: st.DataObject) -> None:
        caller = self._caller(data)
        topic = self._topic(data, caller)
        access = self.db.join(topic, self._request(caller).identity)
        assert access.error is None, access.error
        seen = {
            "read": access.read["broadcast"] and access.read["presence"],
            "write_broadcast": access.write["broadcast"],
            "write_presence": access.write["presence"],
        }
        assert access.read["broadcast"] == access.read["presence"], f"{caller!r} join {topic}"
        assert seen == self.world.join(caller, topic), f"{caller!r} join {topic}: {seen}"
        self.tally[f"{caller.kind} join: {'allowed' if seen['read'] else 'denied'}"] += 1

    @rule(data=st.data())
    def write_realtime(self, data: st.DataObject) -> None:
        """A presence or broadcast row written as the caller, with or without event/payload."""
        caller = self._caller(data)
        topic = self._topic(data, caller)
        extension = data.draw(st.sampled_from(["presence", "broadcast"]), label="extension")
        content = data.draw(st.booleans(), label="with event and payload")
        identity = self._request(caller).identity
        conn = self.db.conn
        # As Realtime writes for a subscriber: its role, claims and topic, transaction-local.
        with conn.transaction(force_rollback=True):
            conn.execute(
                "select pg_catalog.set_config('role', %s, true),"
                " pg_catalog.set_config('realtime.topic', %s, true),"
                " pg_catalog.set_config('request.jwt.claims', %s, true),"
                " pg_catalog.set_config('request.jwt.claim.sub', %s, true)",
                (identity.role, topic, identity.claims_json(), identity.sub or ""),
            )
            try:
                with conn.transaction():
                    conn.execute(
                        "insert into realtime.messages (topic, extension, event, payload)"
                        " values (%s, %s, %s, %s::jsonb)",
                        (
                            topic,
                            extension,
                            "forged" if content else None,
                            '{"body": "forged"}' if content else None,
                        ),
                    )
                allowed = True
            except psycopg.errors.InsufficientPrivilege:
                allowed = False
        expected = self.world.realtime_write(caller, topic, extension, content)
        what = f"{caller!r} writes {extension} {'with' if content else 'without'} content"
        assert allowed == expected, f"{what} on {topic}: allowed={allowed}"
        self.tally[f"{caller.kind} write {extension}: {'allowed' if allowed else 'denied'}"] += 1

    @rule(data=st.data())
    def receive(self, data: st.DataObject) -> None:
        self._assert_broadcasts(self._topic(data, Caller("service_role")))


def _thread_insert(first: User, second: User, *, ordered: bool) -> tuple[Any, tuple[Any, ...]]:
    """An insert of the thread between two linked users (``ordered``: user_a is smaller)."""
    a, b = sorted((first, second), key=lambda u: str(u.mongo_id))
    if not ordered:
        a, b = b, a
    thread_id = f"{a.mongo_id}__{b.mongo_id}"
    return (
        "insert into public.chat_threads (thread_id, user_a_mongo_id, user_b_mongo_id,"
        " user_a_supabase_id, user_b_supabase_id) values (%s, %s, %s, %s, %s)",
        (thread_id, a.mongo_id, b.mongo_id, a.id, b.id),
    )


def _timestamp(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def test_every_request_in_random_worlds_gets_the_answer_of_the_access_table(
    db: Database, request: pytest.FixtureRequest
) -> None:
    head = str(db.scalar("select version_num from public.alembic_version"))
    rules = Rules.at(head)
    profile = settings.get_profile(request.config.getoption("hypothesis_profile", None) or "ci")
    tally: Counter[str] = Counter()
    run_state_machine_as_test(lambda: ChatWorlds(db, rules, tally), settings=profile)
    print(f"\n{tally['worlds']} worlds; answers compared: {sum(tally.values()) - tally['worlds']}")
    for answer, count in sorted(tally.items()):
        print(f"  {count:6d}  {answer}")
    assert tally["worlds"] >= profile.max_examples
    exercised = EXERCISED + (THREAD_MEMBERS_EXERCISED if rules.thread_members else [])
    exercised += DEPARTURES_EXERCISED if rules.departures else []
    # The worlds reached the answers that matter, not only refusals.
    for answers in exercised:
        assert any(tally[answer] for answer in answers), f"no world reached {answers}"
