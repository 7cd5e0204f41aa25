"""Sign-in attempts are counted in the gateway's database, on SQLite and on PostgreSQL alike:
counted before the password is checked, blocked past the free ones, cleared by a success."""
from datetime import timedelta

import pytest

from services.gateway import limits
from services.gateway.models import Base
from shared.events import utcnow
from tests.databases import a_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    with a_store(request.param, tmp_path, "gateway", Base.metadata) as store:
        yield store


def attempt(store, now, username="sekdes", address="10.0.0.7"):
    with store.transaction() as unit:
        return limits.reserve_attempt(unit.session, username, address, now)


def test_past_the_free_attempts_each_waits_twice_as_long(store):
    now = utcnow()
    assert [attempt(store, now) for _ in range(limits.FREE_FAILURES)] == [0] * 5
    assert attempt(store, now) == 1                       # blocked a second after the fifth
    later = now + timedelta(seconds=2)
    assert attempt(store, later) == 0                     # the sixth goes through…
    assert attempt(store, later) == 2                     # …and the next waits two seconds
    assert attempt(store, later, username="kades") == 0   # another username is not blocked


def test_a_success_clears_the_username_and_takes_the_attempt_back_from_the_address(store):
    now = utcnow()
    for _ in range(limits.FREE_FAILURES):
        attempt(store, now)
    with store.transaction() as unit:
        limits.attempt_succeeded(unit.session, "sekdes", "10.0.0.7")
    assert attempt(store, now + timedelta(seconds=2)) == 0


def test_a_count_starts_again_a_window_after_the_last_failure(store):
    now = utcnow()
    for _ in range(limits.FREE_FAILURES):
        attempt(store, now)
    much_later = now + limits.FAILURE_WINDOW + timedelta(seconds=1)
    assert [attempt(store, much_later) for _ in range(limits.FREE_FAILURES)] == [0] * 5
