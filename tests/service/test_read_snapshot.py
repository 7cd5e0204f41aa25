"""A read sees one moment of its database, though it takes several statements: a case read
with its tasks never mixes the case before a change with the tasks after it."""
import pytest
from sqlalchemy import Column, MetaData, String, Table, insert, select, update

from tests.databases import a_store

metadata = MetaData()
cases = Table("cases", metadata, Column("id", String(8), primary_key=True),
              Column("status", String(20)))


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    with a_store(request.param, tmp_path, "requests", metadata, migrate=False) as store:
        yield store


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
