"""Plan shape on production-shaped data: deterministic EXPLAIN checks, no timing.

A busy user in thousands of threads (``hub``) and a user in one (``alice``), long threads and
many short ones (tests/chat/production_shape.py). For every API statement, as either user:
- no Seq Scan on any table, policies nested inside policies included;
- a history page, at depth 0 and deep, is an index scan with the row comparison in the
  Index Cond, no Sort node, auth.uid() evaluated once (InitPlan), in the plans chat_history
  (PL/pgSQL, one generic plan per session) runs its page with, read with auto_explain from
  calls made exactly as PostgREST makes them;
- the shared buffers a history page touches are bounded by a constant: the same on a
  database four times larger with four times more threads for the caller;
- the thread list (chat_thread_members, newest first, each thread embedded) is an index scan
  of the caller's memberships that stops after its page, whose buffers are bounded by a
  constant per row returned on both data sizes.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from pgpolicy.auth import AuthAdmin
from pgpolicy.postgrest.claims import Actor
from pgpolicy.provision import Server, temporary_database
from pgpolicy.testing.harness import Database
from pgpolicy.testing.plugin import skip_if_in_place
from pgpolicy.testing.target import Target
from tests.chat.production_shape import Shape, World, seed

HISTORY_INDEX = "chat_messages_thread_history_idx"
ROW_COMPARISON = re.compile(r"ROW\((m\.)?created_at, (m\.)?id\) < ROW\(")
SMALL = Shape(hub_threads=2_000, long_thread=20_000)
LARGE = Shape(hub_threads=8_000, long_thread=80_000)
DEEP = 15_000
# A page of 50 rows: a few index pages, a few heap pages, the thread's primary key lookup.
PAGE_BUFFER_BOUND = 24
# A thread list row: its membership index entry and one primary-key lookup of its thread.
THREAD_LIST_BUFFERS_PER_ROW = 5
THREAD_LIST_BUFFERS_FIXED = 8
# PostgREST's GET /chat_thread_members?order=last_message_at.desc&limit=50 (the thread id
# names both participants' Mongo ids) ...
THREAD_LIST = (
    "select public.chat_thread_members.* from public.chat_thread_members"
    " order by public.chat_thread_members.last_message_at desc limit 50"
)
# ... and with select=*,chat_threads(*): a to-one embed is a lateral join.
THREAD_LIST_EMBEDDED = (
    "select public.chat_thread_members.*,"
    " row_to_json(chat_thread_members_chat_threads_1.*)::jsonb as chat_threads"
    " from public.chat_thread_members"
    " left join lateral (select chat_threads_1.* from public.chat_threads as chat_threads_1"
    " where chat_threads_1.thread_id = public.chat_thread_members.thread_id)"
    " as chat_thread_members_chat_threads_1 on true"
    " order by public.chat_thread_members.last_message_at desc limit 50"
)

Plan = dict[str, Any]


@dataclass(frozen=True)
class Seeded:
    db: Database
    world: World
    # auto_explain's settings need a superuser: the server's admin role, when the toolkit
    # has one (the embedded cluster), reads the plans; the request itself is the same.
    admin_url: str | None = None


def _seeded(
    pg_server: Server, pg_target: Target, pg_auth_admin: AuthAdmin, pg_template: str, shape: Shape
) -> Iterator[Seeded]:
    skip_if_in_place(pg_target)
    with (
        temporary_database(pg_server, "pgpolicy_plan", template=pg_template) as name,
        psycopg.connect(pg_server.url(name), autocommit=True) as conn,
    ):
        db = Database(conn=conn, url=pg_server.url(name), committing=True, auth_admin=pg_auth_admin)
        try:
            admin_url = pg_server.admin().url(name) if pg_server.admin_user else None
            yield Seeded(db, seed(db, shape), admin_url)
        finally:
            db.close()


@pytest.fixture(scope="module")
def small(
    pg_server: Server, pg_target: Target, pg_auth_admin: AuthAdmin, pg_template: str
) -> Iterator[Seeded]:
    yield from _seeded(pg_server, pg_target, pg_auth_admin, pg_template, SMALL)


@pytest.fixture(scope="module")
def large(
    pg_server: Server, pg_target: Target, pg_auth_admin: AuthAdmin, pg_template: str
) -> Iterator[Seeded]:
    yield from _seeded(pg_server, pg_target, pg_auth_admin, pg_template, LARGE)


def _actor(seeded: Seeded, who: str) -> tuple[Actor, str]:
    world = seeded.world
    return (world.hub, world.hub_thread) if who == "hub" else (world.alice, world.alice_thread)


def _explain(
    seeded: Seeded, actor: Actor, query: str, params: tuple[Any, ...], *, analyze: bool = False
) -> Plan:
    """EXPLAIN (FORMAT JSON) of ``query`` as ``actor``, the way PostgREST runs it."""
    options = "analyze, buffers, costs off, " if analyze else ""
    result = seeded.db.as_user(actor).execute(
        f"explain ({options}verbose, format json) {query}",  # type: ignore[arg-type]
        params,
    )
    assert result.ok, result
    raw = result.rows[0]["QUERY PLAN"]
    plan: Plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return plan


def _nodes(plan: Plan) -> Iterator[Plan]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _cursor(seeded: Seeded, thread: str, depth: int) -> tuple[Any, Any]:
    if depth == 0:
        return None, None
    row = seeded.db.execute(
        "select created_at, id from public.chat_messages where thread_id = %s"
        " order by created_at desc, id desc offset %s limit 1",
        (thread, depth),
    )[0]
    return row["created_at"], row["id"]


# Left to itself, a PL/pgSQL statement gets a plan for its values on its first five runs in a
# session, and only then may settle on a generic plan: six calls see what a session settles on.
CALLS_TO_REACH_THE_CACHED_PLAN = 6


@dataclass(frozen=True)
class Logged:
    """One statement run inside a call, as auto_explain logged it."""

    query: str
    plan: Plan


def _history_calls(
    seeded: Seeded, who: str, thread: str, depth: int, *, analyze: bool = False
) -> list[list[Logged]]:
    """The statements each of CALLS_TO_REACH_THE_CACHED_PLAN calls of chat_history ran, in one
    session, called exactly as PostgREST calls it (the arguments are sub-selects of its JSON
    body); ``thread`` is read by ``who`` from ``depth`` rows back."""
    actor, _own_thread = _actor(seeded, who)
    created_at, message_id = _cursor(seeded, thread, depth)
    args = {
        "_thread_id": thread,
        "_before_created_at": created_at,
        "_before_id": message_id,
        "_limit": 50,
    }
    # A new session each time: one that ran chat_history before would start on a cached plan.
    with psycopg.connect(seeded.admin_url or seeded.db.url, autocommit=True) as session:
        return _logged_calls(seeded, session, actor, args, analyze=analyze)


def _page_plans(seeded: Seeded, who: str, depth: int, *, analyze: bool = False) -> list[Plan]:
    """The plan of the page query (the statement reading chat_messages) of every call."""
    thread = _actor(seeded, who)[1]
    pages = []
    for call in _history_calls(seeded, who, thread, depth, analyze=analyze):
        [page] = [s.plan for s in call if "public.chat_messages" in s.query]
        pages.append(page)
    return pages


def _history_plan(seeded: Seeded, who: str, depth: int, *, analyze: bool = False) -> Plan:
    """The plan a page runs with once the session has settled: the last call's."""
    return _page_plans(seeded, who, depth, analyze=analyze)[-1]


