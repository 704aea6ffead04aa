"""From the file's actors to the identities requests run as.

Users are signed up through Supabase Auth as the harness plays it (``pgpolicy.auth``): on
Auth's own connection, committed, and deleted again when the matrix is done. Their claims
come from the project's access token hook when it has one, under the same rule as in a
proof: the hook cannot see the matrix's uncommitted seed, so where its answer depends on the
seed, asking it raises HookError.
Where no connection as supabase_auth_admin can be made and there is no hook, users are
written in the matrix's own transaction as the caller instead (triggers on auth.users then
run as the caller's role, not Auth's).
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgpolicy.analysis.matrix.spec import ActorSpec
from pgpolicy.auth import AuthAdminUnavailable, AuthServer
from pgpolicy.auth.signup import insert_user, new_actor
from pgpolicy.postgrest.claims import Actor
from pgpolicy.postgrest.identity import (
    Identity,
    as_anon,
    as_role,
    as_service_role,
    as_signed_in_without_sub,
    as_user,
)

__all__ = ["identities", "sign_up_users"]


def sign_up_users(
    conn: psycopg.Connection[Any], auth: AuthServer, actors: tuple[ActorSpec, ...]
) -> dict[str, Actor]:
    """Every ``kind = "user"`` actor's auth.users row; an existing user is taken as it is."""
    users: dict[str, Actor] = {}
    for spec in actors:
        if spec.kind != "user":
            continue
        assert spec.id is not None
        actor = new_actor(
            spec.name,
            id=spec.id,
            email=spec.email or f"{spec.name}@example.test",
            app_metadata=spec.app_metadata,
            user_metadata=spec.user_metadata,
        )
        try:
            auth.sign_up_actor(actor, existing_ok=True)
        except AuthAdminUnavailable:
            if auth.has_hook():
                raise
            insert_user(conn, actor, existing_ok=True)
        users[spec.name] = actor
    return users


def _identity(spec: ActorSpec, auth: AuthServer, users: dict[str, Actor]) -> Identity:
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
        actor = users[spec.name]
        # Claims as Auth issues them, through the project's access token hook if it has one.
        identity = as_user(actor, {**auth.claims_for(actor), **(spec.claims or {})})
        return Identity(role=identity.role, claims=identity.claims, label=spec.name)
    if spec.claims:
        identity = Identity(identity.role, {**(identity.claims or {}), **spec.claims}, spec.name)
    return Identity(role=identity.role, claims=identity.claims, label=spec.name)


def identities(
    auth: AuthServer, actors: tuple[ActorSpec, ...], users: dict[str, Actor]
) -> dict[str, Identity]:
    """Each actor's identity, its claims minted now (after the seed, as a token would be)."""
    return {spec.name: _identity(spec, auth, users) for spec in actors}
