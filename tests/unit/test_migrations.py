"""Every service's migrations build exactly the schema its models describe."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shared import config
from shared.db import make_engine
from shared.migrations import metadata_of, render_item, upgrade
from tests.databases import PostgresDatabases, require_postgres


def differences(engine, service):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "render_item": render_item})
        return compare_metadata(context, metadata_of(service))


@pytest.mark.parametrize("service", config.SERVICES)
def test_migrations_and_models_agree_on_sqlite(tmp_path, service):
    engine = make_engine(f"sqlite:///{tmp_path / service}.db")
    upgrade(engine, service)
    upgrade(engine, service)  # applying again changes nothing
    assert differences(engine, service) == []
    engine.dispose()


@pytest.fixture(scope="module")
def postgres():
    require_postgres()
    databases = PostgresDatabases()
    yield databases
    databases.drop_all()


@pytest.mark.parametrize("service", config.SERVICES)
def test_migrations_and_models_agree_on_postgresql(postgres, service):
    engine = make_engine(postgres.create(service))
    upgrade(engine, service)
    assert differences(engine, service) == []
    engine.dispose()
