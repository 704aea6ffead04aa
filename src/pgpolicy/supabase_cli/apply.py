"""Applying a Supabase CLI project to a database the way ``supabase db reset`` does.

Each migration file is one transaction: its statements are sent in order, then its version
is recorded in ``supabase_migrations.schema_migrations``, then it commits; a failing
statement rolls the whole file back and stops the run (earlier files stay applied, as with
the CLI). A ``begin;``/``commit;`` inside a file behaves as it does under the CLI: the
server ignores the extra ``begin`` with a warning and ``commit`` ends the file's transaction
early. The seed files follow, each in its own transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from pgpolicy.supabase_cli.project import CliProject
from pgpolicy.supabase_cli.statements import Statement, split_statements

__all__ = ["CliMigrationError", "apply_cli_project"]

_HISTORY = (
    "create schema if not exists supabase_migrations",
    "create table if not exists supabase_migrations.schema_migrations"
    " (version text not null primary key, statements text[], name text)",
)
_RECORD = (
    "insert into supabase_migrations.schema_migrations (version, name, statements)"
    " values (%s, %s, %s)"
)
_QUOTED_LINES = 3


class CliMigrationError(RuntimeError):
    """A statement of a migration or seed file failed; the message names file and line."""

    def __init__(self, message: str, *, sqlstate: str | None, path: Path, line: int) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.path = path
        self.line = line


def apply_cli_project(url: str, project: CliProject, *, seed: bool = True) -> None:
    """Apply every migration file of ``project`` (then its seed) to the database at ``url``."""
    with psycopg.connect(url, autocommit=True) as conn:
        for sql in _HISTORY:
            conn.execute(sql)
        for migration in project.migrations:
            _apply_file(
                conn,
                project,
                migration.path,
                record=(migration.version, migration.name),
            )
        if seed:
            for path in project.seeds:
                _apply_file(conn, project, path, record=None)


def _apply_file(
    conn: psycopg.Connection[Any],
    project: CliProject,
    path: Path,
    *,
    record: tuple[str, str] | None,
) -> None:
    statements = split_statements(path.read_text())
    conn.execute("begin")
    for number, statement in enumerate(statements, start=1):
        try:
            conn.execute(statement.sql.encode(), prepare=False)
        except psycopg.Error as error:
            _rollback(conn)
            raise _failure(project, path, number, statement, error) from error
    if record is not None:
        version, name = record
        conn.execute(_RECORD, (version, name, [s.sql for s in statements]))
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.execute("commit")


def _rollback(conn: psycopg.Connection[Any]) -> None:
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.execute("rollback")


def _failure(
    project: CliProject, path: Path, number: int, statement: Statement, error: psycopg.Error
) -> CliMigrationError:
    where = path.relative_to(project.root) if path.is_relative_to(project.root) else path
    line = statement.line
    sqlstate = error.sqlstate
    position = error.diag.statement_position
    if position is not None:
        line += statement.sql.count("\n", 0, max(int(position) - 1, 0))
    message = (error.diag.message_primary or str(error)).strip()
    quoted = "\n".join("    " + text for text in statement.sql.splitlines()[:_QUOTED_LINES])
    return CliMigrationError(
        f"{where}:{line}: statement {number} failed, the file was rolled back:"
        f" {message} (SQLSTATE {sqlstate})\n{quoted}",
        sqlstate=sqlstate,
        path=path,
        line=line,
    )
