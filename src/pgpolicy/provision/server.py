"""A PostgreSQL server the toolkit may use, however it was obtained.

Every source (explicit URL, embedded cluster, container) is reduced to the same small
value so that callers never care where the database came from.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field, replace
from urllib.parse import quote

import psycopg
from psycopg.conninfo import conninfo_to_dict

__all__ = ["ProvisionError", "Server", "server_from_url"]

_DEFAULT_PORT = 5432


class ProvisionError(RuntimeError):
    """No usable PostgreSQL server; the message says what to do about it."""


@dataclass(frozen=True)
class Server:
    """Where a PostgreSQL server answers, and the two roles the toolkit logs in as.

    ``user`` is the working role: migrations, CREATE/DROP DATABASE and the test harness's
    privileged work run as it (``postgres``, a non-superuser on Supabase and on the embedded
    cluster). ``admin_user`` is the bootstrap superuser that installs the compat layer, when
    it differs (``supabase_admin`` on the embedded cluster, logging in by trust auth); None
    means the working role is also the one to install with. ``maintenance_db`` exists and is
    used for CREATE/DROP DATABASE. ``params`` keeps any further libpq options of an explicit
    URL (``sslmode`` …) so they survive ``url()``.
    """

    host: str
    port: int
    user: str
    password: str | None = field(repr=False)
    maintenance_db: str
    source: str
    params: tuple[tuple[str, str], ...] = ()
    admin_user: str | None = None

    def login(self, user: str, password: str | None = None) -> Server:
        """The same server, logging in as ``user`` (with ``password``) instead."""
        return replace(self, user=user, password=password, admin_user=None)

    def admin(self) -> Server:
        """The server as its installing role: ``admin_user`` if there is one, else as is."""
        return self if self.admin_user is None else self.login(self.admin_user)

    def url(self, dbname: str | None = None) -> str:
        """libpq URI for ``dbname`` (default: the maintenance database), fully quoted."""
        auth = quote(self.user, safe="") if self.user else ""
        if self.password is not None:
            auth += ":" + quote(self.password, safe="")
        host = self.host
        if host.startswith("/"):
            host = quote(host, safe="")  # a unix socket directory
        elif ":" in host:
            host = f"[{host}]"  # IPv6 literal
        netloc = f"{auth}@{host}:{self.port}" if auth else f"{host}:{self.port}"
        path = quote(self.maintenance_db if dbname is None else dbname, safe="")
        query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in self.params)
        return f"postgresql://{netloc}/{path}" + (f"?{query}" if query else "")

    def psql_command(self, dbname: str | None = None) -> str:
        """A shell line a person can paste to open ``psql`` on ``dbname``."""
        return f"psql {_shell_quote(self.url(dbname))}"


def server_from_url(url: str) -> Server:
    """Describe the server behind a libpq URL/conninfo, without connecting to it.

    Missing parts get libpq's defaults (PGPORT/5432, PGUSER/OS user); a missing host stays
    empty so libpq picks its default socket. The URL's database becomes the maintenance db.
    """
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise ProvisionError(f"Invalid database URL: {exc}") from exc
    values = {k: str(v) for k, v in info.items() if v is not None}
    host = values.pop("host", "")
    port_text = values.pop("port", "") or os.environ.get("PGPORT", "") or str(_DEFAULT_PORT)
    if "," in host or "," in port_text:
        raise ProvisionError("Database URLs with several hosts are not supported; give one host.")
    try:
        port = int(port_text)
    except ValueError as exc:
        raise ProvisionError(f"Invalid port {port_text!r} in database URL.") from exc
    user = values.pop("user", "") or os.environ.get("PGUSER", "") or getpass.getuser()
    password = values.pop("password", None)
    dbname = values.pop("dbname", "") or "postgres"
    return Server(
        host=host,
        port=port,
        user=user,
        password=password,
        maintenance_db=dbname,
        source="url",
        params=tuple(sorted(values.items())),
    )


def _shell_quote(text: str) -> str:
    """Always single-quote (unlike shlex.quote) so printed commands look the same."""
    return "'" + text.replace("'", "'\"'\"'") + "'"
