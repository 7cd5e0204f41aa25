"""How long the villages service takes to load the wilayah registry (38 provinces, 514
regencies, 7,277 districts, 83,763 villages) into a new database, as it does when it first
starts (services/villages/service.py `prepare`). Goal: at most 15 s.

A fresh SQLite file, or with `--database postgresql` a throwaway PostgreSQL database (the
tests' server, JEMBATAN_TEST_POSTGRES_URL). The schema's migrations run first and are timed
apart.

Run:  .venv/bin/python -m bench.registry_load [--database sqlite|postgresql] [--runs 3]
"""
import jembatan  # noqa: F401  (eventlet first)

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from services.villages import service as villages_service
from services.villages.models import Base, Village
from shared.db import Store
from tests.databases import PostgresDatabases


def one_run(database, folder):
    """(seconds to migrate, seconds to load, villages loaded) on a new database."""
    databases = None
    if database == "postgresql":
        databases = PostgresDatabases()
        url = databases.create("villages")
    else:
        url = f"sqlite:///{Path(folder) / f'villages-{time.monotonic_ns()}.db'}"
    store = Store("villages", Base.metadata, url=url)
    try:
        started = time.monotonic()
        store.migrate()
        migrated = time.monotonic()
        villages_service.prepare(store)
        loaded = time.monotonic()
        with store.read() as session:
            villages = session.scalar(select(func.count()).select_from(Village))
    finally:
        store.close()
        if databases is not None:
            databases.drop_all()
    return migrated - started, loaded - migrated, villages


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        runs = [one_run(args.database, folder) for _ in range(args.runs)]
    print(f"command: {sys.executable} -m bench.registry_load --database {args.database} "
          f"--runs {args.runs}")
    for migrate, load, villages in runs:
        print(f"  migrations {migrate:.2f} s, registry load {load:.2f} s ({villages} villages)")
    print(f"  slowest load {max(load for _m, load, _v in runs):.2f} s (goal: at most 15 s)")


if __name__ == "__main__":
    main()
