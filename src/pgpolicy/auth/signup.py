"""Writing and removing auth.users rows as the Auth server does (as supabase_auth_admin)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
from psycopg import sql

from pgpolicy.postgrest.claims import Actor, JsonObject

__all__ = ["SignUpBlocked", "delete_users", "insert_user", "new_actor"]

# Auth writes the columns Supabase gives no default (timestamps, metadata) itself.
_INSERT = (
    "insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data,"
    " raw_user_meta_data, is_anonymous, created_at, updated_at)"
    " values ('00000000-0000-0000-0000-000000000000', %s, 'authenticated',"
    " 'authenticated', %s, %s, %s, %s, now(), now())"
)


class SignUpBlocked(RuntimeError):
    """A sign-up waited on a lock held by the work it was made for; the message says which."""


def new_actor(
    label: str,
    *,
    id: uuid.UUID | None = None,
    email: str | None = None,
    app_metadata: JsonObject | None = None,
    user_metadata: JsonObject | None = None,
    is_anonymous: bool = False,
) -> Actor:
    """The user a sign-up will create (a fresh id and address unless given)."""
    return Actor(
        id=id or uuid.uuid4(),
        email=email or f"{label}-{uuid.uuid4().hex[:8]}@example.test",
        app_metadata=dict(app_metadata or {}),
        user_metadata=dict(user_metadata or {}),
        is_anonymous=is_anonymous,
        label=label,
    )


def insert_user(conn: psycopg.Connection[Any], actor: Actor, *, existing_ok: bool = False) -> bool:
    """Insert ``actor``'s auth.users row on ``conn``; whether a row was inserted.

    ``existing_ok``: a user with that id that already exists (a staging database's) is taken
    as it is.
    """
    query = _INSERT + (" on conflict (id) do nothing" if existing_ok else "") + " returning id"
    params = (
        actor.id,
        actor.email,
        json.dumps(actor.app_metadata),
        json.dumps(actor.user_metadata),
        actor.is_anonymous,
    )
    try:
        return conn.execute(query, params).fetchone() is not None
    except psycopg.errors.LockNotAvailable as error:
        raise SignUpBlocked(
            f"signing up {actor.label!r} waited on a lock the caller's open transaction holds "
            "(DDL on auth.users, or an uncommitted row with the same key): mark the test commit"
        ) from error


def delete_users(conn: psycopg.Connection[Any], ids: list[uuid.UUID]) -> None:
    """Delete these users, and first the rows that refer to them without ON DELETE CASCADE.

    Sign-up triggers often write rows (profiles, memberships) whose foreign key to
    auth.users does not cascade; Auth's own deletion would fail on them, but a janitor must
    leave nothing behind. ``conn`` (autocommit, privileged) deletes those rows, table by
    table as the foreign keys name them, then the users, all in one transaction.
    """
    if not ids:
        return
    with conn.transaction():
        _delete_referenced(conn, "auth", "users", "id", [str(i) for i in ids], depth=0)


_MAX_DEPTH = 8
# Foreign keys onto one table whose deletion rule would refuse the delete (no action,
# restrict), each as (schema, table, referencing column, referenced column, its primary key).
_REFUSING_REFERENCES = """
select n.nspname, r.relname, a.attname, f.attname,
       (select pa.attname from pg_catalog.pg_index i
        join pg_catalog.pg_attribute pa on pa.attrelid = i.indrelid and pa.attnum = i.indkey[0]
        where i.indrelid = c.conrelid and i.indisprimary and i.indnatts = 1)
from pg_catalog.pg_constraint c
join pg_catalog.pg_class r on r.oid = c.conrelid
join pg_catalog.pg_namespace n on n.oid = r.relnamespace
join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
join pg_catalog.pg_attribute f on f.attrelid = c.confrelid and f.attnum = c.confkey[1]
where c.contype = 'f' and c.confrelid = %s::regclass and cardinality(c.conkey) = 1
  and c.confdeltype in ('a', 'r')
"""


def _delete_referenced(
    conn: psycopg.Connection[Any],
    schema: str,
    table: str,
    key: str,
    values: list[str],
    *,
    depth: int,
) -> None:
    """Delete rows of ``schema.table`` whose ``key`` is in ``values``, children first."""
    target = sql.Identifier(schema, table)
    relation = target.as_string(conn)
    references = (
        conn.execute(_REFUSING_REFERENCES, (relation,)).fetchall() if depth < _MAX_DEPTH else []
    )
    for child_schema, child_table, column, referenced, child_key in references:
        if referenced != key:
            continue  # refers to another column of these rows: not reached from ``values``
        child_key = child_key or column
        rows = conn.execute(
            sql.SQL("select {}::text from {} where {}::text = any(%s)").format(
                sql.Identifier(child_key),
                sql.Identifier(child_schema, child_table),
                sql.Identifier(column),
            ),
            (values,),
        ).fetchall()
        if rows:
            _delete_referenced(
                conn, child_schema, child_table, child_key, [r[0] for r in rows], depth=depth + 1
            )
    conn.execute(
        sql.SQL("delete from {} where {}::text = any(%s)").format(target, sql.Identifier(key)),
        (values,),
    )
