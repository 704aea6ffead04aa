"""The settings PostgREST sets at the start of every request's transaction (``txVarQuery``).

In its order: search_path, the role's own settings (before switching role, so a setting the
authenticator may set but the role may not still applies), role, request.jwt.claims,
request.method, request.path, request.headers, request.cookies, then the called function's
hoisted ``SET`` settings. All with ``set_config(..., true)``: transaction-local.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

__all__ = ["RoleSettings", "role_settings", "transaction_settings"]

# PostgREST reads pg_roles.rolconfig (settings for every database; per-database ALTER ROLE
# ... IN DATABASE ones are not read), lower-cases the values, keeps those a user may set or
# the authenticator was granted SET on, and takes default_transaction_isolation apart.
_ROLE_SETTINGS = """
with setting as (
  select substr(s, 1, strpos(s, '=') - 1) as key, lower(substr(s, strpos(s, '=') + 1)) as value
  from pg_catalog.pg_roles r, unnest(r.rolconfig) s
  where r.rolname = %s
)
select s.key, s.value from setting s
join pg_catalog.pg_settings ps on ps.name = s.key
where ps.context = 'user' or pg_catalog.has_parameter_privilege(current_user, ps.name, 'set')
"""


@dataclass(frozen=True)
class RoleSettings:
    settings: tuple[tuple[str, str], ...]
    isolation: str | None


def role_settings(conn: psycopg.Connection[Any], role: str) -> RoleSettings:
    """The settings PostgREST applies for ``role``, read as the authenticator (this connection)."""
    rows = conn.execute(_ROLE_SETTINGS, (role,)).fetchall()
    isolation = next((v for k, v in rows if k == "default_transaction_isolation"), None)
    kept = tuple((k, v) for k, v in rows if k != "default_transaction_isolation")
    return RoleSettings(settings=kept, isolation=isolation)


def _set(name: str, value: str) -> sql.Composed:
    return sql.SQL("pg_catalog.set_config({}, {}, true)").format(
        sql.Literal(name), sql.Literal(value)
    )


def transaction_settings(
    *,
    search_path: str,
    role_settings: Sequence[tuple[str, str]],
    role: str,
    claims: str,
    method: str,
    path: str,
    headers: str,
    cookies: str,
    function_settings: Sequence[tuple[str, str]],
) -> sql.Composed:
    """One ``select set_config(...), ...`` setting all of them, in PostgREST's order."""
    calls = [
        _set("search_path", search_path),
        *(_set(k, v) for k, v in role_settings),
        _set("role", role),
        _set("request.jwt.claims", claims),
        _set("request.method", method),
        _set("request.path", path),
        _set("request.headers", headers),
        _set("request.cookies", cookies),
        *(_set(k, v) for k, v in function_settings),
    ]
    return sql.SQL("select ") + sql.SQL(", ").join(calls)