def _messages_scan(plan: Plan) -> Plan:
    scans = [node for node in _nodes(plan) if node.get("Relation Name") == "chat_messages"]
    assert len(scans) == 1, [node["Node Type"] for node in _nodes(plan)]
    return scans[0]


def _logged_calls(
    seeded: Seeded,
    conn: psycopg.Connection[Any],
    actor: Actor,
    args: dict[str, Any],
    *,
    analyze: bool,
) -> list[list[Logged]]:
    try:
        conn.execute("load 'auto_explain'")
    except psycopg.errors.InsufficientPrivilege:
        pytest.skip("auto_explain needs a superuser connection on this server")
    settings = {
        "auto_explain.log_min_duration": "0",
        "auto_explain.log_nested_statements": "on",
        "auto_explain.log_format": "json",
        "auto_explain.log_analyze": "on" if analyze else "off",
        "auto_explain.log_buffers": "on" if analyze else "off",
        "auto_explain.log_timing": "off",
        "auto_explain.log_verbose": "on",
        "client_min_messages": "log",
    }
    for setting, value in settings.items():
        conn.execute("select set_config(%s, %s, false)", (setting, value))
    calls: list[list[Logged]] = []
    try:
        for _ in range(CALLS_TO_REACH_THE_CACHED_PLAN):
            result = seeded.db.as_user(actor, conn=conn).rpc("chat_history", **args)
            assert result.ok, result
            calls.append(_logged_statements(result.notices))
    finally:
        conn.execute("reset client_min_messages")
        conn.execute("select set_config('auto_explain.log_min_duration', '-1', false)")
    return calls


