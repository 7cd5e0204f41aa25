"""How much a caller may ask: rate limits per token and per address, and failed sign-ins
slowed down per username and per address.

* **Rate limits** (JEMBATAN_RATE_LIMIT_PER_TOKEN, JEMBATAN_RATE_LIMIT_PER_ADDRESS: requests a
  minute, 0 turns one off) are token buckets kept in each gateway process: a client may burst
  up to the limit, then the bucket refills evenly over the minute. Over it, 429 and
  `Retry-After`. With N gateway replicas behind one address, a client may get up to N times
  the limit.
* **Failed sign-ins** are counted in the gateway's database, so every replica sees them: after
  `FREE_FAILURES` failures for a username (or `FREE_FAILURES_PER_ADDRESS` from one address)
  within `FAILURE_WINDOW`, each further attempt must wait twice as long as the one before (from
  1 s up to `MAX_WAIT`), even with the right password; a success clears the username's count.
"""
import math
import threading
import time
from datetime import timedelta

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from services.gateway.models import LoginFailure

FREE_FAILURES = 5
FREE_FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW = timedelta(minutes=15)
MAX_WAIT = timedelta(minutes=15)


class RateLimiter:
    """Token buckets by key: `limit` requests a minute, bursting up to `limit`."""

    def __init__(self, per_minute, max_keys=50_000):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_keys = max_keys
        self._buckets = {}
        self._lock = threading.Lock()

    def retry_after(self, key):
        """0 when the request may go ahead (and is counted), else the seconds to wait."""
        if self.capacity <= 0:
            return 0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                if len(self._buckets) >= self.max_keys:
                    self._buckets.clear()
                self._buckets[key] = (tokens - 1, now)
                return 0
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.rate))


def failure_keys(username, address):
    keys = [(f"user:{(username or '').strip().lower()[:100]}", FREE_FAILURES)]
    if address:
        keys.append((f"addr:{address}", FREE_FAILURES_PER_ADDRESS))
    return keys


def wait_after(failures, free):
    """How long the next attempt must wait after `failures` (0 while some are still free)."""
    if failures < free:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - free)), MAX_WAIT)


def reserve_attempt(session, username, address, now):
    """Count this attempt, before its password is checked, for its username and address:
    0 when it may go on, else the seconds it must wait (and nothing is counted).

    Counting first, in one statement per key that also checks the block, means attempts sent
    together cannot all slip in before any of them is counted. A count starts again
    `FAILURE_WINDOW` after the last failure; `attempt_succeeded` takes a success back out.
    """
    session.execute(delete(LoginFailure).where(
        LoginFailure.last_failed_at < now - FAILURE_WINDOW - MAX_WAIT))
    keys = failure_keys(username, address)
    blocked = [seconds_blocked(session, key, now) for key, _free in keys]
    if any(blocked):
        return max(blocked)
    for key, free in keys:
        failures = count(session, key, now)
        if failures is None:  # blocked by an attempt that was counted meanwhile
            return seconds_blocked(session, key, now) or 1
        if failures >= free:
            session.execute(update(LoginFailure).where(LoginFailure.key == key)
                            .values(blocked_until=now + wait_after(failures, free)))
    return 0


def count(session, key, now):
    """One more attempt on `key` unless it is blocked; the count, or None when blocked."""
    table = LoginFailure.__table__
    insert = (postgresql_insert if session.bind.dialect.name == "postgresql"
              else sqlite_insert)(table)
    upsert = insert.values(key=key, failures=1, last_failed_at=now).on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"failures": case((table.c.last_failed_at < now - FAILURE_WINDOW, 1),
                               else_=table.c.failures + 1),
              "last_failed_at": now},
        where=or_(table.c.blocked_until.is_(None), table.c.blocked_until <= now))
    return session.execute(upsert.returning(table.c.failures)).scalar()


def seconds_blocked(session, key, now):
    until = session.scalar(select(LoginFailure.blocked_until).where(LoginFailure.key == key))
    return math.ceil((until - now).total_seconds()) if until and until > now else 0


def attempt_succeeded(session, username, address):
    """The password was right: the username's count ends, the address's attempt is taken back."""
    (user_key, _free), *by_address = failure_keys(username, address)
    session.execute(delete(LoginFailure).where(LoginFailure.key == user_key))
    for key, free in by_address:
        session.execute(update(LoginFailure).where(LoginFailure.key == key).values(
            failures=LoginFailure.failures - 1,
            blocked_until=case((LoginFailure.failures - 1 < free, None),
                               else_=LoginFailure.blocked_until)))
