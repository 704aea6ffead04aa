"""Plan shape on a thread of 100,000 messages: deterministic EXPLAIN checks, no timing.

- a history page, at depth 0 and deep, is an index scan with the row comparison in the
  Index Cond and no Sort node;
- auth.uid() runs once per query (InitPlan), never per row;
- the messages policy is a set membership (hashed subplan or semi-join), not a per-row call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from pgpolicy.postgrest.claims import Actor
from pgpolicy.provision import Server, temporary_database
from pgpolicy.testing.harness import Database
from pgpolicy.testing.plugin import skip_if_in_place
from pgpolicy.testing.target import AuthAdmin, Target
from tests.chat.conftest import ALICE_MONGO, BOB_MONGO, THREAD_ID, insert_thread

MESSAGES = 100_000
HISTORY_INDEX = "chat_messages_thread_history_idx"
ROW_COMPARISON = re.compile(r"ROW\((m\.)?created_at, (m\.)?id\) < ROW\(")

Plan = dict[str, Any]


@dataclass(frozen=True)
class Seeded:
    db: Database
    alice: Actor
    # auto_explain's settings need a superuser: the server's admin role, when the toolkit
    # has one (the embedded cluster), reads the plans; the request itself is the same.
    admin_url: str | None = None


@pytest.fixture(scope="module")
def seeded(
    pg_server: Server, pg_target: Target, pg_auth_admin: AuthAdmin, pg_template: str
) -> Iterator[Seeded]:
    """A committed clone of the template holding one thread of 100,000 messages, analyzed."""
    skip_if_in_place(pg_target)
    with (
        temporary_database(pg_server, "pgpolicy_plan", template=pg_template) as name,
        psycopg.connect(pg_server.url(name), autocommit=True) as conn,
    ):
        db = Database(conn=conn, url=pg_server.url(name), committing=True, auth_admin=pg_auth_admin)
        alice = db.create_user("alice", app_metadata={"mongoUserId": ALICE_MONGO})
        bob = db.create_user("bob", app_metadata={"mongoUserId": BOB_MONGO})
        insert_thread(db, alice, ALICE_MONGO, bob, BOB_MONGO)
        # Seed without the broadcast trigger: 100k realtime rows would only slow the setup.
        db.execute("alter table public.chat_messages disable trigger user")
        db.execute(
            "insert into public.chat_messages (thread_id, sender_supabase_id, sender_mongo_id,"
            " recipient_mongo_id, body, created_at)"
            " select %s, %s, %s, %s, 'message ' || n,"
            "  timestamptz '2026-01-01' + (n / 3) * interval '1 second'"
            " from generate_series(1, %s) n",
            (THREAD_ID, alice.id, ALICE_MONGO, BOB_MONGO, MESSAGES),
        )
        db.execute("alter table public.chat_messages enable trigger user")
        db.execute("analyze")
        try:
            admin_url = pg_server.admin().url(name) if pg_server.admin_user else None
            yield Seeded(db, alice, admin_url)
        finally:
            db.close()


def _explain(seeded: Seeded, query: str, params: tuple[Any, ...]) -> Plan:
    """EXPLAIN (VERBOSE, FORMAT JSON) of ``query`` as alice, the way PostgREST runs it."""
    result = seeded.db.as_user(seeded.alice).execute(
        "explain (verbose, format json) " + query,  # type: ignore[operator]
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


def _history_plan(seeded: Seeded, before: tuple[Any, Any] | None) -> Plan:
    cursor = before or (None, None)
    return _explain(
        seeded,
        "select * from public.chat_history(_thread_id := %s, _before_created_at := %s,"
        " _before_id := %s, _limit := 50)",
        (THREAD_ID, *cursor),
    )


def _cursor_at_depth(seeded: Seeded, depth: int) -> tuple[Any, Any]:
    row = seeded.db.execute(
        "select created_at, id from public.chat_messages order by created_at desc, id desc"
        " offset %s limit 1",
        (depth,),
    )[0]
    return row["created_at"], row["id"]


def _history_scan(plan: Plan) -> Plan:
    scans = [node for node in _nodes(plan) if node.get("Relation Name") == "chat_messages"]
    assert len(scans) == 1, [node["Node Type"] for node in _nodes(plan)]
    return scans[0]


@pytest.mark.parametrize("depth", [0, 50_000, 99_000])
def test_history_page_is_an_index_scan_with_the_row_comparison(seeded: Seeded, depth: int) -> None:
    before = _cursor_at_depth(seeded, depth) if depth else None
    plan = _history_plan(seeded, before)
    scan = _history_scan(plan)
    assert scan["Node Type"] == "Index Scan", scan["Node Type"]
    assert scan["Index Name"] == HISTORY_INDEX
    assert ROW_COMPARISON.search(scan["Index Cond"]), scan["Index Cond"]
    assert "thread_id" in scan["Index Cond"]


@pytest.mark.parametrize("depth", [0, 50_000])
def test_history_page_needs_no_sort(seeded: Seeded, depth: int) -> None:
    before = _cursor_at_depth(seeded, depth) if depth else None
    plan = _history_plan(seeded, before)
    assert not [node for node in _nodes(plan) if node["Node Type"] in ("Sort", "Incremental Sort")]


def test_auth_uid_runs_once_as_an_initplan(seeded: Seeded) -> None:
    # auth.uid() is a SQL function, inlined: in the plan it is its current_setting() body.
    plan = _history_plan(seeded, None)
    initplans = [node for node in _nodes(plan) if node.get("Parent Relationship") == "InitPlan"]
    assert initplans
    assert all("request.jwt.claim" in " ".join(node.get("Output", [])) for node in initplans), (
        initplans
    )
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


def test_messages_policy_is_a_set_membership_not_a_per_row_call(seeded: Seeded) -> None:
    plan = _explain(
        seeded, "select id from public.chat_messages where thread_id = %s", (THREAD_ID,)
    )
    text = json.dumps(plan)
    membership = "hashed SubPlan" in text or any(
        node.get("Join Type") == "Semi" or node["Node Type"].endswith("Semi Join")
        for node in _nodes(plan)
    )
    assert membership, text
    scan = _history_scan(plan)
    assert "auth.uid()" not in str(scan.get("Filter", "")), scan.get("Filter")


def _nested_plans(seeded: Seeded, **args: Any) -> list[Plan]:
    """Plans of the statements run inside chat_history when called exactly as PostgREST does.

    PostgREST passes each argument as a subquery of its JSON body, so the function is not
    inlined into the outer query: auto_explain (nested statements) shows its inner plan.
    """
    if seeded.admin_url is None:
        return _logged_plans(seeded, seeded.db.conn, args)
    with psycopg.connect(seeded.admin_url, autocommit=True) as admin:
        return _logged_plans(seeded, admin, args)


def _logged_plans(seeded: Seeded, conn: psycopg.Connection[Any], args: Any) -> list[Plan]:
    try:
        conn.execute("load 'auto_explain'")
    except psycopg.errors.InsufficientPrivilege:
        pytest.skip("auto_explain needs a superuser connection on this server")
    for setting, value in (
        ("auto_explain.log_min_duration", "0"),
        ("auto_explain.log_nested_statements", "on"),
        ("auto_explain.log_format", "json"),
        ("client_min_messages", "log"),
    ):
        conn.execute("select set_config(%s, %s, false)", (setting, value))
    try:
        result = seeded.db.as_user(seeded.alice, conn=conn).rpc("chat_history", **args)
    finally:
        conn.execute("reset client_min_messages")
        conn.execute("select set_config('auto_explain.log_min_duration', '-1', false)")
    assert result.ok, result
    plans: list[Plan] = []
    for notice in result.notices:
        start = notice.find("{")
        if notice.startswith("LOG") and start != -1:
            logged = json.loads(notice[start:])
            if "chat_messages" in logged.get("Query Text", ""):
                plans.append(logged["Plan"])
    return plans


@pytest.mark.parametrize("depth", [0, 50_000])
def test_history_through_the_api_is_an_index_scan_with_the_row_comparison(
    seeded: Seeded, depth: int
) -> None:
    created_at, message_id = _cursor_at_depth(seeded, depth) if depth else (None, None)
    [plan] = _nested_plans(
        seeded,
        _thread_id=THREAD_ID,
        _before_created_at=created_at,
        _before_id=message_id,
        _limit=50,
    )
    scan = _history_scan(plan)
    assert scan["Node Type"] == "Index Scan", scan
    assert scan["Index Name"] == HISTORY_INDEX
    assert ROW_COMPARISON.search(scan["Index Cond"]), scan["Index Cond"]
    assert not [node for node in _nodes(plan) if node["Node Type"] in ("Sort", "Incremental Sort")]