def _logged_statements(notices: list[str]) -> list[Logged]:
    logged = []
    for notice in notices:
        start = notice.find("{")
        if notice.startswith("LOG") and start != -1:
            entry = json.loads(notice[start:])
            logged.append(Logged(entry.get("Query Text", ""), entry["Plan"]))
    return logged


def _api_statements(seeded: Seeded, who: str) -> dict[str, tuple[str, tuple[Any, ...]]]:
    actor, thread = _actor(seeded, who)
    other = seeded.world.hub if who == "alice" else seeded.world.alice
    return {
        "messages of a thread": (
            "select * from public.chat_messages where thread_id = %s"
            " order by created_at desc, id desc limit 50",
            (thread,),
        ),
        "thread list, newest first": (THREAD_LIST, ()),
        "thread list, newest first, threads embedded": (THREAD_LIST_EMBEDDED, ()),
        "direct insert, return=representation": (
            "insert into public.chat_messages (thread_id, sender_supabase_id, sender_mongo_id,"
            " recipient_mongo_id, body) values (%s, %s, %s, %s, 'hi') returning *",
            (thread, actor.id, *thread.split("__")[:: 1 if actor.id != other.id else -1]),
        ),
        "realtime join read": (
            "select id from realtime.messages where id in (%s, %s)",
            (uuid.uuid4(), uuid.uuid4()),
        ),
        "realtime presence write": (
            "insert into realtime.messages (topic, extension) values (%s, 'presence')",
            (f"chat:{thread}",),
        ),
    }


def _history_statements(seeded: Seeded, who: str) -> dict[str, list[Logged]]:
    """Every statement chat_history runs, over all calls: own thread at depth 0 and deep, and
    the other user's thread."""
    own = _actor(seeded, who)[1]
    other = _actor(seeded, "hub" if who == "alice" else "alice")[1]
    cases = {
        "history page": (own, 0),
        "history page, deep": (own, DEEP),
        "someone else's": (other, 0),
    }
    return {
        label: [
            statement for call in _history_calls(seeded, who, thread, depth) for statement in call
        ]
        for label, (thread, depth) in cases.items()
    }


@pytest.mark.parametrize("who", ["alice", "hub"])
def test_no_statement_scans_a_table_under_any_policy(large: Seeded, who: str) -> None:
    actor, _thread = _actor(large, who)
    plans = {
        label: [_explain(large, actor, query, params)]
        for label, (query, params) in _api_statements(large, who).items()
    }
    for label, statements in _history_statements(large, who).items():
        plans[label] = [statement.plan for statement in statements]
    seq_scans = {}
    for label, label_plans in plans.items():
        # The catalog lookups around a call (role settings, pg_roles) are not the API's tables.
        scanned = [
            n["Relation Name"]
            for plan in label_plans
            for n in _nodes(plan)
            if n["Node Type"] == "Seq Scan" and n.get("Schema") != "pg_catalog"
        ]
        if scanned:
            seq_scans[label] = scanned
    assert seq_scans == {}


@pytest.mark.parametrize("who", ["alice", "hub"])
@pytest.mark.parametrize("depth", [0, DEEP, 79_000])
def test_history_page_is_an_index_scan_with_the_row_comparison(
    large: Seeded, who: str, depth: int
) -> None:
    # Every call, from the session's first.
    for plan in _page_plans(large, who, depth):
        scan = _messages_scan(plan)
        assert scan["Node Type"] == "Index Scan", scan["Node Type"]
        assert scan["Index Name"] == HISTORY_INDEX
        assert ROW_COMPARISON.search(scan["Index Cond"]), scan["Index Cond"]
        assert "thread_id" in scan["Index Cond"]


