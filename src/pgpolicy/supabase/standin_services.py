"""The stand-in's services: a session held on its database, as Supabase's own servers hold one.

On Supabase the `postgres` database is owned by `postgres`, yet it cannot be cloned: Auth,
Realtime and PostgREST stay connected to it (CREATE DATABASE … TEMPLATE needs a template
nobody is connected to). The stand-in gives its `postgres` database the same owner and keeps
one such session open (as `authenticator`, PostgREST's login) in a detached process, so the
harness meets what it meets on Supabase and runs its tests in place.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg

__all__ = ["hold_services_session", "release_services_session"]

SERVICES_LOGIN = "authenticator"
_PIDFILE = "pgpolicy-standin-services.pid"
_APPLICATION = "pgpolicy stand-in services"

# Run by the detached process: connect, then wait until killed (or the server goes away).
_HOLDER = """
import sys, time, psycopg
conn = psycopg.connect(sys.argv[1], application_name=sys.argv[2], autocommit=True)
while True:
    time.sleep(5)
    conn.execute("select 1")
"""


def hold_services_session(url: str, datadir: Path) -> None:
    """Keep a session open on ``url``'s database from a detached process (once)."""
    pidfile = datadir / _PIDFILE
    if _alive(pidfile):
        return
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, url, _APPLICATION],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # outlives the command that started it
    )
    pidfile.write_text(f"{process.pid}\n")
    deadline = time.monotonic() + 30
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the stand-in's services session could not connect to {url}")
            row = conn.execute(
                "select count(*) from pg_catalog.pg_stat_activity where application_name = %s",
                (_APPLICATION,),
            ).fetchone()
            if row and row[0]:
                return
            time.sleep(0.1)
    raise RuntimeError("the stand-in's services session did not appear within 30 s")


def release_services_session(datadir: Path) -> None:
    """End the held session's process, if there is one."""
    pidfile = datadir / _PIDFILE
    pid = _pid(pidfile)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    pidfile.unlink(missing_ok=True)


def _pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pidfile: Path) -> bool:
    pid = _pid(pidfile)
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
