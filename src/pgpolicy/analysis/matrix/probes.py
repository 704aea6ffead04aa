"""Each cell is a real attempt, made as the actor, in a savepoint that is always rolled back.

How the writes get plausible rows (so a verdict says what the policy decides, not that a
made-up row broke a constraint):
- insert: the file's ``[rows."schema.table"] insert = {…}`` with the actor's placeholders;
  without one, a copy of a seeded row minus the columns that have defaults (a unique key
  without a default then answers 23505: give a row); on an empty table, ``default values``.
- update: ``set`` the file's ``update = {…}`` values, else the first non-key column to itself
  (a write that changes nothing), on every row the actor can reach;
- delete: every row the actor can reach.
Updates and deletes carry a filter every row passes (``where <key> is not null``), as
supabase-js sends one: without it safeupdate, loaded on PostgREST's connections, refuses them.
Select counts the rows the actor sees. 0 rows reads "filtered" only when the table holds rows
(an empty table cannot show filtering) and, for writes, when the attempt wrote no row anywhere
(triggers included: the transaction's own tuple counters, pg_stat_xact_all_tables, say so).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from pgpolicy.analysis.matrix.actors import identities, sign_up_users
from pgpolicy.analysis.matrix.objects import ApiFunction, Relation, api_functions, exposed_relations
from pgpolicy.analysis.matrix.spec import ActorSpec, MatrixSpec
from pgpolicy.analysis.matrix.verdict import Cell, Verdict
from pgpolicy.auth import AuthServer
from pgpolicy.postgrest.attempts import muted
from pgpolicy.postgrest.identity import Identity
from pgpolicy.postgrest.request import Request, Result
from pgpolicy.realtime.channels import EXTENSIONS, authorize_channel

__all__ = ["TABLE_ACTIONS", "Matrix", "probe_matrix"]

TABLE_ACTIONS = ("select", "insert", "update", "delete")
FUNCTION_ACTIONS = ("execute", "call")
TOPIC_ACTIONS = tuple(f"{op} {ext}" for op in ("read", "write") for ext in EXTENSIONS)


@dataclass
class Matrix:
    """Verdicts by cell, with the actors (columns) and object/action rows in order."""

    actors: list[tuple[str, str]]  # (name, label)
    rows: list[tuple[str, str]] = field(default_factory=list)  # (object, action)
    verdicts: dict[Cell, Verdict] = field(default_factory=dict)

    def add(self, cell: Cell, verdict: Verdict) -> None:
        if (cell.object, cell.action) not in self.rows:
            self.rows.append((cell.object, cell.action))
        self.verdicts[cell] = verdict


@contextmanager
def _rolled_back(conn: psycopg.Connection[Any]) -> Iterator[None]:
    with conn.transaction(force_rollback=True):
        yield


def _from_result(result: Result, *, reachable: int, unchanged: bool = True) -> Verdict:
    if result.sqlstate == "42501":
        return Verdict("denied", sqlstate="42501", message=result.message)
    if result.sqlstate is not None:
        return Verdict("error", sqlstate=result.sqlstate, message=result.message)
    count = result.rowcount if result.rowcount >= 0 else len(result.rows)
    if count == 0 and reachable > 0 and unchanged:
        return Verdict("filtered")
    return Verdict("allowed", rows=count)


def _has_rows(conn: psycopg.Connection[Any], relation: Relation) -> bool:
    query = sql.SQL("select exists (select from {})").format(
        sql.Identifier(relation.schema, relation.name)
    )
    row = conn.execute(query).fetchone()
    return bool(row and row[0])


def _rows_written(conn: psycopg.Connection[Any]) -> int:
    """Rows this transaction inserted, updated or deleted so far, in every table."""
    row = conn.execute(
        "select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint"
        " from pg_catalog.pg_stat_xact_all_tables"
    ).fetchone()
    return int(row[0]) if row else 0


def _columns(conn: psycopg.Connection[Any], relation: Relation) -> list[dict[str, Any]]:
    return [
        {"name": name, "has_default": has_default, "key": key}
        for name, has_default, key in conn.execute(
            "select a.attname, a.atthasdef or a.attidentity <> '' or a.attgenerated <> '',"
            " exists (select 1 from pg_catalog.pg_index i where i.indrelid = a.attrelid"
            "   and i.indisprimary and a.attnum = any(i.indkey))"
            " from pg_catalog.pg_attribute a"
            " where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped"
            " order by a.attnum",
            (sql.Identifier(relation.schema, relation.name).as_string(conn),),
        )
    ]


def _seed_row(conn: psycopg.Connection[Any], relation: Relation) -> dict[str, Any]:
    query = sql.SQL("select to_jsonb(t) from {} t limit 1").format(
        sql.Identifier(relation.schema, relation.name)
    )
    row = conn.execute(query).fetchone()
    return dict(row[0]) if row else {}


class _Prober:
    def __init__(self, conn: psycopg.Connection[Any], spec: MatrixSpec) -> None:
        self.conn = conn
        self.spec = spec
        self.identities: dict[str, Identity] = {}
        self.has_rows: dict[Relation, bool] = {}

    def request(self, actor: str, schema: str = "public") -> Request:
        return Request(conn=self.conn, identity=self.identities[actor], schema=schema)

    def values(self, actor: ActorSpec, template: dict[str, Any]) -> dict[str, Any]:
        return dict(actor.resolve(template, self.identities[actor.name].sub))

    # tables and views ------------------------------------------------------------------
    def relation(self, relation: Relation, action: str, actor: ActorSpec) -> Verdict:
        target = sql.Identifier(relation.schema, relation.name)
        if relation not in self.has_rows:
            self.has_rows[relation] = _has_rows(self.conn, relation)
        reachable = int(self.has_rows[relation])
        before = _rows_written(self.conn)
        templates = self.spec.rows.get(relation.qualified, {})
        columns = _columns(self.conn, relation)
        if action == "select":
            # Counted in the database: the same rows as `select *`, without fetching them.
            result = self.request(actor.name).execute(
                sql.SQL("select count(*) as visible from {}").format(target), method="GET"
            )
            if result.ok:
                result.rowcount = int(result.rows[0]["visible"])
                result.rows = []
            return _from_result(result, reachable=reachable)
        if action == "insert":
            row = self._insert_row(relation, actor, templates, columns)
            if row:
                query = sql.SQL("insert into {} ({}) values ({})").format(
                    target,
                    sql.SQL(", ").join(sql.Identifier(name) for name in row),
                    sql.SQL(", ").join(sql.Placeholder(name) for name in row),
                )
            else:
                query = sql.SQL("insert into {} default values").format(target)
            return _from_result(
                self.request(actor.name).execute(query, row), reachable=1, unchanged=False
            )
        every_row = _every_row_filter(columns)
        if action == "update":
            changes = self.values(actor, templates.get("update", {}))
            if not changes:
                column = next((c["name"] for c in columns if not c["key"]), columns[0]["name"])
                assignment = sql.SQL("{0} = {0}").format(sql.Identifier(column))
            else:
                assignment = sql.SQL(", ").join(
                    sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k))
                    for k in changes
                )
            query = sql.SQL("update {} set {} where {}").format(target, assignment, every_row)
            result = self.request(actor.name).execute(query, changes or None, method="PATCH")
        else:
            query = sql.SQL("delete from {} where {}").format(target, every_row)
            result = self.request(actor.name).execute(query, method="DELETE")
        unchanged = _rows_written(self.conn) == before
        return _from_result(result, reachable=reachable, unchanged=unchanged)

    def _insert_row(
        self,
        relation: Relation,
        actor: ActorSpec,
        templates: dict[str, Any],
        columns: list[dict[str, Any]],
    ) -> dict[str, Any]:
        if "insert" in templates:
            return self.values(actor, templates["insert"])
        seeded = _seed_row(self.conn, relation)
        return {
            c["name"]: seeded.get(c["name"])
            for c in columns
            if not c["has_default"] and c["name"] in seeded
        }

    # functions ---------------------------------------------------------------------------
    def function(self, function: ApiFunction, action: str, actor: ActorSpec) -> Verdict:
        role = self.identities[actor.name].role
        if action == "execute":
            allowed = self.conn.execute(
                "select pg_catalog.has_function_privilege(%s, %s::oid, 'execute')",
                (role, function.oid),
            ).fetchone()
            return Verdict("allowed") if allowed and allowed[0] else Verdict("denied")
        given = self.spec.functions.get(function.label, {}).get("args")
        if given is None:
            given = self.spec.functions.get(f"{function.schema}.{function.name}", {}).get("args")
        # A function the file gives no arguments for is called with NULL for each one.
        args = dict.fromkeys(function.arguments) if given is None else self.values(actor, given)
        result = self.request(actor.name, function.schema).rpc(function.name, **args)
        return _from_result(result, reachable=1)

    # realtime topics -----------------------------------------------------------------------
    def topic(self, topic: str, actor: ActorSpec) -> dict[str, Verdict]:
        access = authorize_channel(self.conn, topic, self.identities[actor.name])
        if access.error is not None:
            sqlstate, _, message = access.error.partition(": ")
            error = Verdict("error", sqlstate=sqlstate, message=message)
            return dict.fromkeys(TOPIC_ACTIONS, error)
        verdicts = {}
        for op, allowed in (("read", access.read), ("write", access.write)):
            for extension in EXTENSIONS:
                verdicts[f"{op} {extension}"] = (
                    Verdict("allowed") if allowed[extension] else Verdict("denied")
                )
        return verdicts


def probe_matrix(conn: psycopg.Connection[Any], spec: MatrixSpec) -> Matrix:
    """Probe every cell; ``conn`` (autocommit, privileged) is left exactly as it was."""
    matrix = Matrix(actors=[(actor.name, actor.label) for actor in spec.actors])
    prober = _Prober(conn, spec)
    auth = AuthServer(caller=conn, caller_rolls_back=True, caller_name="the matrix")
    try:
        # The matrix's own probes are not proofs: coverage does not count them.
        with muted(), _rolled_back(conn):
            _probe_all(conn, spec, matrix, prober, auth)
    finally:
        auth.close()  # after the rollback: the seed no longer refers to the users
    return matrix


def _probe_all(
    conn: psycopg.Connection[Any],
    spec: MatrixSpec,
    matrix: Matrix,
    prober: _Prober,
    auth: AuthServer,
) -> None:
    """Sign the users up, seed, mint their claims, then probe every cell in a savepoint."""
    users = sign_up_users(conn, auth, spec.actors)
    if spec.seed.strip():
        conn.execute(spec.seed.encode())
    prober.identities = identities(auth, spec.actors, users)
    for relation in exposed_relations(conn, spec.schemas):
        for action in TABLE_ACTIONS:
            for actor in spec.actors:
                with _rolled_back(conn):
                    verdict = prober.relation(relation, action, actor)
                matrix.add(Cell(relation.qualified, action, actor.name), verdict)
    for function in api_functions(conn, spec.schemas):
        for action in FUNCTION_ACTIONS:
            for actor in spec.actors:
                with _rolled_back(conn):
                    verdict = prober.function(function, action, actor)
                matrix.add(Cell(function.label, action, actor.name), verdict)
    for pattern, topic in spec.topics.items():
        by_actor = {actor.name: prober.topic(topic, actor) for actor in spec.actors}
        for action in TOPIC_ACTIONS:
            for actor in spec.actors:
                matrix.add(
                    Cell(f"topic {pattern}", action, actor.name), by_actor[actor.name][action]
                )


def _every_row_filter(columns: list[dict[str, Any]]) -> sql.Composable:
    """A filter every row passes: ``<key> is not null`` (a key column is never null)."""
    key = next((c["name"] for c in columns if c["key"]), None)
    if key is None:
        return sql.SQL("true")
    return sql.SQL("{} is not null").format(sql.Identifier(key))
