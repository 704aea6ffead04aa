"""`make bench`: what Row Level Security costs each API request, measured by pgbench.

Every request runs as PostgREST (v12) runs it: one transaction setting ``role``,
``request.jwt.claims``, ``request.method``, ``request.path`` and ``request.headers``
transaction-locally, then the statement, then commit; the realtime join check runs as the
Realtime server runs it (probe rows, its settings, the read, rollback). pgbench sends them as
prepared statements (``-M prepared``) over loopback from one client, which runs on the same CPU
as the server's backends when the server is local (bench/cpu_pinning.py: otherwise a run is
bimodal). Each request is paired with a baseline measured in the same run: the same
transaction as ``service_role`` (no RLS) with the filter the policy would add written out, so
the ratio is what RLS costs. Rounds interleave request and baseline; the table shows the
median over rounds of each run's p50 and p95. The contract is judged on those: requests in
it must stay within 1.2x. Each request is also measured with SERVER_ONLY_PIPELINE
transactions to a pipeline, where no round trip is counted: the server's time alone, which
shows a fixed per-request cost of RLS that round trips would dilute. Reference rows
(``chat_threads`` read directly, which is not the API's thread list) are printed apart and
never judged.

Two data shapes are seeded and judged (bench/chat_seed.py): the busy user holding half of
chat_thread_members, and holding 1% of it; SHAPES=half,tiny chooses.

Environment: SCALE (default 1: about 1,000,000 messages a shape; 10: ten times), SHAPES,
ROUNDS (default 5), TRANSACTIONS per run (default 2000), DATABASE_URL (otherwise an embedded
throwaway cluster). Writes build/bench.json.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chat_seed import (
    ALICE,
    BOB,
    Shape,
    mongo_id,
    seed,
    thread_id,
    user_id,
)
from cpu_pinning import one_cpu_for_client_and_server

from pgpolicy.provision import Server, provide_server
from pgpolicy.provision.binaries import find_pg_bindir
from pgpolicy.testing.template import migrated_template

ROOT = Path(__file__).resolve().parents[1]
DEEP = 100_000
RANDOM_MAX = 2**63 - 1
# The second measure of each request: this many transactions sent back to back in one
# pipeline, so the server runs them without waiting for the client and no round trip is
# counted; a latency sample is the pipeline's time divided by this.
SERVER_ONLY_PIPELINE = 10
CONTRACT_RATIO = 1.2  # DESIGN.md, "Performance contract": a request under RLS within 1.2x
__all__ = ["Figures", "Request", "main", "measure", "requests", "run_bench"]


@dataclass(frozen=True)
class Request:
    """One benchmark row: the request under RLS and its baseline, as pgbench scripts."""

    name: str
    under_rls: str
    baseline: str
    # False for a reference row outside the performance contract (shown, never judged).
    in_contract: bool = True


@dataclass(frozen=True)
class Figures:
    """Medians over rounds: the request as PostgREST sends it (one round trip per statement),
    and the server's time alone (pipelined)."""

    name: str
    p50_ms: float
    p95_ms: float
    baseline_p50_ms: float
    baseline_p95_ms: float
    server_p50_ms: float
    server_baseline_p50_ms: float
    in_contract: bool = True

    @property
    def ratio(self) -> float:
        return self.p50_ms / self.baseline_p50_ms

    @property
    def server_ratio(self) -> float:
        return self.server_p50_ms / self.server_baseline_p50_ms


def _literal(value: object) -> str:
    """A SQL string literal (pgbench scripts carry their values inline)."""
    return "'" + str(value).replace("'", "''") + "'"


def _claims(n: int | None) -> dict[str, Any]:
    if n is None:
        return {"role": "service_role", "iss": "supabase", "iat": 1764460800, "exp": 4070908800}
    return {
        "sub": str(user_id(n)),
        "role": "authenticated",
        "aud": "authenticated",
        "email": f"user{n}@example.com",
        "iat": 1764460800,
        "exp": 4070908800,
        "app_metadata": {"provider": "email", "mongoUserId": mongo_id(n)},
        "user_metadata": {},
        "is_anonymous": False,
        "session_id": "6f3c0e0e-0000-4000-8000-000000000000",
    }


