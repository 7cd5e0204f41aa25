"""Deadlines as Indonesian offices count them: working days, national public holidays, and
the local time of the place the case is in (WIB, WITA or WIT).

A deadline is written `3wd` or `6h`. Three working days fall due when the offices close
(16:00 local time) on the third working day (Monday to Friday, not a national holiday) after
the day the clock started; six hours are six hours on the clock, for emergencies that do not
wait for Monday.
"""
import re
from datetime import datetime, time, timedelta
from functools import lru_cache

import holidays

from shared.timezones import zone_of

SPEC = re.compile(r"(\d{1,3})(wd|h)")
OFFICES_CLOSE = time(16, 0)


def check(spec):
    """Refuse a deadline that is not `<n>wd` or `<n>h`."""
    if not isinstance(spec, str) or not SPEC.fullmatch(spec):
        raise ValueError(f"deadline {spec!r} is not like 3wd (working days) or 6h (hours)")
    return spec


@lru_cache(maxsize=64)
def national_holidays(year):
    """Indonesia's national public holidays of a year (the maintained `holidays` calendar)."""
    return holidays.country_holidays("ID", years=year, language="id")


@lru_cache(maxsize=4096)  # the deadline watcher asks of the same days again and again
def is_working_day(day):
    return day.weekday() < 5 and day not in national_holidays(day.year)


def add_working_days(moment, days, zone):
    """Closing time on the `days`-th working day after the local day of `moment`."""
    day = moment.astimezone(zone).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        counted += is_working_day(day)
    return datetime.combine(day, OFFICES_CLOSE, tzinfo=zone).astimezone(moment.tzinfo)


def due(moment, spec, area_code):
    """When a deadline of `spec` that starts at `moment` falls due, for a case in `area_code`."""
    amount, unit = SPEC.fullmatch(check(spec)).groups()
    if unit == "h":
        return moment + timedelta(hours=int(amount))
    return add_working_days(moment, int(amount), zone_of(area_code))
