"""Daily partitions of realtime.messages, as the Realtime server creates them on connect."""

from __future__ import annotations

import datetime as dt

import psycopg
from psycopg import sql


def partition_days(today: dt.date, *, days_back: int = 1, days_ahead: int = 3) -> list[dt.date]:
    """Return the days Realtime keeps a partition for: yesterday .. today + 3 by default."""
    return [today + dt.timedelta(days=offset) for offset in range(-days_back, days_ahead + 1)]


def ensure_message_partitions(
    conn: psycopg.Connection[tuple[object, ...]],
    *,
    today: dt.date | None = None,
    days_back: int = 1,
    days_ahead: int = 3,
) -> list[str]:
    """Create the missing daily partitions (UTC days); return the names of all of them.

    Realtime creates them as the table's owner (supabase_realtime_admin), and so do we when
    the connected role may act as it (the installing superuser); otherwise as ourselves.
    """
    day0 = today or dt.datetime.now(dt.UTC).date()
    names: list[str] = []
    with conn.transaction():
        owner = conn.execute(
            "select r.rolname from pg_catalog.pg_class c"
            " join pg_catalog.pg_roles r on r.oid = c.relowner"
            " where c.oid = 'realtime.messages'::regclass"
            " and r.rolname <> current_user and pg_catalog.pg_has_role(r.oid, 'member')"
        ).fetchone()
        if owner is not None:
            conn.execute(sql.SQL("set local role {}").format(sql.Identifier(str(owner[0]))))
        for day in partition_days(day0, days_back=days_back, days_ahead=days_ahead):
            name = f"messages_{day:%Y_%m_%d}"
            conn.execute(
                sql.SQL(
                    "create table if not exists realtime.{} partition of realtime.messages "
                    "for values from ({}) to ({})"
                ).format(
                    sql.Identifier(name),
                    sql.Literal(day.isoformat()),
                    sql.Literal((day + dt.timedelta(days=1)).isoformat()),
                )
            )
            names.append(name)
        if owner is not None:
            conn.execute("reset role")
    return names
