"""A read sees one moment of its database, though it takes several statements: a case read
with its tasks never mixes the case before a change with the tasks after it."""
import pytest
from sqlalchemy import Column, MetaData, String, Table, insert, select, update

from shared.db import Store
from tests.databases import PostgresDatabases, require_postgres

metadata = MetaData()
cases = Table("cases", metadata, Column("id", String(8), primary_key=True),
              Column("status", String(20)))


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    databases = None
    if request.param == "postgresql":
        require_postgres()
        databases = PostgresDatabases()
        url = databases.create("snapshot")
    else:
        url = f"sqlite:///{tmp_path / 'requests.db'}"
    store = Store("requests", metadata, url=url)
    metadata.create_all(store.engine)
    yield store
    store.close()
    if databases is not None:
        databases.drop_all()


def test_a_commit_during_a_read_is_not_seen_half_way(store):
    with store.transaction() as unit:
        unit.session.execute(insert(cases).values(id="c1", status="needs_triage"))
    with store.read() as reading:
        first = reading.execute(select(cases.c.status)).scalar()
        with store.transaction() as unit:  # another worker commits meanwhile
            unit.session.execute(update(cases).values(status="routed"))
        second = reading.execute(select(cases.c.status)).scalar()
    assert first == second == "needs_triage"
    with store.read() as later:
        assert later.execute(select(cases.c.status)).scalar() == "routed"
