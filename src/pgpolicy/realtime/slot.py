"""Reading committed changes from a temporary logical slot, as Realtime reads them.

Realtime polls a logical slot; so, when the database can decode its WAL (``wal_level =
logical``, a role with REPLICATION) and the test commits, the poller does too: a temporary
slot decoded with ``pgoutput`` over publication ``supabase_realtime``. The WAL says what a
trigger cannot know: which values were TOASTed out of line and left unchanged (wal2json
leaves them out), which old tuple was logged, and the transaction's commit time.

The slot is temporary (gone with the session) and also dropped by :meth:`close`, before the
test's database is dropped. With ``synchronous_commit = off`` a commit may not be flushed
yet, and a slot decodes only up to the flushed WAL: each read first commits a logical
message with ``synchronous_commit = on``, which flushes everything written before it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from pgpolicy.realtime.capture import PUBLICATION, CapturedChange
from pgpolicy.realtime.filters import SubscriptionError
from pgpolicy.realtime.pgoutput import UNCHANGED, Decoded, RowChange, TupleValue, decode_messages
from pgpolicy.realtime.relations import Relation, describe_relation

__all__ = ["SlotCapture", "can_decode"]

# wal2json writes these types' output text as a JSON number, NaN and infinities as null.
NUMBER_TYPES = frozenset({20, 21, 23, 26, 700, 701, 1700})
BYTEA = 17
_NOT_NUMBERS = frozenset({"nan", "infinity", "-infinity"})

_CAN_DECODE = """
select pg_catalog.current_setting('wal_level') = 'logical'
   and pg_catalog.current_setting('max_replication_slots')::int > 0
   and (select r.rolreplication or r.rolsuper from pg_catalog.pg_roles r
        where r.rolname = current_user)
   and exists (select from pg_catalog.pg_publication where pubname = %s)
"""
_FLUSH = "select pg_catalog.pg_logical_emit_message(true, 'pgpolicy', '')"
_READ = (
    "select data from pg_catalog.pg_logical_slot_get_binary_changes("
    "%s, null, null, 'proto_version', '1', 'publication_names', %s)"
)
# Creating a slot waits for the transactions running then; one held open by the test
# itself would wait forever.
_CREATE_TIMEOUT = "10s"


def can_decode(conn: psycopg.Connection[Any]) -> bool:
    """Whether ``conn`` may read this database's changes from a logical slot."""
    row = conn.execute(_CAN_DECODE, (PUBLICATION,)).fetchone()
    return bool(row and row[0])


