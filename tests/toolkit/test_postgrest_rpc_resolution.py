"""Which function POST /rpc calls, found as PostgREST finds it, and the SQL shape it runs."""

from __future__ import annotations

import json

import pytest

from pgpolicy.postgrest.request import Request
from pgpolicy.postgrest.rpc_call import RpcCall, plan_call
from pgpolicy.postgrest.version import SUPPORTED_POSTGREST_VERSIONS, PostgrestVersion
from pgpolicy.testing.assertions import assert_allowed, assert_raised
from pgpolicy.testing.harness import Database

V12, V14 = SUPPORTED_POSTGREST_VERSIONS


def _request(db: Database, version: PostgrestVersion) -> Request:
    request = db.as_anon()
    request.version = version
    return request


def test_an_ambiguous_overload_is_pgrst203_and_300(db: Database) -> None:
    db.execute(
        "create function public.toolkit_twin(a int) returns text language sql as $$ select 'int' $$"
    )
    db.execute(
        "create function public.toolkit_twin(a text) returns text language sql"
        " as $$ select 'text' $$"
    )
    assert_raised(db.as_anon().rpc("toolkit_twin", a=1), "PGRST203", status=300)


def test_overloads_told_apart_by_the_body_keys(db: Database) -> None:
    db.execute(
        "create function public.toolkit_pick(a int) returns text language sql as $$ select 'a' $$"
    )
    db.execute(
        "create function public.toolkit_pick(a int, b int) returns text language sql"
        " as $$ select 'a, b' $$"
    )
    assert assert_allowed(db.as_anon().rpc("toolkit_pick", a=1)).rows == [{"toolkit_pick": "a"}]
    both = assert_allowed(db.as_anon().rpc("toolkit_pick", a=1, b=2))
    assert both.rows == [{"toolkit_pick": "a, b"}]


def test_an_unknown_function_or_argument_is_pgrst202_and_404(db: Database) -> None:
    db.execute(
        "create function public.toolkit_solo(a int) returns int language sql as $$ select a $$"
    )
    assert_raised(db.as_anon().rpc("toolkit_nowhere"), "PGRST202", status=404)
    wrong = "Could not find the function public.toolkit_solo(b) in the schema cache"
    assert_raised(db.as_anon().rpc("toolkit_solo", b=1), "PGRST202", status=404, message=wrong)
    bare = "Could not find the function public.toolkit_solo without parameters in the schema cache"
    assert_raised(db.as_anon().rpc("toolkit_solo"), "PGRST202", status=404, message=bare)


@pytest.mark.parametrize("kind", ["json", "jsonb"])
def test_a_single_unnamed_json_parameter_takes_the_whole_body(db: Database, kind: str) -> None:
    db.execute(
        f"create function public.toolkit_echo({kind}) returns {kind} language sql"
        " as $$ select $1 $$"
    )
    body = {"x": 1, "y": [2, 3]}
    result = assert_allowed(db.as_anon().call("toolkit_echo", body))
    assert result.rows == [{"toolkit_echo": body}]


@pytest.mark.parametrize("version", SUPPORTED_POSTGREST_VERSIONS, ids=str)
def test_prefer_params_single_object(db: Database, version: PostgrestVersion) -> None:
    db.execute(
        "create function public.toolkit_whole(payload json) returns json language sql"
        " as $$ select payload $$"
    )
    result = _request(db, version).call(
        "toolkit_whole", {"a": 1, "b": 2}, prefer="params=single-object"
    )
    if version == V12:
        assert assert_allowed(result).rows == [{"toolkit_whole": {"a": 1, "b": 2}}]
    else:  # v13 removed the preference: the keys name no parameter.
        assert_raised(result, "PGRST202", status=404)


def test_a_variadic_parameter_takes_a_json_array(db: Database) -> None:
    db.execute(
        "create function public.toolkit_total(variadic v int[]) returns int language sql"
        " as $$ select sum(x)::int from unnest(v) x $$"
    )
    result = assert_allowed(db.as_anon().rpc("toolkit_total", v=[1, 2, 3]))
    assert result.rows == [{"toolkit_total": 6}]


def _explain(db: Database, call: RpcCall | object) -> str:
    assert isinstance(call, RpcCall)
    rows = db.conn.execute(b"explain (costs off) " + call.query.as_bytes(db.conn), call.params)
    return "\n".join(row[0] for row in rows)


def test_a_sql_function_is_inlined_into_the_call(db: Database) -> None:
    db.execute("create table public.toolkit_items (id int primary key, owner int)")
    db.execute("insert into public.toolkit_items select g, g % 10 from generate_series(1, 2000) g")
    db.execute("analyze public.toolkit_items")
    db.execute(
        "create function public.toolkit_item(_id int) returns setof public.toolkit_items"
        " language sql stable as $$ select * from public.toolkit_items where id = _id $$"
    )
    call = plan_call(db.conn, "public", "toolkit_item", {"_id": 7}, version=V14)
    plan = _explain(db, call)
    assert "Index Scan using toolkit_items_pkey" in plan, plan
    assert "Function Scan on toolkit_item" not in plan, plan
    db.execute("grant select on public.toolkit_items to anon")
    assert assert_allowed(db.as_anon().rpc("toolkit_item", _id=7)).rows == [{"id": 7, "owner": 7}]


def test_the_body_is_read_by_a_lateral_json_to_record_row(db: Database) -> None:
    db.execute(
        "create function public.toolkit_add(a int, b int) returns int language sql"
        " as $$ select a + b $$"
    )
    call = plan_call(db.conn, "public", "toolkit_add", {"a": 1, "b": 2}, version=V14)
    assert isinstance(call, RpcCall)
    text = call.query.as_string(db.conn)
    assert "json_to_record(pgrst_payload.json_data)" in text
    assert '"a" := pgrst_body."a"' in text
    assert json.loads(call.params["body"]) == {"a": 1, "b": 2}