@pytest.mark.parametrize("who", ["alice", "hub"])
@pytest.mark.parametrize("depth", [0, DEEP])
def test_every_history_page_runs_the_one_generic_plan(large: Seeded, who: str, depth: int) -> None:
    # chat_history forces a generic plan: a session plans its page once, from the first call,
    # instead of per call. Its Index Cond compares with parameters, not with the call's values.
    for plan in _page_plans(large, who, depth):
        index_cond = _messages_scan(plan)["Index Cond"]
        assert re.search(r"thread_id = \$\d", index_cond), index_cond
        assert ROW_COMPARISON.search(index_cond), index_cond


@pytest.mark.parametrize("who", ["alice", "hub"])
@pytest.mark.parametrize("depth", [0, DEEP])
def test_history_page_needs_no_sort(large: Seeded, who: str, depth: int) -> None:
    for plan in _page_plans(large, who, depth):
        assert not [n for n in _nodes(plan) if n["Node Type"] in ("Sort", "Incremental Sort")]


@pytest.mark.parametrize("who", ["alice", "hub"])
def test_auth_uid_runs_once_as_an_initplan(large: Seeded, who: str) -> None:
    # auth.uid() is a SQL function, inlined: in the plan it is its current_setting() body.
    plan = _history_plan(large, who, 0)
    initplans = [node for node in _nodes(plan) if node.get("Parent Relationship") == "InitPlan"]
    assert any("request.jwt.claim" in " ".join(node.get("Output", [])) for node in initplans)
    per_row = [
        node
        for node in _nodes(plan)
        if any(
            marker in str(node.get(key, ""))
            for key in ("Filter", "Index Cond", "Recheck Cond")
            for marker in ("auth.uid()", "current_setting(")
        )
    ]
    assert per_row == []


@pytest.mark.parametrize("who", ["alice", "hub"])
def test_messages_policy_reads_no_other_table_per_row(large: Seeded, who: str) -> None:
    actor, thread = _actor(large, who)
    plan = _explain(
        large, actor, "select id from public.chat_messages where thread_id = %s", (thread,)
    )
    subplans = [n for n in _nodes(plan) if n.get("Parent Relationship") == "SubPlan"]
    assert subplans == [], subplans
    assert {n.get("Relation Name") for n in _nodes(plan)} - {None} == {"chat_messages"}


def _page_buffers(seeded: Seeded, who: str, depth: int) -> int:
    # The last call's page: earlier calls also read the catalog pages of the first lookups.
    plan = _history_plan(seeded, who, depth, analyze=True)
    assert plan["Actual Rows"] == 50
    return int(plan["Shared Hit Blocks"]) + int(plan["Shared Read Blocks"])


@pytest.mark.parametrize("who", ["alice", "hub"])
@pytest.mark.parametrize("depth", [0, DEEP])
def test_history_page_buffers_do_not_grow_with_the_table_or_the_thread_count(
    small: Seeded, large: Seeded, who: str, depth: int
) -> None:
    on_small = _page_buffers(small, who, depth)
    on_large = _page_buffers(large, who, depth)
    assert on_small <= PAGE_BUFFER_BOUND, on_small
    assert on_large <= PAGE_BUFFER_BOUND, on_large
    # Four times the rows and threads may add a B-tree level and move a page boundary (index
    # leaf, heap page) into the 50 rows; a cost that grew with the data would differ by hundreds.
    assert abs(on_large - on_small) <= 6, (on_small, on_large)


@pytest.mark.parametrize("who", ["alice", "hub"])
def test_someone_elses_history_reads_no_message(large: Seeded, who: str) -> None:
    # chat_history_page_limit() answers 0 for a thread the caller may not see, and chat_history
    # returns before its page query: not one statement reads chat_messages, in any call.
    other_thread = _actor(large, "hub" if who == "alice" else "alice")[1]
    calls = _history_calls(large, who, other_thread, 0)
    assert len(calls) == CALLS_TO_REACH_THE_CACHED_PLAN
    read_messages = [s.query for call in calls for s in call if "chat_messages" in s.query]
    assert read_messages == []
    assert all(any("chat_threads" in s.query for s in call) for call in calls)


# chat_threads read directly, as a client should: filtered by its own id. The row-local
# policy has no index path of its own (revision 0013); the filter does.
THREADS_BY_OWN_ID = (
    "select * from public.chat_threads"
    " where user_a_supabase_id = %s or user_b_supabase_id = %s limit 50"
)


