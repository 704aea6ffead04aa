"""The custom access token hook, called as Supabase Auth calls it.

Auth calls the configured function (``pgpolicy.auth.config``) on its own connection, as
``supabase_auth_admin``, inside the transaction that issues the token, under a statement
timeout of two seconds, with ``{metadata, user_id, claims, authentication_method}``; it signs
the ``claims`` it gets back once they pass its checks (``pgpolicy.auth.output``), and commits
what the hook wrote with the token.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import psycopg

from pgpolicy.auth.config import HookConfig
from pgpolicy.auth.output import HookRefusal, claims_from_answer
from pgpolicy.postgrest.claims import Actor, JsonObject

__all__ = [
    "HOOK_NAME",
    "HookError",
    "has_uncommitted_writes",
    "hook_event",
    "hook_exists",
    "mint_claims",
    "unseen_rows_error",
]

# The hook's name in the metadata Auth sends it.
HOOK_NAME = "customize-access-token"


class HookError(RuntimeError):
    """Auth would issue no token (``status`` is its HTTP answer), or the hook cannot be
    called faithfully (Auth would mint from data other than the caller's)."""

    def __init__(self, message: str, *, status: int = 500, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.sqlstate = sqlstate


def hook_exists(conn: psycopg.Connection[Any], hook: HookConfig) -> bool:
    """Whether the database seen by ``conn`` has the hook's function."""
    row = conn.execute("select to_regprocedure(%s) is not null", (hook.signature,)).fetchone()
    return bool(row and row[0])


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


def hook_event(actor: Actor, claims: JsonObject, method: str) -> JsonObject:
    """The hook's input, as Auth builds it for one token."""
    return {
        "metadata": {
            "uuid": str(uuid.uuid4()),
            "time": dt.datetime.now(dt.UTC).isoformat(),
            "name": HOOK_NAME,
        },
        "user_id": str(actor.id),
        "claims": claims,
        "authentication_method": method,
    }


def mint_claims(
    conn: psycopg.Connection[Any],
    hook: HookConfig,
    actor: Actor,
    event: JsonObject,
    *,
    commit: bool,
) -> JsonObject:
    """The claims Auth would sign after calling ``hook`` on ``conn`` with ``event``.

    The call runs in a transaction (a savepoint inside an open one) under the hook's
    statement timeout; what the hook writes is committed when ``commit`` (Auth commits it
    with the token), else rolled back. HookError when Auth would issue no token.
    """
    try:
        with conn.transaction(force_rollback=not commit):
            conn.execute(f"set local statement_timeout = {int(hook.timeout_ms)}")
            row = conn.execute(f"select {hook.call}(%s::jsonb)", (json.dumps(event),)).fetchone()
            conn.execute("set local statement_timeout to default")
    except psycopg.errors.UndefinedFunction as error:
        raise HookError(
            f"{hook.call} (the access token hook, from {hook.source}) does not exist where "
            "Supabase Auth's own connection looks; one created in an uncommitted transaction "
            "is invisible to it: commit it first (in a pytest proof: mark the test commit)",
            sqlstate=error.sqlstate,
        ) from error
    except psycopg.errors.QueryCanceled as error:
        raise HookError(
            f"{hook.call} ran past Auth's {hook.timeout_ms} ms statement timeout for hooks: "
            f"Auth answers 500 and issues no token for {actor}",
            sqlstate=error.sqlstate,
        ) from error
    try:
        return claims_from_answer(None if row is None else row[0])
    except HookRefusal as refusal:
        raise HookError(
            f"{hook.call} refused {actor}: Auth answers {refusal.status}: {refusal.message}",
            status=refusal.status,
        ) from refusal
