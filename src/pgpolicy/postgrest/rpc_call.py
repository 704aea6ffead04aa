"""The SQL PostgREST (v12) runs for `POST /rpc/<function>` with a JSON body.

PostgREST reads the body with json_to_record, typed from its schema cache, and passes each
argument as a scalar subquery of that record. That shape matters: a subquery argument keeps
the planner from folding the value into an inlined SQL function, so a plan proven here is the
plan the API really gets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

_SIGNATURES = """
select coalesce(p.proargnames, '{}') as names,
       coalesce(p.proargmodes::text[], '{}') as modes,
       array(select pg_catalog.format_type(t, null) from unnest(p.proargtypes) t) as types,
       p.pronargs, p.pronargdefaults
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
where n.nspname = %s and p.proname = %s
"""


@dataclass(frozen=True)
class Signature:
    """Input arguments of one overload: names with their types, and how many are required."""

    arguments: tuple[tuple[str, str], ...]
    required: int

    def accepts(self, names: set[str]) -> bool:
        declared = [name for name, _ in self.arguments]
        return names <= set(declared) and set(declared[: self.required]) <= names


def _signatures(conn: psycopg.Connection[Any], schema: str, function: str) -> list[Signature]:
    signatures: list[Signature] = []
    for names, modes, types, nargs, ndefaults in conn.execute(_SIGNATURES, (schema, function)):
        # proargnames also lists OUT arguments when proargmodes is set; keep the inputs.
        input_names = (
            [name for name, mode in zip(names, modes, strict=False) if mode in ("i", "b", "v")]
            if modes
            else list(names)
        )
        if len(input_names) != nargs:
            continue
        signatures.append(
            Signature(
                arguments=tuple(zip(input_names, types, strict=True)), required=nargs - ndefaults
            )
        )
    return signatures


def rpc_query(
    conn: psycopg.Connection[Any], schema: str, function: str, args: Mapping[str, Any]
) -> tuple[sql.Composed, dict[str, Any]]:
    """Return the PostgREST-shaped call of ``schema.function`` with ``args``, and its params.

    When no overload takes these argument names, the call is still made (with untyped
    arguments) so that PostgreSQL answers with its own error, as the API would fail.
    """
    target = sql.Identifier(schema, function)
    if not args:
        return sql.SQL("select pgrst_call.* from {}() pgrst_call").format(target), {}
    matching = [s for s in _signatures(conn, schema, function) if s.accepts(set(args))]
    if len(matching) != 1:
        untyped = sql.SQL(", ").join(
            sql.SQL("{} := {}").format(sql.Identifier(name), sql.Placeholder(name)) for name in args
        )
        return sql.SQL("select pgrst_call.* from {}({}) pgrst_call").format(target, untyped), dict(
            args
        )
    types = dict(matching[0].arguments)
    record = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(types[name])) for name in args
    )
    call_args = sql.SQL(", ").join(
        sql.SQL("{0} := (select {0} from pgrst_args limit 1)").format(sql.Identifier(name))
        for name in args
    )
    query = sql.SQL(
        "with pgrst_payload as (select {body}::json as json_data),"
        " pgrst_args as (select * from json_to_record((select json_data from pgrst_payload))"
        " as _({record}))"
        " select pgrst_call.* from {target}({call_args}) pgrst_call"
    ).format(body=sql.Placeholder("body"), record=record, target=target, call_args=call_args)
    return query, {"body": json.dumps(dict(args), default=str)}
