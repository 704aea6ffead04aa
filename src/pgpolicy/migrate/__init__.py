"""Helpers for migrations/env.py and for running Alembic from Python."""
