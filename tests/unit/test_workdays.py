"""Deadlines in working days, with Indonesia's national holidays, in the case's own time zone."""
from datetime import datetime, timezone

import pytest

from shared.workdays import due, is_working_day

UTC = timezone.utc


def test_hours_are_on_the_clock_even_over_a_weekend():
    saturday_night = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    assert due(saturday_night, "6h", "35.79") == datetime(2026, 11, 21, 21, 0, tzinfo=UTC)


def test_working_days_fall_due_when_the_offices_close_and_skip_the_weekend():
    friday_10_wib = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    assert due(friday_10_wib, "1wd", "35.79") == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert due(friday_10_wib, "5wd", "35.79") == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_working_days_skip_national_holidays():
    # Independence Day, Monday 17 August 2026.
    friday = datetime(2026, 8, 14, 3, 0, tzinfo=UTC)
    assert not is_working_day(datetime(2026, 8, 17).date())
    assert due(friday, "1wd", "35.79") == datetime(2026, 8, 18, 9, 0, tzinfo=UTC)


def test_a_report_on_a_holiday_counts_from_the_next_working_day():
    christmas = datetime(2026, 12, 25, 2, 0, tzinfo=UTC)      # Friday, 09:00 WIB
    assert due(christmas, "1wd", "35.79") == datetime(2026, 12, 28, 9, 0, tzinfo=UTC)


def test_the_day_and_the_closing_hour_are_those_of_the_case_s_own_time_zone():
    friday_late = datetime(2026, 11, 20, 16, 30, tzinfo=UTC)
    # Friday 23:30 in Jakarta (WIB): Monday 16:00 WIB.
    assert due(friday_late, "1wd", "35.79") == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    # Already Saturday 00:30 in Makassar (WITA): also Monday, 16:00 WITA.
    assert due(friday_late, "1wd", "73.71") == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    # Saturday 01:30 in Jayapura (WIT): Monday 16:00 WIT.
    assert due(friday_late, "1wd", "91.01") == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    # Thursday 23:30 WIB is still Thursday: one working day is Friday 16:00 WIB.
    thursday_late = datetime(2026, 11, 19, 16, 30, tzinfo=UTC)
    assert due(thursday_late, "1wd", "35.79") == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("spec", ["3", "3d", "wd", "-1wd", "1.5h", 3, None])
def test_a_deadline_that_is_not_working_days_or_hours_is_refused(spec):
    with pytest.raises(ValueError):
        due(datetime(2026, 11, 20, tzinfo=UTC), spec, "35.79")
