"""Put the benchmark client and the server's backends on one CPU, when the server is local.

A pgbench transaction is a string of request/reply round trips. With the client on one CPU
and the backend free to run on another, every reply first wakes an idle CPU, and how long that
takes depends on what the machine did a moment earlier: the same script measured 0.12 ms in
one run and 0.28 ms in the next. On one CPU the client and its backend hand over to each other
directly, and a run repeats within a few percent. Backends are forked by the postmaster and
inherit its CPU affinity, so pinning the postmaster pins every connection opened afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg

__all__ = ["one_cpu_for_client_and_server"]


def _parent_pid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the parenthesised command: state, ppid, ...
    return int(stat.rsplit(")", 1)[1].split()[1])


def _is_postgres(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip().startswith("postgres")
    except OSError:
        return False


def _local_postmaster(url: str) -> int | None:
    """The postmaster's pid if the server runs on this machine, in this pid namespace."""
    # Read /proc while the backend is alive: once the connection closes, its pid may be gone.
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("select pg_backend_pid()").fetchone()
        backend = int(row[0]) if row else -1
        # A server elsewhere (or in a container) reports a pid that is not a postgres process
        # here, or is one by coincidence whose parent is not: then nothing is pinned.
        if not _is_postgres(backend):
            return None
        postmaster = _parent_pid(backend)
    if postmaster is None or not _is_postgres(postmaster):
        return None
    return postmaster


@contextmanager
def one_cpu_for_client_and_server(url: str) -> Iterator[int | None]:
    """Pin the server's postmaster to one CPU and yield that CPU for the client (None: left
    as is, because the machine has one CPU, or the server is not local, or may not be
    pinned). The postmaster's affinity is restored on exit."""
    cpus = sorted(os.sched_getaffinity(0))
    postmaster = _local_postmaster(url) if len(cpus) > 1 else None
    if postmaster is None:
        yield None
        return
    cpu = cpus[-1]
    try:
        before = os.sched_getaffinity(postmaster)
        os.sched_setaffinity(postmaster, {cpu})
    except OSError:
        yield None
        return
    try:
        yield cpu
    finally:
        with suppress(OSError):
            os.sched_setaffinity(postmaster, before)
