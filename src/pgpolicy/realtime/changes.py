"""Postgres Changes delivery: which subscriber receives which change, with which payload.

For each captured change of a table in publication ``supabase_realtime`` (see ``capture``),
the events are computed as Realtime's server-side function computes them:

- subscriptions are matched by table and action filter (``*``, INSERT, UPDATE, DELETE), then
  handled per distinct role (the ``role`` of the subscriber's claims);
- a role sees only the columns it may SELECT; a table without a primary key gives every
  subscription of the role "Error 400: Bad Request, no primary key", and a role that cannot
  SELECT the primary key "Error 401: Unauthorized" (neither for DELETE);
- column filters are evaluated on the new row (on the old row's identity for DELETE);
- INSERT and UPDATE on a table with RLS enabled reach a subscription only if, with only
  ``role`` and ``request.jwt.claims`` set transaction-locally to the subscriber's,
  ``select exists(select 1 from <table> where <pk> = <value>)`` is true; that check runs when
  the changes are polled, against the database as it is then, as Realtime polls after commit;
- DELETE is never checked: every matching subscription receives it, and under RLS its
  ``old_record`` keeps only the primary key;
- ``old_record`` carries the identity wal2json writes: every column with replica identity
  ``full``; with ``default`` (or ``index``) the key columns, for an UPDATE that kept its key
  taken from the new tuple (nothing older is logged);
- an UPDATE's ``record`` lacks what wal2json leaves out (an unchanged value TOASTed out of
  line) unless the old identity has it (replica identity ``full``): known from the WAL only;
- a change whose wal2json message, as jsonb text, is over 1 MB (``octet_length(wal::text) >
  1048576``, see ``wal2json``) gives "Error 413: Payload Too Large", and then only non-NULL
  values of at most 64 bytes (as JSON text) are kept.

``commit_timestamp`` is the commit time from the WAL in a ``commit`` test; in a rolled-back
test (which never commits) the writing transaction's start.

Claims are taken once, when the subscription is made, and kept (Realtime caches them until
the token is refreshed: see :meth:`Subscription.refreshed`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from pgpolicy.postgrest.identity import Identity
from pgpolicy.realtime.capture import PUBLICATION, CapturedChange, ChangeSource, TriggerCapture
from pgpolicy.realtime.filters import (
    ColumnFilter,
    SubscriptionError,
    check_filter,
    filter_matches,
    parse_filters,
)
from pgpolicy.realtime.relations import Relation, describe_relation, relation_oid
from pgpolicy.realtime.slot import SlotCapture, can_decode
from pgpolicy.realtime.wal2json import decoded_size, derive_texts

__all__ = [
    "ERROR_NO_PRIMARY_KEY",
    "ERROR_PAYLOAD_TOO_LARGE",
    "ERROR_UNAUTHORIZED",
    "MAX_RECORD_BYTES",
    "ChangeEvent",
    "ChangeFeed",
    "EventFilter",
    "Subscription",
    "SubscriptionError",
]

EventFilter = Literal["*", "INSERT", "UPDATE", "DELETE"]

ERROR_NO_PRIMARY_KEY = "Error 400: Bad Request, no primary key"
ERROR_UNAUTHORIZED = "Error 401: Unauthorized"
ERROR_PAYLOAD_TOO_LARGE = "Error 413: Payload Too Large"
MAX_RECORD_BYTES = 1024 * 1024
_MAX_VALUE_BYTES = 64

# Realtime's connection sets these two only: never the legacy request.jwt.claim.* settings.
_RLS_CONTEXT = (
    "select pg_catalog.set_config('role', %s, true),"
    " pg_catalog.set_config('request.jwt.claims', %s, true)"
)

_PUBLISHED = """
select c.oid::bigint,
       pg_catalog.array_remove(array[case when p.pubinsert then 'INSERT' end,
                          case when p.pubupdate then 'UPDATE' end,
                          case when p.pubdelete then 'DELETE' end], null)
from pg_catalog.pg_publication p
join pg_catalog.pg_publication_tables pt on pt.pubname = p.pubname
join pg_catalog.pg_namespace n on n.nspname = pt.schemaname
join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = pt.tablename
where p.pubname = %s
"""

# Within the 413 case, a value is kept only when it is not NULL and its JSON text is short.
_SMALL_VALUES = """
select coalesce(pg_catalog.jsonb_object_agg(key, value)
                  filter (where value <> 'null'::jsonb
                          and pg_catalog.octet_length(value::text) <= %s), '{}'::jsonb)
