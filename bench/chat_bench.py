"""Benchmarks: what Row Level Security and the RPCs cost, as ratios to a baseline.

Each figure is measured in the same run as its baseline, on the same throwaway cluster, so
the ratios are comparable across machines; absolute times are printed for context only.
Run with `make bench`. Loopback only, bounded iterations.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg

from pgpolicy.provision import provide_server, unique_database_name
from pgpolicy.testing.harness import Database
from pgpolicy.testing.template import build_template

ROOT = Path(__file__).resolve().parents[1]
MESSAGES = 100_000
ROUNDS = 200
A, B = "64b0c0ffee00000000000001", "64b0c0ffee00000000000002"
THREAD = f"{A}__{B}"


def _median_ms(action: Callable[[], object], rounds: int = ROUNDS) -> float:
    for _ in range(10):
        action()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def _seed(db: Database) -> tuple[object, object]:
    alice = db.create_user("alice", app_metadata={"mongoUserId": A})
    bob = db.create_user("bob", app_metadata={"mongoUserId": B})
    db.execute(
        "insert into public.chat_threads values (%s, %s, %s, %s, %s)",
        (THREAD, A, B, alice.id, bob.id),
    )
    db.execute("alter table public.chat_messages disable trigger user")
    db.execute(
        "insert into public.chat_messages (thread_id, sender_supabase_id, sender_mongo_id,"
        " recipient_mongo_id, body, created_at) select %s, %s, %s, %s, 'm' || n,"
        " timestamptz '2026-01-01' + n * interval '1 second' from generate_series(1, %s) n",
        (THREAD, alice.id, A, B, MESSAGES),
    )
    db.execute("alter table public.chat_messages enable trigger user")
    db.execute("analyze")
    return alice, bob


def main() -> None:
    with provide_server() as server:
        name = unique_database_name("pgpolicy_bench")
        build_template(server, name, ROOT / "alembic.ini")
        conn = psycopg.connect(server.url(name), autocommit=True)
        db = Database(conn=conn, url=server.url(name), committing=True)
        alice, _bob = _seed(db)
        deep = db.execute(
            "select created_at, id from public.chat_messages order by created_at desc, id desc"
            " offset 50000 limit 1"
        )[0]
        raw_page = (
            "select * from public.chat_messages where thread_id = %s"
            " and (created_at, id) < (%s, %s) order by created_at desc, id desc limit 50"
        )
        alice_api = db.as_user(alice)
        service = db.as_service_role()
        rows: list[tuple[str, float, float]] = []
        for label, cursor in (
            ("depth 0", ("infinity", "ffffffff-ffff-ffff-ffff-ffffffffffff")),
            ("depth 50,000", (deep["created_at"], deep["id"])),
        ):
            # Same request path (settings, transaction) as service_role: RLS and RPC cost only.
            baseline = _median_ms(lambda c=cursor: service.execute(raw_page, (THREAD, *c)))
            api = _median_ms(
                lambda c=cursor: alice_api.rpc(
                    "chat_history", _thread_id=THREAD, _before_created_at=c[0], _before_id=c[1]
                )
            )
            rows.append(
                (
                    f"history page, {label}: chat_history as participant"
                    " vs raw query as service_role",
                    api,
                    baseline,
                )
            )
        raw_insert = (
            "insert into public.chat_messages (thread_id, sender_supabase_id, sender_mongo_id,"
            " recipient_mongo_id, body) values (%s, %s, %s, %s, 'bench')"
        )
        baseline = _median_ms(lambda: service.execute(raw_insert, (THREAD, alice.id, A, B)), 100)
        api = _median_ms(
            lambda: alice_api.rpc(
                "insert_chat_message_once",
                _message_id=uuid.uuid4(),
                _thread_id=THREAD,
                _sender_mongo_id=A,
                _recipient_mongo_id=B,
                _body="bench",
            ),
            100,
        )
        rows.append(("send: RPC as participant vs raw insert as service_role", api, baseline))
        conn.close()
        with psycopg.connect(server.url(), autocommit=True) as admin:
            admin.execute(f'drop database "{name}" with (force)')
    header = "benchmark (same request path for both)"
    print(f"{header:84} {'median ms':>10} {'baseline':>10} {'ratio':>7}")
    for label, value, base in rows:
        print(f"{label:84} {value:10.3f} {base:10.3f} {value / base:7.2f}x")


if __name__ == "__main__":
    main()
