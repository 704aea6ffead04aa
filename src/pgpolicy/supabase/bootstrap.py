"""Shaping a fresh local cluster's roles like a Supabase project's.

initdb made ``supabase_admin`` the bootstrap superuser; this adds Supabase's roles (the
compat layer's role file: roles are cluster-wide) and ``postgres`` as Supabase has it: a
LOGIN non-superuser with BYPASSRLS, CREATEDB, CREATEROLE, REPLICATION, member of the API
roles and of pg_read_all_data, pg_monitor, pg_signal_backend (SUPABASE-FACTS.md), all
granted by supabase_admin. On 16 and later, as supabase/postgres does there, the API roles
come WITH ADMIN OPTION (16's CREATEROLE manages only roles it holds with ADMIN, so without
it postgres could not grant or drop them), and postgres is also a member of
pg_create_subscription (16+; Supabase builds it on 17).
"""

from __future__ import annotations

import psycopg

from pgpolicy.supabase.install import compat_sql_files

__all__ = [
    "BOOTSTRAP_MARKER",
    "BOOTSTRAP_SUPERUSER",
    "BootstrapError",
    "shape_cluster_like_supabase",
    "shaped_cluster_admin",
]

BOOTSTRAP_SUPERUSER = "supabase_admin"

# Marks the cluster's supabase_admin as ours, so detection does not take it for Supabase's.
BOOTSTRAP_MARKER = "pgpolicy compat: bootstrap superuser of a Supabase-shaped cluster"

_BOOTSTRAP_SQL = """
comment on role supabase_admin is '{marker}';
alter role supabase_admin set search_path to "$user", public, auth, extensions;
do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'postgres') then
    create role postgres;
  end if;
end
$$;
comment on role postgres is 'pgpolicy compat: working role of a Supabase-shaped cluster';
alter role postgres login nosuperuser inherit createdb createrole replication bypassrls;
grant pg_read_all_data, pg_monitor, pg_signal_backend to postgres;
-- EXECUTE: PL/pgSQL checks every statement's syntax, and 15 has no WITH ADMIN TRUE form.
do $$
begin
  if current_setting('server_version_num')::int >= 160000 then
    execute 'grant anon, authenticated, service_role to postgres with admin true';
    execute 'grant pg_create_subscription to postgres';
  else
    execute 'grant anon, authenticated, service_role to postgres';
  end if;
end
$$;
alter role postgres set search_path to "$user", public, extensions;
-- On Supabase, postgres creates schemas in the postgres database and its tables in public.
grant all on database postgres to postgres;
grant usage, create on schema public to postgres;
"""


class BootstrapError(RuntimeError):
    """The cluster cannot be shaped like Supabase; the message says why and what to do."""


def shape_cluster_like_supabase(admin_url: str) -> None:
    """Create Supabase's roles and ``postgres`` on a cluster whose superuser is supabase_admin.

    Idempotent (a restarted development cluster runs it again and nothing changes).
    """
    try:
        conn = psycopg.connect(admin_url, autocommit=True)
    except psycopg.OperationalError as exc:
        raise BootstrapError(
            "cannot log in as the cluster's bootstrap superuser supabase_admin: a cluster made "
            "before the embedded cluster was shaped like Supabase has `postgres` as its "
            "superuser instead; stop it and move its data directory away to get a fresh one "
            f"({exc})"
        ) from exc
    with conn:
        superuser = conn.execute(
            "select rolsuper from pg_catalog.pg_roles where rolname = current_user"
        ).fetchone()
        if superuser is None or not superuser[0]:
            raise BootstrapError("supabase_admin is not a superuser on this cluster")
        roles_sql = dict(compat_sql_files())["010_roles.sql"]
        with conn.transaction():
            conn.execute(roles_sql.encode())
            conn.execute(_BOOTSTRAP_SQL.replace("{marker}", BOOTSTRAP_MARKER).encode())


def shaped_cluster_admin(url: str, admin_url: str) -> str | None:
    """``supabase_admin`` when ``url`` reaches, as a non-superuser, a Supabase-shaped cluster
    this toolkit started (``make upgrade``'s, a stand-in) and ``admin_url`` logs in as its
    superuser; else None. So such a cluster given by URL installs as on its own start."""
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            row = conn.execute(
                "select not r.rolsuper and exists (select from pg_catalog.pg_roles a"
                " where a.rolname = %s and a.rolsuper"
                " and pg_catalog.shobj_description(a.oid, 'pg_authid') = %s)"
                " from pg_catalog.pg_roles r where r.rolname = current_user",
                (BOOTSTRAP_SUPERUSER, BOOTSTRAP_MARKER),
            ).fetchone()
        if not (row and row[0]):
            return None
        with psycopg.connect(admin_url, connect_timeout=10):
            return BOOTSTRAP_SUPERUSER
    except psycopg.Error:
        return None
