"""Install the compat layer's SQL files, in order, in one transaction."""

from __future__ import annotations

import warnings
from importlib import resources

import psycopg

from pgpolicy.supabase.detect import SupabaseDetected, supabase_markers
from pgpolicy.supabase.partitions import ensure_message_partitions
from pgpolicy.supabase.roles import SUPABASE_ROLES, role_differences, unmanaged_roles

__all__ = ["CompatDifferenceWarning", "compat_sql_files", "install_compat", "server_differences"]

# Event triggers need a superuser; without one the supautils emulation is left out.
_SUPERUSER_ONLY = frozenset({"090_supautils.sql"})

_reported: set[tuple[str, ...]] = set()

# Roles are the cluster's, not a database's: two installs at once (pytest-xdist workers on one
# --pg-url server) both saw no role `anon` and the second failed with 23505 on
# pg_authid_rolname_index. A lock on the shared catalog pg_authid is one for the whole
# cluster; SHARE ROW EXCLUSIVE conflicts with itself and with role changes, not with the
# reads every login makes. Only a superuser may lock a catalog; a role that is not one is
# serialized per database (an advisory lock) and its roles are created by someone else.
_SERIALIZE_AS_SUPERUSER = "lock table pg_catalog.pg_authid in share row exclusive mode"
_SERIALIZE_PER_DATABASE = "select pg_catalog.pg_advisory_xact_lock(hashtext('pgpolicy compat'))"


class CompatDifferenceWarning(UserWarning):
    """The server's own roles differ from Supabase's and the layer leaves them as they are."""


def compat_sql_files() -> list[tuple[str, str]]:
    """Return (file name, SQL text) for every compat file, in application order."""
    folder = resources.files("pgpolicy.supabase").joinpath("sql")
    files = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".sql")),
        key=lambda entry: entry.name,
    )
    return [(entry.name, entry.read_text(encoding="utf-8")) for entry in files]


def server_differences(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    """How roles the layer did not create differ from Supabase's (it never alters them)."""
    unmanaged = set(unmanaged_roles(conn))
    found: list[str] = []
    for shape in SUPABASE_ROLES:
        if shape.name in unmanaged:
            found.extend(role_differences(conn, shape))
    superuser = conn.execute(
        "select rolsuper from pg_catalog.pg_roles where rolname = current_user"
    ).fetchone()
    if superuser is not None and not superuser[0]:
        found.append("no supautils emulation (installing it needs a superuser)")
    return found


def install_compat(conninfo: str, *, partitions: bool = True) -> list[str]:
    """Create Supabase's roles, extensions, auth and realtime objects on plain PostgreSQL.

    Idempotent; run it as the server's bootstrap superuser (``supabase_admin`` on a
    Supabase-shaped cluster), which owns the schemas as on Supabase. Refuses
    (SupabaseDetected, nothing changed) when Supabase's own objects are present. With
    ``partitions``, also creates the daily realtime.messages partitions the Realtime server
    would create on connect. Returns how the server's pre-existing roles differ from
    Supabase's; the first time a given list is seen it is also issued as one warning.
    """
    with psycopg.connect(conninfo, autocommit=True) as conn:
        markers = supabase_markers(conn)
        if markers:
            raise SupabaseDetected(
                "this is a Supabase database (" + "; ".join(markers) + "): "
                "its auth and realtime objects are managed by Supabase, nothing was changed"
            )
        superuser = conn.execute(
            "select rolsuper from pg_catalog.pg_roles where rolname = current_user"
        ).fetchone()
        is_superuser = bool(superuser and superuser[0])
        with conn.transaction():
            conn.execute(_SERIALIZE_AS_SUPERUSER if is_superuser else _SERIALIZE_PER_DATABASE)
            for name, sql_text in compat_sql_files():
                if name in _SUPERUSER_ONLY and not is_superuser:
                    continue
                conn.execute(sql_text.encode())
        if partitions:
            ensure_message_partitions(conn)
        differences = server_differences(conn)
    key = tuple(differences)
    if differences and key not in _reported:
        _reported.add(key)
        warnings.warn(
            "the compat layer left this server's own roles as they are, so they differ from "
            "Supabase's: " + "; ".join(differences),
            CompatDifferenceWarning,
            stacklevel=2,
        )
    return differences
