"""Creating and dropping the harness's own databases on a server.

On a shared server (CI service, staging) the harness only ever touches databases it named
itself, so names are unique per process and drops are forced (FORCE ends leftover sessions).
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors, sql

from pgpolicy.provision.server import Server

__all__ = [
    "create_database",
    "drop_database",
    "ensure_database",
    "temporary_database",
    "unique_database_name",
]

_MAX_IDENTIFIER = 63  # NAMEDATALEN - 1
_TEMPLATE_BUSY_RETRY_SECONDS = 5.0
_CONNECT_TIMEOUT_SECONDS = 10


def create_database(server: Server, name: str, *, template: str | None = None) -> None:
    """CREATE DATABASE ``name`` [TEMPLATE ``template``].

    Cloning fails with 55006 while any session is connected to the template (e.g. one that
    just finished migrating it is still closing), so that case is retried for a few seconds.
    """
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
    deadline = time.monotonic() + _TEMPLATE_BUSY_RETRY_SECONDS
    delay = 0.05
    with _admin_connection(server) as conn:
        while True:
            try:
                conn.execute(statement)
                _find_extensions_unqualified(conn, name)
                return
            except errors.ObjectInUse:
                if template is None or time.monotonic() + delay > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


# The working role's own search_path (pg_db_role_setting, all databases).
_ROLE_SEARCH_PATH = """
select coalesce((select s.setconfig from pg_catalog.pg_db_role_setting s
                 where s.setrole = r.oid and s.setdatabase = 0), '{}')
from pg_catalog.pg_roles r where r.rolname = current_user
"""


def _find_extensions_unqualified(conn: psycopg.Connection[tuple[object, ...]], name: str) -> None:
    """Give the working role Supabase's search_path in the new database, when it lacks it.

    Supabase's postgres has ``"$user", public, extensions``, so a schema may call an
    extension's function (gen_random_bytes) unqualified; a plain server's role usually has
    PostgreSQL's default. Set for this role in this database only (a role may set its own
    defaults), never for the role everywhere. A template's setting is not copied to its
    clones, so every new database gets it here.
    """
    row = conn.execute(_ROLE_SEARCH_PATH).fetchone()
    settings = row[0] if row is not None and isinstance(row[0], list) else []
    if any(str(s).startswith("search_path=") and "extensions" in str(s) for s in settings):
        return
    conn.execute(
        sql.SQL(
            'ALTER ROLE CURRENT_USER IN DATABASE {} SET search_path TO "$user", public, extensions'
        ).format(sql.Identifier(name))
    )


def ensure_database(server: Server, name: str) -> bool:
    """Create ``name`` unless it exists; True when it was created."""
    with _admin_connection(server) as conn:
        row = conn.execute("SELECT 1 FROM pg_catalog.pg_database WHERE datname = %s", (name,))
        if row.fetchone() is not None:
            return False
    create_database(server, name)
    return True


def drop_database(server: Server, name: str) -> None:
    """DROP DATABASE IF EXISTS ``name``, disconnecting whoever is still in it."""
    with _admin_connection(server) as conn:
        if conn.info.server_version >= 130000:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            return
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (name,),
        )
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


@contextmanager
def temporary_database(
    server: Server, prefix: str, *, template: str | None = None
) -> Iterator[str]:
    """The janitor: a new uniquely named database (a clone of ``template``), yielded by name,
    and dropped on exit whatever happened, including a failure while it was being set up."""
    name = unique_database_name(prefix)
    create_database(server, name, template=template)
    try:
        yield name
    finally:
        drop_database(server, name)


def unique_database_name(prefix: str) -> str:
    """``<prefix>_<pid>_<random hex>``: lowercase, a valid identifier, at most 63 bytes."""
    clean = re.sub(r"[^a-z0-9_]", "_", prefix.lower()) or "db"
    if not (clean[0].isalpha() or clean[0] == "_"):
        clean = f"db_{clean}"
    suffix = f"_{os.getpid()}_{secrets.token_hex(4)}"
    return clean[: _MAX_IDENTIFIER - len(suffix)] + suffix


def _admin_connection(server: Server) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(server.url(), autocommit=True, connect_timeout=_CONNECT_TIMEOUT_SECONDS)
