"""Settings shared by migrations/env.py: URL, timeouts, lock key, prerequisite check."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import psycopg
from sqlalchemy import Connection

from pgpolicy.supabase.detect import missing_prerequisites, prerequisites_message

# pg_advisory_lock key shared by every process migrating the same database.
MIGRATION_LOCK_KEY = 7_310_542_918_003_117

DEFAULT_LOCK_TIMEOUT = "5s"
DEFAULT_STATEMENT_TIMEOUT = "5min"


@dataclass(frozen=True)
class MigrationSettings:
    """What env.py needs to know, from `-x key=value` first, then the environment."""

    url: str | None
    lock_timeout: str
    statement_timeout: str

    @classmethod
    def from_environment(
        cls, x_args: Mapping[str, str], environ: Mapping[str, str] | None = None
    ) -> MigrationSettings:
        env = os.environ if environ is None else environ
        return cls(
            url=x_args.get("url") or env.get("DATABASE_URL") or None,
            lock_timeout=_timeout(
                x_args.get("lock_timeout") or env.get("PGPOLICY_LOCK_TIMEOUT"),
                DEFAULT_LOCK_TIMEOUT,
            ),
            statement_timeout=_timeout(
                x_args.get("statement_timeout") or env.get("PGPOLICY_STATEMENT_TIMEOUT"),
                DEFAULT_STATEMENT_TIMEOUT,
            ),
        )


def _timeout(value: str | None, default: str) -> str:
    """Accept PostgreSQL interval-like timeouts ('5s', '2min', '0'); refuse anything else."""
    chosen = (value or default).strip()
    number = chosen.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = chosen[len(number) :]
    if not number.isdigit() or unit not in ("", "ms", "s", "min", "h", "d"):
        raise SystemExit(f"invalid timeout {chosen!r}: use a number with ms, s, min, h or d")
    return chosen


def sqlalchemy_url(url: str) -> str:
    """Turn a libpq URL into one SQLAlchemy opens with psycopg 3."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def prerequisite_error(connection: Connection) -> str | None:
    """Return the one sentence to show when Supabase's objects are missing, else None."""
    raw = connection.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    missing = missing_prerequisites(raw)
    return prerequisites_message(missing) if missing else None
