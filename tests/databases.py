"""Databases for tests: SQLite files, or PostgreSQL databases of their own, dropped afterwards."""
import os
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

POSTGRES_ADMIN_URL = os.environ.get("JEMBATAN_TEST_POSTGRES_URL",
                                    "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def postgres_available():
    engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except Exception:  # any failure to connect: no server here
        return False
    finally:
        engine.dispose()


def require_postgres():
    """Skip on a developer's machine without PostgreSQL; CI (CI=true) must have it."""
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} in CI")
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}")


class PostgresDatabases:
    """Creates databases named jembatan_test_<random>_<name>; drops them all at the end."""

    def __init__(self):
        self.prefix = f"jembatan_test_{uuid.uuid4().hex[:8]}"
        self.created = []
        self.admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def create(self, name, template=None):
        """A new database (a copy of the database `template`, when given); its URL."""
        database = f"{self.prefix}_{name}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"{copy}'))
        self.created.append(database)
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("+psycopg2", "") + f"/{database}"

    def drop_all(self):
        with self.admin.connect() as connection:
            for database in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        self.admin.dispose()


@contextmanager
def a_store(database, tmp_path, service, metadata, migrate=True):
    """A service's Store on "sqlite" (a file under tmp_path) or "postgresql" (a database of its
    own), its schema made by its migrations (or from `metadata`); dropped afterwards."""
    from shared.db import Store

    databases = None
    if database == "postgresql":
        require_postgres()
        databases = PostgresDatabases()
        url = databases.create(service)
    else:
        url = f"sqlite:///{tmp_path / (service + '.db')}"
    store = Store(service, metadata, url=url)
    if migrate:
        store.migrate()
    else:
        metadata.create_all(store.engine)
    try:
        yield store
    finally:
        store.close()
        if databases is not None:
            databases.drop_all()
