"""Persistent development cluster in a project folder (e.g. ``.pgdata/``).

Unlike the throwaway cluster it keeps its data and durable settings between runs, and it
keeps its port where possible, so the printed ``psql`` line stays valid. Layout under the
folder: ``data/`` (PGDATA), ``run/`` (unix socket), ``log/postgresql.log``, ``cluster.json``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pgpolicy.provision.binaries import find_pg_bindir, pg_bindir_for_major
from pgpolicy.provision.cluster import (
    FAST_UNSAFE_SETTINGS,
    ClusterExecutor,
    ClusterLayout,
    cluster_server,
    free_port,
    start_cluster,
    stop_cluster,
)
from pgpolicy.provision.runas import ensure_traversable, pg_ctl_executable, server_os_user
from pgpolicy.provision.server import ProvisionError, Server
from pgpolicy.supabase.bootstrap import BootstrapError, shape_cluster_like_supabase

__all__ = ["dev_cluster_status", "start_dev_cluster", "stop_dev_cluster"]

# fsync=on undoes the -F (fsync off) that pytest-postgresql always passes to postgres.
_DURABLE_SETTINGS = {"fsync": "on"}


def start_dev_cluster(datadir: Path, *, durable: bool = True) -> Server:
    """initdb if absent, start if not running (same port as last time when free); idempotent.

    ``durable=False`` starts it with the throwaway cluster's fast, crash-unsafe settings (a
    stand-in that CI starts and deletes).
    """
    layout = ClusterLayout(datadir.resolve())
    running = dev_cluster_status(datadir)
    if running is not None:
        # Idempotent, and it names the problem when the cluster predates the Supabase shape.
        try:
            shape_cluster_like_supabase(running.admin().url())
        except BootstrapError as exc:
            raise ProvisionError(f"{exc} (development cluster in {layout.root})") from exc
        return running
    user = server_os_user()
    layout.root.mkdir(parents=True, exist_ok=True)
    ensure_traversable(layout.root, user)
    layout.prepare(user)
    port = free_port(layout.read_state().get("port"))
    settings = _DURABLE_SETTINGS if durable else FAST_UNSAFE_SETTINGS
    with _executor(layout, port, settings) as executor:
        server = start_cluster(executor, layout, source="embedded")
    layout.write_state(port=server.port)
    return server


def stop_dev_cluster(datadir: Path) -> bool:
    """Stop the cluster if it runs (True if it did). Never deletes data."""
    layout = ClusterLayout(datadir.resolve())
    if dev_cluster_status(datadir) is None:
        return False
    with _executor(layout, layout.running_port() or 0) as executor:
        stop_cluster(executor, layout)
    return True


def dev_cluster_status(datadir: Path) -> Server | None:
    """The running development cluster, or None (not created, stopped, or no binaries)."""
    layout = ClusterLayout(datadir.resolve())
    if not layout.initialised() or not (layout.data / "postmaster.pid").is_file():
        return None
    try:
        with _executor(layout, 0) as executor:
            if not executor.running():
                return None
    except ProvisionError:
        return None
    port = layout.running_port()
    if port is None:
        return None
    return cluster_server(port, source="embedded")


@contextmanager
def _executor(
    layout: ClusterLayout, port: int, settings: dict[str, str] = _DURABLE_SETTINGS
) -> Iterator[ClusterExecutor]:
    """Executor for this cluster, with the binaries of the version that created it."""
    with pg_ctl_executable(_bindir_for(layout), server_os_user()) as pg_ctl:
        yield ClusterExecutor(pg_ctl, layout, port, settings, persistent=True, initdb_sync=True)


def _bindir_for(layout: ClusterLayout) -> Path:
    if layout.initialised():
        major = (layout.data / "PG_VERSION").read_text().strip()
        bindir = pg_bindir_for_major(major)
        if bindir is None:
            raise ProvisionError(
                f"The development cluster in {layout.root} was created by PostgreSQL {major}, "
                f"whose server binaries are not installed (looked on PATH and under "
                f"/usr/lib/postgresql/{major}/bin). Install them, or move {layout.root} away "
                "to start a fresh cluster."
            )
        return bindir
    bindir = find_pg_bindir()
    if bindir is None:
        raise ProvisionError(
            "No PostgreSQL server binaries (pg_ctl, initdb, postgres) on PATH or under "
            "/usr/lib/postgresql/*/bin for the development cluster. Install them "
            "(scripts/ensure-postgres.sh, or apt-get install postgresql), or use an existing "
            "server via DATABASE_URL."
        )
    return bindir