def _postgrest(n: int | None, method: str, path: str, statement: str) -> str:
    """A pgbench script of one PostgREST transaction for user ``n`` (None: service_role)."""
    claims = json.dumps(_claims(n))  # ": " keeps pgbench from reading :name as a variable
    headers = json.dumps(
        {
            "accept": "application/json",
            "content-type": "application/json",
            "prefer": "return=representation",
            "user-agent": "supabase-js/2",
            "x-client-info": "supabase-js-web/2",
        }
    )
    role = "authenticated" if n is not None else "service_role"
    return (
        "begin;\n"
        "select pg_catalog.set_config('search_path', 'public, public', true),"
        f" pg_catalog.set_config('role', {_literal(role)}, true),"
        f" pg_catalog.set_config('request.jwt.claims', {_literal(claims)}, true),"
        f" pg_catalog.set_config('request.method', {_literal(method)}, true),"
        f" pg_catalog.set_config('request.path', {_literal(path)}, true),"
        f" pg_catalog.set_config('request.headers', {_literal(headers)}, true),"
        " pg_catalog.set_config('request.cookies', '{}', true);\n"
        f"{statement};\n"
        "commit;\n"
    )


def _body(select: str) -> str:
    """PostgREST's response wrapper around a result set."""
    return (
        f"with pgrst_source as ({select})"
        " select '' as total_result_set, pg_catalog.count(_postgrest_t) as page_total,"
        " coalesce(json_agg(_postgrest_t), '[]') as body"
        " from (select * from pgrst_source) _postgrest_t"
    )


def _rpc(function: str, arguments: dict[str, tuple[str, object]]) -> str:
    """POST /rpc/<function> as PostgREST v12+ runs it: the JSON body read once by a LATERAL
    json_to_record row, each argument ``name := pgrst_body.name``."""
    body = json.dumps({name: value for name, (_type, value) in arguments.items()}, default=str)
    record = ", ".join(f'"{name}" {kind}' for name, (kind, _value) in arguments.items())
    names = ", ".join(f'"{name}"' for name in arguments)
    call = ", ".join(f'"{name}" := pgrst_body."{name}"' for name in arguments)
    return _body(
        f"select pgrst_call.* from (select {_literal(body)}::json as json_data) pgrst_payload,"
        f" lateral (select {names} from json_to_record(pgrst_payload.json_data)"
        f" as _({record}) limit 1) pgrst_body,"
        f" lateral public.{function}({call}) pgrst_call"
    )


def _history(thread: str, cursor: tuple[object, object] | None) -> str:
    created_at, message_id = cursor or (None, None)
    return _rpc(
        "chat_history",
        {
            "_thread_id": ("text", thread),
            "_before_created_at": ("timestamptz", created_at),
            "_before_id": ("uuid", message_id),
            "_limit": ("integer", 50),
        },
    )


def _direct_insert(sender: int, recipient: int) -> str:
    """POST /chat_messages with Prefer: return=representation (what supabase-js insert does)."""
    body = json.dumps(
        {
            "thread_id": thread_id(sender, recipient),
            "sender_supabase_id": str(user_id(sender)),
            "sender_mongo_id": mongo_id(sender),
            "recipient_mongo_id": mongo_id(recipient),
            "body": "hello from the benchmark",
        }
    )
    columns = '"body", "recipient_mongo_id", "sender_mongo_id", "sender_supabase_id", "thread_id"'
    selected = ", ".join(f"pgrst_body.{c.strip()}" for c in columns.split(","))
    return _body(
        f"insert into public.chat_messages({columns}) select {selected}"
        f" from (select {_literal(body)}::json as json_data) pgrst_payload,"
        f" lateral (select {columns} from json_populate_record(null::public.chat_messages,"
        " pgrst_payload.json_data) as _) pgrst_body"
        " returning public.chat_messages.*"
    )


