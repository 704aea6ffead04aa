"""Alembic environment: pgpolicy's (one migrator at a time, timeouts, Supabase
prerequisites, one transaction per revision, one-line failures, `alembic check`)."""

from pgpolicy.migrate.environment import run_environment

run_environment()
