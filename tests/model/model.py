"""A small pure-Python model of the chat's access table (DESIGN.md, "The chat schema").

It holds a world (users, chat identities, threads, messages, broadcasts) and predicts, for
any actor and request, what the database must answer: the rows, or the SQLSTATE. It reads
nothing from the database but what the database alone decides (generated ids and times).

The rules each revision adds live in ``Rules``: a new rule is a flag there and a line in the
prediction it changes, so the model follows the schema as revisions harden it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pgpolicy.postgrest.claims import Actor

# Insufficient privilege, invalid parameter, check / unique / foreign key violations.
DENIED, INVALID, CHECK, UNIQUE, FOREIGN_KEY = "42501", "22023", "23514", "23505", "23503"
# TRUNCATE of a table another table's foreign key references.
NOT_SUPPORTED = "0A000"

MAX_BODY = 4000
MAX_PAGE = 100
DEFAULT_PAGE = 50
MAX_UUID = uuid.UUID("ffffffff-ffff-ffff-ffff-ffffffffffff")

# What the body checks count as blank: [[:space:]] plus the Unicode spaces they list.
WHITESPACE = frozenset(
    " \t\n\r\v\f\u0085\u00a0\u1680\u2028\u2029\u202f\u205f\u2060\u3000\ufeff"
    + "".join(chr(c) for c in range(0x2000, 0x200C))
)
# Characters that render as nothing although they are not spaces (hardened in 0005).
INVISIBLE = frozenset("\u3164\u115f\u2800")

# The revision that hardens the chat (content-only direct inserts, bare presence rows,
# invisible bodies are blank); before it the model expects the original access table.
HARDENING_REVISION = "0006"
# The revision that adds public.chat_thread_members (the newest-first thread list).
THREAD_MEMBERS_REVISION = "0008"
# The revision from which a deleted account leaves its threads instead of deleting them.
DEPARTURES_REVISION = "0011"

ActorKind = Literal["user", "anon", "no_sub", "service_role"]


@dataclass(frozen=True)
class Rules:
    """What the schema at the database's head promises beyond the original access table."""

    # hardening: a client's direct insert may set only the content columns (not id, created_at).
    content_columns_only: bool = False
    # hardening: bodies made only of invisible characters are blank too.
    invisible_is_blank: bool = False
    # hardening: a presence row a client writes carries no event and no payload.
    bare_presence_only: bool = False
    # 0008: public.chat_thread_members, one row per participant of each thread, read-only
    # to its own user, written by a trigger on chat_threads.
    thread_members: bool = False
    # 0011: deleting or unlinking a user's identity leaves its threads to the other
    # participant (the departed side becomes NULL); a thread takes no new message once a
    # side is gone (23503) and is deleted when both are; ensure_chat_thread never reopens it.
    departures: bool = False

    @classmethod
    def at(cls, head: str) -> Rules:
        """The rules of the schema at revision ``head`` (revision ids sort in order)."""
        hardened = head >= HARDENING_REVISION
        return cls(
            content_columns_only=hardened,
            invisible_is_blank=hardened,
            bare_presence_only=hardened,
            thread_members=head >= THREAD_MEMBERS_REVISION,
            departures=head >= DEPARTURES_REVISION,
        )


@dataclass
class User:
    """An auth.users row (``deleted``: the row is gone but its token may still be used)."""

    actor: Actor
    mongo_id: str | None
    deleted: bool = False

    @property
    def id(self) -> uuid.UUID:
        return self.actor.id

    def __repr__(self) -> str:
        state = "deleted" if self.deleted else (self.mongo_id or "no identity")
        return f"<{self.actor.label} {state}>"


@dataclass(frozen=True)
class Caller:
    """One actor of the access table: a signed-in user, anon, no sub, or service_role."""

    kind: ActorKind
    user: User | None = None

    @property
    def uid(self) -> uuid.UUID | None:
        return self.user.id if self.user is not None else None

    def __repr__(self) -> str:
        return repr(self.user) if self.user is not None else self.kind


