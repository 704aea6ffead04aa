"""Persistent development cluster in a project folder (e.g. ``.pgdata/``).

Unlike the throwaway cluster it keeps its data and durable settings between runs, and it
keeps its port where possible, so the printed ``psql`` line stays valid. Layout under the
folder: ``data/`` (PGDATA), ``run/`` (unix socket), ``log/postgresql.log``, ``cluster.json``.
A data directory runs only with the major version that made it: asking for another one is
an error that says so, never a silent reuse of the old version.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pgpolicy.provision.binaries import missing_binaries_error, server_bindir
from pgpolicy.provision.cluster import (
    FAST_UNSAFE_SETTINGS,
    LOGICAL_DECODING_SETTINGS,
    ClusterExecutor,
    ClusterLayout,
    cluster_server,
    free_port,
    start_cluster,
    stop_cluster,
)
from pgpolicy.provision.runas import ensure_traversable, pg_ctl_executable, server_os_user
from pgpolicy.provision.server import ProvisionError, Server
from pgpolicy.provision.versions import DEFAULT_PG_VERSION, PG_VERSION_ENV
from pgpolicy.supabase.bootstrap import BootstrapError, shape_cluster_like_supabase

__all__ = ["dev_cluster_major", "dev_cluster_status", "start_dev_cluster", "stop_dev_cluster"]

# fsync=on undoes the -F (fsync off) that pytest-postgresql always passes to postgres.
_DURABLE_SETTINGS = {"fsync": "on"}


def start_dev_cluster(
    datadir: Path, *, durable: bool = True, pg_version: str = DEFAULT_PG_VERSION
) -> Server:
    """initdb if absent, start if not running (same port as last time when free); idempotent.

    ``durable=False`` starts it with the throwaway cluster's fast, crash-unsafe settings (a
    stand-in that CI starts and deletes). A data directory of another major version than
    ``pg_version`` is refused (ProvisionError naming both and what to do).
    """
    layout = ClusterLayout(datadir.resolve())
    _refuse_other_major(layout, pg_version)
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
    # Supabase's servers decode their WAL (Realtime's slot): so does this one.
    settings = {
        **(_DURABLE_SETTINGS if durable else FAST_UNSAFE_SETTINGS),
        **LOGICAL_DECODING_SETTINGS,
    }
    with _executor(layout, port, settings, pg_version=pg_version) as executor:
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


def dev_cluster_major(datadir: Path) -> str | None:
    """Major version of the development cluster's data directory (None: not created)."""
    layout = ClusterLayout(datadir.resolve())
    return _data_major(layout)


def _data_major(layout: ClusterLayout) -> str | None:
    if not layout.initialised():
        return None
    return (layout.data / "PG_VERSION").read_text().strip()


def _refuse_other_major(layout: ClusterLayout, pg_version: str) -> None:
    existing = _data_major(layout)
    if existing is None or existing == pg_version:
        return
    raise ProvisionError(
        f"The development cluster in {layout.root} is PostgreSQL {existing}, and PostgreSQL "
        f"{pg_version} was asked for: a data directory runs only with the version that made "
        f"it. Use it with --pg-version {existing} (or {PG_VERSION_ENV}={existing}), or stop "
        f"it and move {layout.root} away (or pass another --datadir) for a fresh "
        f"{pg_version} cluster."
    )


@contextmanager
def _executor(
    layout: ClusterLayout,
    port: int,
    settings: dict[str, str] = _DURABLE_SETTINGS,
    *,
    pg_version: str = DEFAULT_PG_VERSION,
) -> Iterator[ClusterExecutor]:
    """Executor for this cluster, with the binaries of the version that created it (or, for
    a new one, of ``pg_version``)."""
    user = server_os_user()
    bindir = _bindir_for(layout, pg_version)
    ensure_traversable(bindir, user)
    with pg_ctl_executable(bindir, user) as pg_ctl:
        yield ClusterExecutor(pg_ctl, layout, port, settings, persistent=True, initdb_sync=True)


def _bindir_for(layout: ClusterLayout, pg_version: str) -> Path:
    major = _data_major(layout) or pg_version
    bindir = server_bindir(major)
    if bindir is None:
        error = missing_binaries_error(major)
        if layout.initialised():
            raise ProvisionError(
                f"The development cluster in {layout.root} was created by PostgreSQL {major}. "
                f"{error} Or move {layout.root} away to start a fresh cluster."
            )
        raise ProvisionError(f"{error} Or use an existing server via DATABASE_URL.")
    return bindir
