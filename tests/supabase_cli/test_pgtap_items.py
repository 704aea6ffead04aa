"""pgTAP files of a Supabase CLI project run as pytest items, each in a rolled-back
transaction: passing files pass, failing assertions show their diagnostics, plan mismatches
and SQL errors fail, and the run is the same under pytest-xdist."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pgpolicy.provision import Server
from pgpolicy.testing.plugin import skip_if_in_place
from pgpolicy.testing.target import Target

EXAMPLE = Path(__file__).parents[2] / "examples" / "supabase-cli-app"

_FAILING = """
begin;
select plan(2);
select ok(true, 'this one holds');
select is(1 + 1, 3, 'one and one make three');
select * from finish();
rollback;
"""

_PLAN_MISMATCH = """
begin;
select plan(3);
select pass('only one of three');
select * from finish();
rollback;
"""

_SQL_ERROR = """
begin;
select plan(1);

select * from public.no_such_table;
select * from finish();
rollback;
"""

# No begin/rollback of its own: the harness's transaction must still undo its insert.
_LEAVES_A_ROW = """
insert into public.categories (id, name) values (3, 'left behind?');
select plan(1);
select pass('inserted a category');
select * from finish();
"""

_SEES_ONLY_THE_SEED = """
select plan(1);
select is((select count(*) from public.categories), 2::bigint, 'only the seed is there');
select * from finish();
"""


def _app(root: Path, extra: dict[str, str] | None = None) -> Path:
    app = root / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    for name, sql in (extra or {}).items():
        (app / "supabase" / "tests" / name).write_text(sql)
    return app


def _pytest(app: Path, server: Server | None, *args: str) -> tuple[int, str]:
    where = () if server is None else ("--pg-url", server.url())
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *where, *args],
        cwd=app,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return run.returncode, run.stdout + run.stderr


@pytest.fixture
def server(pg_server: Server, pg_target: Target) -> Server:
    skip_if_in_place(pg_target)  # in place the project's migrations are not applied
    return pg_server


def test_passing_pgtap_files_pass_with_every_tap_line_reported(
    tmp_path: Path, server: Server
) -> None:
    app = _app(tmp_path)
    returncode, output = _pytest(app, server, "--junitxml", str(tmp_path / "run.xml"))
    assert returncode == 0, output
    assert "4 passed" in output
    case = next(
        c
        for c in ET.parse(tmp_path / "run.xml").iter("testcase")
        if c.get("name") == "notes_rls_test.sql"
    )
    lines = [p.get("value") for p in case.iter("property") if p.get("name") == "tap"]
    assert lines[0] == "1..6"
    assert "ok 5 - bob sees only the shared note" in lines
    assert sum(1 for line in lines if line and line.startswith("ok ")) == 6


def test_a_failing_assertion_fails_its_file_with_the_diagnostics(
    tmp_path: Path, server: Server
) -> None:
    app = _app(tmp_path, {"failing_test.sql": _FAILING})
    returncode, output = _pytest(app, server, "supabase/tests")
    assert returncode == 1, output
    assert "failed: not ok 2 - one and one make three" in output
    assert "#         have: 2" in output and "#         want: 3" in output
    assert "1 failed, 2 passed" in output


def test_a_plan_mismatch_fails_its_file(tmp_path: Path, server: Server) -> None:
    app = _app(tmp_path, {"plan_test.sql": _PLAN_MISMATCH})
    returncode, output = _pytest(app, server, "supabase/tests/plan_test.sql")
    assert returncode == 1, output
    assert "planned 3 tests but ran 1" in output


def test_an_sql_error_fails_its_file_with_the_error_and_its_line(
    tmp_path: Path, server: Server
) -> None:
    app = _app(tmp_path, {"error_test.sql": _SQL_ERROR})
    returncode, output = _pytest(app, server, "supabase/tests/error_test.sql")
    assert returncode == 1, output
    assert "the file stopped on an error" in output
    assert 'error_test.sql:5: ERROR:  relation "public.no_such_table" does not exist' in output


def test_each_file_is_rolled_back_so_the_next_sees_only_the_template(
    tmp_path: Path, server: Server
) -> None:
    app = _app(
        tmp_path, {"a_insert_test.sql": _LEAVES_A_ROW, "b_count_test.sql": _SEES_ONLY_THE_SEED}
    )
    returncode, output = _pytest(app, server, "-p", "no:xdist", "supabase/tests")
    assert returncode == 0, output
    assert "4 passed" in output


def test_files_run_in_parallel_under_xdist_each_worker_with_its_database(
    tmp_path: Path, server: Server
) -> None:
    # Each worker its own embedded cluster: two workers installing the compat layer on one
    # server at once race on its roles ("tuple concurrently updated"), pgTAP or not.
    app = _app(tmp_path, {"failing_test.sql": _FAILING})
    returncode, output = _pytest(app, None, "-n", "2")
    assert returncode == 1, output
    assert "1 failed, 4 passed" in output, output
    assert "not ok 2 - one and one make three" in output


def test_a_failing_migration_fails_the_run_naming_file_and_line(
    tmp_path: Path, server: Server
) -> None:
    app = _app(tmp_path)
    (app / "supabase" / "migrations" / "20240104000000_broken.sql").write_text(
        "alter table public.notes\n  add column extra no_such_type;\n"
    )
    returncode, output = _pytest(app, server)
    assert returncode != 0, output
    assert "supabase/migrations/20240104000000_broken.sql:2: statement 1 failed" in output, output
    assert "(SQLSTATE 42704)" in output
    assert "Traceback" not in output and "apply.py" not in output
