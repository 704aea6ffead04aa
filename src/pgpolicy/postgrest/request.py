"""Run SQL the way PostgREST runs a request: transaction-local role and claims.

Every request is one transaction (a savepoint when the caller already holds one, as the
rolled-back test transaction does). Database errors do not raise: they come back in the
:class:`Result`, with the SQLSTATE and the HTTP status PostgREST would answer.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, LiteralString, TypeAlias

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row

from pgpolicy.postgrest.attempts import Attempt, listening, notify
from pgpolicy.postgrest.headers import request_headers, resource_path
from pgpolicy.postgrest.identity import Identity
from pgpolicy.postgrest.response import GUC_STATUS_ERROR, guc_status, success_status
from pgpolicy.postgrest.routines import Routine
from pgpolicy.postgrest.rpc_call import CallError, plan_call
from pgpolicy.postgrest.safeupdate import SAFEUPDATE_SQLSTATE, safeupdate_refusal
from pgpolicy.postgrest.settings import role_settings, transaction_settings
from pgpolicy.postgrest.status import http_status
from pgpolicy.postgrest.transaction_mode import SET_READ_ONLY, is_read_only, isolation_statement
from pgpolicy.postgrest.version import PostgrestVersion, resolve_postgrest_version

Row = dict[str, Any]
Query: TypeAlias = LiteralString | bytes | sql.SQL | sql.Composed
Params = Sequence[Any] | Mapping[str, Any] | None

PRE_REQUEST_ENV = "PGPOLICY_DB_PRE_REQUEST"

# Back to the harness's own role and no request settings, for the rest of the test transaction.
_POST_REQUEST = (
    "reset role; reset search_path;"
    " select pg_catalog.set_config('request.jwt.claims', '', true),"
    " pg_catalog.set_config('request.method', '', true),"
    " pg_catalog.set_config('request.path', '', true),"
    " pg_catalog.set_config('request.headers', '', true),"
    " pg_catalog.set_config('request.cookies', '', true),"
    " pg_catalog.set_config('response.status', '', true)"
)
_RESPONSE_STATUS = "select pg_catalog.current_setting('response.status', true) as status"


def _default_pre_request() -> str | None:
    return os.environ.get(PRE_REQUEST_ENV, "").strip() or None


@dataclass
class Result:
    """What a request returned: rows, or the error the database (or PostgREST) raised."""

    identity: Identity
    rows: list[Row] = field(default_factory=list)
    rowcount: int = 0
    sqlstate: str | None = None
    message: str | None = None
    detail: str | None = None
    hint: str | None = None
    notices: list[str] = field(default_factory=list)
    version: PostgrestVersion = field(default_factory=resolve_postgrest_version)
    success_status: int = 200
    # A status PostgREST answers itself, without a SQLSTATE mapping (PGRST202, PGRST112...).
    refusal_status: int | None = None
    read_only: bool = False
    isolation: str = "read committed"

    @property
    def ok(self) -> bool:
        return self.sqlstate is None

    @property
    def status(self) -> int:
        """The HTTP status PostgREST would answer."""
        if self.refusal_status is not None:
            return self.refusal_status
        if self.sqlstate is None:
            return self.success_status
        return http_status(
            self.sqlstate,
            authenticated=self.identity.authenticated,
            message=self.message or "",
            detail=self.detail,
            version=self.version,
        )

    def __repr__(self) -> str:
        if self.ok:
            return f"<Result {self.identity}: {self.rowcount} row(s) {self.rows[:3]!r}>"
        return f"<Result {self.identity}: raised {self.sqlstate} ({self.message})>"


def _prefers(prefer: str | None, preference: str) -> bool:
    return preference in {part.strip() for part in (prefer or "").split(",")}


def _function_identifier(name: str) -> sql.Identifier:
    schema, _, function = name.rpartition(".")
    return sql.Identifier(schema, function) if schema else sql.Identifier(function)


@dataclass
class Request:
    """A PostgREST-like caller bound to a connection and an identity.

    ``version`` is the PostgREST release emulated (default: $PGPOLICY_POSTGREST_VERSION, else
    the Supabase CLI's); ``pre_request`` is db-pre-request, a function called after the
    request's settings are set (default: $PGPOLICY_DB_PRE_REQUEST); ``headers`` are added to
    the ones supabase-js sends.
    """

    conn: psycopg.Connection[Any]
    identity: Identity
    schema: str = "public"
    headers: Mapping[str, str] = field(default_factory=dict)
    version: PostgrestVersion = field(default_factory=resolve_postgrest_version)
    pre_request: str | None = field(default_factory=_default_pre_request)

    def execute(
        self,
        query: Query,
        params: Params = None,
        *,
        method: str = "POST",
        path: str | None = None,
        prefer: str | None = None,
    ) -> Result:
        """Run one statement as this identity, in its own transaction or savepoint.

        ``path`` defaults to ``/<table>`` of the statement's target table.
        """
        text = query if isinstance(query, str | bytes) else query.as_string(self.conn)
        text = text.decode() if isinstance(text, bytes) else text
        if listening():
            notify(Attempt(self.identity, "sql", text))
        refusal = safeupdate_refusal(text)
        if refusal is not None:
            return Result(
                identity=self.identity,
                version=self.version,
                sqlstate=SAFEUPDATE_SQLSTATE,
                message=refusal,
            )
        return self._run(
            query, params, method=method, path=path or resource_path(text), prefer=prefer
        )

    def rpc(self, function: str, /, **args: Any) -> Result:
        """Call a function as `POST /rpc/<function>` with a JSON body does; rows back.

        A function returning a scalar comes back as one row ``{function: value}``.
        """
        return self.call(function, args)

    def call(self, function: str, body: Any, *, prefer: str | None = None) -> Result:
        """`POST /rpc/<function>` with this JSON ``body`` (an object, or any JSON for a
        function taking the whole body) and ``Prefer`` header."""
        notify(Attempt(self.identity, "rpc", f"{self.schema}.{function}"))
        single_object = _prefers(prefer, "params=single-object")
        plan = plan_call(
            self.conn,
            self.schema,
            function,
            body,
            single_object=single_object,
            version=self.version,
        )
        if isinstance(plan, CallError):
            return Result(
                identity=self.identity,
                version=self.version,
                sqlstate=plan.code,
                message=plan.message,
                hint=plan.hint,
                refusal_status=plan.status,
            )
        result = self._run(
            plan.query,
            plan.params,
            method="POST",
            path=f"/rpc/{function}",
            prefer=prefer,
            routine=plan.routine,
        )
        result.rows = [
            {function: row["pgrst_scalar"]} if list(row) == ["pgrst_scalar"] else row
            for row in result.rows
        ]
        return result

    def _run(
        self,
        query: Query,
        params: Params,
        *,
        method: str,
        path: str,
        prefer: str | None,
        routine: Routine | None = None,
    ) -> Result:
        result = Result(identity=self.identity, version=self.version)
        role = role_settings(self.conn, self.identity.role)
        function_settings = routine.settings if routine is not None else ()
        result.isolation = (
            (routine.isolation if routine else None) or role.isolation or ("read committed")
        )
        read_only = is_read_only(
            method, routine_read_only=routine is not None and routine.read_only
        )
        result.read_only = read_only
        owns_transaction = self.conn.info.transaction_status == TransactionStatus.IDLE

        def collect(diagnostic: psycopg.errors.Diagnostic) -> None:
            result.notices.append(f"{diagnostic.severity}: {diagnostic.message_primary}")

        self.conn.add_notice_handler(collect)
        try:
            # A read-only request is rolled back once read: it cannot have written anything, and
            # a released savepoint would leave the caller's whole transaction read-only.
            with (
                self.conn.transaction(force_rollback=read_only),
                self.conn.cursor(row_factory=dict_row) as cur,
            ):
                isolation = isolation_statement(result.isolation)
                if owns_transaction and isolation is not None:
                    cur.execute(isolation.encode())
                if read_only:
                    cur.execute(SET_READ_ONLY.encode())
                cur.execute(self._settings(method, path, prefer, role.settings, function_settings))
                if self.pre_request:
                    cur.execute(
                        sql.SQL("select {}()").format(_function_identifier(self.pre_request))
                    )
                cur.execute(query, params)
                result.rowcount = cur.rowcount
                returned = cur.description is not None
                if returned:
                    result.rows = cur.fetchall()
                command = "CALL" if routine else (cur.statusmessage or "").partition(" ")[0]
                cur.execute(_RESPONSE_STATUS.encode())
                row = cur.fetchone()
                cur.execute(_POST_REQUEST.encode())
                for name, _ in (*role.settings, *function_settings):
                    cur.execute(sql.SQL("reset {}").format(sql.Identifier(name)))
            result.success_status = success_status(
                command=command,
                returned_rows=returned and command != "CALL",
                returns_void=routine is not None and routine.returns_void,
            )
            try:
                chosen = guc_status(None if row is None else row["status"])
            except ValueError:
                code, status, message = GUC_STATUS_ERROR
                result.sqlstate, result.message, result.refusal_status = code, message, status
            else:
                if chosen is not None:
                    result.success_status = chosen
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

    def _settings(
        self,
        method: str,
        path: str,
        prefer: str | None,
        role: Sequence[tuple[str, str]],
        function: Sequence[tuple[str, str]],
    ) -> sql.Composed:
        headers = request_headers(
            self.identity, method=method, schema=self.schema, prefer=prefer, extra=self.headers
        )
        return transaction_settings(
            search_path=f'"{self.schema}", "extensions"',
            role_settings=role,
            role=self.identity.role,
            claims=self.identity.claims_json(),
            method=method,
            path=path,
            headers=json.dumps(headers, separators=(",", ":"), sort_keys=True),
            cookies="{}",
            function_settings=function,
        )