from pg_catalog.jsonb_each(%s::jsonb)
"""


@dataclass(frozen=True)
class ChangeEvent:
    """One Postgres Changes message as a subscriber receives it."""

    schema: str
    table: str
    type: str
    commit_timestamp: str | None = None
    columns: list[dict[str, str]] | None = None
    record: dict[str, Any] | None = None
    old_record: dict[str, Any] | None = None
    errors: tuple[str, ...] = ()

    @property
    def payload(self) -> dict[str, Any]:
        """The message's data as Realtime encodes it: every field of its record, always.

        An error event (400, 401) has ``commit_timestamp`` null, ``columns`` ``[]`` and
        ``record``/``old_record`` ``{}``: Realtime's poller fills what its SQL left out.
        """
        data: dict[str, Any] = {
            "schema": self.schema,
            "table": self.table,
            "type": self.type,
            "commit_timestamp": self.commit_timestamp,
            "columns": self.columns or [],
            "errors": list(self.errors) or None,
        }
        if self.type in ("INSERT", "UPDATE"):
            data["record"] = self.record or {}
        if self.type in ("UPDATE", "DELETE"):
            data["old_record"] = self.old_record or {}
        return data


@dataclass(eq=False)
class Subscription:
    """One ``postgres_changes`` binding of one socket: who, which table, which events."""

    identity: Identity
    table: str
    event: EventFilter = "*"
    filters: tuple[ColumnFilter, ...] = ()
    since: int = 0
    received: list[ChangeEvent] = field(default_factory=list)

    @property
    def role(self) -> str:
        return self.identity.role

    def refreshed(self, identity: Identity) -> Subscription:
        """The same binding after the socket sent a new access token (new claims)."""
        return replace(self, identity=identity, received=[])

    def __str__(self) -> str:
        condition = f" where {','.join(map(str, self.filters))}" if self.filters else ""
        return f"{self.identity} on {self.table} ({self.event}{condition})"


@dataclass
class ChangeFeed:
    """Realtime's poller for one database: subscriptions, captured changes, deliveries.

    ``conn`` is the privileged connection (Realtime's own): in a rolled-back test it is the
    test's connection, so it sees the test's changes; in a ``commit`` test it sees what other
    connections committed.
    """

    conn: psycopg.Connection[Any]
    # Where changes are read from: the trigger (default) or a logical slot.
    source: ChangeSource | None = None
    subscriptions: list[Subscription] = field(default_factory=list)
    # Capture ids already delivered: a transaction that took a lower id may commit later.
    _delivered: set[int] = field(default_factory=set)
    _tables: dict[int, Relation] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.source is None:
            self.source = TriggerCapture(self.conn)

    @classmethod
    def for_database(cls, conn: psycopg.Connection[Any], *, committing: bool) -> ChangeFeed:
        """The WAL through a logical slot when the test commits and the server decodes it
        (exact, as Realtime reads it); else the trigger (needed inside a rolled-back test)."""
        if committing and can_decode(conn):
            return cls(conn, source=SlotCapture(conn))
        return cls(conn, source=TriggerCapture(conn))

    @property
    def _source(self) -> ChangeSource:
        assert self.source is not None
        return self.source

    def close(self) -> None:
        """Release the slot, if any (before the database is dropped)."""
        self._source.close()

    def subscribe(
        self,
        table: str,
        identity: Identity,
        *,
        event: EventFilter = "*",
        filter: str | None = None,
    ) -> Subscription:
        """Subscribe ``identity`` to ``table``'s changes from now on (``filter``: col=op.value)."""
        if event not in ("*", "INSERT", "UPDATE", "DELETE"):
            raise SubscriptionError(f"unknown event {event!r}: use *, INSERT, UPDATE or DELETE")
        described = self._describe(table)
        column_filters = parse_filters(filter) if filter else ()
        # Realtime checks filters against the columns the claims' role may SELECT.
        selectable = self._selectable(described, identity.role)
        types = {name: t for name, t in described.cast_types.items() if name in selectable}
        for column_filter in column_filters:
            check_filter(self.conn, column_filter, types)
        try:
            self._source.watch(described.relid)
        except psycopg.errors.InsufficientPrivilege as error:
            raise SubscriptionError(
                f"cannot capture the changes of {table}: {error.diag.message_primary}"
                " (the harness's role needs to own the table)"
            ) from error
        start = self._source.last_id()
        subscription = Subscription(
            identity=identity,
            table=f"{described.schema}.{described.name}",
            event=event,
            filters=column_filters,
            since=start,
        )
        self.subscriptions.append(subscription)
        return subscription

    def replace(self, old: Subscription, new: Subscription) -> None:
        """Swap a subscription for its refreshed self (same binding, new claims)."""
        self.subscriptions[self.subscriptions.index(old)] = new

    def poll(self) -> list[tuple[Subscription, ChangeEvent]]:
        """Deliver every change captured since the last poll; returns (subscriber, event)."""
        if not self.subscriptions:
            return []
        delivered: list[tuple[Subscription, ChangeEvent]] = []
        self._tables.clear()  # RLS or grants may have changed since
        oldest = min(subscription.since for subscription in self.subscriptions)
        published = self._published()
        for change in self._source.since(oldest):
            if change.id in self._delivered:
                continue
            self._delivered.add(change.id)
            if change.action not in published.get(change.relid, ()):
                # Realtime asks its decoder for the publication's tables and actions as they
                # are when it polls: anything else is read past and never sent.
                continue
            for subscription, event in self._deliver(change):
                subscription.received.append(event)
                delivered.append((subscription, event))
        return delivered

    def _published(self) -> dict[int, set[str]]:
        """Each table of the publication now, with the actions it publishes."""
        rows = self.conn.execute(_PUBLISHED, (PUBLICATION,)).fetchall()
        return {int(relid): set(actions) for relid, actions in rows}

    # one change -----------------------------------------------------------------------
    def _deliver(self, change: CapturedChange) -> list[tuple[Subscription, ChangeEvent]]:
        table = self._describe_oid(change.relid)
        if table is None:  # dropped since: Realtime's poller has nothing to check it against
            return []
        qualified = f"{table.schema}.{table.name}"
        subscriptions = [
            s
            for s in self.subscriptions
            if s.table == qualified and s.since < change.id and s.event in ("*", change.action)
        ]
        if not subscriptions:
            return []
        new_row = change.record or {}
        old_row = self._old_identity(table, change)
        too_large = self._decoded_size(table, change, old_row) > MAX_RECORD_BYTES
        record_row = new_row
        if change.action == "UPDATE" and not too_large:
            # A column wal2json left out (unchanged TOAST) is taken from the old identity,
            # as Realtime does: under replica identity DEFAULT it is then simply missing.
            record_row = {**{k: v for k, v in old_row.items() if k not in new_row}, **new_row}
        timestamp = self._commit_timestamp(change)
        out: list[tuple[Subscription, ChangeEvent]] = []
        for role in dict.fromkeys(s.role for s in subscriptions):
            of_role = [s for s in subscriptions if s.role == role]
            selectable = self._selectable(table, role)
            error = self._role_error(table, change.action, selectable)
            if error is not None:
                bare = ChangeEvent(
                    schema=table.schema,
                    table=table.name,
                    type=change.action,
                    columns=[],
                    record={},
                    old_record={} if change.action == "UPDATE" else None,
                    errors=(error,),
                )
                out.extend((s, bare) for s in of_role)
                continue
            event = ChangeEvent(
                schema=table.schema,
                table=table.name,
                type=change.action,
                commit_timestamp=timestamp,
                columns=[
                    {"name": c.name, "type": c.type_name}
                    for c in table.columns
                    if c.name in selectable
                ],
                record=self._visible(record_row, selectable, too_large)
                if change.action != "DELETE"
                else None,
                old_record=self._old_record(table, change.action, old_row, selectable, too_large),
                errors=(ERROR_PAYLOAD_TOO_LARGE,) if too_large else (),
            )
            for subscription in of_role:
                if not self._passes_filter(table, subscription, change.action, new_row, old_row):
                    continue
                if (
                    table.rls
                    and change.action != "DELETE"
                    and not self._rls_allows(table, subscription, new_row)
                ):
                    continue
                out.append((subscription, event))
        return out

    def _role_error(self, table: Relation, action: str, selectable: set[str]) -> str | None:
        if action == "DELETE":
            return None
        if not table.primary_key:
            return ERROR_NO_PRIMARY_KEY
        if any(column.name not in selectable for column in table.primary_key):
            return ERROR_UNAUTHORIZED
        return None

    def _passes_filter(
        self,
        table: Relation,
        subscription: Subscription,
        action: str,
        new_row: dict[str, Any],
        old_row: dict[str, Any],
    ) -> bool:
        types = table.cast_types
        if self._all_match(subscription.filters, new_row, types):
            return True
        return action == "DELETE" and self._all_match(subscription.filters, old_row, types)

    def _all_match(
        self, filters: tuple[ColumnFilter, ...], row: dict[str, Any], types: dict[str, str]
    ) -> bool:
        """Realtime ANDs a subscription's filters; none means every row."""
        return all(filter_matches(self.conn, f, row, types) for f in filters)

    def _rls_allows(
        self, table: Relation, subscription: Subscription, new_row: dict[str, Any]
    ) -> bool:
        key = [(c.name, self._as_text(new_row.get(c.name))) for c in table.primary_key]
        condition = sql.SQL(" and ").join(
            sql.SQL("{} = {}").format(sql.Identifier(name), sql.Literal(value))
            for name, value in key
        )
        query = sql.SQL("select exists(select 1 from {} where {})").format(
            table.qualified, condition
        )
        try:
            with self.conn.transaction(force_rollback=True), self.conn.cursor() as cur:
                cur.execute(_RLS_CONTEXT, (subscription.role, subscription.identity.claims_json()))
                cur.execute(query)
                row = cur.fetchone()
        except psycopg.Error:
            # Realtime's check failing (a policy raising) delivers nothing.
            return False
        return bool(row and row[0])

    # rows and columns -----------------------------------------------------------------
    def _old_identity(self, table: Relation, change: CapturedChange) -> dict[str, Any]:
        """The old values the decoder has, given the table's replica identity."""
        old = change.old_record or {}
        if change.action == "INSERT" or change.replica_identity == "n":
            return {}
        if change.replica_identity == "f":
            return dict(old)
        keys = table.identity_columns(change.replica_identity)
        if change.action == "UPDATE":
            new = change.record or {}
            unlogged = change.old_record is None  # the WAL logged no old tuple
            if unlogged or all(old.get(name) == new.get(name) for name in keys):
                # No old key is logged; wal2json writes the identity from the new tuple.
                return {name: value for name, value in new.items() if name in keys}
        return {name: value for name, value in old.items() if name in keys}

    def _old_record(
        self,
        table: Relation,
        action: str,
        old_row: dict[str, Any],
        selectable: set[str],
        too_large: bool,
    ) -> dict[str, Any] | None:
        if action == "INSERT":
            return None
        visible = self._visible(old_row, selectable, too_large)
        if action == "DELETE" and table.rls:
            # RLS cannot be checked on a deleted row, so only its key goes out.
            keys = {column.name for column in table.primary_key}
            visible = {name: value for name, value in visible.items() if name in keys}
        return visible

    def _visible(
        self, row: dict[str, Any], selectable: set[str], too_large: bool
    ) -> dict[str, Any]:
        visible = {name: value for name, value in row.items() if name in selectable}
        if not too_large or not visible:
            return visible
        result = self.conn.execute(_SMALL_VALUES, (_MAX_VALUE_BYTES, Jsonb(visible))).fetchone()
        kept: dict[str, Any] = result[0] if result else {}
        return kept

    def _selectable(self, table: Relation, role: str) -> set[str]:
        rows = self.conn.execute(
            "select a.name from unnest(%s::text[]) a(name)"
            " where pg_catalog.has_column_privilege(%s, %s::oid, a.name, 'SELECT')",
            ([c.name for c in table.columns], role, table.relid),
        ).fetchall()
        return {row[0] for row in rows}

    def _decoded_size(
        self, table: Relation, change: CapturedChange, old_row: dict[str, Any]
    ) -> int:
        """``octet_length(wal::text)`` of wal2json's message for this change, as Realtime
        measures it (the values' output text from the WAL, or derived from the row)."""
        from_wal = change.texts is not None or change.old_texts is not None
        texts = change.texts
        if texts is None and change.record is not None:
            texts = derive_texts(self.conn, table, change.record)
        if from_wal:
            # The old tuple as logged, or (none logged) the identity wal2json takes from the new.
            logged = (change.old_texts if change.old_record is not None else texts) or {}
            old_texts = {name: logged[name] for name in old_row}
        else:
            old_texts = derive_texts(self.conn, table, old_row)
        return decoded_size(
            self.conn,
            table,
            action=change.action,
            committed_at=change.captured_at,
            columns=texts,
            identity=None if change.action == "INSERT" else old_texts,
        )

    def _commit_timestamp(self, change: CapturedChange) -> str:
        row = self.conn.execute(
            "select pg_catalog.to_char(%s::timestamptz at time zone 'utc',"
            ' \'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\')',
            (change.captured_at,),
        ).fetchone()
        assert row is not None
        return str(row[0])

    @staticmethod
    def _as_text(value: Any) -> str | None:
        """A JSON value as ``jsonb #>> '{}'`` gives it: the text the key is compared with."""
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value)

    # catalog --------------------------------------------------------------------------
    def _describe(self, table: str) -> Relation:
        relid = relation_oid(self.conn, table)
        if relid is None:
            raise SubscriptionError(f"no table {table!r} to subscribe to")
        described = describe_relation(self.conn, relid)
        assert described is not None
        self._tables[relid] = described
        return described

    def _describe_oid(self, relid: int) -> Relation | None:
        if relid not in self._tables:
            described = describe_relation(self.conn, relid)
            if described is None:
                return None
            self._tables[relid] = described
        return self._tables[relid]
