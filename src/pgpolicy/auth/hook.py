"""The custom access token hook, called as Supabase Auth calls it.

Auth calls ``public.custom_access_token_hook(event jsonb)`` on its own connection, as
``supabase_auth_admin``, with ``{user_id, claims, authentication_method}``, and issues the
``claims`` it returns; an answer with ``error`` issues no token.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg

from pgpolicy.postgrest.claims import Actor, JsonObject

__all__ = [
    "HOOK_FUNCTION",
    "HookError",
    "access_token_hook",
    "has_uncommitted_writes",
    "mint_claims",
    "unseen_rows_error",
]

HOOK_FUNCTION = "public.custom_access_token_hook(jsonb)"


class HookError(RuntimeError):
    """The custom access token hook refused to issue a token, or cannot be called faithfully
    (Auth would answer an error, or would mint from data other than the caller's)."""


def access_token_hook(conn: psycopg.Connection[Any]) -> str | None:
    """The hook's signature when the database seen by ``conn`` has one, else None."""
    row = conn.execute("select to_regprocedure(%s)::text", (HOOK_FUNCTION,)).fetchone()
    return None if row is None else row[0]


def has_uncommitted_writes(conn: psycopg.Connection[Any]) -> bool:
    """Whether ``conn``'s open transaction has written anything (Auth cannot see it)."""
    row = conn.execute("select pg_current_xact_id_if_assigned() is not null").fetchone()
    return bool(row and row[0])


def unseen_rows_error(whose: str, detail: str) -> HookError:
    """The refusal when Auth's view of the data would give other claims than the caller's."""
    return HookError(
        "custom_access_token_hook runs on Supabase Auth's own connection, which cannot see "
        f"the rows {whose} wrote in its rolled-back transaction, and its answer depends on "
        f"them ({detail}); commit the rows the hook reads first (in a pytest proof: mark the "
        "test commit, so it gets a database of its own and may commit)"
    )


def mint_claims(conn: psycopg.Connection[Any], actor: Actor, claims: JsonObject) -> JsonObject:
    """The hook's claims for ``actor``, called on ``conn`` (Auth's: logged in as
    supabase_auth_admin) in a transaction or savepoint that is rolled back, so whatever the
    hook writes is undone."""
    event = {"user_id": str(actor.id), "claims": claims, "authentication_method": "password"}
    try:
        with conn.transaction(force_rollback=True):
            row = conn.execute(
                f"select {HOOK_FUNCTION.removesuffix('(jsonb)')}(%s::jsonb)", (json.dumps(event),)
            ).fetchone()
    except psycopg.errors.UndefinedFunction as error:
        raise HookError(
            "custom_access_token_hook exists only in an uncommitted transaction, which "
            "Supabase Auth's own connection cannot see: commit it first (in a pytest proof: "
            "mark the test commit)"
        ) from error
    answer = None if row is None else row[0]
    if not isinstance(answer, dict) or "error" in answer or "claims" not in answer:
        raise HookError(f"custom_access_token_hook refused {actor}: {answer!r}")
    minted: JsonObject = answer["claims"]
    return minted
