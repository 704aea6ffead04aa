"""A local PostgreSQL cluster driven through pytest-postgresql's pg_ctl executor.

We reuse its executor (initdb, start, status, stop) and only adjust what our two uses need:
UTF8/C.UTF-8 initdb, initdb errors carried in the exception, listening on 127.0.0.1 only,
and, for the persistent development cluster, never deleting or killing what it started.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import port_for
from mirakuru.base import ENV_UUID
from mirakuru.exceptions import ExecutorError, ProcessExitedWithError, TimeoutExpired
from pytest_postgresql.exceptions import ExecutableMissingException, PostgreSQLUnsupported
from pytest_postgresql.executors.proc import PostgreSQLExecutor

from pgpolicy.provision.runas import OsUser, chown_to
from pgpolicy.provision.server import ProvisionError, Server
from pgpolicy.supabase.bootstrap import BootstrapError, shape_cluster_like_supabase

__all__ = [
    "FAST_UNSAFE_SETTINGS",
    "HOST",
    "LOGICAL_DECODING_SETTINGS",
    "SUPERUSER",
    "WORKING_ROLE",
    "ClusterExecutor",
    "ClusterLayout",
    "free_port",
    "start_cluster",
    "stop_cluster",
]

HOST = "127.0.0.1"
# Shaped like Supabase: initdb's bootstrap superuser is supabase_admin, and the toolkit
# works as the non-superuser postgres that supabase/bootstrap.py creates.
SUPERUSER = "supabase_admin"
WORKING_ROLE = "postgres"
START_TIMEOUT = 60
_SOCKET_PATH_MAX = 107  # sun_path limit on Linux, minus the NUL byte

# Throwaway clusters hold nothing worth a crash-safe write.
FAST_UNSAFE_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
# Postgres Changes in committing tests read the WAL through a logical slot, as Realtime does;
# commit timestamps let a test name the commit time it expects.
LOGICAL_DECODING_SETTINGS = {"wal_level": "logical", "track_commit_timestamp": "on"}


@dataclass(frozen=True)
class ClusterLayout:
    """Files of one cluster under ``root``: the data dir stays pristine for initdb/postgres."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "log" / "postgresql.log"

    @property
    def state_file(self) -> Path:
        return self.root / "cluster.json"

    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").is_file()

    def prepare(self, user: OsUser | None) -> None:
        """Create the directories, owned by the server's OS user (the data dir only if new)."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.data.exists():
            self.data.mkdir(mode=0o700)
            chown_to(self.data, user)
        for directory in (self.socket_dir, self.log_file.parent):
            directory.mkdir(mode=0o755, exist_ok=True)
            chown_to(directory, user)

    def read_state(self) -> dict[str, object]:
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def write_state(self, **state: object) -> None:
        self.state_file.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")

    def running_port(self) -> int | None:
        """Port from postmaster.pid (line 4), the running server's own record."""
        try:
            lines = (self.data / "postmaster.pid").read_text().splitlines()
            return int(lines[3])
        except (OSError, IndexError, ValueError):
            return None

    def log_tail(self, lines: int = 30) -> str:
        try:
            with self.log_file.open(errors="replace") as handle:
                return "".join(deque(handle, maxlen=lines)).rstrip()
        except OSError:
            return "(no server log)"


