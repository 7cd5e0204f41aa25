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

from sqlalchemy import delete

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


def sign_in_wait(session, username, address, now):
    """Seconds this sign-in must still wait (0: it may be tried)."""
    waits = [0]
    for key, _free in failure_keys(username, address):
        failure = session.get(LoginFailure, key)
        if failure is not None and (failure.blocked_until or now) > now:
            waits.append(math.ceil((failure.blocked_until - now).total_seconds()))
    return max(waits)


def sign_in_failed(session, username, address, now):
    """Count a failed sign-in; past the free ones, the next attempt must wait longer."""
    for key, free in failure_keys(username, address):
        failure = session.get(LoginFailure, key)
        if failure is None or failure.first_failed_at < now - FAILURE_WINDOW:
            if failure is not None:
                session.delete(failure)
                session.flush()
            failure = LoginFailure(key=key, failures=0, first_failed_at=now)
            session.add(failure)
        failure.failures += 1
        if failure.failures >= free:
            wait = min(timedelta(seconds=2 ** (failure.failures - free)), MAX_WAIT)
            failure.blocked_until = now + wait


def sign_in_succeeded(session, username):
    key, _free = failure_keys(username, None)[0]
    session.execute(delete(LoginFailure).where(LoginFailure.key == key))


def forget_old_failures(session, now):
    session.execute(delete(LoginFailure).where(
        LoginFailure.first_failed_at < now - FAILURE_WINDOW - MAX_WAIT))

