"""Alembic environment: pgpolicy's (src/pgpolicy/migrate/environment.py says what it does)."""

from pgpolicy.migrate.environment import run_environment

run_environment()
