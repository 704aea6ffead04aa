"""Throwaway PostgreSQL cluster in a temp dir: fast, unsafe settings, gone on exit."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from pgpolicy.provision.cluster import (
    FAST_UNSAFE_SETTINGS,
    LOGICAL_DECODING_SETTINGS,
    ClusterExecutor,
    ClusterLayout,
    free_port,
    start_cluster,
    stop_cluster,
)
from pgpolicy.provision.runas import OsUser, ensure_traversable, pg_ctl_executable, server_os_user
from pgpolicy.provision.server import ProvisionError, Server

__all__ = ["throwaway_cluster"]


@contextmanager
def throwaway_cluster(bindir: Path) -> Iterator[Server]:
    """initdb + start a private cluster on a free port; stop and delete it on exit, always."""
    user = server_os_user()
    with ExitStack() as cleanup:
        root = Path(tempfile.mkdtemp(prefix="pgpolicy-pg-", dir=_temp_base(user)))
        cleanup.callback(shutil.rmtree, root, ignore_errors=True)
        root.chmod(0o755)  # the server's OS user must get through to its data dir
        ensure_traversable(bindir, user)  # and to its binaries (a cache under /root is not)
        layout = ClusterLayout(root)
        layout.prepare(user)
        pg_ctl = cleanup.enter_context(pg_ctl_executable(bindir, user))
        executor = ClusterExecutor(
            pg_ctl,
            layout,
            free_port(),
            {**FAST_UNSAFE_SETTINGS, **LOGICAL_DECODING_SETTINGS},
            persistent=False,
            initdb_sync=False,
        )
        server = start_cluster(executor, layout, source="embedded")
        try:
            yield server
        finally:
            stop_cluster(executor, layout)


def _temp_base(user: OsUser | None) -> str:
    """The temp dir, or /tmp when TMPDIR is private to root and the server user is not."""
    base = tempfile.gettempdir()
    if user is None:
        return base
    for candidate in (base, "/tmp"):
        try:
            ensure_traversable(Path(candidate), user)
        except ProvisionError:
            continue
        return candidate
    ensure_traversable(Path("/tmp"), user)  # raises with the explanation
    return "/tmp"
