"""A local stand-in for a real Supabase database, for exercising the real-Supabase path.

The compat layer, installed the Supabase way (by supabase_admin, into the ``postgres``
database of a Supabase-shaped cluster), then sealed so that it looks as Supabase's own
services leave a database: no pgpolicy markers on the auth and realtime schemas, and the
bookkeeping tables the Auth and Realtime servers create. (The cluster's supabase_admin keeps
its marker, so other databases of the cluster can still be given the layer.) Detection then
answers "real Supabase", and the harness treats it exactly as it treats `supabase start`.
"""

from __future__ import annotations

import contextlib

import psycopg
from psycopg import sql

from pgpolicy.supabase.detect import SupabaseDetected
from pgpolicy.supabase.install import install_compat

__all__ = ["give_postgres_database_to_postgres", "install_sealed_stand_in"]

_SEAL = """
comment on schema auth is null;
comment on schema realtime is null;
create table if not exists auth.schema_migrations (version varchar(255) primary key);
alter table auth.schema_migrations owner to supabase_auth_admin;
create table if not exists realtime.schema_migrations (
  version bigint primary key,
  inserted_at timestamp(0)
);
alter table realtime.schema_migrations owner to supabase_realtime_admin;
-- As Realtime's tenant schema creates it (some 2026 images give it LOGIN CREATEROLE
-- REPLICATION, as the embedded cluster does; nothing here logs in as it).
alter role supabase_realtime_admin nologin noinherit nocreaterole noreplication;
"""


def install_sealed_stand_in(admin_url: str) -> None:
    """Install (once) and seal the compat layer in ``admin_url``'s database; idempotent."""
    # Sealed by an earlier run, it already looks like Supabase and is left as it is.
    with contextlib.suppress(SupabaseDetected):
        install_compat(admin_url)
    with psycopg.connect(admin_url, autocommit=True) as conn, conn.transaction():
        conn.execute(_SEAL.encode())


def give_postgres_database_to_postgres(admin_url: str) -> None:
    """The database of ``admin_url`` owned by postgres, as Supabase's postgres database is."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        dbname = conn.info.dbname
        conn.execute(sql.SQL("alter database {} owner to postgres").format(sql.Identifier(dbname)))
