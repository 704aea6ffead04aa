"""A throwaway cluster of the fault tests' own, which they may kill and restart.

The shared test server is never killed: these tests start a private cluster (the same
executor as the embedded one), SIGKILL it as an out-of-memory killer or a container kill
would, and start it again on the same data directory, where PostgreSQL runs crash recovery.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from pgpolicy.provision.cluster import (
    FAST_UNSAFE_SETTINGS,
    ClusterExecutor,
    ClusterLayout,
    free_port,
    start_cluster,
    stop_cluster,
)
from pgpolicy.provision.runas import ensure_traversable, pg_ctl_executable, server_os_user
from pgpolicy.provision.server import Server

_GONE_TIMEOUT = 20.0
# A killed server must keep every transaction it reported committed, as production does:
# with synchronous_commit off, a commit made just before the kill (the previous revision's)
# may still sit in the WAL buffers and be lost. fsync may stay off: a killed process leaves
# what it wrote in the operating system's cache.
CRASH_SAFE_SETTINGS = {**FAST_UNSAFE_SETTINGS, "synchronous_commit": "on"}


@dataclass
class CrashableCluster:
    """A running private cluster, its files, and the executor that started it."""

    server: Server
    layout: ClusterLayout
    executor: ClusterExecutor

    def postmaster_pid(self) -> int:
        """The postmaster's pid, from the first line of postmaster.pid."""
        return int((self.layout.data / "postmaster.pid").read_text().splitlines()[0])

    def kill(self) -> None:
        """SIGKILL the postmaster and every server process, and wait until all are gone."""
        postmaster = self.postmaster_pid()
        processes = [postmaster, *_children(postmaster)]
        for pid in processes:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + _GONE_TIMEOUT
        while any(_alive(pid) for pid in processes):
            assert time.monotonic() < deadline, "server processes survived SIGKILL"
            time.sleep(0.05)
        # A killed process may linger as a zombie until whoever adopted it reaps it (some
        # container inits take their time), and PostgreSQL takes a lock file whose pid still
        # answers kill(pid, 0) for a live server. Every process is dead: the files are stale.
        (self.layout.data / "postmaster.pid").unlink(missing_ok=True)
        for lock in self.layout.socket_dir.glob(".s.PGSQL.*.lock"):
            lock.unlink(missing_ok=True)

    def restart(self) -> None:
        """Start the server again on the same data directory (crash recovery runs first)."""
        # The executor still holds the finished `pg_ctl start` of the first start.
        self.executor._clear_process()
        try:
            self.executor.start()
        except Exception as error:
            raise AssertionError(f"restart failed: {error}\n{self.layout.log_tail()}") from error

    def recovered_from_crash(self) -> bool:
        """Whether the server log shows the automatic recovery that follows a crash."""
        log = self.layout.log_file.read_text(errors="replace")
        return "automatic recovery in progress" in log


@contextmanager
def crashable_cluster(bindir: Path) -> Iterator[CrashableCluster]:
    """initdb + start a private cluster; stop and delete it on exit, whatever happened."""
    user = server_os_user()
    ensure_traversable(Path("/tmp"), user)
    with ExitStack() as cleanup:
        root = Path(tempfile.mkdtemp(prefix="pgpolicy-faults-", dir="/tmp"))
        cleanup.callback(shutil.rmtree, root, ignore_errors=True)
        root.chmod(0o755)  # the server's OS user must get through to its data dir
        layout = ClusterLayout(root)
        layout.prepare(user)
        pg_ctl = cleanup.enter_context(pg_ctl_executable(bindir, user))
        executor = ClusterExecutor(
            pg_ctl, layout, free_port(), CRASH_SAFE_SETTINGS, persistent=False, initdb_sync=False
        )
        server = start_cluster(executor, layout, source="embedded")
        try:
            yield CrashableCluster(server=server, layout=layout, executor=executor)
        finally:
            stop_cluster(executor, layout)


def _children(parent: int) -> list[int]:
    """Pids whose parent is ``parent`` (the postmaster's backends and auxiliary processes)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command: state, ppid, ...
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    """Running, and not a zombie waiting to be reaped by whoever adopted it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
