"""Replicas of a service starting together on a fresh database (`jembatan up --replicas 2`,
`docker compose up --scale villages=2`) migrate it and load its data one after the other."""
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.villages import registry
from services.villages.models import Village
from shared.db import make_engine
from tests.databases import PostgresDatabases, require_postgres

ROOT = Path(__file__).resolve().parents[2]
START_ON_GO = """
import sys
import jembatan  # noqa: F401
from services.villages.models import Base
from services.villages.service import prepare
from shared.db import Store
store = Store("villages", Base.metadata, url=sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
store.migrate()
prepare(store)
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'villages.db'}"
        return
    require_postgres()
    databases = PostgresDatabases()
    try:
        yield databases.create("villages")
    finally:
        databases.drop_all()


def test_villages_replicas_starting_together_migrate_and_load_the_registry_once(fresh_url):
    replicas = [subprocess.Popen([sys.executable, "-c", START_ON_GO, fresh_url], cwd=ROOT,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for replica in replicas:
        assert replica.stdout.readline() == "ready\n", replica.stderr.read()
    for replica in replicas:  # at once, as `jembatan up` starts them
        replica.stdin.write("go\n")
        replica.stdin.flush()
    for replica in replicas:
        _out, errors = replica.communicate(timeout=120)
        assert replica.returncode == 0, errors
    engine = make_engine(fresh_url)
    with engine.connect() as connection:
        loaded = connection.scalar(select(func.count()).select_from(Village))
    engine.dispose()
    assert loaded == sum(1 for _ in registry.rows("villages.csv"))
