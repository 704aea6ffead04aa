"""The files `pgpolicy init` writes, as text (what a new project starts from)."""

from __future__ import annotations

ALEMBIC_INI = """\
# Alembic, as pgpolicy runs it: the URL comes from DATABASE_URL or `-x url=...`.
[alembic]
script_location = %(here)s/migrations
prepend_sys_path = .
file_template = %%(rev)s_%%(slug)s
truncate_slug_length = 40
path_separator = os

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""

ENV_PY = '''\
"""Alembic environment: pgpolicy's (one migrator at a time, timeouts, Supabase
prerequisites, one transaction per revision, one-line failures, `alembic check`)."""

from pgpolicy.migrate.environment import run_environment

run_environment()
'''

SCRIPT_MAKO = '''\
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from collections.abc import Sequence

from alembic import op
${imports if imports else ""}
revision: str = ${repr(up_revision)}
down_revision: str | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
'''

FIRST_PROOF = '''\
"""A first proof: who may read Supabase Auth's users through the API (nobody).

`db` is a database migrated to this project's head on a Supabase-shaped cluster; every
request runs as PostgREST runs it, and the assertion checks the database's answer.
"""

from pgpolicy.testing import assert_denied


def test_anon_cannot_read_auth_users(db):
    assert_denied(db.as_anon().execute("select * from auth.users", method="GET"))


def test_a_signed_in_user_cannot_read_auth_users(db):
    alice = db.create_user("alice")
    assert_denied(db.as_user(alice).execute("select * from auth.users", method="GET"))
'''

PYTEST_INI = """\
[pytest]
testpaths = tests
addopts = -ra --strict-markers
"""

PYPROJECT_PYTEST = """
[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = "-ra --strict-markers"
"""

# A Supabase CLI project's pgTAP files (supabase/tests/**/*.sql) are pytest items too.
PYTEST_INI_CLI = """\
[pytest]
testpaths = tests supabase/tests
addopts = -ra --strict-markers
"""

PYPROJECT_PYTEST_CLI = """
[tool.pytest.ini_options]
testpaths = ["tests", "supabase/tests"]
addopts = "-ra --strict-markers"
"""

KEEP = "# kept so that git keeps this folder\n"