@dataclass(frozen=True)
class Thread:
    """A chat_threads row; a participant who left (revision 0011) is None on its side."""

    thread_id: str
    a_mongo: str
    b_mongo: str
    a_user: uuid.UUID | None
    b_user: uuid.UUID | None

    @property
    def closed(self) -> bool:
        """A participant has left: the thread is read, never written to."""
        return self.a_user is None or self.b_user is None

    def without(self, uid: uuid.UUID) -> Thread:
        """The thread after ``uid`` left it."""
        return dataclasses.replace(
            self,
            a_user=None if self.a_user == uid else self.a_user,
            b_user=None if self.b_user == uid else self.b_user,
        )

    def side(self, uid: uuid.UUID | None) -> tuple[str, str] | None:
        """(my Mongo id, the other's) for a participant, else None."""
        if uid is None:
            return None
        if uid == self.a_user:
            return self.a_mongo, self.b_mongo
        if uid == self.b_user:
            return self.b_mongo, self.a_mongo
        return None


@dataclass(frozen=True)
class Message:
    id: uuid.UUID
    thread_id: str
    sender: uuid.UUID
    sender_mongo: str
    recipient_mongo: str
    body: str
    created_at: dt.datetime

    @property
    def key(self) -> tuple[dt.datetime, uuid.UUID]:
        return (self.created_at, self.id)

    def record(self) -> tuple[str, ...]:
        """What a broadcast's record must say about this message."""
        return tuple(
            str(value)
            for value in (
                self.id,
                self.thread_id,
                self.sender,
                self.sender_mongo,
                self.recipient_mongo,
                self.body,
            )
        )


@dataclass(frozen=True)
class Outcome:
    """A prediction: rows (None: not compared) or the SQLSTATE raised."""

    sqlstate: str | None = None
    rows: list[object] | None = None

    @property
    def ok(self) -> bool:
        return self.sqlstate is None


def refused(sqlstate: str) -> Outcome:
    return Outcome(sqlstate=sqlstate)


def thread_id_of(mongo_a: str, mongo_b: str) -> str:
    low, high = sorted((mongo_a, mongo_b))
    return f"{low}__{high}"


