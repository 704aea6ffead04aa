"""chat_history under both RPC shapes: PostgREST v10's sub-select arguments and v12+'s LATERAL
json_to_record row, for the PL/pgSQL function (revision 0009) and the `language sql` one it
replaced (revision 0007's body), as the busy user (one of 20,000 threads) reading a page.

Prints each variant's plan (EXPLAIN ANALYZE, BUFFERS) and its mean time per call, unprepared
and prepared (PostgREST prepares its statements). `make bench-rpc-shape`; SCALE as in chat_bench.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from chat_seed import Shape, seed, thread_id, user_id
from psycopg import sql

from pgpolicy.postgrest.rpc_call import RpcCall, plan_call
from pgpolicy.postgrest.version import SUPABASE_CLI_POSTGREST
from pgpolicy.provision import provide_server
from pgpolicy.testing.template import migrated_template

ROOT = Path(__file__).resolve().parents[1]
CALLS = int(os.environ.get("CALLS", "300"))
ROUNDS = int(os.environ.get("ROUNDS", "5"))

# Revision 0007's chat_history (language sql, inlinable), under another name.
SQL_HISTORY = """
create function public.chat_history_sql(
  _thread_id text, _before_created_at timestamptz default null,
  _before_id uuid default null, _limit integer default 50
) returns setof public.chat_messages language sql stable security invoker as $$
  select m.* from public.chat_messages m
  where m.thread_id = _thread_id
    and (m.created_at, m.id) < (
      case when _before_created_at is null then 'infinity'::timestamptz
        else _before_created_at end,
      case when _before_id is null then 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid
        else _before_id end)
  order by m.created_at desc, m.id desc
  limit public.chat_history_page_limit(_thread_id, _limit)
$$;
grant execute on function public.chat_history_sql(text, timestamptz, uuid, integer)
  to authenticated;
"""

_TYPES = {
    "_thread_id": "text",
    "_before_created_at": "timestamptz",
    "_before_id": "uuid",
    "_limit": "integer",
}


def v10_shape(function: str, body: dict[str, Any]) -> tuple[sql.Composed, dict[str, Any]]:
    """PostgREST v10's call: each argument a scalar sub-select of the json_to_record row."""
    record = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(k), sql.SQL(_TYPES[k])) for k in body
    )
    arguments = sql.SQL(", ").join(
        sql.SQL("{0} := (select {0} from pgrst_args limit 1)").format(sql.Identifier(k))
        for k in body
    )
    query = sql.SQL(
        "with pgrst_payload as (select {body}::json as json_data),"
        " pgrst_args as (select * from json_to_record((select json_data from pgrst_payload))"
        " as _({record})),"
        " pgrst_source as (select pgrst_call.* from {target}({arguments}) pgrst_call)"
        " select _postgrest_t.* from (select pgrst_source.* from pgrst_source) _postgrest_t"
    ).format(
        body=sql.Placeholder("body"),
        record=record,
        target=sql.Identifier("public", function),
        arguments=arguments,
    )
    return query, {"body": json.dumps(body)}


def lateral_shape(
    conn: psycopg.Connection[Any], function: str, body: dict[str, Any]
) -> tuple[sql.Composed, dict[str, Any]]:
    """v12+'s call, exactly as the harness makes it."""
    call = plan_call(conn, "public", function, body, version=SUPABASE_CLI_POSTGREST)
    assert isinstance(call, RpcCall), call
    return call.query, call.params


def _act_as(conn: psycopg.Connection[Any], n: int) -> None:
    claims = {"sub": str(user_id(n)), "role": "authenticated", "aud": "authenticated"}
    conn.execute(
        "select set_config('role', 'authenticated', true),"
        " set_config('request.jwt.claims', %s, true)",
        (json.dumps(claims),),
    )


def explain(
    conn: psycopg.Connection[Any], n: int, query: sql.Composed, params: dict[str, Any]
) -> str:
    with conn.transaction(force_rollback=True):
        _act_as(conn, n)
        for _ in range(2):  # the second: the first also reads catalog pages
            rows = conn.execute(
                sql.SQL("explain (analyze, buffers, costs off) ") + query, params
            ).fetchall()
    return "\n".join(row[0] for row in rows)


def per_call_ms(
    conn: psycopg.Connection[Any],
    n: int,
    query: sql.Composed,
    params: dict[str, Any],
    *,
    prepare: bool,
) -> float:
    """Mean milliseconds per call over CALLS calls in one transaction (after 10 warm-ups)."""
    with conn.transaction(force_rollback=True):
        _act_as(conn, n)
        for _ in range(10):
            conn.execute(query, params, prepare=prepare).fetchall()
        times = []
        for _ in range(CALLS):
            start = time.perf_counter()
            conn.execute(query, params, prepare=prepare).fetchall()
            times.append((time.perf_counter() - start) * 1000)
    return statistics.mean(times)


def main() -> None:
    scale = int(os.environ.get("SCALE", "1"))
    shape = Shape.at_scale(scale)
    with (
        provide_server() as server,
        migrated_template(server, ROOT / "alembic.ini", base=None) as name,
        psycopg.connect(server.url(name), autocommit=True) as conn,
    ):
        start = time.perf_counter()
        seed(conn, shape)
        print(f"seeded {shape.total_messages:,} messages in {time.perf_counter() - start:.0f} s")
        conn.execute(SQL_HISTORY)
        body = {
            "_thread_id": thread_id(shape.hub, shape.hub_partner),
            "_before_created_at": None,
            "_before_id": None,
            "_limit": 50,
        }
        variants: dict[str, Callable[[str], tuple[sql.Composed, dict[str, Any]]]] = {
            "v10 sub-selects": lambda f: v10_shape(f, body),
            "v12+ lateral": lambda f: lateral_shape(conn, f, body),
        }
        calls = {}
        results = []
        for function in ("chat_history_sql", "chat_history"):
            for label, build in variants.items():
                query, params = build(function)
                calls[(function, label)] = (query, params)
                plan = explain(conn, shape.hub, query, params)
                print(f"\n== {function}, {label}\n{plan}")
                planning = re.search(r"Planning Time: ([\d.]+)", plan)
                execution = re.search(r"Execution Time: ([\d.]+)", plan)
                results.append(
                    (
                        function,
                        label,
                        "Index Scan" in plan and "Function Scan on chat_history" not in plan,
                        planning.group(1) if planning else "?",
                        execution.group(1) if execution else "?",
                    )
                )
        # Rounds interleave the variants, so a noisy moment of a shared machine hits them all.
        timings: dict[tuple[str, str, bool], list[float]] = {}
        for _ in range(ROUNDS):
            for key, (query, params) in calls.items():
                for prepare in (False, True):
                    timings.setdefault((*key, prepare), []).append(
                        per_call_ms(conn, shape.hub, query, params, prepare=prepare)
                    )
        print(
            "\n| function | shape | inlined | planning ms | execution ms |"
            " ms/call unprepared | ms/call prepared |\n|---|---|---|---|---|---|---|"
        )
        for function, label, inlined, planning_ms, execution_ms in results:
            raw = statistics.median(timings[(function, label, False)])
            prepared = statistics.median(timings[(function, label, True)])
            print(
                f"| {function} | {label} | {'yes' if inlined else 'no'} | {planning_ms} |"
                f" {execution_ms} | {raw:.3f} | {prepared:.3f} |"
            )
        print(f"(medians of {ROUNDS} rounds of {CALLS} calls, round trip included)")


if __name__ == "__main__":
    main()
