"""Capturing the changes of published tables inside the database, for Postgres Changes.

Realtime reads committed changes from a logical replication slot, and so does the harness in
a ``commit`` test (see ``slot``). A slot never sees the changes of a transaction that is
rolled back, which is how every default test runs, so there the harness captures them with
an AFTER ROW trigger instead: the captured rows live and die with the transaction that made
the change (a failed request's savepoint takes its capture with it), and the trigger records
the change only while its table is in the publication, with the publication's ``publish``
actions, as Realtime's decoder asks for them. Capture starts when the first subscription to
a table is made: a subscriber never receives what happened before it joined.

What a trigger cannot know: whether a value was TOASTed out of line and left unchanged (the
WAL then does not carry it), and when the transaction will commit (``captured_at`` is the
transaction's start, shared by all its changes as a commit time is).

Objects live in their own schema (``pgpolicy_changes``), created by the harness's privileged
role; the trigger function is SECURITY DEFINER so that an API role's write can record itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

__all__ = [
    "CAPTURE_SCHEMA",
    "PUBLICATION",
    "CapturedChange",
    "ChangeSource",
    "TriggerCapture",
    "capture_table",
    "captured_since",
    "last_captured_id",
]

PUBLICATION = "supabase_realtime"
CAPTURE_SCHEMA = "pgpolicy_changes"
_TRIGGER = "pgpolicy_changes_capture"

_INSTALL = f"""
create schema if not exists {CAPTURE_SCHEMA};
revoke all on schema {CAPTURE_SCHEMA} from public;
create table if not exists {CAPTURE_SCHEMA}.captured (
  id bigint generated always as identity primary key,
  relid oid not null,
  action text not null,
  record jsonb,
  old_record jsonb,
  replica_identity "char" not null,
  -- every change of a transaction shares one time, as it shares one commit time
  captured_at timestamptz not null default pg_catalog.now()
);
create or replace function {CAPTURE_SCHEMA}.capture() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  _relid oid := tg_argv[0]::oid;
begin
  -- Realtime asks its decoder only for the publication's tables and actions.
  if exists (
    select from pg_catalog.pg_publication p
    join pg_catalog.pg_publication_tables pt on pt.pubname = p.pubname
    where p.pubname = '{PUBLICATION}'
      and pt.schemaname = (select n.nspname from pg_catalog.pg_class c
                           join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                           where c.oid = _relid)
      and pt.tablename = (select c.relname from pg_catalog.pg_class c where c.oid = _relid)
      and case tg_op when 'INSERT' then p.pubinsert
                     when 'UPDATE' then p.pubupdate
                     else p.pubdelete end
  ) then
    insert into {CAPTURE_SCHEMA}.captured (relid, action, record, old_record, replica_identity)
    values (
      _relid,
      tg_op,
      case when tg_op <> 'DELETE' then pg_catalog.to_jsonb(new) end,
      case when tg_op <> 'INSERT' then pg_catalog.to_jsonb(old) end,
      -- what the WAL logs of the old row is decided when the change is made
      (select c.relreplident from pg_catalog.pg_class c where c.oid = _relid)
    );
  end if;
  return null;
end
$$;
"""


@dataclass(frozen=True)
class CapturedChange:
    """One row change of a published table: new and old rows as JSON values.

    From the trigger, ``record`` and ``old_record`` are whole rows. From a logical slot
    (``slot``) they are what the WAL holds: ``record`` lacks the unchanged TOASTed columns,
    ``old_record`` is the logged old tuple or None when none was logged, and ``texts``/
    ``old_texts`` carry the values' output text (the trigger leaves them to be derived).
    """

    id: int
    relid: int
    action: str
    record: dict[str, Any] | None
    old_record: dict[str, Any] | None
    replica_identity: str
    # The trigger: the writing transaction's start; a slot: its commit time.
    captured_at: datetime
    texts: dict[str, str | None] | None = field(default=None, compare=False)
    old_texts: dict[str, str | None] | None = field(default=None, compare=False)


def capture_table(conn: psycopg.Connection[Any], relid: int) -> None:
    """Start capturing the changes of the table ``relid`` (idempotent).

    ``conn`` is the privileged connection; it needs to own the table (or hold TRIGGER on it).
    """
    with conn.transaction():
        conn.execute(_INSTALL)
        row = conn.execute(
            "select n.nspname, c.relname,"
            " exists(select from pg_catalog.pg_trigger t where t.tgrelid = c.oid and t.tgname = %s)"
            " from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace"
            " where c.oid = %s",
            (_TRIGGER, relid),
        ).fetchone()
        assert row is not None
        schema, name, present = row
        if not present:
            conn.execute(
                sql.SQL(
                    "create trigger {} after insert or update or delete on {}"
                    " for each row execute function {}.capture({})"
                ).format(
                    sql.Identifier(_TRIGGER),
                    sql.Identifier(schema, name),
                    sql.Identifier(CAPTURE_SCHEMA),
                    sql.Literal(str(relid)),
                )
            )


def last_captured_id(conn: psycopg.Connection[Any]) -> int:
    """The id of the newest captured change (0 when none), a subscription's starting point."""
    row = conn.execute(f"select coalesce(max(id), 0) from {CAPTURE_SCHEMA}.captured").fetchone()
    return 0 if row is None else int(row[0])


def captured_since(conn: psycopg.Connection[Any], after_id: int) -> list[CapturedChange]:
    """Every change captured after ``after_id``, in capture order."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"select id, relid::bigint as relid, action, record, old_record,"
            f" replica_identity::text as replica_identity, captured_at"
            f" from {CAPTURE_SCHEMA}.captured where id > %s order by id",
            (after_id,),
        )
        return [CapturedChange(**row) for row in cur.fetchall()]


class ChangeSource(Protocol):
    """Where the poller reads committed (or, rolled back, pending) changes from."""

    def watch(self, relid: int) -> None: ...

    def last_id(self) -> int: ...

    def since(self, after_id: int) -> list[CapturedChange]: ...

    def close(self) -> None: ...


@dataclass
class TriggerCapture:
    """The trigger path: works inside a transaction that is never committed."""

    conn: psycopg.Connection[Any]

    def watch(self, relid: int) -> None:
        capture_table(self.conn, relid)

    def last_id(self) -> int:
        return last_captured_id(self.conn)

    def since(self, after_id: int) -> list[CapturedChange]:
        return captured_since(self.conn, after_id)

    def close(self) -> None:
        """Nothing to release: the captured rows live in the test's database."""
