"""``pgpolicy import``: an Alembic baseline from a Supabase CLI project's migrations.

One revision holds every migration file's statements, in the CLI's order, run in one
transaction; its downgrade refuses (a baseline cannot be undone without dropping the
project). The seed stays in ``supabase/seed.sql``: it is data, not schema. A file with its
own transaction control (``begin``/``commit``…) is refused with its line, since inside one
revision it would end the revision's transaction half-way.
"""

from __future__ import annotations

import re
from pathlib import Path

from pgpolicy.supabase_cli.project import CliProject
from pgpolicy.supabase_cli.statements import split_statements

__all__ = ["BaselineError", "write_baseline"]

BASELINE_REVISION = "0001_supabase_cli_baseline"
_TRANSACTION_CONTROL = re.compile(
    r"^(begin|commit|rollback|end|abort|start\s+transaction)\b(?!\s+atomic)", re.IGNORECASE
)

_ALEMBIC_INI = """\
# Written by `pgpolicy import` from supabase/migrations: the baseline, then new revisions.
[alembic]
script_location = %(here)s/{folder}
"""

_ENV_PY = '''\
"""Alembic environment: `-x url=...` (as pgpolicy passes it) or sqlalchemy.url."""

from alembic import context
from sqlalchemy import create_engine, pool

url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
    "sqlalchemy.url"
)
if not url:
    raise SystemExit("no database URL: pass -x url=postgresql://... or set sqlalchemy.url")
engine = create_engine(
    url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=pool.NullPool
)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()  # SQLAlchemy 2 began a transaction around Alembic's
engine.dispose()
'''

_REVISION = '''\
"""Baseline: the Supabase CLI migrations {first} to {last}, imported by `pgpolicy import`.

Each statement runs on the migration's own connection, in this revision's transaction.
"""

from alembic import op

revision = "{revision}"
down_revision = None
branch_labels = None
depends_on = None

# (migration file, its statements in order), in the CLI's order.
MIGRATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
{migrations})


def upgrade() -> None:
    # The DBAPI connection, not op.execute: SQLAlchemy would read ":name" as a parameter.
    driver = op.get_bind().connection.driver_connection
    for _file, statements in MIGRATIONS:
        for statement in statements:
            driver.execute(statement)


def downgrade() -> None:
    raise RuntimeError(
        "the Supabase CLI baseline cannot be downgraded: it created the whole schema;"
        " drop the database (or restore a backup) instead"
    )
'''


class BaselineError(RuntimeError):
    """The baseline cannot be written (a file exists already, or a migration cannot go in)."""


def write_baseline(project: CliProject, *, folder: str = "migrations") -> list[Path]:
    """Write alembic.ini, ``<folder>/env.py`` and the baseline revision; return the paths.

    Never overwrites: an existing alembic.ini or ``<folder>`` is refused.
    """
    if not project.migrations:
        raise BaselineError("supabase/migrations holds no <version>_<name>.sql file to import")
    ini = project.root / "alembic.ini"
    scripts = project.root / folder
    for existing in (ini, scripts):
        if existing.exists():
            raise BaselineError(f"{existing} exists already: pgpolicy import never overwrites")
    entries: list[str] = []
    for migration in project.migrations:
        statements = split_statements(migration.path.read_text())
        for statement in statements:
            if _TRANSACTION_CONTROL.match(statement.sql):
                raise BaselineError(
                    f"{migration.path.relative_to(project.root)}:{statement.line}:"
                    f" {statement.sql.split()[0]!r} controls the transaction; inside one"
                    " revision it would end the baseline's transaction half-way: remove it"
                )
        body = "".join(f"            {s.sql!r},\n" for s in statements)
        entries.append(
            f"    (\n        {migration.path.name!r},\n        (\n{body}        ),\n    ),\n"
        )
    revision = _REVISION.format(
        first=project.migrations[0].path.name,
        last=project.migrations[-1].path.name,
        revision=BASELINE_REVISION,
        migrations="".join(entries),
    )
    (scripts / "versions").mkdir(parents=True)
    written = [
        _write(ini, _ALEMBIC_INI.format(folder=folder)),
        _write(scripts / "env.py", _ENV_PY),
        _write(scripts / "versions" / f"{BASELINE_REVISION}.py", revision),
    ]
    return written


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
