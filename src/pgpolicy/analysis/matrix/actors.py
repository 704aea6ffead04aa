"""From the file's actors to the identities requests run as (users created in auth.users)."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from pgpolicy.analysis.matrix.spec import ActorSpec
from pgpolicy.postgrest.claims import Actor
from pgpolicy.postgrest.identity import (
    Identity,
    as_anon,
    as_role,
    as_service_role,
    as_signed_in_without_sub,
    as_user,
)
from pgpolicy.testing.harness import Database

__all__ = ["create_identities"]


def _create_user(conn: psycopg.Connection[Any], spec: ActorSpec) -> Actor:
    assert spec.id is not None
    actor = Actor(
        id=spec.id,
        email=spec.email or f"{spec.name}@example.test",
        app_metadata=dict(spec.app_metadata),
        user_metadata=dict(spec.user_metadata),
        label=spec.name,
    )
    conn.execute(
        "insert into auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data,"
        " created_at, updated_at)"
        " values (%s, 'authenticated', 'authenticated', %s, %s, %s, now(), now())"
        # A user that already exists (a staging database) is taken as it is.
        " on conflict (id) do nothing",
        (actor.id, actor.email, json.dumps(actor.app_metadata), json.dumps(actor.user_metadata)),
    )
    return actor


def _identity(conn: psycopg.Connection[Any], spec: ActorSpec) -> Identity:
    if spec.kind == "anon":
        identity = as_anon()
    elif spec.kind == "service_role":
        identity = as_service_role()
    elif spec.kind == "no_sub":
        identity = as_signed_in_without_sub()
    elif spec.kind == "role":
        assert spec.role is not None
        return as_role(spec.role, spec.claims, label=spec.name)
    else:
        actor = _create_user(conn, spec)
        # Claims as Auth issues them, through the project's access token hook if it has one.
        claims = Database(conn=conn, url="").claims_for(actor)
        identity = as_user(actor, {**claims, **(spec.claims or {})})
        return Identity(role=identity.role, claims=identity.claims, label=spec.name)
    if spec.claims:
        identity = Identity(identity.role, {**(identity.claims or {}), **spec.claims}, spec.name)
    return Identity(role=identity.role, claims=identity.claims, label=spec.name)


def create_identities(
    conn: psycopg.Connection[Any], actors: tuple[ActorSpec, ...]
) -> dict[str, Identity]:
    """Each actor's identity; users get their auth.users row (inside the caller's transaction)."""
    return {spec.name: _identity(conn, spec) for spec in actors}
