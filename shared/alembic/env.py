"""Alembic's entry point for every service: see shared/migrations.py."""
from shared.migrations import run_migrations

run_migrations()
