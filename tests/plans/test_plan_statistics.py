"""Plans that depend neither on the caller's share of a table nor on when ANALYZE ran.

Every request of the performance contract, explained as the caller, on each shape of
tests/plans/statistics_shape.py (busy user with half or a tiny share of chat_thread_members,
last_message_at NULL or set, statistics fresh, stale or absent), both as a custom plan and
as the generic plan a prepared statement settles on after its sixth execution
(``plan_cache_mode = force_generic_plan``): no Seq Scan, no Sort where the contract reads in
index order, and the intended index. Revisions 0012 and 0013 say why the plans used to flip.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgpolicy.auth import AuthAdmin
from pgpolicy.provision import Server, temporary_database
from pgpolicy.testing.plugin import skip_if_in_place
from pgpolicy.testing.target import Target
from tests.chat.test_plan_shape import HISTORY_INDEX, THREAD_LIST, THREAD_LIST_EMBEDDED
from tests.plans.statistics_shape import (
    HUB,
    QUIET,
    Seeding,
    claims,
    long_thread,
    mongo_id,
    seed,
    thread_of,
    user_id,
)

Plan = dict[str, Any]

SEEDINGS = [
    Seeding(share, last_message_at, statistics)
    for share, last_message_at, statistics in itertools.product(
        ("half", "tiny"), ("null", "set"), ("fresh", "stale", "absent")
    )
]
PLAN_MODES = ("custom", "generic")
CALLERS = {"busy": HUB, "quiet": QUIET}
RECENT_INDEX = "chat_thread_members_recent_idx"
# chat_history's page query, as the function runs it (its arguments are parameters).
HISTORY_PAGE = (
    "select m.* from public.chat_messages m where m.thread_id = $1"
    " and (m.created_at, m.id) < ($2::timestamptz, $3::uuid)"
    " order by m.created_at desc, m.id desc limit $4"
)
DIRECT_INSERT = (
    "insert into public.chat_messages (thread_id, sender_supabase_id, sender_mongo_id,"
    " recipient_mongo_id, body) values ($1, $2::uuid, $3, $4, 'hi') returning *"
)
# What Realtime reads to let a client join chat:<thread> (realtime.topic() is its setting).
JOIN_CHECK = "select id from realtime.messages where id in ($1::uuid, $2::uuid)"

_PARAMETER_TYPES = {
    HISTORY_PAGE: ("text", "timestamptz", "uuid", "integer"),
    DIRECT_INSERT: ("text", "uuid", "text", "text"),
    JOIN_CHECK: ("uuid", "uuid"),
}
_names = itertools.count()


@pytest.fixture(scope="module", params=SEEDINGS, ids=str)
def seeded(
    request: pytest.FixtureRequest,
    pg_server: Server,
    pg_target: Target,
    pg_auth_admin: AuthAdmin,
    pg_template: str,
) -> Iterator[psycopg.Connection[Any]]:
    skip_if_in_place(pg_target)
    if pg_target.kind != "embedded":
        # Twelve seeded databases of 20,000 threads: shown on the embedded cluster, where the
        # planner's inputs (settings, autovacuum off on these tables) are the ones chosen here.
        pytest.skip("the statistics states are shown on the embedded cluster")
    with (
        temporary_database(pg_server, "pgpolicy_stats", template=pg_template) as name,
        psycopg.connect(pg_server.url(name), autocommit=True) as conn,
    ):
        seed(conn, request.param)
        yield conn


def _explain(
    conn: psycopg.Connection[Any],
    caller: int,
    query: str,
    params: tuple[Any, ...],
    mode: str,
    *,
    topic: str | None = None,
) -> Plan:
    """EXPLAIN (FORMAT JSON) of the prepared ``query`` run by ``caller`` as PostgREST runs it."""
    name = f"plan_statistics_{next(_names)}"
    with conn.transaction(force_rollback=True):
        conn.execute(
            "select set_config('role', 'authenticated', true),"
            " set_config('request.jwt.claims', %s, true),"
            " set_config('plan_cache_mode', %s, true),"
            " set_config('realtime.topic', %s, true)",
            (claims(caller), f"force_{mode}_plan", topic or ""),
        )
        types = f"({', '.join(_PARAMETER_TYPES[query])})" if params else ""
        conn.execute(f"prepare {name}{types} as {query}")  # type: ignore[arg-type]
        try:
            # Values as literals: EXECUTE's own parameters would have no type to infer.
            arguments = sql.SQL("({})").format(sql.SQL(", ").join(map(sql.Literal, params)))
            execute = sql.SQL("explain (format json) execute {}{}").format(
                sql.Identifier(name), arguments if params else sql.SQL("")
            )
            raw = conn.execute(execute).fetchone()
        finally:
            conn.execute(f"deallocate {name}")  # type: ignore[arg-type]
    assert raw is not None
    document = json.loads(raw[0]) if isinstance(raw[0], str) else raw[0]
    plan: Plan = document[0]["Plan"]
    return plan


def _nodes(plan: Plan) -> Iterator[Plan]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _seq_scans(plan: Plan) -> list[str]:
    return [n["Relation Name"] for n in _nodes(plan) if n["Node Type"] == "Seq Scan"]


def _sorts(plan: Plan) -> list[str]:
    return [n["Node Type"] for n in _nodes(plan) if n["Node Type"] in ("Sort", "Incremental Sort")]


def _scans_of(plan: Plan, table: str) -> list[Plan]:
    return [n for n in _nodes(plan) if n.get("Relation Name") == table]


def _thread_of(caller: int) -> str:
    return long_thread() if caller == HUB else thread_of(HUB, QUIET)


@pytest.mark.parametrize("mode", PLAN_MODES)
@pytest.mark.parametrize("who", CALLERS)
def test_thread_list_walks_the_recency_index_of_the_caller(
    seeded: psycopg.Connection[Any], who: str, mode: str
) -> None:
    plan = _explain(seeded, CALLERS[who], THREAD_LIST, (), mode)
    assert _seq_scans(plan) == []
    assert _sorts(plan) == []
    [members] = _scans_of(plan, "chat_thread_members")
    assert members["Node Type"] in ("Index Scan", "Index Only Scan"), members["Node Type"]
    assert members["Index Name"] == RECENT_INDEX


@pytest.mark.parametrize("mode", PLAN_MODES)
@pytest.mark.parametrize("who", CALLERS)
def test_embedded_thread_list_looks_each_thread_up_by_its_key(
    seeded: psycopg.Connection[Any], who: str, mode: str
) -> None:
    plan = _explain(seeded, CALLERS[who], THREAD_LIST_EMBEDDED, (), mode)
    assert _seq_scans(plan) == []
    assert _sorts(plan) == []
    [members] = _scans_of(plan, "chat_thread_members")
    assert members["Node Type"] in ("Index Scan", "Index Only Scan"), members["Node Type"]
    assert members["Index Name"] == RECENT_INDEX
    # One lookup per listed row, never the caller's every thread (a BitmapOr) read up front.
    [threads] = _scans_of(plan, "chat_threads")
    assert threads["Node Type"] == "Index Scan", threads["Node Type"]
    assert "thread_id = chat_thread_members.thread_id" in threads["Index Cond"]


@pytest.mark.parametrize("depth", ["first page", "deep"])
@pytest.mark.parametrize("who", CALLERS)
def test_history_page_walks_the_history_index(
    seeded: psycopg.Connection[Any], who: str, depth: str
) -> None:
    # chat_history runs its page with a generic plan (force_generic_plan, revision 0009): the
    # thread is a parameter, estimated like any thread, never by its own row count.
    caller = CALLERS[who]
    thread = _thread_of(caller)
    cursor: tuple[Any, Any] = ("infinity", "ffffffff-ffff-ffff-ffff-ffffffffffff")
    if depth == "deep":
        row = seeded.execute(
            "select created_at, id from public.chat_messages where thread_id = %s"
            " order by created_at desc, id desc offset %s limit 1",
            (thread, 2_000 if caller == HUB else 1),
        ).fetchone()
        assert row is not None
        cursor = (row[0], row[1])
    plan = _explain(seeded, caller, HISTORY_PAGE, (thread, *cursor, 50), "generic")
    assert _seq_scans(plan) == []
    assert _sorts(plan) == []
    [messages] = _scans_of(plan, "chat_messages")
    assert messages["Node Type"] == "Index Scan", messages["Node Type"]
    assert messages["Index Name"] == HISTORY_INDEX


@pytest.mark.parametrize("mode", PLAN_MODES)
@pytest.mark.parametrize("who", CALLERS)
def test_direct_insert_checks_its_thread_by_key(
    seeded: psycopg.Connection[Any], who: str, mode: str
) -> None:
    caller = CALLERS[who]
    thread = _thread_of(caller)
    partner = HUB + 1 if caller == HUB else HUB
    params = (thread, str(user_id(caller)), mongo_id(caller), mongo_id(partner))
    plan = _explain(seeded, caller, DIRECT_INSERT, params, mode)
    assert _seq_scans(plan) == []


@pytest.mark.parametrize("mode", PLAN_MODES)
@pytest.mark.parametrize("who", CALLERS)
def test_join_check_reads_its_thread_by_key(
    seeded: psycopg.Connection[Any], who: str, mode: str
) -> None:
    caller = CALLERS[who]
    topic = f"chat:{_thread_of(caller)}"
    plan = _explain(seeded, caller, JOIN_CHECK, (uuid.uuid4(), uuid.uuid4()), mode, topic=topic)
    # realtime.messages' daily partitions are Supabase's (empty ones are scanned, unanalyzed):
    # the policy's own lookups are what this checks.
    assert [name for name in _seq_scans(plan) if not name.startswith("messages_")] == []
    for threads in _scans_of(plan, "chat_threads"):
        assert threads["Node Type"] in ("Index Scan", "Index Only Scan"), threads["Node Type"]
        assert "thread_id" in threads["Index Cond"]
