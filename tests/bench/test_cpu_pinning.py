"""`make bench` puts pgbench and the server's backends on one CPU when the server is local.

The figures' repeatability rests on it (bench/cpu_pinning.py): these tests check that a new
backend really lands on the chosen CPU, and that the server gets its CPUs back afterwards.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import psycopg
import pytest

from pgpolicy.provision import Server

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import cpu_pinning
from cpu_pinning import one_cpu_for_client_and_server


def _backend_cpus(url: str) -> set[int]:
    """The CPUs a new backend may run on (read while it is alive)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("select pg_backend_pid()").fetchone()
        assert row is not None
        return os.sched_getaffinity(int(row[0]))


def _is_local(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("select pg_backend_pid()").fetchone()
        return row is not None and Path(f"/proc/{row[0]}/comm").exists()


def test_backends_opened_while_pinned_run_on_the_clients_cpu(pg_server: Server) -> None:
    url = pg_server.url()
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: nothing to pin")
    if not _is_local(url):
        pytest.skip("the server is not a process on this machine")
    before = _backend_cpus(url)
    with one_cpu_for_client_and_server(url) as cpu:
        assert cpu is not None
        assert _backend_cpus(url) == {cpu}
    assert _backend_cpus(url) == before


def test_a_server_that_is_not_local_is_left_alone(
    pg_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A backend pid that is no postgres process here stands for a server elsewhere (or in a
    # container, another pid namespace): nothing is pinned, and the server keeps its CPUs.
    url = pg_server.url()
    if not _is_local(url):
        pytest.skip("the server is not a process on this machine")
    before = _backend_cpus(url)
    monkeypatch.setattr(cpu_pinning, "_is_postgres", lambda pid: False)
    with one_cpu_for_client_and_server(url) as cpu:
        assert cpu is None
        assert _backend_cpus(url) == before
