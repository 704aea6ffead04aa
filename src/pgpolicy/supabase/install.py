"""Install the compat layer's SQL files, in order, in one transaction."""

from __future__ import annotations

from importlib import resources

import psycopg

from pgpolicy.supabase.detect import SupabaseDetected, supabase_markers
from pgpolicy.supabase.partitions import ensure_message_partitions


def compat_sql_files() -> list[tuple[str, str]]:
    """Return (file name, SQL text) for every compat file, in application order."""
    folder = resources.files("pgpolicy.supabase").joinpath("sql")
    files = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".sql")),
        key=lambda entry: entry.name,
    )
    return [(entry.name, entry.read_text(encoding="utf-8")) for entry in files]


def install_compat(conninfo: str, *, partitions: bool = True) -> None:
    """Create Supabase's roles, auth and realtime objects on plain PostgreSQL.

    Idempotent. Refuses (SupabaseDetected, nothing changed) when Supabase's own objects are
    present. With ``partitions``, also creates the daily realtime.messages partitions the
    Realtime server would create on connect.
    """
    with psycopg.connect(conninfo, autocommit=True) as conn:
        markers = supabase_markers(conn)
        if markers:
            raise SupabaseDetected(
                "this is a Supabase database (" + "; ".join(markers) + "): "
                "its auth and realtime objects are managed by Supabase, nothing was changed"
            )
        with conn.transaction():
            for _name, sql_text in compat_sql_files():
                conn.execute(sql_text.encode())
        if partitions:
            ensure_message_partitions(conn)
