"""What kind of database the proofs run on.

Three kinds (DESIGN.md, "Where the database comes from"):
- ``embedded``: the throwaway Supabase-shaped cluster; the compat layer is installed by its
  bootstrap superuser ``supabase_admin``, everything else runs as ``postgres``;
- ``plain``: plain PostgreSQL at an explicit URL; the compat layer is installed as the URL's
  user into databases the harness creates;
- ``supabase``: a database with Supabase's own objects; the compat layer is never installed.
  The template is cloned from it when the URL's user may copy it and nobody else is connected;
  otherwise every test runs in place, in a transaction that is rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from pgpolicy.provision import Server
from pgpolicy.supabase import supabase_markers

__all__ = ["Target", "resolve_target"]

_CLONE_CHECK = """
select
  (select count(*) from pg_catalog.pg_stat_activity
   where datname = current_database() and pid <> pg_catalog.pg_backend_pid()) as others,
  (select d.datistemplate or pg_catalog.pg_has_role(d.datdba, 'usage')
   from pg_catalog.pg_database d where d.datname = current_database()) as may_copy,
  (select r.rolcreatedb or r.rolsuper from pg_catalog.pg_roles r
   where r.rolname = current_user) as may_create
"""


@dataclass(frozen=True)
class Target:
    """The kind of server, and for a real Supabase database, whether tests run in place."""

    kind: str
    in_place: bool = False
    why_in_place: str = ""
    markers: tuple[str, ...] = ()
    server_version: str = ""  # what the server says (``show server_version``)

    def describe(self, server: Server) -> str:
        """One line for the pytest header: where the proofs run, on which server version."""
        where = f"{server.host or 'local socket'}:{server.port}/{server.maintenance_db}"
        version = f"PostgreSQL {self.server_version}, " if self.server_version else ""
        return version + self._describe_kind(server, where)

    def _describe_kind(self, server: Server, where: str) -> str:
        if self.kind == "embedded":
            return (
                f"embedded Supabase-shaped cluster at {server.host}:{server.port} "
                f"(bootstrap superuser {server.admin_user}; migrations and tests as "
                f"{server.user})"
            )
        if self.kind == "plain":
            return (
                f"plain PostgreSQL at {where} as {server.user}: compat layer installed into "
                "the harness's own databases"
            )
        if self.in_place:
            return (
                f"real Supabase database at {where} as {server.user}: tests in place, each in "
                f"a rolled-back transaction ({self.why_in_place})"
            )
        return (
            f"real Supabase database at {where} as {server.user}: template cloned from it, "
            "compat layer not installed"
        )


def resolve_target(server: Server) -> Target:
    """Decide the kind of ``server`` and read its version (connecting once)."""
    with psycopg.connect(server.url(), autocommit=True, connect_timeout=10) as conn:
        version_row = conn.execute("select pg_catalog.current_setting('server_version')")
        version = str((version_row.fetchone() or ("",))[0])
        if server.source == "embedded":
            return Target("embedded", server_version=version)
        markers = tuple(supabase_markers(conn))
        if not markers:
            # A Supabase-shaped cluster of ours reached by URL is as good as the embedded one.
            kind = "embedded" if server.admin_user is not None else "plain"
            return Target(kind, server_version=version)
        row = conn.execute(_CLONE_CHECK).fetchone()
    others, may_copy, may_create = row if row is not None else (1, False, False)
    reasons = []
    if not may_create:
        reasons.append(f"{server.user} may not create databases")
    if not may_copy:
        reasons.append(f"{server.user} may not copy {server.maintenance_db} (not its owner)")
    if others:
        reasons.append(f"{others} other session(s) are connected to {server.maintenance_db}")
    return Target("supabase", bool(reasons), "; ".join(reasons), markers, version)
