"""What Postgres Changes needs to know of a table: columns, types, keys, RLS.

Read from the catalog each time Realtime polls (RLS and grants may change between polls).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

__all__ = ["Column", "Relation", "describe_relation", "relation_oid"]

_COLUMNS = """
select a.attname as name, t.typname as type_name, a.atttypid::regtype::text as cast_type,
       pg_catalog.format_type(a.atttypid, a.atttypmod) as decoder_type, a.atttypid::bigint as oid,
       coalesce(a.attnum = any(pk.indkey::int2[]), false) as is_pkey,
       coalesce(a.attnum = any(ri.indkey::int2[]), false) as in_replica_index,
       case when a.attgenerated = 's' then pg_catalog.pg_get_expr(d.adbin, d.adrelid) end
         as generated
from pg_catalog.pg_attribute a
join pg_catalog.pg_type t on t.oid = a.atttypid
left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
left join pg_catalog.pg_index pk on pk.indrelid = a.attrelid and pk.indisprimary
left join pg_catalog.pg_index ri on ri.indrelid = a.attrelid and ri.indisreplident
where a.attrelid = %s and a.attnum > 0 and not a.attisdropped
order by a.attnum
"""

_TABLE = """
select c.oid::bigint as relid, n.nspname as schema, c.relname as name,
       c.relrowsecurity as rls
from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.oid = %s::oid
"""


@dataclass(frozen=True)
class Column:
    """One column: its type as the payload names it, as filters cast to, as wal2json writes it."""

    name: str
    type_name: str
    cast_type: str
    decoder_type: str
    oid: int
    is_pkey: bool
    in_replica_index: bool
    # A stored generated column's expression (pgoutput before 18 does not send its value).
    generated: str | None = None


@dataclass(frozen=True)
class Relation:
    """A table as Realtime's server-side function sees it."""

    relid: int
    schema: str
    name: str
    rls: bool
    columns: tuple[Column, ...]

    @property
    def qualified(self) -> sql.Composed:
        return sql.SQL("{}").format(sql.Identifier(self.schema, self.name))

    @property
    def primary_key(self) -> list[Column]:
        return [column for column in self.columns if column.is_pkey]

    @property
    def cast_types(self) -> dict[str, str]:
        return {column.name: column.cast_type for column in self.columns}

    def identity_columns(self, replica_identity: str) -> set[str]:
        """The columns replica identity ``default``/``index`` logs for an old row."""
        if replica_identity == "i":
            return {column.name for column in self.columns if column.in_replica_index}
        return {column.name for column in self.columns if column.is_pkey}


def relation_oid(conn: psycopg.Connection[Any], name: str) -> int | None:
    """The oid of table ``name`` (``schema.table`` or a name on the search path), or None."""
    try:
        with conn.transaction(force_rollback=True):
            row = conn.execute("select %s::regclass::oid::bigint", (name,)).fetchone()
    except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidName):
        return None
    return None if row is None else int(row[0])


def describe_relation(conn: psycopg.Connection[Any], relid: int) -> Relation | None:
    """The table ``relid`` with its columns, or None when it no longer exists."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_TABLE, (relid,))
        head = cur.fetchone()
        if head is None:
            return None
        cur.execute(_COLUMNS, (relid,))
        columns = tuple(Column(**row) for row in cur.fetchall())
    return Relation(**head, columns=columns)
