"""`make bench` still runs: every benchmark transaction succeeds under pgbench, on tiny data.

No timing is asserted (speed targets live in `make bench` itself): pgbench aborts a run on
the first failed statement, so a request the schema no longer allows, or a broken baseline,
fails here. Plan shapes are tests/chat/test_plan_shape.py's business (on data large enough
for the planner to prefer the index).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pgpolicy.provision import Server
from pgpolicy.provision.binaries import find_pg_bindir
from pgpolicy.testing.plugin import skip_if_in_place
from pgpolicy.testing.target import Target

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from chat_bench import run_bench
from chat_seed import Shape

# The two shapes `make bench` judges, tiny: the busy user holding most of the threads, and
# holding a few among other users' threads.
SMOKE_SHAPES = [
    pytest.param(Shape(partners=40, big_thread_messages=300, small_thread_messages=2), id="half"),
    pytest.param(
        Shape(partners=6, big_thread_messages=300, small_thread_messages=2, other_threads=30),
        id="tiny",
    ),
]


@pytest.mark.parametrize("shape", SMOKE_SHAPES)
def test_every_benchmark_transaction_runs(
    shape: Shape, pg_server: Server, pg_target: Target
) -> None:
    skip_if_in_place(pg_target)
    if pg_target.kind == "supabase":
        # run_bench builds its own database with the compat layer, as `make bench` does on
        # the embedded cluster; a real Supabase server is never given that layer.
        pytest.skip("make bench builds Supabase-shaped databases of its own: not on real Supabase")
    bindir = find_pg_bindir()
    if bindir is None or not (bindir / "pgbench").exists():
        pytest.skip("pgbench is not installed next to the server binaries")
    figures, plans = run_bench(pg_server, shape, 1, 3)
    assert len(figures) == 18
    # The reference rows read chat_threads directly and are never judged against the contract.
    assert {f.name.split(" (")[0] for f in figures if not f.in_contract} == {
        "chat_threads read directly"
    }
    assert len(plans) == 2
    for plan in plans.values():
        assert "rows=50 loops=1" in plan.splitlines()[0], plan
