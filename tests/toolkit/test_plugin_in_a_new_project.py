"""The pytest plugin in someone else's project: a plain env.py must not break the harness.

A new user's ``env.py`` creates its SQLAlchemy engine with the default pool (QueuePool) and
never disposes of it, so the migration's connection stays open after ``upgrade``; cloning
the template then failed with ``source database ... is being accessed by other users``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from pgpolicy.provision import Server
from pgpolicy.testing.plugin import skip_if_in_place
from pgpolicy.testing.target import Target

_ENV_PY = """
from alembic import context
from sqlalchemy import create_engine

url = context.get_x_argument(as_dictionary=True)["url"]
# The default pool, never disposed: the connection outlives the upgrade.
engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
connection = engine.connect()
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
connection.commit()
connection.close()
"""

_REVISION = """
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("create table public.gadgets (id int primary key, name text)")


def downgrade() -> None:
    op.execute("drop table public.gadgets")
"""

_TEST = """
def test_the_migrated_table_is_there(db):
    assert db.scalar("select to_regclass('public.gadgets')::text") == "gadgets"


def test_a_second_test_clones_the_same_template(db):
    assert db.scalar("select count(*) from public.gadgets") == 0
"""


# A connection no engine knows of, kept alive by the interpreter: it cannot be closed for it.
_ENV_PY_LEAKING_A_RAW_CONNECTION = (
    _ENV_PY
    + """
import builtins
import psycopg

builtins.kept_open = psycopg.connect(url)
"""
)


def _project(root: Path, env_py: str = _ENV_PY) -> None:
    (root / "migrations" / "versions").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    (root / "migrations" / "env.py").write_text(textwrap.dedent(env_py))
    (root / "migrations" / "versions" / "0001_gadgets.py").write_text(_REVISION)
    (root / "tests" / "test_gadgets.py").write_text(_TEST)
    (root / "pytest.ini").write_text("[pytest]\npgpolicy_alembic_ini = alembic.ini\n")


_PYTEST = (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")


def _pytest(root: Path, server: Server) -> tuple[int, str]:
    run = subprocess.run(
        [*_PYTEST, "--pg-url", server.url(), "tests"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return run.returncode, run.stdout + run.stderr


def test_an_env_py_with_a_pooled_engine_does_not_break_the_template(
    tmp_path: Path, pg_server: Server, pg_target: Target
) -> None:
    # In place, this session's own migrations occupy the database another project would use.
    skip_if_in_place(pg_target)
    _project(tmp_path)
    returncode, output = _pytest(tmp_path, pg_server)
    assert returncode == 0, output
    assert "2 passed" in output
    assert "being accessed by other users" not in output


def test_a_connection_env_py_keeps_open_fails_with_what_to_change(
    tmp_path: Path, pg_server: Server, pg_target: Target
) -> None:
    skip_if_in_place(pg_target)  # in place, no template is cloned: nothing to refuse
    _project(tmp_path, _ENV_PY_LEAKING_A_RAW_CONNECTION)
    returncode, output = _pytest(tmp_path, pg_server)
    assert returncode != 0
    assert "left 1 connection(s) open on the template database" in output, output
    assert "poolclass=pool.NullPool" in output
    assert "being accessed by other users" not in output
