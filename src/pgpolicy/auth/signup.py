"""Writing and removing auth.users rows as the Auth server does (as supabase_auth_admin)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg

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
    """Delete these users (and what cascades from them)."""
    if ids:
        conn.execute("delete from auth.users where id = any(%s)", (ids,))
