"""Running Alembic and psql the way a person or a CI job does, and reading the result."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import psycopg
from alembic.config import Config
from alembic.script import ScriptDirectory

from pgpolicy.catalog import Catalog, snapshot
from pgpolicy.provision import find_pg_bindir

ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = ROOT / "alembic.ini"
ALEMBIC = Path(sys.executable).with_name("alembic")


_EXTRA_REVISION = '''"""{message}

Revision ID: 9999
Revises: {head}
"""

from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute({sql!r})


def downgrade() -> None:
    pass
'''


def project_with_revision(tmp_path: Path, message: str, sql: str) -> Path:
    """A copy of the project with one more revision, 9999 (``message``), that executes
    ``sql``; its alembic.ini."""
    shutil.copytree(
        ROOT / "migrations", tmp_path / "migrations", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ALEMBIC_INI, tmp_path / "alembic.ini")
    (tmp_path / "migrations" / "versions" / "9999_extra.py").write_text(
        _EXTRA_REVISION.format(message=message, head=revisions()[-1], sql=sql)
    )
    return tmp_path / "alembic.ini"


def revisions() -> list[str]:
    """Revision ids from the first to head (history is linear: test_history proves it)."""
    script = ScriptDirectory.from_config(Config(str(ALEMBIC_INI)))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def alembic_command(*args: str, url: str | None = None, x: Sequence[str] = ()) -> list[str]:
    command = [str(ALEMBIC), "-c", str(ALEMBIC_INI)]
    if url is not None:
        command += ["-x", f"url={url}"]
    for item in x:
        command += ["-x", item]
    return [*command, *args]


def alembic_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of an alembic subprocess: no stray DATABASE_URL or timeouts."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "PGPOLICY_LOCK_TIMEOUT", "PGPOLICY_STATEMENT_TIMEOUT")
    }
    env.update(extra or {})
    return env


def run_alembic(
    *args: str,
    url: str | None = None,
    x: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        alembic_command(*args, url=url, x=x),
        cwd=ROOT,
        env=alembic_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def offline_sql(*args: str, path: Path) -> Path:
    """Write ``alembic <args> --sql`` to ``path`` (offline mode needs no database)."""
    result = run_alembic(*args, "--sql")
    assert result.returncode == 0, result.stderr
    path.write_text(result.stdout, encoding="utf-8")
    return path


def psql() -> str:
    bindir = find_pg_bindir()
    if bindir is not None and (bindir / "psql").exists():
        return str(bindir / "psql")
    found = shutil.which("psql")
    assert found is not None, "psql is needed to apply offline SQL"
    return found


def run_psql(url: str, path: Path) -> subprocess.CompletedProcess[str]:
    """What a DBA does with reviewed offline SQL: psql, stopping at the first error."""
    return subprocess.run(
        [psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def apply_with_psql(url: str, path: Path) -> None:
    result = run_psql(url, path)
    assert result.returncode == 0, result.stderr


def catalog(url: str) -> Catalog:
    with psycopg.connect(url, autocommit=True) as conn:
        return snapshot(conn)


def fetch_one(conn: psycopg.Connection[Any], query: str) -> Any:
    row = conn.execute(query).fetchone()
    return None if row is None else row[0]


def error_lines(stderr: str) -> list[str]:
    """What alembic printed besides its INFO log: the error a person reads."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith("INFO")]