@dataclass
class SlotCapture:
    """A temporary pgoutput slot on ``conn`` (an autocommit connection), read on demand."""

    conn: psycopg.Connection[Any]
    name: str = field(default_factory=lambda: f"pgpolicy_{os.getpid()}_{secrets.token_hex(6)}")
    _decoder: Decoded = field(default_factory=Decoded)
    _changes: list[CapturedChange] = field(default_factory=list)
    # Tables someone subscribed to: the others' changes can reach no subscriber.
    _watched: set[int] = field(default_factory=set)
    _open: bool = False

    def watch(self, relid: int) -> None:
        """Start decoding (once): the slot sees only what commits after it exists."""
        if self._open:
            self._read()  # what committed before this subscription is not for it
            self._watched.add(relid)
            return
        try:
            with self.conn.transaction():
                self.conn.execute(f"set local lock_timeout = '{_CREATE_TIMEOUT}'")
                self.conn.execute(
                    "select pg_catalog.pg_create_logical_replication_slot(%s, 'pgoutput', true)",
                    (self.name,),
                )
        except psycopg.errors.LockNotAvailable as error:
            raise SubscriptionError(
                "cannot start reading the WAL while another transaction is open:"
                " subscribe before opening it"
            ) from error
        self._open = True
        self._watched.add(relid)

    def last_id(self) -> int:
        self._read()
        return len(self._changes)

    def since(self, after_id: int) -> list[CapturedChange]:
        self._read()
        return self._changes[after_id:]

    def close(self) -> None:
        """Drop the slot (a lost connection has taken its temporary slot with it)."""
        if self._open and not self.conn.closed:
            with contextlib.suppress(psycopg.OperationalError):
                self.conn.execute("select pg_catalog.pg_drop_replication_slot(%s)", (self.name,))
        self._open = False

    # reading --------------------------------------------------------------------------
    def _read(self) -> None:
        if not self._open:
            return
        with self.conn.transaction():
            self.conn.execute("set local synchronous_commit = on")
            self.conn.execute(_FLUSH)
        rows = self.conn.execute(_READ, (self.name, PUBLICATION)).fetchall()
        for change in decode_messages(self._decoder, [bytes(row[0]) for row in rows]):
            if change.relid not in self._watched:
                continue
            relation = describe_relation(self.conn, change.relid)
            if relation is None:
                continue  # dropped since: Realtime has nothing to check it against
            self._changes.append(self._captured(len(self._changes) + 1, relation, change))

    def _captured(self, id_: int, relation: Relation, change: RowChange) -> CapturedChange:
        texts = self._with_generated(relation, _present(change.new))
        old_texts = _present(change.old)
        if change.replica_identity == "f":
            old_texts = self._with_generated(relation, old_texts)
        if old_texts is not None and change.replica_identity != "f":
            # A key tuple ("K") holds the identity columns; the others are NULL placeholders.
            keys = relation.identity_columns(change.replica_identity)
            old_texts = {name: value for name, value in old_texts.items() if name in keys}
        return CapturedChange(
            id=id_,
            relid=change.relid,
            action=change.action,
            record=None if texts is None else self._values(relation, texts),
            old_record=None if old_texts is None else self._values(relation, old_texts),
            replica_identity=change.replica_identity,
            captured_at=change.committed_at,
            texts=texts,
            old_texts=old_texts,
        )

    def _with_generated(
        self, relation: Relation, texts: dict[str, str | None] | None
    ) -> dict[str, str | None] | None:
        """The tuple with its stored generated columns, which wal2json sends and pgoutput
        (before PostgreSQL 18) does not: computed again from the other values, as stored."""
        generated = [c for c in relation.columns if c.generated and texts and c.name not in texts]
        if not texts or not generated:
            return texts
        types = relation.cast_types
        inputs = sql.SQL(", ").join(
            sql.SQL("%s::{} as {}").format(sql.SQL(types[name]), sql.Identifier(name))
            for name in texts
        )
        outputs = sql.SQL(", ").join(
            sql.SQL(
                "case when ({0}) is null then null else pg_catalog.format('%%s', ({0})) end"
            ).format(sql.SQL(column.generated or ""))
            for column in generated
        )
        query = sql.SQL("select array[{}]::text[] from (select {}) as t").format(outputs, inputs)
        try:
            with self.conn.transaction():
                row = self.conn.execute(query, list(texts.values())).fetchone()
        except psycopg.errors.UndefinedColumn:
            return texts  # it needs a value the WAL left out (unchanged TOAST)
        assert row is not None
        complete = {**texts, **dict(zip([c.name for c in generated], row[0], strict=True))}
        return {c.name: complete[c.name] for c in relation.columns if c.name in complete}

    def _values(self, relation: Relation, texts: dict[str, str | None]) -> dict[str, Any]:
        """Each value as Realtime casts wal2json's: ``to_jsonb(text::type)``."""
        if not texts:
            return {}
        types = relation.cast_types
        oids = {column.name: column.oid for column in relation.columns}
        items = []
        params: list[str | None] = []
        for name, text in texts.items():
            if text is not None and oids[name] in NUMBER_TYPES and text.lower() in _NOT_NUMBERS:
                text = None
            if oids[name] == BYTEA and text is not None:
                # wal2json drops bytea's "\x"; Realtime then keeps the hex digits as text.
                items.append(sql.SQL("%s::text as {}").format(sql.Identifier(name)))
                params.append(text[2:])
                continue
            items.append(sql.SQL("%s::{} as {}").format(sql.SQL(types[name]), sql.Identifier(name)))
            params.append(text)
        query = sql.SQL("select pg_catalog.to_jsonb(r) from (select {}) r").format(
            sql.SQL(", ").join(items)
        )
        row = self.conn.execute(query, params).fetchone()
        assert row is not None
        values: dict[str, Any] = row[0]
        return values


def _present(values: dict[str, TupleValue] | None) -> dict[str, str | None] | None:
    """The values the WAL carries: unchanged TOASTed ones are left out, as wal2json does."""
    if values is None:
        return None
    return {name: value for name, value in values.items() if value is not UNCHANGED}  # type: ignore[misc]