@dataclass
class World:
    """The state a sequence of steps built, and the predictions made from it."""

    rules: Rules
    users: list[User] = field(default_factory=list)
    threads: dict[str, Thread] = field(default_factory=dict)
    messages: dict[uuid.UUID, Message] = field(default_factory=dict)
    # Broadcast rows stay in realtime.messages when their message is deleted.
    broadcasts: dict[str, list[Message]] = field(default_factory=dict)
    # chat_threads.last_message_at: the newest created_at of any message ever inserted into
    # the thread (deleting a message never moves it back); absent while the thread has none.
    last_message_at: dict[str, dt.datetime] = field(default_factory=dict)

    # --- the world itself ---------------------------------------------------------------
    def live_users(self) -> list[User]:
        return [user for user in self.users if not user.deleted]

    def owner_of(self, mongo_id: str) -> User | None:
        return next((u for u in self.live_users() if u.mongo_id == mongo_id), None)

    def identity_of(self, uid: uuid.UUID | None) -> str | None:
        user = next((u for u in self.live_users() if u.id == uid), None)
        return user.mongo_id if user is not None else None

    def link_outcome(self, user: User | None, mongo_id: str | None) -> Outcome:
        """Writing app_metadata.mongoUserId (sign-up or a relink), as the sync trigger does."""
        current = user.mongo_id if user is not None else None
        if mongo_id is None or mongo_id == current:
            return Outcome()
        holder = self.owner_of(mongo_id)
        if holder is not None:
            return refused(UNIQUE)
        if user is not None and current is not None and self._threads_of(user.id):
            return refused(FOREIGN_KEY)  # threads name the old (user, Mongo id) pair
        return Outcome()

    def link(self, user: User, mongo_id: str | None) -> None:
        if mongo_id is None:
            self.leave_threads(user)
        user.mongo_id = mongo_id

    def delete_user(self, user: User) -> None:
        self.leave_threads(user)
        user.deleted = True
        user.mongo_id = None

    def leave_threads(self, user: User) -> None:
        """The user's chat identity is deleted (account deleted, or Mongo id unlinked)."""
        if not self.rules.departures:
            self.drop_threads(self._threads_of(user.id))  # the cascade took the threads
            return
        for thread in self._threads_of(user.id):
            left = thread.without(user.id)
            if left.a_user is None and left.b_user is None:
                self.drop_threads([thread])  # nobody is left to read it
            else:
                self.threads[thread.thread_id] = left

    def new_thread_outcome(self, first: User, second: User) -> Outcome:
        if first.mongo_id is None or second.mongo_id is None or first is second:
            return refused(FOREIGN_KEY)
        if thread_id_of(first.mongo_id, second.mongo_id) in self.threads:
            return refused(UNIQUE)
        return Outcome()

    def add_thread(self, first: User, second: User) -> Thread:
        assert first.mongo_id is not None and second.mongo_id is not None
        a, b = sorted((first, second), key=lambda u: str(u.mongo_id))
        assert a.mongo_id is not None and b.mongo_id is not None
        thread = Thread(thread_id_of(a.mongo_id, b.mongo_id), a.mongo_id, b.mongo_id, a.id, b.id)
        self.threads[thread.thread_id] = thread
        return thread

    def add_message(self, message: Message) -> None:
        self.messages[message.id] = message
        self.broadcasts.setdefault(f"chat:{message.thread_id}", []).append(message)
        latest = self.last_message_at.get(message.thread_id, message.created_at)
        self.last_message_at[message.thread_id] = max(latest, message.created_at)

    def _threads_of(self, uid: uuid.UUID) -> list[Thread]:
        return [t for t in self.threads.values() if uid in (t.a_user, t.b_user)]

    def drop_threads(self, threads: Iterable[Thread]) -> None:
        for thread in list(threads):
            del self.threads[thread.thread_id]
            self.last_message_at.pop(thread.thread_id, None)
            for message in list(self.messages.values()):
                if message.thread_id == thread.thread_id:
                    del self.messages[message.id]

    # --- what each actor sees -----------------------------------------------------------
    def visible_threads(self, caller: Caller) -> list[Thread]:
        if caller.kind == "service_role":
            return list(self.threads.values())
        return [t for t in self.threads.values() if t.side(caller.uid) is not None]

    def visible_messages(self, caller: Caller) -> list[Message]:
        threads = {t.thread_id for t in self.visible_threads(caller)}
        if caller.kind == "service_role":
            return list(self.messages.values())
        return [m for m in self.messages.values() if m.thread_id in threads]

    def visible_identities(self, caller: Caller) -> list[tuple[uuid.UUID, str]]:
        rows = [(u.id, u.mongo_id) for u in self.live_users() if u.mongo_id is not None]
        if caller.kind == "service_role":
            return rows
        return [row for row in rows if row[0] == caller.uid]

    def memberships(self) -> list[tuple[uuid.UUID, str]]:
        """chat_thread_members' keys: (user_id, thread_id) for each participant of each thread."""
        return [
            (uid, t.thread_id)
            for t in self.threads.values()
            for uid in (t.a_user, t.b_user)
            if uid is not None
        ]

    def stored_message_outcome(self, thread_id: str) -> Outcome:
        """A message the privileged connection writes into an existing thread."""
        if self.threads[thread_id].closed:
            return refused(FOREIGN_KEY)  # no new message once a participant has left
        return Outcome()

    # --- table commands -----------------------------------------------------------------
    def select(self, caller: Caller, table: str) -> Outcome:
        if table == "chat_threads":
            return Outcome(rows=sorted(t.thread_id for t in self.visible_threads(caller)))
        if table == "chat_messages":
            return Outcome(rows=sorted(str(m.id) for m in self.visible_messages(caller)))
        return Outcome(rows=sorted(str(uid) for uid, _ in self.visible_identities(caller)))

    def update_or_delete(self, caller: Caller, table: str, matching: int) -> Outcome:
        """An UPDATE or DELETE of ``matching`` existing rows; the API has no such policy."""
        if caller.kind == "service_role":
            return Outcome(rows=[matching])
        if table == "chat_identities":
            return refused(DENIED)  # privileges revoked: a loud refusal
        return Outcome(rows=[0])  # no policy: silently filtered

    def truncate(self, caller: Caller, table: str) -> Outcome:
        if caller.kind != "service_role":
            return refused(DENIED)  # TRUNCATE is not subject to RLS: API roles never hold it
        if table != "chat_messages":
            return refused(NOT_SUPPORTED)  # referenced by chat_threads / chat_messages
        return Outcome()

    def insert_identity(self, caller: Caller, user: User, mongo_id: str) -> Outcome:
        """Linking a user directly: only the backend (service_role) writes identities."""
        if caller.kind != "service_role":
            return refused(DENIED)
        if user.mongo_id is not None or self.owner_of(mongo_id) is not None:
            return refused(UNIQUE)
        if user.deleted:
            return refused(FOREIGN_KEY)
        return Outcome()

    def insert_thread(self, caller: Caller, first: User, second: User, *, ordered: bool) -> Outcome:
        if caller.kind != "service_role":
            return refused(DENIED)  # no insert policy: threads come from ensure_chat_thread()
        if not ordered:
            return refused(CHECK)
        return self.new_thread_outcome(first, second)

    def insert_message(
        self,
        caller: Caller,
        *,
        thread_id: str,
        sender: uuid.UUID,
        sender_mongo: str,
        recipient_mongo: str,
        body: str,
        message_id: uuid.UUID | None,
        created_at: dt.datetime | None,
    ) -> Outcome:
        """A direct insert (supabase-js ``.from('chat_messages').insert()``)."""
        if caller.kind != "service_role":
            if caller.kind == "anon" or caller.uid is None:
                return refused(DENIED)
            if self.rules.content_columns_only and (
                message_id is not None or created_at is not None
            ):
                return refused(DENIED)
            thread = self.threads.get(thread_id)
            mine = thread.side(caller.uid) if thread is not None else None
            if sender != caller.uid or mine != (sender_mongo, recipient_mongo):
                return refused(DENIED)
        if self.is_blank(body) or len(body) > MAX_BODY or sender_mongo == recipient_mongo:
            return refused(CHECK)
        if message_id is not None and message_id in self.messages:
            return refused(UNIQUE)
        if thread_id not in self.threads:
            return refused(FOREIGN_KEY)
        return self.stored_message_outcome(thread_id)

    def thread_list(self, caller: Caller, limit: int) -> Outcome:
        """A page of chat_thread_members, newest first (nulls first), then thread_id, user_id.

        rows: (user_id, thread_id, last_message_at) as the database returns them.
        """
        if caller.kind == "anon":
            return refused(DENIED)  # anon holds no privilege on the table at all
        keys = self.memberships()
        if caller.kind != "service_role":
            # The policy: user_id = auth.uid(); no sub means no uid and no rows, not an error.
            keys = [key for key in keys if key[0] == caller.uid]
        rows = [(str(uid), tid, self.last_message_at.get(tid)) for uid, tid in keys]
        rows.sort(key=lambda row: (row[1], row[0]))
        rows.sort(key=lambda row: row[2] or dt.datetime.max.replace(tzinfo=dt.UTC), reverse=True)
        return Outcome(rows=list(rows[:limit]))

    def write_membership(self, caller: Caller, command: str, key: tuple[uuid.UUID, str]) -> Outcome:
        """An insert, update or delete of chat_thread_members' row ``key`` (maybe absent)."""
        if caller.kind != "service_role":
            # Privileges, not RLS: anon holds none, authenticated SELECT only, so every
            # write is refused before any policy or row is looked at.
            return refused(DENIED)
        exists = key in self.memberships()
        if command != "insert":
            return Outcome(rows=[int(exists)])
        if exists:
            return refused(UNIQUE)
        if key[1] not in self.threads:
            return refused(FOREIGN_KEY)
        return Outcome()

    # --- RPCs ---------------------------------------------------------------------------
    def ensure_chat_thread(self, caller: Caller, other_mongo: str | None) -> Outcome:
        if caller.kind == "anon" or caller.uid is None:
            return refused(DENIED)
        mine = self.identity_of(caller.uid)
        if mine is None:
            return refused(DENIED)
        if other_mongo is None or self.is_whitespace(other_mongo) or other_mongo == mine:
            return refused(INVALID)
        other = self.owner_of(other_mongo)
        if other is None:
            return refused(INVALID)
        thread_id = thread_id_of(mine, other_mongo)
        existing = self.threads.get(thread_id)
        if existing is not None and {existing.a_user, existing.b_user} != {caller.uid, other.id}:
            return refused(FOREIGN_KEY)  # a closed conversation holds the pair's thread id
        return Outcome(rows=[thread_id])

    def send(
        self,
        caller: Caller,
        *,
        message_id: uuid.UUID | None,
        thread_id: str | None,
        sender_mongo: str | None,
        recipient_mongo: str | None,
        body: str | None,
    ) -> Outcome:
        """insert_chat_message_once (insert_chat_message is it with a fresh id).

        rows: [the id of the message returned]; a new id means a new message was inserted.
        """
        if caller.kind == "anon" or caller.uid is None:
            return refused(DENIED)
        thread = self.threads.get(thread_id) if thread_id is not None else None
        mine = thread.side(caller.uid) if thread is not None else None
        if mine is None or mine != (sender_mongo, recipient_mongo):
            return refused(DENIED)
        if message_id is None or body is None:
            return refused(INVALID)
        if self.is_blank(body) or len(body) > MAX_BODY:
            return refused(INVALID)
        existing = self.messages.get(message_id)
        if existing is None:
            if thread is not None and thread.closed:
                return refused(FOREIGN_KEY)  # the other participant has left
            return Outcome(rows=[message_id])
        if existing.sender != caller.uid:
            return refused(DENIED)
        if existing.thread_id != thread_id or existing.body != body:
            return refused(INVALID)
        return Outcome(rows=[message_id])

    def chat_history(
        self,
        caller: Caller,
        thread_id: str,
        before: tuple[dt.datetime | None, uuid.UUID | None],
        limit: int | None,
    ) -> Outcome:
        if caller.kind == "anon" or (caller.uid is None and caller.kind != "service_role"):
            return refused(DENIED)
        if limit is None or limit < 1:
            return refused(INVALID)
        before_at, before_id = before
        rows = [
            m
            for m in self.visible_messages(caller)
            if m.thread_id == thread_id and _before(m, before_at, before_id or MAX_UUID)
        ]
        rows.sort(key=lambda m: m.key, reverse=True)
        return Outcome(rows=[str(m.id) for m in rows[: min(limit, MAX_PAGE)]])

    # --- realtime -----------------------------------------------------------------------
    def join(self, caller: Caller, topic: str) -> dict[str, bool]:
        """Realtime's read and write checks per extension on a private topic."""
        if caller.kind == "service_role":  # BYPASSRLS: every probe passes
            return {"read": True, "write_broadcast": True, "write_presence": True}
        thread_id = topic.removeprefix("chat:") if topic.startswith("chat:") else None
        thread = self.threads.get(thread_id) if thread_id is not None else None
        member = (
            thread is not None and caller.kind == "user" and thread.side(caller.uid) is not None
        )
        # Participants read broadcast and presence, track presence, never send broadcasts.
        return {"read": member, "write_broadcast": False, "write_presence": member}

    def realtime_write(self, caller: Caller, topic: str, extension: str, content: bool) -> bool:
        """A row written to realtime.messages as the caller (what Realtime does on track/send)."""
        if caller.kind == "service_role":
            return True
        if extension != "presence" or (content and self.rules.bare_presence_only):
            return False
        return self.join(caller, topic)["write_presence"]

    def received(self, topic: str) -> list[tuple[str, ...]]:
        """The records of the broadcasts a subscriber of ``topic`` receives, sorted."""
        return sorted(message.record() for message in self.broadcasts.get(topic, []))

    # --- the body rules -----------------------------------------------------------------
    def is_blank(self, text: str) -> bool:
        blank = WHITESPACE | INVISIBLE if self.rules.invisible_is_blank else WHITESPACE
        return all(char in blank for char in text)

    @staticmethod
    def is_whitespace(text: str) -> bool:
        return all(char in WHITESPACE for char in text)


def _before(message: Message, at: dt.datetime | None, before_id: uuid.UUID) -> bool:
    """(created_at, id) < (at, before_id), with a missing ``at`` standing for 'infinity'."""
    if at is None:
        return True
    return message.key < (at, before_id)
