"""Drift: does the live database hold exactly what policies/ and rpc/ declare?

Answered by the database itself, in a transaction that is always rolled back: snapshot the
catalog, drop the policies of every declared table (so a policy deleted from a file shows),
apply every declared file, snapshot again. Any difference is drift. Functions in the declared
schemas that no file creates are reported too. Takes brief locks on the declared tables
(bounded by ``lock_timeout``); changes nothing.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from pgpolicy.catalog import diff, snapshot
from pgpolicy.declared.files import DeclaredFile
from pgpolicy.declared.objects import parse_objects

_POLICIES_OF = (
    "select policyname from pg_catalog.pg_policies where schemaname = %s and tablename = %s"
)
_FUNCTIONS_IN = """
select n.nspname || '.' || p.proname
       || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')', p.oid
from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
where n.nspname = any(%s)
  and not exists (select from pg_catalog.pg_depend d
                  where d.objid = p.oid and d.deptype = 'e')
order by 1
"""


class DeclaredStateError(RuntimeError):
    """The declared files do not apply to this database (e.g. it is not migrated)."""


@dataclass(frozen=True)
class DriftReport:
    """Differences from the live database to the declared state ('+': declared only)."""

    differences: list[str] = field(default_factory=list)
    undeclared: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.differences and not self.undeclared

    def lines(self) -> list[str]:
        return [*self.differences, *(f"? {item}" for item in self.undeclared)]


def _declared_function_oids(conn: psycopg.Connection[Any], files: list[DeclaredFile]) -> set[int]:
    oids: set[int] = set()
    for file in files:
        for signature in parse_objects(file.sql).functions:
            row = conn.execute(
                "select pg_catalog.to_regprocedure(%s)::oid", (signature,)
            ).fetchone()
            if row is not None and row[0] is not None:
                oids.add(int(row[0]))
    return oids


def excluded_functions(root: Path) -> tuple[str, ...]:
    """``[tool.pgpolicy.drift] exclude`` of the project's pyproject.toml (glob patterns)."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return ()
    table = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    patterns = table.get("tool", {}).get("pgpolicy", {}).get("drift", {}).get("exclude", [])
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise DeclaredStateError(
            f"{pyproject}: [tool.pgpolicy.drift] exclude must be a list of glob patterns"
        )
    return tuple(patterns)


def _is_excluded(signature: str, patterns: tuple[str, ...]) -> bool:
    """``schema.name(args)`` matches a pattern given with or without its arguments."""
    name = signature.partition("(")[0]
    return any(fnmatchcase(signature, p) or fnmatchcase(name, p) for p in patterns)


def check_drift(
    conn: psycopg.Connection[Any],
    files: list[DeclaredFile],
    *,
    function_schemas: tuple[str, ...] = ("public",),
    exclude: tuple[str, ...] = (),
    lock_timeout: str = "2s",
) -> DriftReport:
    """Compare ``conn``'s database with the declared ``files``; nothing is left changed.

    Functions matching an ``exclude`` pattern (``public.legacy_*``, or a full signature) are
    not reported as undeclared: a project adopts declared files one at a time.
    """
    with conn.transaction(force_rollback=True):
        conn.execute("select pg_catalog.set_config('lock_timeout', %s, true)", (lock_timeout,))
        live = snapshot(conn)
        for file in files:
            if file.folder != "policies":
                continue
            schema, _, table = file.qualified_name.partition(".")
            for (name,) in conn.execute(_POLICIES_OF, (schema, table)).fetchall():
                conn.execute(
                    sql.SQL("drop policy {} on {}").format(
                        sql.Identifier(name), sql.Identifier(schema, table)
                    )
                )
        for file in files:
            try:
                with conn.transaction():
                    conn.execute(file.sql.encode())
            except psycopg.Error as error:
                raise DeclaredStateError(
                    f"{file.path} does not apply to this database: {error.sqlstate}"
                    f" {error.diag.message_primary} (is it migrated to head?)"
                ) from error
        declared = snapshot(conn)
        declared_oids = _declared_function_oids(conn, files)
        undeclared = [
            f"function {signature} exists but no rpc/ file declares it"
            for signature, oid in conn.execute(_FUNCTIONS_IN, (list(function_schemas),))
            if int(oid) not in declared_oids and not _is_excluded(signature, exclude)
        ]
    return DriftReport(differences=diff(live, declared), undeclared=undeclared)
