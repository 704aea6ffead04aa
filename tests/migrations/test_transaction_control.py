"""A revision whose SQL starts or ends a transaction (`begin; … commit;`, as Supabase SQL files
often have) is refused before it runs, with 2D000 and the line, and leaves nothing behind;
a PL/pgSQL body's `begin … end` is not transaction control."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from pgpolicy.migrate import runner
from pgpolicy.migrate.failures import MigrationFailed
from pgpolicy.migrate.runner import current_revisions
from tests.migrations.conftest import MakeDatabase
from tests.migrations.support import project_with_revision, revisions

_PASTED = """create table public.pasted_first (id int primary key);
begin;
create table public.pasted_second (id int primary key);
commit;
create table public.pasted_third (id int primary key);
"""


def _tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select tablename from pg_tables where tablename like 'pasted%' order by 1"
        ).fetchall()
    return [name for (name,) in rows]


@pytest.mark.parametrize(
    ("sql", "command", "line"),
    [
        (_PASTED, "BEGIN", 2),
        ("create table public.pasted_only (id int);\ncommit;\n", "COMMIT", 2),
        ("insert into public.nowhere values (1);\nend;\n", "END", 2),
        ("start transaction;\ncreate table public.pasted_late (id int);\n", "START", 1),
    ],
    ids=["begin-commit", "commit", "end", "start-transaction"],
)
def test_transaction_control_in_a_revision_is_refused_with_2d000_and_nothing_applied(
    make_database: MakeDatabase, tmp_path: Path, sql: str, command: str, line: int
) -> None:
    url = make_database()
    with pytest.raises(MigrationFailed) as failure:
        runner.upgrade(project_with_revision(tmp_path, "pasted", sql), url, "head")
    assert failure.value.revision == "9999"
    assert failure.value.sqlstate == "2D000"
    assert f"{command} at line {line} of the statement" in str(failure.value)
    assert _tables(url) == []
    assert current_revisions(url) == [revisions()[-1]]


def test_plpgsql_begin_end_savepoints_and_strings_are_not_transaction_control(
    make_database: MakeDatabase, tmp_path: Path
) -> None:
    url = make_database()
    sql = """-- begin; commit;  (a comment)
create table public.pasted_ok (note text);
/* commit; */
insert into public.pasted_ok values ('begin; commit;');
do $$ begin perform 1; end $$;
create function public.pasted_fn() returns int language plpgsql as $body$
begin
  return 1;
end;
$body$;
create function public.pasted_atomic() returns int language sql
begin atomic
  select case when true then 1 else 0 end;
end;
savepoint pasted;
rollback to savepoint pasted;
"""
    runner.upgrade(project_with_revision(tmp_path, "pasted", sql), url, "head")
    assert _tables(url) == ["pasted_ok"]
    assert current_revisions(url) == ["9999"]
