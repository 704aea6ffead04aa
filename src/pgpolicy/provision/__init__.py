"""Where the database comes from: an explicit URL, an embedded cluster, or a container.

See DESIGN.md, "Where the database comes from". A cluster started here is shaped like
Supabase (supabase/bootstrap.py): bootstrap superuser ``supabase_admin``, working role
``postgres``; ``Server`` carries both.
"""

from pgpolicy.provision.binaries import find_pg_bindir, server_bindir
from pgpolicy.provision.container import docker_available
from pgpolicy.provision.databases import (
    create_database,
    drop_database,
    ensure_database,
    temporary_database,
    unique_database_name,
)
from pgpolicy.provision.devcluster import (
    dev_cluster_major,
    dev_cluster_status,
    start_dev_cluster,
    stop_dev_cluster,
)
from pgpolicy.provision.provide import provide_server, with_shaped_cluster_admin
from pgpolicy.provision.server import ProvisionError, Server, server_from_url
from pgpolicy.provision.versions import (
    DEFAULT_PG_VERSION,
    PG_VERSION_ENV,
    SUPPORTED_PG_VERSIONS,
    PgVersion,
    resolve_pg_version,
)

__all__ = [
    "DEFAULT_PG_VERSION",
    "PG_VERSION_ENV",
    "SUPPORTED_PG_VERSIONS",
    "PgVersion",
    "ProvisionError",
    "Server",
    "create_database",
    "dev_cluster_major",
    "dev_cluster_status",
    "docker_available",
    "drop_database",
    "ensure_database",
    "find_pg_bindir",
    "provide_server",
    "resolve_pg_version",
    "server_bindir",
    "server_from_url",
    "start_dev_cluster",
    "stop_dev_cluster",
    "temporary_database",
    "unique_database_name",
    "with_shaped_cluster_admin",
]
