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


def _not_found(schema: str, function: str, keys: set[str], single_object: bool) -> CallError:
    """PGRST202, worded as PostgREST words it (keys in order, as its set of keys lists them)."""
    if single_object:
        parameters = ""
    elif keys:
        parameters = "(" + ", ".join(sorted(keys)) + ")"
    else:
        parameters = " without parameters"
    message = f"Could not find the function {schema}.{function}{parameters} in the schema cache"
    return CallError(NOT_FOUND, 404, message)


def _ambiguous(chosen: list[Routine]) -> CallError:
    between = ", ".join(_describe(r) for r in chosen)
    return CallError(
        AMBIGUOUS,
        300,
        f"Could not choose the best candidate function between: {between}",
        "Try renaming the parameters or the function itself in the database so function "
        "overloading can be resolved",
    )


def resolve(
    candidates: list[Routine], keys: set[str], *, single_object: bool, version: PostgrestVersion
) -> Routine | list[Routine]:
    """The overload PostgREST calls for a body with these keys, else every candidate it saw
    (none: not found; several: ambiguous)."""
    matching = [r for r in candidates if _matches(r, keys, single_object)]
    if matching:
        return matching[0] if len(matching) == 1 else matching
    whole_body = [r for r in candidates if _takes_whole_body(r, version)]
    return whole_body[0] if len(whole_body) == 1 else whole_body


def _positional(routine: Routine, single_object: bool) -> bool:
    """One parameter passed positionally: unnamed, or any under params=single-object."""
    return len(routine.parameters) == 1 and (single_object or not routine.parameters[0].name)


def _named_arguments(given: list[Parameter]) -> sql.Composable:
    return sql.SQL(", ").join(
        sql.SQL("{variadic}{name} := pgrst_body.{name}").format(
            variadic=sql.SQL("VARIADIC " if p.variadic else ""), name=sql.Identifier(p.name)
        )
        for p in given
    )


def _body_row(given: list[Parameter], body_json: str) -> sql.Composable:
    """The FROM items reading the body once: its payload and the LATERAL record of it."""
    is_object = body_json.lstrip(" \t\n\r").startswith("{")
    return sql.SQL(
        "(select {body}::json as json_data) pgrst_payload,"
        " lateral (select {names} from {reader}(pgrst_payload.json_data)"
        " as _({typed}) limit 1) pgrst_body, lateral "
    ).format(
        body=sql.Placeholder("body"),
        names=sql.SQL(", ").join(sql.Identifier(p.name) for p in given),
        reader=sql.SQL("json_to_record" if is_object else "json_to_recordset"),
        typed=sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(p.name), sql.SQL(p.record_type)) for p in given
        ),
    )


def _call_sql(routine: Routine, keys: set[str], body_json: str, single_object: bool) -> RpcCall:
    target = sql.Identifier(routine.schema, routine.name)
    params: dict[str, Any] = {}
    source: sql.Composable = sql.SQL("")
    if _positional(routine, single_object):
        arguments: sql.Composable = sql.SQL("{}::{}").format(
            sql.Placeholder("body"), sql.SQL(routine.parameters[0].type)
        )
        params["body"] = body_json
    else:
        given = [p for p in routine.parameters if p.name in keys]
        arguments = _named_arguments(given)
        if given:
            source = _body_row(given, body_json)
            params["body"] = body_json
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
    if isinstance(chosen, list):
        if chosen:
            return _ambiguous(chosen)
        return _not_found(schema, function, keys, single_object)
    return _call_sql(chosen, keys, json.dumps(body, default=str), single_object)
