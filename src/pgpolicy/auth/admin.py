"""How the harness logs in as ``supabase_auth_admin``, the role the Auth server works as.

Sign-ups and the custom access token hook need that role for real: triggers on auth.users
and the hook then run with its privileges, which ``postgres`` cannot borrow (it may not
SET ROLE to it on Supabase).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import psycopg

from pgpolicy.provision import Server, server_from_url

__all__ = [
    "AUTH_ADMIN",
    "AUTH_ADMIN_ENV",
    "AuthAdmin",
    "AuthAdminUnavailable",
    "auth_admin_beside",
    "resolve_auth_admin",
]

AUTH_ADMIN = "supabase_auth_admin"
AUTH_ADMIN_ENV = "PGPOLICY_AUTH_ADMIN_URL"


class AuthAdminUnavailable(RuntimeError):
    """No connection as supabase_auth_admin could be made; the message says why."""


@dataclass(frozen=True)
class AuthAdmin:
    """The server to log in to as supabase_auth_admin, or why there is none."""

    server: Server | None
    unavailable: str = ""

    def url(self, dbname: str) -> str | None:
        return None if self.server is None else self.server.url(dbname)


def resolve_auth_admin(server: Server, explicit_url: str | None) -> AuthAdmin:
    """``explicit_url`` (--pg-auth-admin-url / PGPOLICY_AUTH_ADMIN_URL), else the working
    server logging in as supabase_auth_admin with the working role's password (a local
    ``supabase start`` stack gives its roles one password; the embedded cluster trusts)."""
    if explicit_url:
        candidate = server_from_url(explicit_url)
    else:
        candidate = server.login(AUTH_ADMIN, server.password)
    try:
        with psycopg.connect(candidate.url(), connect_timeout=10) as conn:
            user = conn.execute("select current_user").fetchone()
    except psycopg.OperationalError as exc:
        how = "--pg-auth-admin-url" if explicit_url else f"{AUTH_ADMIN} with the URL's password"
        return AuthAdmin(
            None,
            f"cannot log in as {AUTH_ADMIN} ({how}): {str(exc).strip().splitlines()[-1]}; "
            "give its URL with --pg-auth-admin-url or PGPOLICY_AUTH_ADMIN_URL",
        )
    if user is None or user[0] != AUTH_ADMIN:
        return AuthAdmin(None, f"the auth admin URL logs in as {user}, not {AUTH_ADMIN}")
    return AuthAdmin(candidate)


def auth_admin_beside(conn: psycopg.Connection[Any]) -> AuthAdmin:
    """The default way to supabase_auth_admin for code that holds only a connection (the
    access matrix): ``PGPOLICY_AUTH_ADMIN_URL``, else the connection's own server and
    password as supabase_auth_admin."""
    info = conn.info
    server = Server(
        host=info.host,
        port=info.port,
        user=info.user,
        password=info.password or None,
        maintenance_db=info.dbname,
        source="url",
    )
    return resolve_auth_admin(server, os.environ.get(AUTH_ADMIN_ENV, "").strip() or None)
