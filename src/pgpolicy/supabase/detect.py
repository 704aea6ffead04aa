"""Tell a real Supabase database from plain PostgreSQL, and list what a migration needs."""

from __future__ import annotations

import psycopg

COMPAT_MARKER = "pgpolicy compat:"

# Objects only Supabase's own services create; finding one means "hands off".
_SUPABASE_ONLY_QUERIES: dict[str, str] = {
    # A Supabase-shaped embedded cluster has one too, marked as made by pgpolicy.
    "role supabase_admin exists": (
        "select exists (select from pg_catalog.pg_roles where rolname = 'supabase_admin'"
        " and coalesce(pg_catalog.shobj_description(oid, 'pg_authid'), '')"
        " not like 'pgpolicy compat:%')"
    ),
    "auth.schema_migrations exists (managed by the Auth server)": (
        "select to_regclass('auth.schema_migrations') is not null"
    ),
    "realtime.schema_migrations exists (managed by the Realtime server)": (
        "select to_regclass('realtime.schema_migrations') is not null"
    ),
    "schema storage exists (managed by the Storage server)": (
        "select exists (select from pg_catalog.pg_namespace where nspname = 'storage')"
    ),
}

_FOREIGN_SCHEMA_QUERY = """
select n.nspname
from pg_catalog.pg_namespace n
where n.nspname in ('auth', 'realtime')
  and coalesce(pg_catalog.obj_description(n.oid, 'pg_namespace'), '') not like %s
order by n.nspname
"""


class SupabaseDetected(RuntimeError):
    """Raised instead of altering a database whose Supabase objects are not ours."""


def _names_answering(
    conn: psycopg.Connection[tuple[object, ...]], checks: dict[str, str], answer: bool
) -> list[str]:
    """The names of the boolean ``checks`` whose query answers ``answer``."""
    names: list[str] = []
    for name, query in checks.items():
        row = conn.execute(query).fetchone()
        if bool(row is not None and row[0]) is answer:
            names.append(name)
    return names


def supabase_markers(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    """Return why this database looks like a real Supabase database (empty: it does not)."""
    markers = _names_answering(conn, _SUPABASE_ONLY_QUERIES, True)
    for (schema,) in conn.execute(_FOREIGN_SCHEMA_QUERY, (COMPAT_MARKER + "%",)).fetchall():
        markers.append(f"schema {schema} exists and was not created by pgpolicy")
    return markers


# What the chat migrations rely on, whether Supabase or the compat layer provided it.
_PREREQUISITES: dict[str, str] = {
    "role anon": "select exists (select from pg_catalog.pg_roles where rolname = 'anon')",
    "role authenticated": (
        "select exists (select from pg_catalog.pg_roles where rolname = 'authenticated')"
    ),
    "role service_role": (
        "select exists (select from pg_catalog.pg_roles where rolname = 'service_role')"
    ),
    "table auth.users": "select to_regclass('auth.users') is not null",
    "function auth.uid()": "select to_regprocedure('auth.uid()') is not null",
    "table realtime.messages": "select to_regclass('realtime.messages') is not null",
    "function realtime.topic()": "select to_regprocedure('realtime.topic()') is not null",
    "function realtime.broadcast_changes": (
        "select to_regprocedure('realtime.broadcast_changes(text, text, text, text, text,"
        " record, record, text)') is not null"
    ),
}


def missing_prerequisites(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    """Return the Supabase objects a migration needs that this database lacks."""
    return _names_answering(conn, _PREREQUISITES, False)


# The one sentence both env.py (online) and the offline SQL stop with.
_PREREQUISITES_MESSAGE = (
    "This database lacks the Supabase objects the migrations need ({missing}): this is not a"
    " Supabase database; on plain PostgreSQL run `pgpolicy compat install --url <url>` first."
)


def prerequisites_message(missing: list[str]) -> str:
    """The refusal for a database lacking ``missing`` (names from missing_prerequisites)."""
    return _PREREQUISITES_MESSAGE.format(missing=", ".join(missing))


def prerequisites_check_sql() -> str:
    """A DO block that stops a psql run (ON_ERROR_STOP) when a prerequisite is missing.

    Offline SQL has no connection to ask, so it carries the same check as env.py does.
    """
    checks = "\n".join(
        f"  if not ({query}) then missing := missing || {_quote(name)}::text; end if;"
        for name, query in _PREREQUISITES.items()
    )
    return (
        "do $pgpolicy_prerequisites$\n"
        "declare\n  missing text[] := '{}';\n"
        "begin\n"
        f"{checks}\n"
        "  if cardinality(missing) > 0 then\n"
        "    raise exception using errcode = '55000', message = replace(\n"
        f"      {_quote(_PREREQUISITES_MESSAGE)}, '{{missing}}', array_to_string(missing, ', '));\n"
        "  end if;\n"
        "end\n"
        "$pgpolicy_prerequisites$"
    )


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
