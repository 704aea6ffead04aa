"""The size of a change as Realtime measures it: wal2json's format-2 message as jsonb text.

Realtime reads each change from wal2json (format 2, with ``include-pk``,
``include-timestamp`` and ``include-type-oids``), casts the message to jsonb and sends "Error
413: Payload Too Large" when ``octet_length(wal::text)`` is over ``max_record_bytes``. jsonb's
text has a space after each ``:`` and ``,``, so the size is computed here by Postgres from
the same jsonb: ``{"action", "timestamp", "schema", "table", "columns" (INSERT, UPDATE: the
new tuple without its unchanged TOASTed values), "identity" (UPDATE, DELETE), "pk"}``, each
column ``{"name", "type", "typeoid", "value"}`` (pk entries without value). A value is its
type's output text: a JSON number for the integer, float, numeric and oid types (null for
NaN and infinities), true/false for boolean, bytea's hex without ``\\x``, else a string.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from pgpolicy.realtime.relations import Column, Relation

__all__ = ["decoded_size", "derive_texts", "wal2json_timestamp"]

_VALUE = """
case when e.c ->> 'text' is null then 'null'::jsonb
     when (e.c ->> 'typeoid')::oid in (20, 21, 23, 26, 700, 701, 1700) then
       case when pg_catalog.lower(e.c ->> 'text') in ('nan', 'infinity', '-infinity')
            then 'null'::jsonb
            when e.c ->> 'text' ~ '^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$'
            then (e.c ->> 'text')::jsonb
            else pg_catalog.to_jsonb(e.c ->> 'text') end
     when (e.c ->> 'typeoid')::oid = 16 then pg_catalog.to_jsonb(e.c ->> 'text' = 't')
     when (e.c ->> 'typeoid')::oid = 17 then
       pg_catalog.to_jsonb(pg_catalog.substr(e.c ->> 'text', 3))
     else pg_catalog.to_jsonb(e.c ->> 'text')
end"""

_SIZE = f"""
select pg_catalog.octet_length((%(head)s::jsonb || coalesce((
  select pg_catalog.jsonb_object_agg(parts.part, parts.items) from (
    select e.part, pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             'name', e.c -> 'name', 'type', e.c -> 'type', 'typeoid', e.c -> 'typeoid',
             'value', {_VALUE})) as items
    from (select 'columns' as part, c from pg_catalog.jsonb_array_elements(%(columns)s::jsonb) c
          union all
          select 'identity', c from pg_catalog.jsonb_array_elements(%(identity)s::jsonb) c) e
    group by e.part) parts), '{{}}'::jsonb))::text)
"""


def wal2json_timestamp(committed_at: datetime) -> str:
    """The commit time as wal2json writes it (PostgreSQL's ISO text, here in UTC): trailing
    zeros of the microseconds dropped, ``+00`` for the zone."""
    utc = committed_at.astimezone(UTC)
    fraction = f".{utc.microsecond:06d}".rstrip("0") if utc.microsecond else ""
    return f"{utc:%Y-%m-%d %H:%M:%S}{fraction}+00"


def _type_name(column: Column) -> str:
    """wal2json writes an already-quoted type name as is (its quotes become the JSON's)."""
    name = column.decoder_type
    if name.startswith('"') and not name.endswith("]"):
        return name[1:-1]
    return name


def decoded_size(
    conn: psycopg.Connection[Any],
    table: Relation,
    *,
    action: str,
    committed_at: datetime,
    columns: dict[str, str | None] | None,
    identity: dict[str, str | None] | None,
) -> int:
    """``octet_length`` of the message's jsonb text; ``columns``/``identity``: output texts."""

    def described(texts: dict[str, str | None] | None) -> Jsonb | None:
        if texts is None:
            return None
        return Jsonb(
            [
                {"name": c.name, "type": _type_name(c), "typeoid": c.oid, "text": texts[c.name]}
                for c in table.columns
                if c.name in texts
            ]
        )

    head: dict[str, Any] = {
        "action": action[0],
        "timestamp": wal2json_timestamp(committed_at),
        "schema": table.schema,
        "table": table.name,
        "pk": [
            {"name": c.name, "type": _type_name(c), "typeoid": c.oid} for c in table.primary_key
        ],
    }
    if columns is not None:
        head["columns"] = []
    if identity is not None:
        head["identity"] = []
    row = conn.execute(
        _SIZE, {"head": Jsonb(head), "columns": described(columns), "identity": described(identity)}
    ).fetchone()
    assert row is not None
    return int(row[0])


def derive_texts(
    conn: psycopg.Connection[Any], table: Relation, row: dict[str, Any]
) -> dict[str, str | None]:
    """The output text of each value of ``row`` (a row's ``to_jsonb``), read back through the
    table's own types: what the WAL would carry for it."""
    names = [column.name for column in table.columns if column.name in row]
    if not names:
        return {}
    output = sql.SQL("case when r.{0} is null then null else pg_catalog.format('%%s', r.{0}) end")
    texts = sql.SQL(", ").join(output.format(sql.Identifier(name)) for name in names)
    query = sql.SQL(
        "select array[{}]::text[] from pg_catalog.jsonb_populate_record(null::{}, %s) r"
    )
    try:
        # A savepoint: in a rolled-back test this runs inside the test's own transaction.
        with conn.transaction():
            result = conn.execute(query.format(texts, table.qualified), (Jsonb(row),)).fetchone()
    except psycopg.Error:
        # A value that does not read back through its type: its JSON text, near enough.
        return {name: _json_text(row[name]) for name in names}
    assert result is not None
    return dict(zip(names, result[0], strict=True))


def _json_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)
