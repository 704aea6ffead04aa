"""pgTAP files as pytest items: ``supabase/tests/**/*.sql``, as ``supabase test db`` runs them.

Each file is run by ``psql`` (as ``pg_prove`` does) inside a transaction that is rolled back,
on a database of this pytest process (each xdist worker has its own) cloned from the
template, with the ``pgtap`` extension created in ``extensions``. Every TAP line becomes an
assertion of the item (kept in its ``user_properties`` and its ``tap`` report section); the
item fails when a test is ``not ok`` (its ``#`` diagnostics in the failure), when the number
of tests run differs from the plan or no plan is given, or when the file stops on an SQL
error (the error, with its file and line, is the failure).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgpolicy.provision import Server, find_pg_bindir, temporary_database
from pgpolicy.testing.target import Target

__all__ = [
    "PgTapFailure",
    "TapResult",
    "parse_tap",
    "pg_pgtap_database",
    "pytest_collect_file",
    "run_pgtap_file",
]

_TESTS_DIR = ("supabase", "tests")
_TEST_LINE = re.compile(r"^(not )?ok (\d+)\b(.*)$")
_PLAN_LINE = re.compile(r"^1\.\.(\d+)")
_TODO_OR_SKIP = re.compile(r"#\s*(TODO|SKIP)\b", re.IGNORECASE)
# The file's own begin/rollback around ours: harmless, and not worth showing.
_HARMLESS = (
    "WARNING:  there is already a transaction in progress",
    "WARNING:  there is no transaction in progress",
)
_NOT_INSTALLED = (
    "pgTAP is not installed on this PostgreSQL server (no pgtap in pg_available_extensions):"
    " install the extension's SQL files into its share/extension (Debian: apt-get install"
    " postgresql-{major}-pgtap; `make install` does it)"
)
_PSQL_TIMEOUT_SECONDS = 600


class PgTapFailure(AssertionError):
    """A pgTAP file failed: failing tests, a plan mismatch, or an SQL error."""


@dataclass
class TapResult:
    """What a file's TAP output says."""

    planned: int | None = None
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    ran: int = 0


def parse_tap(output: str) -> TapResult:
    """Read TAP: the plan, each ``ok``/``not ok`` line, and the ``#`` lines after it."""
    result = TapResult()
    failing: list[str] | None = None
    for raw in output.splitlines():
        line = raw.rstrip()
        if not line:
            continue
        result.lines.append(line)
        if (plan := _PLAN_LINE.match(line)) is not None:
            result.planned = int(plan[1])
            failing = None
        elif (test := _TEST_LINE.match(line)) is not None:
            result.ran += 1
            failed = test[1] is not None and _TODO_OR_SKIP.search(test[3]) is None
            failing = [line] if failed else None
            if failing is not None:
                result.failures.append(line)
        elif line.startswith("#") and failing is not None:
            result.failures[-1] += "\n" + line
    return result


def run_pgtap_file(url: str, path: Path) -> TapResult:
    """Run ``path`` with psql in a rolled-back transaction; raise PgTapFailure if it fails."""
    script = f"\\set ON_ERROR_STOP 1\nbegin;\n\\i {_psql_quote(str(path))}\nrollback;\n"
    run = subprocess.run(
        [_psql(), "-X", "-q", "-A", "-t", "-d", url],
        input=script,
        capture_output=True,
        text=True,
        timeout=_PSQL_TIMEOUT_SECONDS,
        check=False,
        env={**os.environ, "PGAPPNAME": "pgpolicy pgTAP"},
    )
    result = parse_tap(run.stdout)
    errors = "\n".join(
        line for line in run.stderr.splitlines() if line.strip() and line not in _HARMLESS
    )
    problems: list[str] = []
    if run.returncode != 0:
        problems.append(f"the file stopped on an error:\n{errors or run.stderr}")
    problems.extend(f"failed: {failure}" for failure in result.failures)
    if run.returncode == 0:
        if result.planned is None:
            problems.append("no plan: the file never called plan() (or no_plan())")
        elif result.planned != result.ran:
            problems.append(f"planned {result.planned} tests but ran {result.ran}")
    if problems:
        if result.lines:
            problems.append("--- TAP ---\n" + "\n".join(result.lines))
        raise PgTapFailure(f"{path.name}: " + "\n".join(problems))
    return result


def _psql() -> str:
    bindir = find_pg_bindir()
    if bindir is not None and (bindir / "psql").is_file():
        return str(bindir / "psql")
    found = shutil.which("psql")
    if found is None:
        raise RuntimeError("pgTAP files are run with psql, and no psql was found")
    return found


def _psql_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@pytest.fixture(scope="session")
def pg_pgtap_database(
    request: pytest.FixtureRequest, pg_server: Server, pg_target: Target, pg_template: str
) -> Iterator[str]:
    """URL of this process's pgTAP database: a clone of the template with pgtap created."""
    if pg_target.in_place:
        url = pg_server.url(pg_template)
        _create_pgtap(url)
        yield url
        return
    with temporary_database(pg_server, "pgpolicy_pgtap", template=pg_template) as name:
        _create_pgtap(pg_server.admin().url(name))
        yield pg_server.url(name)


def _create_pgtap(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "select exists (select from pg_catalog.pg_available_extensions where name = 'pgtap'),"
            " current_setting('server_version_num')::int / 10000"
        ).fetchone()
        if row is None or not row[0]:
            raise RuntimeError(_NOT_INSTALLED.format(major=row[1] if row else "<major>"))
        conn.execute("create extension if not exists pgtap with schema extensions")
        # Supabase's postgres finds extensions' functions unqualified (its search_path ends
        # in extensions); a plain server's role may not: give this database that path.
        path = conn.execute("select current_setting('search_path')").fetchone()
        if path is not None and "extensions" not in str(path[0]):
            conn.execute(
                sql.SQL('alter database {} set search_path to "$user", public, extensions').format(
                    sql.Identifier(conn.info.dbname)
                )
            )


def _pgtap_test(path: Path) -> Callable[..., None]:
    def run(pg_pgtap_database: str, record_property: Callable[[str, object], None]) -> None:
        result = run_pgtap_file(pg_pgtap_database, path)
        for line in result.lines:
            record_property("tap", line)

    return run


class PgTapItem(pytest.Function):
    """One pgTAP file; its failure shows the failing tests with their diagnostics."""

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"pgTAP {self.name}"

    def repr_failure(self, excinfo: Any, style: Any = None) -> Any:
        if isinstance(excinfo.value, PgTapFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class PgTapFile(pytest.File):
    """A ``.sql`` file under ``supabase/tests``: one item."""

    def collect(self) -> Iterator[pytest.Item]:
        yield PgTapItem.from_parent(self, name=self.path.name, callobj=_pgtap_test(self.path))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect ``<rootdir>/supabase/tests/**/*.sql`` as pgTAP files."""
    if file_path.suffix != ".sql":
        return None
    tests_dir = Path(parent.config.rootpath).joinpath(*_TESTS_DIR)
    if not file_path.is_relative_to(tests_dir):
        return None
    collector: pytest.Collector = PgTapFile.from_parent(parent, path=file_path)
    return collector
