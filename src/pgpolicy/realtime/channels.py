"""Private-channel authorization and broadcast delivery, as the Realtime server does them.

Join (read) check: insert one probe row per extension as the privileged connection, switch
to the subscriber's role and claims, select the probes back by id, roll back. Write check:
after switching role, insert a probe per extension in a savepoint; 42501 means denied.
Nothing of either check survives: both end in a rollback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pgpolicy.postgrest.attempts import Attempt, notify
from pgpolicy.postgrest.identity import Identity

EXTENSIONS = ("broadcast", "presence")

_SET_CONTEXT = (
    "select pg_catalog.set_config('role', %s, true),"
    " pg_catalog.set_config('realtime.topic', %s, true),"
    " pg_catalog.set_config('request.jwt.claims', %s, true),"
    " pg_catalog.set_config('request.jwt.claim.sub', %s, true),"
    " pg_catalog.set_config('request.jwt.claim.role', %s, true),"
    " pg_catalog.set_config('request.headers', %s, true)"
)


@dataclass(frozen=True)
class ChannelAccess:
    """What one subscriber may do on one private topic."""

    topic: str
    identity: Identity
    read: dict[str, bool]
    write: dict[str, bool]
    error: str | None = None

    @property
    def can_join(self) -> bool:
        """Realtime lets a private join through when broadcast or presence is readable."""
        return self.error is None and (self.read["broadcast"] or self.read["presence"])


@dataclass(frozen=True)
class Broadcast:
    """A message a subscriber of the topic would receive."""

    id: Any
    topic: str
    event: str
    payload: Any
    private: bool
    inserted_at: datetime


@dataclass
class _Check:
    allowed: dict[str, bool] = field(default_factory=dict)
    error: str | None = None


def _context(identity: Identity, topic: str) -> tuple[str, ...]:
    return (
        identity.role,
        topic,
        identity.claims_json(),
        identity.sub or "",
        identity.role,
        '{"user-agent":"pgpolicy-realtime"}',
    )


def _read_check(conn: psycopg.Connection[Any], identity: Identity, topic: str) -> _Check:
    check = _Check()
    try:
        with conn.transaction(force_rollback=True), conn.cursor() as cur:
            probe_ids: dict[Any, str] = {}
            for extension in EXTENSIONS:
                cur.execute(
                    "insert into realtime.messages (topic, extension) values (%s, %s) returning id",
                    (topic, extension),
                )
                row = cur.fetchone()
                assert row is not None
                probe_ids[row[0]] = extension
            cur.execute(_SET_CONTEXT, _context(identity, topic))
            cur.execute("select id from realtime.messages where id = any(%s)", (list(probe_ids),))
            visible = {probe_ids[row[0]] for row in cur.fetchall()}
            check.allowed = {extension: extension in visible for extension in EXTENSIONS}
    except psycopg.Error as error:
        check.error = f"{error.sqlstate}: {error.diag.message_primary}"
    return check


def _write_check(conn: psycopg.Connection[Any], identity: Identity, topic: str) -> _Check:
    check = _Check()
    try:
        with conn.transaction(force_rollback=True), conn.cursor() as cur:
            cur.execute(_SET_CONTEXT, _context(identity, topic))
            for extension in EXTENSIONS:
                try:
                    with conn.transaction():
                        cur.execute(
                            "insert into realtime.messages (topic, extension) values (%s, %s)",
                            (topic, extension),
                        )
                    check.allowed[extension] = True
                except psycopg.errors.InsufficientPrivilege:
                    check.allowed[extension] = False
    except psycopg.Error as error:
        check.error = f"{error.sqlstate}: {error.diag.message_primary}"
        check.allowed = {}
    return check


def authorize_channel(
    conn: psycopg.Connection[Any], topic: str, identity: Identity
) -> ChannelAccess:
    """Run Realtime's read and write checks for ``identity`` joining private ``topic``.

    ``conn`` is the privileged connection (Realtime's own); ``topic`` has no `realtime:`
    prefix. A check that fails with anything but 42501 is reported in ``error``.
    """
    notify(Attempt(identity, "join", topic))
    read = _read_check(conn, identity, topic)
    write = _write_check(conn, identity, topic) if read.error is None else _Check()
    return ChannelAccess(
        topic=topic,
        identity=identity,
        read={extension: read.allowed.get(extension, False) for extension in EXTENSIONS},
        write={extension: write.allowed.get(extension, False) for extension in EXTENSIONS},
        error=read.error or write.error,
    )


def delivered_broadcasts(
    conn: psycopg.Connection[Any], topic: str, *, private: bool = True
) -> list[Broadcast]:
    """The broadcasts a subscriber of ``topic`` receives, oldest first.

    Realtime streams inserts on realtime.messages and delivers only rows whose inserted_at,
    event, id, topic and private are all set; private rows go to private channels only.
    Read with a connection that sees what is committed (or the test's own transaction).
    """
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "select id, topic, event, payload, private, inserted_at from realtime.messages"
            " where topic = %s and extension = 'broadcast' and private = %s"
            " and inserted_at is not null and event is not null and id is not null"
            # Realtime delivers in commit (WAL) order. inserted_at (now()) orders transactions
            # but ties within one; there the command id (cmin) is the insertion order. The heap
            # position is not: rows rolled back earlier leave space that later rows reuse.
            " order by inserted_at, xmin::text::bigint, cmin::text::bigint, ctid",
            (topic, private),
        )
        return [Broadcast(**row) for row in cur.fetchall()]
