"""Databases the harness creates find extensions' functions unqualified, as Supabase's postgres
does (its search_path is "$user", public, extensions), on a plain server too."""

from __future__ import annotations

import psycopg

from pgpolicy.provision import Server, temporary_database


def test_a_new_database_resolves_functions_in_the_extensions_schema_unqualified(
    pg_server: Server,
) -> None:
    with (
        temporary_database(pg_server, "search_path") as name,
        psycopg.connect(pg_server.url(name), autocommit=True) as conn,
    ):
        conn.execute("create schema if not exists extensions")
        conn.execute(
            "create function extensions.search_path_probe() returns int language sql as 'select 7'"
        )
        row = conn.execute("select search_path_probe()").fetchone()
        assert row == (7,)
        path = conn.execute("show search_path").fetchone()
        assert path is not None and str(path[0]).replace(" ", "").endswith("public,extensions")