def _threads_read_directly(owner: int, *, newest_first: bool) -> str:
    """GET /chat_threads?select=*&or=(user_a_supabase_id.eq.<own id>,user_b_supabase_id.eq.<own
    id>)&limit=50, optionally &order=last_message_at.desc: chat_threads read directly, filtered
    by the caller's id as its row-local policy asks. A reference row: not the API's thread list."""
    me = f"{_literal(user_id(owner))}::uuid"
    where = (
        f" where chat_threads.user_a_supabase_id = {me} or chat_threads.user_b_supabase_id = {me}"
    )
    order = " order by public.chat_threads.last_message_at desc" if newest_first else ""
    return _body(f"select public.chat_threads.* from public.chat_threads{where}{order} limit 50")


def _member_thread_list(owner: int | None, *, embed: bool) -> str:
    """GET /chat_thread_members?order=last_message_at.desc&limit=50, with select=* (the thread
    id names both participants' Mongo ids) or select=*,chat_threads(*) (each thread embedded:
    a to-one embed is a lateral join)."""
    columns, join = "public.chat_thread_members.*", ""
    if embed:
        columns += ", row_to_json(chat_thread_members_chat_threads_1.*)::jsonb as chat_threads"
        join = (
            " left join lateral (select chat_threads_1.* from public.chat_threads as chat_threads_1"
            " where chat_threads_1.thread_id = public.chat_thread_members.thread_id)"
            " as chat_thread_members_chat_threads_1 on true"
        )
    where = ""
    if owner is not None:
        where = f" where chat_thread_members.user_id = {_literal(user_id(owner))}"
    return _body(
        f"select {columns} from public.chat_thread_members{join}{where}"
        " order by public.chat_thread_members.last_message_at desc limit 50"
    )


def _join_check(n: int | None, topic: str, membership: str) -> str:
    """Realtime's private-channel join: probe rows, the subscriber's settings, read, rollback."""
    claims = json.dumps(_claims(n))  # ": " keeps pgbench from reading :name as a variable
    role = "authenticated" if n is not None else "service_role"
    sub = str(user_id(n)) if n is not None else ""
    # The probe rows' ids come from pgbench's own random numbers (\gset, the server's
    # gen_random_uuid(), is not allowed in a pipeline): 32 hex digits are a uuid.
    broadcast, presence = (
        f"lpad(to_hex(:{name}::bigint), 32, '0')::uuid" for name in ("broadcast", "presence")
    )
    read = f"select id from realtime.messages where id in ({broadcast}, {presence})"
    if n is None:
        read += (
            f" and topic = {_literal(topic)} and extension in ('broadcast', 'presence')"
            f" and {membership}"
        )
    return (
        f"\\set broadcast random(1, {RANDOM_MAX})\n"
        f"\\set presence random(1, {RANDOM_MAX})\n"
        "begin;\n"
        "insert into realtime.messages (id, topic, extension) values"
        f" ({broadcast}, {_literal(topic)}, 'broadcast'),"
        f" ({presence}, {_literal(topic)}, 'presence');\n"
        f"select pg_catalog.set_config('role', {_literal(role)}, true),"
        f" pg_catalog.set_config('realtime.topic', {_literal(topic)}, true),"
        f" pg_catalog.set_config('request.jwt.claims', {_literal(claims)}, true),"
        f" pg_catalog.set_config('request.jwt.claim.sub', {_literal(sub)}, true),"
        f" pg_catalog.set_config('request.jwt.claim.role', {_literal(role)}, true),"
        " pg_catalog.set_config('request.headers', '{}', true);\n"
        f"{read};\n"
        "rollback;\n"
    )


def _cursor(conn: psycopg.Connection[Any], thread: str, depth: int) -> tuple[object, object]:
    row = conn.execute(
        "select created_at, id from public.chat_messages where thread_id = %s"
        " order by created_at desc, id desc offset %s limit 1",
        (thread, depth),
    ).fetchone()
    assert row is not None, f"thread {thread} has fewer than {depth} messages"
    return row[0], row[1]


