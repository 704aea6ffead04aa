"""Run SQL the way PostgREST runs a request: transaction-local role and claims.

Every request is one transaction (a savepoint when the caller already holds one, as the
rolled-back test transaction does). Database errors do not raise: they come back in the
:class:`Result`, with the SQLSTATE and the HTTP status PostgREST would answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, LiteralString, TypeAlias

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from pgpolicy.postgrest.attempts import Attempt, listening, notify
from pgpolicy.postgrest.identity import Identity
from pgpolicy.postgrest.rpc_call import rpc_query
from pgpolicy.postgrest.status import http_status
from pgpolicy.postgrest.transaction_mode import SET_READ_ONLY, is_read_only

Row = dict[str, Any]
Query: TypeAlias = LiteralString | bytes | sql.SQL | sql.Composed
Params = Sequence[Any] | Mapping[str, Any] | None

DEFAULT_HEADERS: dict[str, str] = {
    "accept": "application/json",
    "content-type": "application/json",
    "user-agent": "pgpolicy",
}

# PostgREST v12's per-request settings, in its order; all transaction-local.
_PRE_REQUEST = (
    "select pg_catalog.set_config('search_path', %s, true),"
    " pg_catalog.set_config('role', %s, true),"
    " pg_catalog.set_config('request.jwt.claims', %s, true),"
    " pg_catalog.set_config('request.method', %s, true),"
    " pg_catalog.set_config('request.path', %s, true),"
    " pg_catalog.set_config('request.headers', %s, true),"
    " pg_catalog.set_config('request.cookies', %s, true)"
)

# PostgREST (v10+) applies the impersonated role's own settings (ALTER ROLE ... SET, such as
# Supabase's statement_timeout of 3s for anon and 8s for authenticated) in each request.
_ROLE_SETTINGS = (
    "select pg_catalog.set_config(split_part(s.setting, '=', 1),"
    " substr(s.setting, strpos(s.setting, '=') + 1), true) is not null as applied,"
    " split_part(s.setting, '=', 1) as name"
    " from pg_catalog.pg_db_role_setting r, unnest(r.setconfig) as s(setting)"
    " where r.setrole = (select oid from pg_catalog.pg_roles where rolname = %s)"
    " and r.setdatabase in (0, (select oid from pg_catalog.pg_database"
    " where datname = current_database()))"
)

# Back to the harness's own role and no claims, for the rest of the test transaction.
_POST_REQUEST = (
    "select pg_catalog.set_config('request.jwt.claims', '', true),"
    " pg_catalog.set_config('request.method', '', true),"
    " pg_catalog.set_config('request.path', '', true),"
    " pg_catalog.set_config('request.headers', '', true),"
    " pg_catalog.set_config('request.cookies', '', true);"
    " reset role; reset search_path"
)


@dataclass
class Result:
    """What a request returned: rows, or the error the database raised."""

    identity: Identity
    rows: list[Row] = field(default_factory=list)
    rowcount: int = 0
    sqlstate: str | None = None
    message: str | None = None
    detail: str | None = None
    hint: str | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.sqlstate is None

    @property
    def status(self) -> int:
        """The HTTP status PostgREST would answer (200 when nothing was raised)."""
        if self.sqlstate is None:
            return 200
        return http_status(self.sqlstate, authenticated=self.identity.authenticated)

    def __repr__(self) -> str:
        if self.ok:
            return f"<Result {self.identity}: {self.rowcount} row(s) {self.rows[:3]!r}>"
        return f"<Result {self.identity}: raised {self.sqlstate} ({self.message})>"


@dataclass
class Request:
    """A PostgREST-like caller bound to a connection and an identity."""

    conn: psycopg.Connection[Any]
    identity: Identity
    schema: str = "public"
    headers: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_HEADERS))

    def execute(self, query: Query, params: Params = None, *, method: str = "POST") -> Result:
        """Run one statement as this identity, in its own transaction or savepoint."""
        if listening():
            text = query if isinstance(query, str | bytes) else query.as_string(self.conn)
            notify(
                Attempt(self.identity, "sql", text.decode() if isinstance(text, bytes) else text)
            )
        return self._run(query, params, method=method, path=f"/{self.schema}")

    def rpc(self, function: str, /, **args: Any) -> Result:
        """Call a function as `POST /rpc/<function>` with a JSON body does; rows back.

        A function returning a scalar comes back as one row ``{function: value}``.
        """
        notify(Attempt(self.identity, "rpc", f"{self.schema}.{function}"))
        call, params = rpc_query(self.conn, self.schema, function, args)
        result = self._run(call, params, method="POST", path=f"/rpc/{function}")
        result.rows = [
            {function: row["pgrst_call"]} if list(row) == ["pgrst_call"] else row
            for row in result.rows
        ]
        return result

    def _run(self, query: Query, params: Params, *, method: str, path: str) -> Result:
        result = Result(identity=self.identity)

        def collect(diagnostic: psycopg.errors.Diagnostic) -> None:
            result.notices.append(f"{diagnostic.severity}: {diagnostic.message_primary}")

        self.conn.add_notice_handler(collect)
        read_only = is_read_only(method)
        try:
            # A read-only request is rolled back once read: it cannot have written anything, and
            # a released savepoint would leave the caller's whole transaction read-only.
            with (
                self.conn.transaction(force_rollback=read_only),
                self.conn.cursor(row_factory=dict_row) as cur,
            ):
                if read_only:
                    cur.execute(SET_READ_ONLY)
                cur.execute(_PRE_REQUEST, self._settings(method, path))
                cur.execute(_ROLE_SETTINGS, (self.identity.role,))
                role_settings = [str(row["name"]) for row in cur.fetchall()]
                cur.execute(query, params)
                result.rowcount = cur.rowcount
                if cur.description is not None:
                    result.rows = cur.fetchall()
                for name in role_settings:
                    cur.execute(sql.SQL("reset {}").format(sql.Identifier(name)))
                cur.execute(_POST_REQUEST)
        except psycopg.Error as error:
            if error.sqlstate is None:
                raise
            result.sqlstate = error.sqlstate
            result.message = error.diag.message_primary
            result.detail = error.diag.message_detail
            result.hint = error.diag.message_hint
        finally:
            self.conn.remove_notice_handler(collect)
        return result

    def _settings(self, method: str, path: str) -> tuple[str, ...]:
        return (
            f'"{self.schema}", "extensions"',
            self.identity.role,
            self.identity.claims_json(),
            method,
            path,
            json.dumps(dict(self.headers), separators=(",", ":"), sort_keys=True),
            "{}",
        )
