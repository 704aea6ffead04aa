"""Alembic's version table with a ``text`` column instead of ``varchar(32)``.

``make lint`` runs squawk over the offline SQL with ``prefer-text-field`` on, so that our
own revisions never add a ``varchar(n)`` (changing n later rewrites the table under an
ACCESS EXCLUSIVE lock). Alembic's bookkeeping table would be its only finding. Alembic
documents ``version_table_impl`` as the hook for an alternate structure: the same table,
primary key and name, with ``text`` (which holds any revision id). Importing this module
registers the implementation for the ``postgresql`` dialect; databases whose version table
already exists keep it as it is.
"""

from __future__ import annotations

from typing import Any

from alembic.ddl.postgresql import PostgresqlImpl
from sqlalchemy import Table, Text

__all__ = ["PgpolicyPostgresqlImpl", "version_table_hardening_sql"]


class PgpolicyPostgresqlImpl(PostgresqlImpl):
    """PostgreSQL as Alembic knows it, except for the version column's type."""

    __dialect__ = "postgresql"

    def version_table_impl(
        self,
        *,
        version_table: str,
        version_table_schema: str | None,
        version_table_pk: bool,
        **kw: Any,
    ) -> Table:
        table = super().version_table_impl(
            version_table=version_table,
            version_table_schema=version_table_schema,
            version_table_pk=version_table_pk,
            **kw,
        )
        table.c.version_num.type = Text()
        return table


def version_table_hardening_sql(table: str = "public.alembic_version") -> list[str]:
    """Statements keeping the API roles away from the version table (idempotent).

    Supabase's default privileges grant ALL on every new table in ``public`` to anon,
    authenticated and service_role: through PostgREST, anon could rewrite the revision.
    """
    return [
        f"revoke all on table {table} from anon, authenticated, service_role",
        f"alter table {table} enable row level security",
    ]
