"""A lease in a service's own database: work that must run in one place at a time.

With several replicas of a service, the one holding the lease does the work; when it stops
renewing (it died), another takes over once the lease has expired.
"""
import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import Column, MetaData, String, Table, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from shared.db import UTCDateTime
from shared.events import utcnow


def lease_table(metadata: MetaData):
    return Table(
        "leases", metadata,
        Column("name", String(64), primary_key=True),
        Column("holder", String(200), nullable=False),
        Column("expires_at", UTCDateTime, nullable=False),
    )


class Lease:
    def __init__(self, store, name, seconds):
        self.store = store
        self.table = store.metadata.tables["leases"]
        self.name = name
        self.duration = timedelta(seconds=seconds)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def acquire(self):
        """Take or renew the lease; whether this process holds it now."""
        now = utcnow()
        table = self.table
        with self.store.sessions() as session, session.begin():
            renewed = session.execute(
                update(table)
                .where(table.c.name == self.name,
                       or_(table.c.holder == self.holder, table.c.expires_at < now))
                .values(holder=self.holder, expires_at=now + self.duration)).rowcount
            if renewed:
                return True
            if session.execute(select(table.c.name).where(table.c.name == self.name)).first():
                return False
        try:
            with self.store.sessions() as session, session.begin():
                session.execute(insert(table).values(name=self.name, holder=self.holder,
                                                     expires_at=now + self.duration))
            return True
        except IntegrityError:  # another replica created it first
            return False