class ClusterExecutor(PostgreSQLExecutor):
    """pytest-postgresql's executor with our initdb options and an optional persistent mode.

    Persistent mode (the development cluster) must survive this Python process: an existing
    data dir is never re-initialised, and the server does not carry mirakuru's process
    marker, which mirakuru's atexit hook otherwise uses to SIGKILL what the executor started.
    """

    def __init__(
        self,
        pg_ctl: Path,
        layout: ClusterLayout,
        port: int,
        settings: dict[str, str],
        *,
        persistent: bool,
        initdb_sync: bool,
    ) -> None:
        self.persistent = persistent
        self.initdb_sync = initdb_sync
        sockets = str(layout.socket_dir)
        if len(sockets) + len(f"/.s.PGSQL.{port}") > _SOCKET_PATH_MAX:
            sockets = ""  # path too long for a unix socket: TCP only
        options = {"listen_addresses": HOST, **settings}
        super().__init__(
            executable=str(pg_ctl),
            host=HOST,
            port=port,
            datadir=str(layout.data),
            unixsocketdir=sockets,
            logfile=str(layout.log_file),
            startparams=f"-w -t {START_TIMEOUT}",
            dbname="postgres",
            timeout=START_TIMEOUT,
            user=SUPERUSER,
            password=None,
            postgres_options=" ".join(f"-c {name}={value}" for name, value in options.items()),
        )

    @property
    def envvars(self) -> dict[str, str]:
        env = super().envvars
        if self.persistent:
            env.pop(ENV_UUID, None)
        return env

    def _build_initdb_command(
        self, initdb_options: list[str], pgdata: str | None = None
    ) -> list[str]:
        extra = ["--encoding=UTF8", "--locale=C.UTF-8"]
        if not self.initdb_sync:
            extra.append("--no-sync")
        return super()._build_initdb_command([*initdb_options, *extra], pgdata)

    def _run_initdb(self, command: list[str]) -> None:
        """As the base class, but keep initdb's own words for the error."""
        try:
            subprocess.run(
                command,
                env=self._initdb_env(),
                capture_output=True,
                text=True,
                timeout=self._timeout,
                check=True,
            )
        except subprocess.CalledProcessError as exc:
            output = f"{exc.stdout or ''}{exc.stderr or ''}".strip()
            raise ProvisionError(
                f"initdb failed for {self.datadir} (exit {exc.returncode}):\n{output}"
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise ProvisionError(f"initdb did not finish within {self._timeout}s") from exc

    def init_directory(self) -> None:
        if self.persistent and (Path(self.datadir) / "PG_VERSION").is_file():
            return  # an existing cluster: never re-initialise (the base would wipe it)
        super().init_directory()

    def clean_directory(self) -> None:
        """Never delete: callers own the directories' lifecycle.

        The base removes the data dir before initdb (ours is prepared and owned by the
        server's OS user) and on garbage collection (the dev cluster's data must survive);
        the throwaway cluster removes its whole temp dir itself.
        """

    def start(self) -> ClusterExecutor:
        """Start, then also wait for ``pg_ctl start -w`` itself to report the server ready.

        mirakuru returns as soon as the port accepts TCP, which is before recovery ends and
        while pg_ctl may still write to its (soon closed) stdout pipe.
        """
        super().start()
        if self.process is not None:
            try:
                self.process.communicate(timeout=self._timeout)
            except subprocess.TimeoutExpired as exc:
                raise TimeoutExpired(self, self._timeout) from exc
            if self.process.returncode != 0:
                raise ProcessExitedWithError(self, self.process.returncode)
        if self.persistent:
            # Forget the finished launcher so that garbage collection of this executor does
            # not try to kill "its" process tree.
            self._clear_process()
        return self


def free_port(preferred: object = None) -> int:
    """``preferred`` if it is an int and still free on 127.0.0.1, else a random free port."""
    if isinstance(preferred, int) and 0 < preferred < 65536 and _can_listen(preferred):
        return preferred
    return port_for.select_random()


def _can_listen(port: int) -> bool:
    """Whether postgres could bind ``port``: like it, with SO_REUSEADDR, so that connections
    of the previous run lingering in TIME_WAIT do not make the port look taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def start_cluster(executor: ClusterExecutor, layout: ClusterLayout, *, source: str) -> Server:
    """Start (initdb first if needed), shape its roles like Supabase's; the working server.

    On failure stop what half-started and report the log.
    """
    try:
        executor.start()
    except (ExecutorError, ExecutableMissingException, PostgreSQLUnsupported, OSError) as exc:
        with contextlib.suppress(Exception):
            if executor.running():
                executor.stop()
        raise ProvisionError(
            f"PostgreSQL did not start on {HOST}:{executor.port} "
            f"with data directory {layout.data}: {exc}\n"
            f"--- last lines of {layout.log_file} ---\n{layout.log_tail()}"
        ) from exc
    server = cluster_server(executor.port, source=source)
    try:
        shape_cluster_like_supabase(server.admin().url())
    except BootstrapError as exc:
        with contextlib.suppress(Exception):
            executor.stop()
        raise ProvisionError(f"{exc} (data directory {layout.data})") from exc
    return server


def cluster_server(port: int, *, source: str) -> Server:
    """A Supabase-shaped local cluster on ``port``: work as postgres, install as supabase_admin."""
    return Server(
        host=HOST,
        port=port,
        user=WORKING_ROLE,
        password=None,
        maintenance_db="postgres",
        source=source,
        admin_user=SUPERUSER,
    )


def stop_cluster(executor: ClusterExecutor, layout: ClusterLayout) -> None:
    """Fast shutdown (transactions rolled back, data checkpointed)."""
    try:
        executor.stop()
    except (ExecutorError, subprocess.SubprocessError, OSError) as exc:
        raise ProvisionError(
            f"PostgreSQL with data directory {layout.data} did not stop: {exc}\n"
            f"--- last lines of {layout.log_file} ---\n{layout.log_tail()}"
        ) from exc
