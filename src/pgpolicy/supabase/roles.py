"""Supabase's roles as SUPABASE-FACTS.md lists them, and how a server's roles differ.

The compat layer creates the roles a server lacks and keeps those in shape; a role that
existed before it (a shared server's own ``postgres``, roles made by an older layer) is
never altered, so its differences are reported instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

__all__ = [
    "MANAGED_ROLE_MARKER",
    "SUPABASE_ROLES",
    "RoleShape",
    "role_differences",
    "unmanaged_roles",
]

# The comment the compat layer puts on a role it created (010_roles.sql says the same).
MANAGED_ROLE_MARKER = "pgpolicy compat: managed role"


@dataclass(frozen=True)
class RoleShape:
    """One role's attributes (pg_roles column -> value), memberships and settings."""

    name: str
    attributes: dict[str, bool]
    member_of: frozenset[str] = frozenset()
    settings: frozenset[str] = frozenset()


_API = frozenset({"anon", "authenticated", "service_role"})

SUPABASE_ROLES: tuple[RoleShape, ...] = (
    RoleShape(
        "postgres",
        {
            "rolcanlogin": True,
            "rolsuper": False,
            "rolbypassrls": True,
            "rolcreatedb": True,
            "rolcreaterole": True,
            "rolreplication": True,
            "rolinherit": True,
        },
        _API | {"pg_read_all_data", "pg_monitor", "pg_signal_backend"},
        frozenset({'search_path="$user", public, extensions'}),
    ),
    RoleShape(
        "anon",
        {"rolcanlogin": False, "rolinherit": True, "rolbypassrls": False},
        settings=frozenset({"statement_timeout=3s"}),
    ),
    RoleShape(
        "authenticated",
        {"rolcanlogin": False, "rolinherit": True, "rolbypassrls": False},
        settings=frozenset({"statement_timeout=8s"}),
    ),
    RoleShape(
        "service_role",
        {"rolcanlogin": False, "rolinherit": True, "rolbypassrls": True},
    ),
    RoleShape(
        "authenticator",
        {"rolcanlogin": True, "rolinherit": False, "rolbypassrls": False},
        _API,
        frozenset({"statement_timeout=8s", "lock_timeout=8s"}),
    ),
    RoleShape(
        "supabase_auth_admin",
        {
            "rolcanlogin": True,
            "rolinherit": False,
            "rolcreaterole": False,
            "rolbypassrls": False,
            "rolsuper": False,
        },
        settings=frozenset({"search_path=auth", "idle_in_transaction_session_timeout=60000"}),
    ),
    # Images differ: Realtime's tenant schema creates it NOLOGIN NOINHERIT NOCREATEROLE
    # NOREPLICATION and a member of nothing; some 2026 images (and the compat layer) give it
    # LOGIN CREATEROLE REPLICATION and the API roles. Only what both share is required.
    RoleShape(
        "supabase_realtime_admin",
        {"rolsuper": False},
        settings=frozenset({"search_path=public, extensions, realtime"}),
    ),
    RoleShape(
        "dashboard_user",
        {
            "rolcanlogin": False,
            "rolcreatedb": True,
            "rolcreaterole": True,
            "rolreplication": True,
            "rolsuper": False,
        },
    ),
)

_ROLE_QUERY = """
select r.rolname, to_jsonb(r) as attributes,
       array(select g.rolname::text from pg_catalog.pg_auth_members m
             join pg_catalog.pg_roles g on g.oid = m.roleid where m.member = r.oid) as member_of,
       coalesce((select s.setconfig from pg_catalog.pg_db_role_setting s
                 where s.setrole = r.oid and s.setdatabase = 0), '{}') as settings
from pg_catalog.pg_roles r
where r.rolname = %s
"""


def role_differences(conn: psycopg.Connection[tuple[object, ...]], shape: RoleShape) -> list[str]:
    """How the server's role ``shape.name`` differs from Supabase's (empty: it matches).

    Memberships and settings beyond Supabase's are allowed (a server may add its own).
    """
    row = conn.execute(_ROLE_QUERY, (shape.name,)).fetchone()
    if row is None:
        return [f"role {shape.name} does not exist"]
    _name, attributes, member_of, settings = row
    assert isinstance(attributes, dict) and isinstance(member_of, list)
    assert isinstance(settings, list)
    found: list[str] = []
    for column, expected in shape.attributes.items():
        if attributes.get(column) is not expected:
            word = column.removeprefix("rol").upper()
            found.append(f"{shape.name} is {'' if attributes.get(column) else 'NO'}{word}")
    for missing in sorted(shape.member_of - set(member_of)):
        found.append(f"{shape.name} is not a member of {missing}")
    for missing in sorted(shape.settings - set(settings)):
        found.append(f"{shape.name} lacks the setting {missing}")
    return found


def unmanaged_roles(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    """Supabase roles on this server that the compat layer did not create (it leaves them)."""
    rows = conn.execute(
        "select rolname from pg_catalog.pg_roles"
        " where rolname = any(%s) and pg_catalog.shobj_description(oid, 'pg_authid')"
        " is distinct from %s order by rolname",
        ([shape.name for shape in SUPABASE_ROLES], MANAGED_ROLE_MARKER),
    ).fetchall()
    return [str(name) for (name,) in rows]
