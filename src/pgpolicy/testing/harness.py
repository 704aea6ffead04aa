"""A test database handle: privileged SQL, impersonated requests, realtime, snapshots."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from pgpolicy.auth import AuthAdmin, AuthAdminUnavailable, AuthServer, HookConfig
from pgpolicy.postgrest.claims import Actor, JsonObject
from pgpolicy.postgrest.identity import (
    Identity,
    as_anon,
    as_role,
    as_service_role,
    as_signed_in_without_sub,
    as_user,
)
from pgpolicy.postgrest.request import Params, Query, Request
from pgpolicy.postgrest.version import PostgrestVersion
from pgpolicy.realtime.changes import ChangeEvent, ChangeFeed, EventFilter, Subscription
from pgpolicy.realtime.channels import (
    Broadcast,
    ChannelAccess,
    authorize_channel,
    delivered_broadcasts,
)
from pgpolicy.testing.rows_diff import rows_diff

__all__ = ["Database"]


@dataclass
class Database:
    """One test's database: ``conn`` is the privileged working role (``postgres``).

    In the default mode the test runs inside a transaction that is rolled back afterwards;
    a test marked ``commit`` gets its own database and autocommit, and may ``connect()``
    more connections.

    Where the harness acts as Supabase Auth (sign-ups in ``create_user``, the access token
    hook in ``claims_for``) it goes through ``pgpolicy.auth.AuthServer``, which works on a
    connection of its own logged in as ``supabase_auth_admin``, as Auth does: that module
    says what this means in the rolled-back mode (sign-ups committed, then deleted by the
    janitor; the hook refusing to mint once the test's transaction has written).
    """

    conn: psycopg.Connection[Any]
    url: str
    committing: bool = False
    auth_admin: AuthAdmin | None = None
    # The plugin's rolled-back mode: ``conn`` holds the test's open, uncommitted transaction.
    rolled_back: bool = False
    # The access token hook Auth is configured with (None: PGPOLICY_ACCESS_TOKEN_HOOK, else
    # public.custom_access_token_hook when it exists).
    access_token_hook: HookConfig | None = None
    # The PostgREST release requests are made as (None: $PGPOLICY_POSTGREST_VERSION, else the
    # Supabase CLI's) and its db-pre-request function (None: $PGPOLICY_DB_PRE_REQUEST).
    postgrest_version: PostgrestVersion | None = None
    db_pre_request: str | None = None
    _extra: list[psycopg.Connection[Any]] = field(default_factory=list)
    _auth: AuthServer | None = field(default=None, repr=False)
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
        try:
            if self._feed is not None:
                self._feed.close()  # its logical slot, if any, before the database is dropped
        finally:
            for conn in self._extra:
                conn.close()
            self._extra.clear()
            if self._auth is not None:
                self._auth.close()

    @property
    def auth(self) -> AuthServer:
        """Supabase Auth for this database (sign-ups, token claims), made on first use."""
        if self._auth is None:
            self._auth = AuthServer(
                caller=self.conn,
                admin=self.auth_admin,
                caller_rolls_back=self.rolled_back,
                keep_users=self.committing,
                hook=self.access_token_hook,
            )
        return self._auth

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
        """Sign a user up as the Auth server does (as supabase_auth_admin); return the actor."""
        with _skipped_without_auth_admin():
            return self.auth.sign_up(
                label,
                email=email,
                app_metadata=app_metadata,
                user_metadata=user_metadata,
                is_anonymous=is_anonymous,
            )

    # requests -----------------------------------------------------------------------
    def request(
        self, identity: Identity, *, conn: psycopg.Connection[Any] | None = None
    ) -> Request:
        """A PostgREST-like caller as ``identity``."""
        request = Request(conn=conn or self.conn, identity=identity)
        if self.postgrest_version is not None:
            request.version = self.postgrest_version
        if self.db_pre_request is not None:
            request.pre_request = self.db_pre_request
        return request

    def claims_for(self, actor: Actor, *, method: str = "password") -> JsonObject:
        """The claims Supabase Auth would put in ``actor``'s access token.

        When ``public.custom_access_token_hook(jsonb)`` exists, it is called as Auth calls it
        (on a connection logged in as ``supabase_auth_admin``, with ``{user_id, claims,
        authentication_method}``) and the claims it returns are used; a hook answering
        ``{"error": ...}``, or one asked while this rolled-back test has written rows Auth
        cannot see, raises HookError.
        """
        with _skipped_without_auth_admin():
            return self.auth.claims_for(actor, method=method)

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

        In a ``commit`` test changes are read from the WAL through a logical slot, as
        Realtime reads them (unchanged TOAST, old tuples, commit times exact); in a
        rolled-back test a trigger captures them (docs/postgres-changes.md says what differs).
        """
        identity = as_ if isinstance(as_, Identity) else self.as_user(as_).identity
        return self._changes_feed().subscribe(table, identity, event=event, filter=filter)

    def refresh_token(self, subscription: Subscription, as_: Actor | Identity) -> Subscription:
        """The subscription after its socket sent a fresh access token for ``as_`` (minted
        as Auth mints a refreshed token: the hook learns the method ``token_refresh``)."""
        if isinstance(as_, Identity):
            identity = as_
        else:
            identity = as_user(as_, self.claims_for(as_, method="token_refresh"))
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
            self._feed = ChangeFeed.for_database(self.conn, committing=self.committing)
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
        """Fail unless every listed table holds exactly the same rows afterwards; the failure
        lists the rows gone and the rows that appeared, by column name."""
        __tracebackhide__ = True  # pytest points at the proof's `with`, not here
        before = {table: self.snapshot(table) for table in tables}
        yield
        for table in tables:
            after = self.snapshot(table)
            if after != before[table]:
                columns = self._columns(table)
                raise AssertionError(
                    f"{table} changed:\n" + rows_diff(columns, before[table], after)
                )

    def _columns(self, table: str) -> list[str]:
        schema, _, name = table.rpartition(".")
        query = sql.SQL("select * from {} limit 0").format(sql.Identifier(schema or "public", name))
        cursor = self.conn.execute(query)
        return [column.name for column in cursor.description or []]


@contextmanager
def _skipped_without_auth_admin() -> Iterator[None]:
    """Inside a pytest run, a proof that needs Supabase Auth's role and cannot have it skips."""
    try:
        yield
    except AuthAdminUnavailable as error:
        if "PYTEST_CURRENT_TEST" in os.environ:
            pytest.skip(str(error))
        raise
