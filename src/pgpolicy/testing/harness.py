"""A test database handle: privileged SQL, impersonated requests, realtime, snapshots."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from pgpolicy.postgrest.claims import Actor, JsonObject, user_claims
from pgpolicy.postgrest.identity import (
    Identity,
    as_anon,
    as_role,
    as_service_role,
    as_signed_in_without_sub,
    as_user,
)
from pgpolicy.postgrest.request import Params, Query, Request
from pgpolicy.realtime.changes import ChangeEvent, ChangeFeed, EventFilter, Subscription
from pgpolicy.realtime.channels import (
    Broadcast,
    ChannelAccess,
    authorize_channel,
    delivered_broadcasts,
)
from pgpolicy.testing.target import AUTH_ADMIN, AuthAdmin, auth_admin_beside

# A sign-up waiting on a lock the test's own open transaction holds would wait forever.
_AUTH_ADMIN_LOCK_TIMEOUT = "5s"


class AuthAdminUnavailable(RuntimeError):
    """No connection as supabase_auth_admin could be made; the message says why."""


class HookError(RuntimeError):
    """The custom access token hook refused to issue a token (Auth would answer an error)."""


@dataclass
class Database:
    """One test's database: ``conn`` is the privileged working role (``postgres``).

    In the default mode the test runs inside a transaction that is rolled back afterwards;
    a test marked ``commit`` gets its own database and autocommit, and may ``connect()``
    more connections.

    Where the harness acts as Supabase Auth (sign-ups in ``create_user``, the access token
    hook in ``claims_for``) it uses a connection of its own that logs in as
    ``supabase_auth_admin``, as Auth does: triggers on auth.users and the hook then run with
    that role's privileges, which ``postgres`` could not borrow on Supabase. That connection
    cannot see the test's uncommitted work, so in the rolled-back mode:
    - a sign-up is committed (its auth.users row, and whatever triggers on auth.users wrote
      with it); ``close()``, run after the test's transaction was rolled back, deletes those
      users again (the janitor), so nothing is left behind;
    - the hook and the triggers are those the template committed; one the test creates in
      its own transaction is invisible to Auth, and such a test must be marked ``commit``;
    - the hook would mint from committed rows only, so once the test's transaction has
      written anything, calling it raises HookError naming the fix (mark the test
      ``commit``) rather than minting claims that silently ignore the test's own rows;
    - a sign-up that would wait on a lock the test's transaction holds (DDL on auth.users,
      an uncommitted row with the same key) fails after a few seconds, saying so.
    """

    conn: psycopg.Connection[Any]
    url: str
    committing: bool = False
    auth_admin: AuthAdmin | None = None
    # The plugin's rolled-back mode: ``conn`` holds the test's open, uncommitted transaction.
    rolled_back: bool = False
    _extra: list[psycopg.Connection[Any]] = field(default_factory=list)
    _auth_conn: psycopg.Connection[Any] | None = None
    _signed_up: list[uuid.UUID] = field(default_factory=list)
    _feed: ChangeFeed | None = field(default=None, repr=False)

    # privileged access -------------------------------------------------------------
    def execute(self, query: Query, params: Params = None) -> list[Any]:
        """Run SQL as the privileged harness role; return the rows as dicts."""
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description is not None else []

    def scalar(self, query: Query, params: Params = None) -> Any:
        """Run SQL as the privileged harness role; return the first column of the first row."""
        row = self.conn.execute(query, params).fetchone()
        return None if row is None else row[0]

    def connect(self) -> psycopg.Connection[Any]:
        """Another privileged autocommit connection to this database (``commit`` tests)."""
        conn = psycopg.connect(self.url, autocommit=True)
        self._extra.append(conn)
        return conn

    def close(self) -> None:
        """Close extra connections and delete the users signed up in rolled-back mode.

        Call it after the test's own transaction has been rolled back (its locks released).
        """
        for conn in self._extra:
            conn.close()
        self._extra.clear()
        if self._auth_conn is not None:
            try:
                if self._signed_up:
                    self._auth_conn.execute(
                        "delete from auth.users where id = any(%s)", (self._signed_up,)
                    )
                    self._signed_up.clear()
            finally:
                self._auth_conn.close()
                self._auth_conn = None

    def _auth_admin_connection(self) -> psycopg.Connection[Any]:
        """This database as supabase_auth_admin (autocommit), opened on first use.

        Without an ``auth_admin`` (a handle made outside the pytest plugin), the default one
        beside this connection is used: same server and password, as supabase_auth_admin.
        """
        if self._auth_conn is not None:
            return self._auth_conn
        if self.auth_admin is None:
            self.auth_admin = auth_admin_beside(self.conn)
        url = self.auth_admin.url(self.conn.info.dbname)
        if url is None:
            reason = (
                f"acting as Supabase Auth needs a {AUTH_ADMIN} connection: "
                f"{self.auth_admin.unavailable}"
            )
            if "PYTEST_CURRENT_TEST" in os.environ:
                pytest.skip(reason)
            raise AuthAdminUnavailable(reason)
        self._auth_conn = psycopg.connect(
            url, autocommit=True, options=f"-c lock_timeout={_AUTH_ADMIN_LOCK_TIMEOUT}"
        )
        return self._auth_conn

    # actors -------------------------------------------------------------------------
    def create_user(
        self,
        label: str = "user",
        *,
        email: str | None = None,
        app_metadata: JsonObject | None = None,
        user_metadata: JsonObject | None = None,
        is_anonymous: bool = False,
    ) -> Actor:
        """Sign a user up as the Auth server does (as supabase_auth_admin); return the actor.

        Auth writes the columns Supabase gives no default (timestamps, metadata) itself.
        """
        actor = Actor(
            id=uuid.uuid4(),
            email=email or f"{label}-{uuid.uuid4().hex[:8]}@example.test",
            app_metadata=dict(app_metadata or {}),
            user_metadata=dict(user_metadata or {}),
            is_anonymous=is_anonymous,
            label=label,
        )
        auth = self._auth_admin_connection()
        try:
            auth.execute(
                "insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data,"
                " raw_user_meta_data, is_anonymous, created_at, updated_at)"
                " values ('00000000-0000-0000-0000-000000000000', %s, 'authenticated',"
                " 'authenticated', %s, %s, %s, %s, now(), now())",
                (
                    actor.id,
                    actor.email,
                    json.dumps(actor.app_metadata),
                    json.dumps(actor.user_metadata),
                    actor.is_anonymous,
                ),
            )
        except psycopg.errors.LockNotAvailable as error:
            raise RuntimeError(
                f"signing up {label!r} as {AUTH_ADMIN} waited on a lock this test's open "
                "transaction holds (DDL on auth.users, or an uncommitted row with the same "
                "key): mark the test commit"
            ) from error
        if not self.committing:
            self._signed_up.append(actor.id)
        return actor

    # requests -----------------------------------------------------------------------
    def request(
        self, identity: Identity, *, conn: psycopg.Connection[Any] | None = None
    ) -> Request:
        """A PostgREST-like caller as ``identity``."""
        return Request(conn=conn or self.conn, identity=identity)

    def claims_for(self, actor: Actor) -> JsonObject:
        """The claims Supabase Auth would put in ``actor``'s access token.

        When ``public.custom_access_token_hook(jsonb)`` exists, it is called as Auth calls it
        (on a connection logged in as ``supabase_auth_admin``, with ``{user_id, claims,
        authentication_method}``) and the claims it returns are used; a hook answering
        ``{"error": ...}`` raises HookError.
        """
        claims = user_claims(actor)
        hook = self.scalar("select to_regprocedure('public.custom_access_token_hook(jsonb)')")
        if hook is None:
            return claims
        if self.rolled_back and self.scalar("select pg_current_xact_id_if_assigned() is not null"):
            # Auth's connection would mint from the committed data only: loud, never wrong.
            raise HookError(
                "custom_access_token_hook runs on Supabase Auth's own connection, which cannot "
                "see the rows this test wrote in its rolled-back transaction: mark the test "
                "commit (it then gets a database of its own and may commit)"
            )
        event = {"user_id": str(actor.id), "claims": claims, "authentication_method": "password"}
        auth = self._auth_admin_connection()
        try:
            with auth.transaction(force_rollback=True):
                row = auth.execute(
                    "select public.custom_access_token_hook(%s::jsonb)", (json.dumps(event),)
                ).fetchone()
        except psycopg.errors.UndefinedFunction as error:
            raise HookError(
                "custom_access_token_hook exists only in this test's uncommitted transaction, "
                f"which {AUTH_ADMIN}'s own connection cannot see: mark the test commit"
            ) from error
        answer = None if row is None else row[0]
        if not isinstance(answer, dict) or "error" in answer or "claims" not in answer:
            raise HookError(f"custom_access_token_hook refused {actor}: {answer!r}")
        minted: JsonObject = answer["claims"]
        return minted

    def as_user(self, actor: Actor, *, conn: psycopg.Connection[Any] | None = None) -> Request:
        """A signed-in user, with the claims Auth (and its access token hook) would issue."""
        return self.request(as_user(actor, self.claims_for(actor)), conn=conn)

    def as_anon(self, *, conn: psycopg.Connection[Any] | None = None) -> Request:
        return self.request(as_anon(), conn=conn)

    def as_service_role(self, *, conn: psycopg.Connection[Any] | None = None) -> Request:
        return self.request(as_service_role(), conn=conn)

    def as_signed_in_without_sub(self, *, conn: psycopg.Connection[Any] | None = None) -> Request:
        return self.request(as_signed_in_without_sub(), conn=conn)

    def as_role(
        self, role: str, claims: JsonObject | None = None, *, label: str | None = None
    ) -> Request:
        return self.request(as_role(role, claims, label=label))

    # realtime -----------------------------------------------------------------------
    def join(self, topic: str, as_: Actor | Identity) -> ChannelAccess:
        """Realtime's private-channel authorization for ``as_`` on ``topic``."""
        identity = as_ if isinstance(as_, Identity) else self.as_user(as_).identity
        return authorize_channel(self.conn, topic, identity)

    def broadcasts(self, topic: str, *, private: bool = True) -> list[Broadcast]:
        """What a subscriber of ``topic`` would have received so far."""
        return delivered_broadcasts(self.conn, topic, private=private)

    # postgres changes ---------------------------------------------------------------
    def subscribe(
        self,
        table: str,
        *,
        as_: Actor | Identity,
        event: EventFilter = "*",
        filter: str | None = None,
    ) -> Subscription:
        """A ``postgres_changes`` subscription of ``as_`` to ``table`` from now on.

        ``event`` is ``*``, INSERT, UPDATE or DELETE; ``filter`` is Realtime's
        ``column=op.value`` (eq, neq, lt, lte, gt, gte, in). The subscriber's claims are
        taken now and kept, as Realtime caches them until the token is refreshed.
        """
        identity = as_ if isinstance(as_, Identity) else self.as_user(as_).identity
        return self._changes_feed().subscribe(table, identity, event=event, filter=filter)

    def refresh_token(self, subscription: Subscription, as_: Actor | Identity) -> Subscription:
        """The subscription after its socket sent a fresh access token for ``as_``."""
        identity = as_ if isinstance(as_, Identity) else self.as_user(as_).identity
        refreshed = subscription.refreshed(identity)
        self._changes_feed().replace(subscription, refreshed)
        return refreshed

    def changes(self, *subscriptions: Subscription) -> list[ChangeEvent]:
        """Poll as Realtime does, then return every event these subscriptions received so far.

        Without arguments: the events of every subscription, one subscription after another.
        Realtime checks RLS when it polls, against the data as it is then: poll after each
        step whose delivery a test proves (an INSERT polled after its row was deleted is not
        delivered, as with a Realtime that lags).
        """
        feed = self._changes_feed()
        feed.poll()
        chosen = subscriptions or tuple(feed.subscriptions)
        return [event for subscription in chosen for event in subscription.received]

    def _changes_feed(self) -> ChangeFeed:
        if self._feed is None:
            self._feed = ChangeFeed(self.conn)
        return self._feed

    # snapshots ----------------------------------------------------------------------
    def snapshot(self, table: str) -> list[tuple[Any, ...]]:
        """Every row of ``schema.table``, in a stable order, read with privileges."""
        schema, _, name = table.rpartition(".")
        query = sql.SQL("select * from {} order by 1").format(
            sql.Identifier(schema or "public", name)
        )
        return self.conn.execute(query).fetchall()

    @contextmanager
    def unchanged(self, *tables: str) -> Iterator[None]:
        """Fail unless every listed table holds exactly the same rows afterwards."""
        before = {table: self.snapshot(table) for table in tables}
        yield
        for table in tables:
            after = self.snapshot(table)
            assert after == before[table], f"{table} changed: {before[table]!r} -> {after!r}"
