"""Supabase Auth as the harness plays it, for one database: sign-ups and access tokens.

Auth works on connections of its own, logged in as ``supabase_auth_admin``: triggers on
auth.users and the access token hook run with that role's privileges, and see only committed
work. The caller (a pytest proof, the access matrix) works on a privileged connection of its
own, whose transaction is often rolled back. So:
- a sign-up is committed on Auth's connection; unless the caller keeps its users (a database
  of its own, dropped anyway), ``close()`` deletes them again (the janitor);
- the hook mints claims from committed data only: when the caller's rolled-back transaction
  has written, the hook is also asked on the caller's connection (in a savepoint rolled
  back, so it sees those rows, as the caller's role); if the two answers differ, the claims
  would silently ignore the caller's rows, and HookError says so instead. Loud, never wrong.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg

from pgpolicy.auth.admin import AUTH_ADMIN, AuthAdmin, AuthAdminUnavailable, auth_admin_beside
from pgpolicy.auth.config import HookConfig, resolve_hook_config
from pgpolicy.auth.hook import (
    HookError,
    has_uncommitted_writes,
    hook_event,
    hook_exists,
    mint_claims,
    unseen_rows_error,
)
from pgpolicy.auth.signup import SignUpBlocked, delete_users, insert_user, new_actor
from pgpolicy.auth.signup_locks import blocking_lock_message
from pgpolicy.postgrest.claims import Actor, JsonObject, user_claims

__all__ = ["AuthServer"]

# A sign-up waiting on a lock the caller's own open transaction holds would wait forever.
_LOCK_TIMEOUT = "5s"


@dataclass
class AuthServer:
    """Sign-ups and token claims for the database ``caller`` is connected to."""

    caller: psycopg.Connection[Any]
    admin: AuthAdmin | None = None
    # The caller's transaction is rolled back at the end (its writes are invisible to Auth).
    caller_rolls_back: bool = False
    # Users stay after close() (the caller's database is dropped anyway).
    keep_users: bool = False
    # Who the caller is, in messages ("this test", "the matrix").
    caller_name: str = "this test"
    # The access token hook Auth is configured with (None: from the environment, else the
    # conventional public.custom_access_token_hook).
    hook: HookConfig | None = None
    _conn: psycopg.Connection[Any] | None = field(default=None, repr=False)
    _signed_up: list[uuid.UUID] = field(default_factory=list, repr=False)
    _hook_found: bool = field(default=False, repr=False)

    def connection(self) -> psycopg.Connection[Any]:
        """The caller's database as supabase_auth_admin (autocommit), opened on first use.

        Without an ``admin``, the default one beside the caller's connection is used: same
        server and password, as supabase_auth_admin.
        """
        if self._conn is not None:
            return self._conn
        if self.admin is None:
            self.admin = auth_admin_beside(self.caller)
        url = self.admin.url(self.caller.info.dbname)
        if url is None:
            raise AuthAdminUnavailable(
                f"acting as Supabase Auth needs a {AUTH_ADMIN} connection: {self.admin.unavailable}"
            )
        self._conn = psycopg.connect(
            url, autocommit=True, options=f"-c lock_timeout={_LOCK_TIMEOUT}"
        )
        return self._conn

    def sign_up(
        self,
        label: str = "user",
        *,
        id: uuid.UUID | None = None,
        email: str | None = None,
        app_metadata: JsonObject | None = None,
        user_metadata: JsonObject | None = None,
        is_anonymous: bool = False,
        existing_ok: bool = False,
    ) -> Actor:
        """Sign a user up as the Auth server does (committed, as supabase_auth_admin)."""
        actor = new_actor(
            label,
            id=id,
            email=email,
            app_metadata=app_metadata,
            user_metadata=user_metadata,
            is_anonymous=is_anonymous,
        )
        return self.sign_up_actor(actor, existing_ok=existing_ok)

    def sign_up_actor(self, actor: Actor, *, existing_ok: bool = False) -> Actor:
        """Sign up a user made beforehand (``existing_ok``: one already there is kept)."""
        blocked = blocking_lock_message(self.caller, actor.label, self.caller_name)
        if blocked is not None:
            raise SignUpBlocked(blocked)
        inserted = insert_user(self.connection(), actor, existing_ok=existing_ok)
        if inserted and not self.keep_users:
            self._signed_up.append(actor.id)
        return actor

    def access_token_hook(self) -> HookConfig | None:
        """The hook Auth would call for this database, or None (disabled, or absent)."""
        if self.hook is None:
            self.hook = resolve_hook_config()
        if not self.hook.enabled:
            return None
        if self.hook.source != "the conventional name" or self._hook_found:
            # A configured hook that does not exist is called anyway: Auth then answers 500.
            return self.hook
        # Asked once found, not per token: a proof may still create the hook after a first
        # token, so absence is never remembered.
        self._hook_found = hook_exists(self.caller, self.hook)
        return self.hook if self._hook_found else None

    def has_hook(self) -> bool:
        return self.access_token_hook() is not None

    def claims_for(self, actor: Actor, *, method: str = "password") -> JsonObject:
        """The claims Supabase Auth would put in ``actor``'s access token, issued for
        ``method`` ("password" at sign-in, "token_refresh" on refresh, …): through the
        configured access token hook when there is one."""
        # The amr keeps the sign-in method; only the hook learns why this token is issued.
        claims = user_claims(actor)
        hook = self.access_token_hook()
        if hook is None:
            return claims
        event = hook_event(actor, claims, method)
        minted = mint_claims(self.connection(), hook, actor, event, commit=self.keep_users)
        if self.caller_rolls_back and has_uncommitted_writes(self.caller):
            self._refuse_if_unseen_rows_matter(hook, actor, event, minted)
        return minted

    def _refuse_if_unseen_rows_matter(
        self, hook: HookConfig, actor: Actor, event: JsonObject, minted: JsonObject
    ) -> None:
        """HookError unless the hook answers the same once it sees the caller's rows."""
        try:
            seen = mint_claims(self.caller, hook, actor, event, commit=False)
        except (HookError, psycopg.Error) as error:
            raise unseen_rows_error(
                self.caller_name, f"asked where it sees them, it fails: {error}"
            ) from error
        if seen != minted:
            changed = sorted(key for key in {*seen, *minted} if seen.get(key) != minted.get(key))
            raise unseen_rows_error(self.caller_name, f"claims {', '.join(changed)} differ")

    def close(self) -> None:
        """Delete the users signed up here, and what sign-up triggers wrote that refers to
        them (after the caller's transaction ended, so its locks are gone), then close
        Auth's connection. The janitor works as the caller's privileged role, on a
        connection of its own: Auth's role may not touch the project's tables."""
        if self._conn is None:
            return
        try:
            if self._signed_up:
                with _twin_of(self.caller) as janitor:
                    delete_users(janitor, self._signed_up)
                self._signed_up.clear()
        finally:
            self._conn.close()
            self._conn = None


def _twin_of(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    """A new autocommit connection as ``conn``'s role to ``conn``'s database."""
    info = conn.info
    return psycopg.connect(info.dsn, password=info.password or None, autocommit=True)
