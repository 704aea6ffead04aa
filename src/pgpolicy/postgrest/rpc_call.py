"""`POST /rpc/<function>` with a JSON body: which function PostgREST picks, and the SQL it runs.

Resolution follows PostgREST's ``findProc``: the overloads whose parameters the body's keys
match (every required one named, the rest optional), else a single unnamed json/jsonb
parameter taking the whole body; none is PGRST202 (404), several PGRST203 (300).

The call is today's shape (v12 and later): the body is read once by a LATERAL
``json_to_record`` row and each argument is passed as ``name := pgrst_body.name``, so a SQL
function can be inlined into the plan as it is for the API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from pgpolicy.postgrest.routines import Parameter, Routine, routines
from pgpolicy.postgrest.version import PostgrestVersion

__all__ = ["CallError", "RpcCall", "plan_call"]

NOT_FOUND = "PGRST202"
AMBIGUOUS = "PGRST203"


@dataclass(frozen=True)
class CallError:
    """PostgREST refuses the call before running SQL."""

    code: str
    status: int
    message: str
    hint: str | None = None


@dataclass(frozen=True)
class RpcCall:
    routine: Routine
    query: sql.Composed
    params: dict[str, Any]


def _matches(routine: Routine, keys: set[str], single_object: bool) -> bool:
    parameters = routine.parameters
    if single_object:
        return len(parameters) == 1 and parameters[0].type in ("json", "jsonb")
    if not parameters:
        return not keys
    required = {p.name for p in parameters if p.required}
    optional = {p.name for p in parameters if not p.required}
    return keys - optional == required


def _takes_whole_body(routine: Routine, version: PostgrestVersion) -> bool:
    """One json/jsonb parameter (v14: and unnamed) that the body is passed to as it is."""
    if len(routine.parameters) != 1:
        return False
    (only,) = routine.parameters
    return only.type in ("json", "jsonb") and (version.major < 13 or not only.name)


def _describe(routine: Routine) -> str:
    arguments = ", ".join(f"{p.name} => {p.type}" for p in routine.parameters)
    return f"{routine.schema}.{routine.name}({arguments})"


def resolve(
    candidates: list[Routine], keys: set[str], *, single_object: bool, version: PostgrestVersion
) -> Routine | CallError:
    """The overload PostgREST calls for a body with these keys, or its refusal."""
    matching = [r for r in candidates if _matches(r, keys, single_object)]
    fallback = [r for r in candidates if not _matches(r, keys, single_object)]
    fallback = [r for r in fallback if _takes_whole_body(r, version)]
    chosen = matching or fallback
    if len(chosen) == 1:
        return chosen[0]
    if chosen:
        between = ", ".join(_describe(r) for r in chosen)
        return CallError(
            AMBIGUOUS,
            300,
            f"Could not choose the best candidate function between: {between}",
            "Try renaming the parameters or the function itself in the database so function "
            "overloading can be resolved",
        )
    return CallError(NOT_FOUND, 404, "Could not find the function in the schema cache")


def _positional(routine: Routine, single_object: bool) -> bool:
    (only,) = routine.parameters if len(routine.parameters) == 1 else (None,)
    return only is not None and (single_object or not only.name)


def _call_sql(routine: Routine, keys: set[str], body_json: str, single_object: bool) -> RpcCall:
    target = sql.Identifier(routine.schema, routine.name)
    params: dict[str, Any] = {}
    if _positional(routine, single_object):
        (only,) = routine.parameters
        arguments: sql.Composable = sql.SQL("{}::{}").format(
            sql.Placeholder("body"), sql.SQL(only.type)
        )
        source: sql.Composable = sql.SQL("")
        params["body"] = body_json
    else:
        given: list[Parameter] = [p for p in routine.parameters if p.name in keys]
        arguments = sql.SQL(", ").join(
            sql.SQL("{variadic}{name} := pgrst_body.{name}").format(
                variadic=sql.SQL("VARIADIC " if p.variadic else ""), name=sql.Identifier(p.name)
            )
            for p in given
        )
        if given:
            reader = (
                "json_to_record"
                if body_json.lstrip(" \t\n\r").startswith("{")
                else ("json_to_recordset")
            )
            source = sql.SQL(
                "(select {body}::json as json_data) pgrst_payload,"
                " lateral (select {names} from {reader}(pgrst_payload.json_data)"
                " as _({typed}) limit 1) pgrst_body, lateral "
            ).format(
                body=sql.Placeholder("body"),
                names=sql.SQL(", ").join(sql.Identifier(p.name) for p in given),
                reader=sql.SQL(reader),
                typed=sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(p.name), sql.SQL(p.record_type))
                    for p in given
                ),
            )
            params["body"] = body_json
        else:
            source = sql.SQL("")
    if routine.returns_scalar:
        call = sql.SQL(
            "select pgrst_call.pgrst_scalar from {source}(select {target}({arguments})"
            " pgrst_scalar) pgrst_call"
        )
    else:
        call = sql.SQL("select pgrst_call.* from {source}{target}({arguments}) pgrst_call")
    query = sql.SQL(
        "with pgrst_source as ({call}) select _postgrest_t.* from"
        " (select pgrst_source.* from pgrst_source) _postgrest_t"
    ).format(call=call.format(source=source, target=target, arguments=arguments))
    return RpcCall(routine=routine, query=query, params=params)


def plan_call(
    conn: psycopg.Connection[Any],
    schema: str,
    function: str,
    body: Any,
    *,
    single_object: bool = False,
    version: PostgrestVersion,
) -> RpcCall | CallError:
    """Resolve ``schema.function`` for this JSON ``body`` and build the SQL PostgREST runs.

    ``single_object`` is ``Prefer: params=single-object`` (honoured by v12 only).
    """
    single_object = single_object and version.has_params_single_object
    keys = set(body) if isinstance(body, dict) else set()
    if isinstance(body, list) and body and isinstance(body[0], dict):
        keys = set(body[0])
    chosen = resolve(
        routines(conn, schema, function), keys, single_object=single_object, version=version
    )
    if isinstance(chosen, CallError):
        return chosen
    return _call_sql(chosen, keys, json.dumps(body, default=str), single_object)
