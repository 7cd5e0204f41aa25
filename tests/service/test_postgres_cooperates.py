"""PostgreSQL queries wait on the eventlet hub: one slow query does not stop the others."""
import eventlet
import pytest
from sqlalchemy import text

from shared.db import make_engine
from tests.broker import eventually
from tests.databases import PostgresDatabases, require_postgres


@pytest.fixture
def engine():
    require_postgres()
    databases = PostgresDatabases()
    engine = make_engine(databases.create("green"))
    yield engine
    engine.dispose()
    databases.drop_all()


def test_a_slow_query_lets_other_workers_run(engine):
    def slow():
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_sleep(3)"))

    def slow_query_running():  # a transaction of its own: pg_stat_activity holds a snapshot
        with engine.connect() as connection:
            return connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                "AND query = 'SELECT pg_sleep(3)'")).scalar() == 1

    sleeper = eventlet.spawn(slow)
    eventually(slow_query_running)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 41 + 1")).scalar() == 42
    assert not sleeper.dead, "the quick query had to wait for the slow one: the driver blocks"
    sleeper.wait()


def test_a_statement_that_hangs_is_cut_off(engine):
    with engine.connect() as connection:
        timeout = connection.execute(text("SHOW statement_timeout")).scalar()
    assert timeout == "15s"