def _threads_scans(plan: Plan) -> list[str]:
    return [n["Node Type"] for n in _nodes(plan) if n.get("Relation Name") == "chat_threads"]


@pytest.mark.parametrize("who", ["alice", "hub"])
def test_threads_read_by_the_callers_own_id_plan_as_service_roles_do(
    large: Seeded, who: str
) -> None:
    # The policy adds a filter on each row and nothing else: the caller's read takes the path
    # service_role (no RLS) takes for the same filter, a BitmapOr for the 1-thread user and,
    # for the user in nearly every thread, whatever reaches 50 of its rows first.
    actor, _thread = _actor(large, who)
    params = (actor.id, actor.id)
    as_caller = _explain(large, actor, THREADS_BY_OWN_ID, params)
    result = large.db.as_service_role().execute(
        f"explain (verbose, format json) {THREADS_BY_OWN_ID}",  # type: ignore[arg-type]
        params,
    )
    assert result.ok, result
    raw = result.rows[0]["QUERY PLAN"]
    as_service_role: Plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    assert _threads_scans(as_caller) == _threads_scans(as_service_role)
    if who == "alice":
        assert _threads_scans(as_caller) == ["Bitmap Heap Scan"], _threads_scans(as_caller)


def _thread_list_plan(seeded: Seeded, who: str, query: str = THREAD_LIST_EMBEDDED) -> Plan:
    actor, _thread = _actor(seeded, who)
    _explain(seeded, actor, query, (), analyze=True)
    return _explain(seeded, actor, query, (), analyze=True)


@pytest.mark.parametrize("who", ["alice", "hub"])
def test_thread_list_is_one_index_range_of_the_callers_memberships(large: Seeded, who: str) -> None:
    plan = _thread_list_plan(large, who, THREAD_LIST)
    rows = 1 if who == "alice" else 50
    assert plan["Actual Rows"] == rows
    [members] = [n for n in _nodes(plan) if n.get("Relation Name") == "chat_thread_members"]
    # Index Only Scan since revision 0012 (the index includes thread_id).
    assert members["Node Type"] in ("Index Scan", "Index Only Scan"), members["Node Type"]
    assert members["Index Name"] == "chat_thread_members_recent_idx"
    assert members["Actual Rows"] == rows
    assert not [node for node in _nodes(plan) if node["Node Type"] in ("Sort", "Incremental Sort")]


@pytest.mark.parametrize("who", ["alice", "hub"])
def test_embedded_thread_list_reads_the_callers_memberships_in_order_and_stops_after_its_page(
    large: Seeded, who: str
) -> None:
    plan = _thread_list_plan(large, who)
    expected_rows = 1 if who == "alice" else 50
    assert plan["Actual Rows"] == expected_rows
    [members] = [n for n in _nodes(plan) if n.get("Relation Name") == "chat_thread_members"]
    assert members["Node Type"] in ("Index Scan", "Index Only Scan"), members["Node Type"]
    assert "user_id" in members["Index Cond"], members["Index Cond"]
    # Read in last_message_at order: no Sort, and no more memberships than the page.
    assert members["Actual Rows"] == expected_rows
    assert not [node for node in _nodes(plan) if node["Node Type"] in ("Sort", "Incremental Sort")]
    [threads] = [n for n in _nodes(plan) if n.get("Relation Name") == "chat_threads"]
    assert threads["Node Type"] == "Index Scan", threads["Node Type"]
    assert "thread_id" in threads["Index Cond"], threads["Index Cond"]


@pytest.mark.parametrize("who", ["alice", "hub"])
def test_thread_list_buffers_do_not_grow_with_the_table_or_the_thread_count(
    small: Seeded, large: Seeded, who: str
) -> None:
    rows = 1 if who == "alice" else 50
    bound = THREAD_LIST_BUFFERS_FIXED + THREAD_LIST_BUFFERS_PER_ROW * rows
    buffers = []
    for seeded in (small, large):
        plan = _thread_list_plan(seeded, who)
        assert plan["Actual Rows"] == rows
        buffers.append(int(plan["Shared Hit Blocks"]) + int(plan["Shared Read Blocks"]))
    assert max(buffers) <= bound, (buffers, bound)
    # Four times the threads may add a B-tree level (one buffer per lookup); a list that read
    # the caller's every thread would differ by thousands.
    assert abs(buffers[1] - buffers[0]) <= rows + 2, buffers
