"""Choosing where the database comes from, in DESIGN.md's order.

An explicit URL wins, then DATABASE_URL, then an embedded throwaway cluster, then Docker;
when all are missing, one message tells the user the three ways to fix it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace

from pgpolicy.provision.binaries import find_pg_bindir
from pgpolicy.provision.container import DEFAULT_IMAGE, container_server, docker_available
from pgpolicy.provision.embedded import throwaway_cluster
from pgpolicy.provision.server import ProvisionError, Server, server_from_url
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
    explicit_url: str | None = None, *, env: Mapping[str, str] | None = None
) -> Iterator[Server]:
    """A server for tests or throwaway work; anything this started is removed on exit.

    explicit_url -> env["DATABASE_URL"] -> embedded throwaway cluster (local server
    binaries) -> testcontainers (image from PGPOLICY_DOCKER_IMAGE) -> ProvisionError.
    If local binaries exist but the cluster fails to start, that error is raised rather
    than silently falling back to Docker.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    url = explicit_url or environ.get("DATABASE_URL", "").strip()
    if url:
        yield with_shaped_cluster_admin(server_from_url(url))
        return
    bindir = find_pg_bindir()
    if bindir is not None:
        with throwaway_cluster(bindir) as server:
            yield server
        return
    docker_ok, docker_reason = docker_available()
    if docker_ok:
        image = environ.get("PGPOLICY_DOCKER_IMAGE", "").strip() or DEFAULT_IMAGE
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
        f"(image {DEFAULT_IMAGE}, or PGPOLICY_DOCKER_IMAGE). "
        "Found: no pg_ctl/initdb/postgres on PATH or under /usr/lib/postgresql/*/bin; "
        f"{docker_reason}."
    )
