"""Each service's schema is created and changed by its own Alembic migrations.

The migrations of a service live in `services/<service>/migrations/versions/`; the machinery
(this module, `shared/alembic/env.py` and its template) is one for all. `jembatan run`,
`jembatan up` and the operator commands apply what is pending (`upgrade`); a developer who
changed a service's models writes the next migration with
`jembatan db revision SERVICE -m "what changed"` and reads it before committing.
"""
import importlib
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent


def config(service, connection=None, url=None):
    alembic_config = Config()
    alembic_config.set_main_option("path_separator", "os")
    alembic_config.set_main_option("script_location", str(ROOT / "shared" / "alembic"))
    alembic_config.set_main_option(
        "version_locations", str(ROOT / "services" / service / "migrations" / "versions"))
    alembic_config.attributes.update(service=service, connection=connection, url=url)
    return alembic_config


def metadata_of(service):
    return importlib.import_module(f"services.{service}.models").Base.metadata


def upgrade(engine, service):
    """Apply the pending migrations of `service` to its database (one process at a time)."""
    with engine.begin() as connection:
        one_at_a_time(connection, f"jembatan-migrations-{service}")
        command.upgrade(config(service, connection), "head")


def one_at_a_time(connection, name):
    """Until the connection's transaction ends, other processes wait here for the same `name`:
    replicas starting together migrate (or load their data) one after the other, the later
    ones finding the work done. On PostgreSQL an advisory lock, however long the first takes
    (the service's own timeouts do not apply here); on SQLite the file's write lock, within
    the busy timeout — there this must be the transaction's first statement."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL lock_timeout = 0"))
        connection.execute(text("SET LOCAL statement_timeout = 0"))
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def revision(engine, service, message):
    """Write the next migration of `service` from the difference between models and database.

    Revisions are numbered 0001, 0002, … so that their order reads from their names.
    """
    versions = ROOT / "services" / service / "migrations" / "versions"
    number = f"{len(list(versions.glob('[0-9]*.py'))) + 1:04d}"
    with engine.begin() as connection:
        command.upgrade(config(service, connection), "head")
        command.revision(config(service, connection), message=message, autogenerate=True,
                         rev_id=number)


def render_item(type_, obj, _autogen_context):
    """Write shared.db.UTCDateTime as the plain DateTime column it stores."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime()"
    return False


def run_migrations():
    """The body of shared/alembic/env.py: migrate the service named in the configuration."""
    attributes = context.config.attributes
    context.configure(connection=attributes["connection"],
                      target_metadata=metadata_of(attributes["service"]),
                      render_as_batch=True, compare_type=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()
