"""Does the PostgreSQL driver cooperate with eventlet? 20 workers each run a 200 ms query.

Cooperative: about 0.2 s in all. Blocking: about 4 s (one after the other).
Also: client CPU per commit of a one-row insert, psycopg2 under the monkey patch.

Run:  .venv/bin/python -m bench.postgres_green
"""
import jembatan  # noqa: F401  (eventlet first)

import sys
import time

import eventlet
from sqlalchemy import text

from shared.db import make_engine
from tests.databases import PostgresDatabases

WORKERS = 20


def main():
    databases = PostgresDatabases()
    engine = make_engine(databases.create("bench"))
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (id serial PRIMARY KEY, v text)"))

        def slow(_n):
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_sleep(0.2)"))

        started = time.monotonic()
        list(eventlet.GreenPool(WORKERS).imap(slow, range(WORKERS)))
        together = time.monotonic() - started

        commits = 500
        cpu = time.process_time()
        for n in range(commits):
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": str(n)})
        per_commit = (time.process_time() - cpu) / commits * 1000
    finally:
        engine.dispose()
        databases.drop_all()
    print(f"command: {sys.executable} -m bench.postgres_green")
    print(f"  {WORKERS} concurrent 200 ms queries took {together:.2f} s "
          f"({'cooperative' if together < 1 else 'BLOCKING'})")
    print(f"  client CPU per one-row commit: {per_commit:.2f} ms (psycopg2, SQLAlchemy Core)")


if __name__ == "__main__":
    main()
