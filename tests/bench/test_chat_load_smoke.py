"""`make bench`'s concurrent load still runs: 16 clients of 140 transactions each on tiny data, no
failed transaction, every transaction counted, every invariant holding, and an invariant
checker that can fail."""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg
import pytest

from pgpolicy.provision import Server
from pgpolicy.provision.binaries import find_pg_bindir
from pgpolicy.testing.plugin import skip_if_in_place
from pgpolicy.testing.target import Target
from pgpolicy.testing.template import migrated_template

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from chat_load import LOAD_BODY, WEIGHTS, check_invariants, run_load
from chat_seed import Shape, seed

ROOT = Path(__file__).resolve().parents[2]

SHAPE = Shape(partners=60, big_thread_messages=50, small_thread_messages=2)

_SECOND_BROADCAST = """
insert into realtime.messages (topic, extension, event, private, payload)
select 'chat:' || m.thread_id, 'broadcast', 'INSERT', true,
       jsonb_build_object('record', to_jsonb(m))
from public.chat_messages m where m.body = %s limit 1
"""


@pytest.mark.parametrize("service_role", [False, True], ids=["authenticated", "service_role"])
def test_the_load_mix_fails_no_transaction_and_keeps_every_invariant(
    pg_server: Server, pg_target: Target, service_role: bool
) -> None:
    skip_if_in_place(pg_target)
    if pg_target.kind == "supabase":
        pytest.skip("make bench builds Supabase-shaped databases of its own: not on real Supabase")
    bindir = find_pg_bindir()
    if bindir is None or not (bindir / "pgbench").exists():
        pytest.skip("pgbench is not installed next to the server binaries")
    with migrated_template(pg_server, ROOT / "alembic.ini", base=None) as name:
        url = pg_server.url(name)
        with psycopg.connect(url, autocommit=True) as conn:
            seed(conn, SHAPE)
        report = run_load(url, SHAPE, clients=16, transactions=140, service_role=service_role)
        assert (report.failed, report.aborted) == (0, False), report.output
        # Every transaction of every client counted, each under its script (pgbench's own
        # per-script summary, summed by its threads without a lock, can lose one).
        assert sum(report.transactions.values()) == 16 * 140, report.transactions
        assert set(report.transactions) == set(WEIGHTS)
        assert report.sends > 0
        assert report.transactions["new_thread_both_sides"] > 0
        with psycopg.connect(url, autocommit=True) as conn:
            assert check_invariants(conn, report.sends) == []
            # The checker can fail: one send too many expected, a second broadcast.
            assert check_invariants(conn, report.sends + 1) == [
                "a committed send not stored exactly once: 1"
            ]
            conn.execute(_SECOND_BROADCAST, (LOAD_BODY,))
            assert check_invariants(conn, report.sends) == [
                "a stored message without exactly one broadcast: 1"
            ]