def _deep(shape: Shape) -> int:
    return min(DEEP, shape.big_thread_messages // 2)


def requests(conn: psycopg.Connection[Any], shape: Shape) -> list[Request]:
    """Every row of the benchmark, for the data of ``shape`` seeded behind ``conn``."""
    rows: list[Request] = []
    users = (
        ("user in 1 thread", ALICE, BOB),
        (f"user in {shape.partners:,} threads", shape.hub, shape.hub_partner),
    )
    deep = _deep(shape)
    for who, n, partner in users:
        thread = thread_id(n, partner)
        for depth_name, depth in (("depth 0", 0), (f"deep ({deep:,} back)", deep)):
            cursor = _cursor(conn, thread, depth) if depth else None
            rows.append(
                Request(
                    f"history page, {who}, {depth_name}",
                    _postgrest(n, "POST", "/rpc/chat_history", _history(thread, cursor)),
                    _postgrest(None, "POST", "/rpc/chat_history", _history(thread, cursor)),
                )
            )
    for label, embed in (("", False), (", threads embedded", True)):
        for who, n, _partner in users:
            rows.append(
                Request(
                    f"thread list (chat_thread_members, newest first, 50 rows{label}), {who}",
                    _postgrest(
                        n, "GET", "/chat_thread_members", _member_thread_list(None, embed=embed)
                    ),
                    _postgrest(
                        None, "GET", "/chat_thread_members", _member_thread_list(n, embed=embed)
                    ),
                )
            )
    for who, n, partner in users:
        rows.append(
            Request(
                f"direct insert, return=representation, {who}",
                _postgrest(n, "POST", "/chat_messages", _direct_insert(n, partner)),
                _postgrest(None, "POST", "/chat_messages", _direct_insert(n, partner)),
            )
        )
    for who, n, partner in users:
        arguments = {
            "_thread_id": ("text", thread_id(n, partner)),
            "_sender_mongo_id": ("text", mongo_id(n)),
            "_recipient_mongo_id": ("text", mongo_id(partner)),
            "_body": ("text", "hello from the benchmark"),
        }
        rows.append(
            Request(
                f"insert_chat_message RPC, {who}",
                _postgrest(
                    n, "POST", "/rpc/insert_chat_message", _rpc("insert_chat_message", arguments)
                ),
                # The baseline writes the same row directly, as a trusted backend would.
                _postgrest(None, "POST", "/chat_messages", _direct_insert(n, partner)),
            )
        )
    for who, n, partner in users:
        thread = thread_id(n, partner)
        membership = (
            "exists (select from public.chat_threads t"
            f" where t.thread_id = {_literal(thread)}"
            f" and {_literal(user_id(n))}::uuid in (t.user_a_supabase_id, t.user_b_supabase_id))"
        )
        rows.append(
            Request(
                f"realtime join check chat:<thread>, {who}",
                _join_check(n, f"chat:{thread}", membership),
                _join_check(None, f"chat:{thread}", membership),
            )
        )
    # Reference rows, outside the contract: chat_threads read directly, by the caller's own id
    # (its policy is a row-local filter with no index path; the client's filter is indexed, a
    # BitmapOr of all the caller's threads before the first row: docs/schema.md,
    # "Performance"). The thread list the API serves is chat_thread_members above.
    for order_name, newest_first in (("in no order", False), ("newest first", True)):
        for who, n, _partner in users:
            rows.append(
                Request(
                    f"chat_threads read directly ({order_name}, 50 rows), {who}",
                    _postgrest(
                        n,
                        "GET",
                        "/chat_threads",
                        _threads_read_directly(n, newest_first=newest_first),
                    ),
                    _postgrest(
                        None,
                        "GET",
                        "/chat_threads",
                        _threads_read_directly(n, newest_first=newest_first),
                    ),
                    in_contract=False,
                )
            )
    return rows


def _pgbench() -> Path:
    bindir = find_pg_bindir()
    if bindir is None or not (bindir / "pgbench").exists():
        raise SystemExit("pgbench not found next to the PostgreSQL server binaries")
    return bindir / "pgbench"


def _pipelined(script: str, copies: int) -> str:
    """``copies`` copies of ``script`` in one pipeline; each copy draws its own ``\\set``
    variables (renamed ``name_<i>``), since a ``\\set`` runs once per script."""
    lines = script.splitlines(keepends=True)
    meta = [line for line in lines if line.startswith("\\set ")]
    names = [line.split()[1] for line in meta]
    sql = "".join(line for line in lines if line not in meta)
    head, bodies = [], []
    for i in range(copies):
        body, defined = sql, "".join(meta)
        for name in names:
            body = re.sub(rf":{name}\b", f":{name}_{i}", body)
            defined = re.sub(rf"^(\\set ){name}\b", rf"\g<1>{name}_{i}", defined, flags=re.M)
        head.append(defined)
        bodies.append(body)
    return "".join(head) + "\\startpipeline\n" + "".join(bodies) + "\\endpipeline\n"


def _run(
    url: str, script: str, transactions: int, workdir: Path, *, pipeline: int, cpu: int | None
) -> list[float]:
    """Run ``script`` about ``transactions`` times on ``cpu`` (None: anywhere), ``pipeline``
    at a time (1: one round trip per statement); each transaction's latency in milliseconds
    (a pipeline's time shared out evenly)."""
    runs = max(1, transactions // pipeline)
    script_file = workdir / "script.sql"
    script_file.write_text(
        script if pipeline == 1 else _pipelined(script, pipeline), encoding="utf-8"
    )
    for old in workdir.glob("log*"):
        old.unlink()
    result = subprocess.run(
        [
            str(_pgbench()),
            "-n",
            "-M",
            "prepared",
            "-c",
            "1",
            "-t",
            str(runs),
            "-f",
            str(script_file),
            "-l",
            "--log-prefix",
            str(workdir / "log"),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        preexec_fn=None if cpu is None else (lambda: os.sched_setaffinity(0, {cpu})),
    )
    if result.returncode != 0 or f"processed: {runs}/{runs}" not in result.stdout:
        raise SystemExit(f"pgbench failed:\n{script}\n{result.stdout}\n{result.stderr}")
    latencies: list[float] = []
    for log in workdir.glob("log*"):
        for line in log.read_text().splitlines():
            latencies.append(int(line.split()[2]) / 1000 / pipeline)
    return latencies


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(
    url: str, rows: list[Request], *, rounds: int, transactions: int, cpu: int | None = None
) -> list[Figures]:
    """Interleaved rounds of every request and its baseline, as sent and pipelined; medians
    over rounds."""
    samples: dict[str, list[tuple[float, ...]]] = {r.name: [] for r in rows}
    with tempfile.TemporaryDirectory(prefix="pgpolicy-bench-") as tmp:
        workdir = Path(tmp)
        for round_number in range(rounds):
            for row in rows:
                # Alternate which goes first, so a burst of outside load favours neither.
                order = (True, False) if round_number % 2 else (False, True)
                measured: dict[tuple[bool, int], list[float]] = {}
                for pipeline in (1, SERVER_ONLY_PIPELINE):
                    for under_rls in order:
                        script = row.under_rls if under_rls else row.baseline
                        measured[under_rls, pipeline] = _run(
                            url, script, transactions, workdir, pipeline=pipeline, cpu=cpu
                        )
                samples[row.name].append(
                    (
                        _percentile(measured[True, 1], 0.5),
                        _percentile(measured[True, 1], 0.95),
                        _percentile(measured[False, 1], 0.5),
                        _percentile(measured[False, 1], 0.95),
                        _percentile(measured[True, SERVER_ONLY_PIPELINE], 0.5),
                        _percentile(measured[False, SERVER_ONLY_PIPELINE], 0.5),
                    )
                )
    results = []
    for row in rows:
        p50, p95, base_p50, base_p95, server_p50, server_base_p50 = (
            statistics.median(run[i] for run in samples[row.name]) for i in range(6)
        )
        results.append(
            Figures(
                row.name, p50, p95, base_p50, base_p95, server_p50, server_base_p50, row.in_contract
            )
        )
    return results


def _table(figures: list[Figures]) -> list[str]:
    lines = [
        "| request | p50 under RLS | p95 under RLS | p50 baseline | p95 baseline | ratio (p50)"
        " | server only: p50 under RLS / baseline | server-only ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        lines.append(
            f"| {f.name} | {f.p50_ms:.3f} ms | {f.p95_ms:.3f} ms | {f.baseline_p50_ms:.3f} ms"
            f" | {f.baseline_p95_ms:.3f} ms | {f.ratio:.2f}x"
            f" | {f.server_p50_ms:.3f} / {f.server_baseline_p50_ms:.3f} ms"
            f" | {f.server_ratio:.2f}x |"
        )
    return lines


def verdict(figures: list[Figures]) -> str:
    """One line: whether every request in the contract is within CONTRACT_RATIO."""
    judged = [f for f in figures if f.in_contract]
    over = [f for f in judged if f.ratio > CONTRACT_RATIO]
    if not over:
        worst = max(judged, key=lambda f: f.ratio)
        return (
            f"every request in the contract is within {CONTRACT_RATIO}x of its baseline"
            f" (highest: {worst.ratio:.2f}x, {worst.name})"
        )
    named = "; ".join(f"{f.name} {f.ratio:.2f}x" for f in over)
    return f"over {CONTRACT_RATIO}x of its baseline: {named}"


def render(figures: list[Figures], shape: Shape) -> str:
    lines = [
        f"{shape.total_messages:,} messages, {shape.threads:,} threads; pgbench -M prepared,"
        " one client on the server's CPU; median of rounds; server only: the same transactions"
        f" {SERVER_ONLY_PIPELINE} to a pipeline",
        *_table([f for f in figures if f.in_contract]),
        "",
        verdict(figures),
    ]
    reference = [f for f in figures if not f.in_contract]
    if reference:
        lines += [
            "",
            "Reference, outside the contract (the API's thread list is chat_thread_members):",
            *_table(reference),
        ]
    return "\n".join(lines)


# chat_history runs its page with one generic plan from the first call; the last of a few
# calls is shown, once the session's caches are warm (the first reads catalog pages too).
HISTORY_CALLS_BEFORE_THE_SHOWN_ONE = 3


def history_explain(conn: psycopg.Connection[Any], n: int, thread: str, depth: int) -> str:
    """The page query's plan inside chat_history (EXPLAIN ANALYZE, BUFFERS), as user ``n``, as
    auto_explain logs it; ``conn`` must be allowed to load auto_explain (a superuser). Only
    the call's own plan otherwise (the function is PL/pgSQL: EXPLAIN stops at its boundary)."""
    created_at, message_id = _cursor(conn, thread, depth) if depth else (None, None)
    call = "select * from public.chat_history(%s, %s, %s, 50)"
    arguments = (thread, created_at, message_id)
    notices: list[str] = []
    conn.add_notice_handler(lambda diagnostic: notices.append(diagnostic.message_primary or ""))
    try:
        # Loading may be allowed where its settings are not (they are superuser-only).
        conn.execute("load 'auto_explain'")
        for setting, value in (
            ("auto_explain.log_min_duration", "0"),
            ("auto_explain.log_nested_statements", "on"),
            ("auto_explain.log_analyze", "on"),
            ("auto_explain.log_buffers", "on"),
            ("auto_explain.log_timing", "on"),
            ("client_min_messages", "log"),
        ):
            conn.execute("select set_config(%s, %s, false)", (setting, value))
    except psycopg.errors.InsufficientPrivilege:
        return _outer_explain(conn, n, call, arguments)
    with conn.transaction(force_rollback=True):
        _act_as(conn, n)
        for _ in range(HISTORY_CALLS_BEFORE_THE_SHOWN_ONE + 1):
            notices.clear()
            conn.execute(call, arguments)
    conn.execute("select set_config('auto_explain.log_min_duration', '-1', false)")
    conn.execute("reset client_min_messages")
    [page] = [text for text in notices if "public.chat_messages" in text]
    # "duration: … plan:", "Query Text: …" (the statement, several lines), then the plan,
    # whose top node is the first unindented line with actual figures.
    lines = page.splitlines()
    top = next(i for i, line in enumerate(lines) if line[:1].isupper() and "(actual" in line)
    return "\n".join(lines[top:])


def _act_as(conn: psycopg.Connection[Any], n: int) -> None:
    conn.execute(
        "select set_config('role', 'authenticated', true),"
        " set_config('request.jwt.claims', %s, true)",
        (json.dumps(_claims(n)),),
    )


def _outer_explain(
    conn: psycopg.Connection[Any], n: int, call: str, arguments: tuple[object, ...]
) -> str:
    lines: list[str] = []
    with conn.transaction(force_rollback=True):
        _act_as(conn, n)
        for _ in range(2):  # the second: the first also reads catalog pages
            lines = [
                row[0]
                for row in conn.execute(
                    f"explain (analyze, buffers, costs off) {call}",  # type: ignore[arg-type]
                    arguments,
                )
            ]
    return "\n".join(lines)


def run_bench(
    server: Server, shape: Shape, rounds: int, transactions: int
) -> tuple[list[Figures], dict[str, str]]:
    """Seed a throwaway database of ``server`` with ``shape``, measure, drop it."""
    with migrated_template(server, ROOT / "alembic.ini", base=None) as name:
        with psycopg.connect(server.url(name), autocommit=True) as conn:
            start = time.perf_counter()
            seed(conn, shape)
            print(f"seeded in {time.perf_counter() - start:.1f} s", flush=True)
            rows = requests(conn, shape)
        hub_thread = thread_id(shape.hub, shape.hub_partner)
        # auto_explain needs a superuser: the server's admin role when it has one.
        with psycopg.connect(server.admin().url(name), autocommit=True) as admin:
            plans = {
                f"history page, user in {shape.partners:,} threads, {label}": history_explain(
                    admin, shape.hub, hub_thread, depth
                )
                for label, depth in (("depth 0", 0), (f"{_deep(shape):,} back", _deep(shape)))
            }
        url = server.url(name)
        with one_cpu_for_client_and_server(url) as cpu:
            if cpu is None:
                print("client and server not pinned to one CPU: expect noisier figures", flush=True)
            figures = measure(url, rows, rounds=rounds, transactions=transactions, cpu=cpu)
        return figures, plans


SHAPES = {"half": Shape.busy_half, "tiny": Shape.busy_tiny}


def main() -> None:
    scale = int(os.environ.get("SCALE", "1"))
    shapes = [SHAPES[name](scale) for name in os.environ.get("SHAPES", "half,tiny").split(",")]
    rounds = int(os.environ.get("ROUNDS", "5"))
    transactions = int(os.environ.get("TRANSACTIONS", "2000"))
    results: list[dict[str, Any]] = []
    every_figure: list[Figures] = []
    with provide_server() as server:
        for shape in shapes:
            print(f"== {shape.name}", flush=True)
            figures, plans = run_bench(server, shape, rounds, transactions)
            for label, plan in plans.items():
                print(f"EXPLAIN (ANALYZE, BUFFERS), {label}:\n{plan}\n")
            print(f"## {shape.name}\n{render(figures, shape)}\n", flush=True)
            every_figure += figures
            results.append(
                {
                    "shape": shape.name,
                    "messages": shape.total_messages,
                    "threads": shape.threads,
                    "rows": [
                        {**asdict(f), "ratio": f.ratio, "server_ratio": f.server_ratio}
                        for f in figures
                    ],
                    "verdict": verdict(figures),
                    "plans": plans,
                }
            )
    # The contract holds on every shape or not at all.
    overall = verdict(every_figure)
    print(f"all shapes: {overall}")
    out = ROOT / "build" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "rounds": rounds,
                "transactions_per_run": transactions,
                "shapes": results,
                "verdict": overall,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
