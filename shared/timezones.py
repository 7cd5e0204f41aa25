"""Indonesia's three time zones, by province: what a deadline reads like where the case is."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

WIB, WITA, WIT = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jayapura")
ZONE_NAMES = {WIB: "WIB", WITA: "WITA", WIT: "WIT"}

# Province codes (the first segment of every wilayah code) outside WIB.
WITA_PROVINCES = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
WIT_PROVINCES = {"81", "82", "91", "92", "93", "94", "95", "96", "97"}


def zone_of(code):
    """The time zone of a province, regency, district or village code."""
    province = code.split(".")[0]
    if province in WIT_PROVINCES:
        return WIT
    if province in WITA_PROVINCES:
        return WITA
    return WIB


def local_time(moment, code):
    """'24-11-2026 14:00 WIB': a UTC moment as the people of that area read it."""
    zone = zone_of(code)
    return f"{moment.astimezone(zone):%d-%m-%Y %H:%M} {ZONE_NAMES[zone]}"


def today(moment, code):
    """The date of a UTC moment where the area is."""
    return moment.astimezone(zone_of(code)).date()


def day_bounds(first, last, code):
    """(start, end) of the days `first` to `last` (dates, both included) where the area is."""
    zone = zone_of(code)
    return (datetime.combine(first, datetime.min.time(), zone),
            datetime.combine(last + timedelta(days=1), datetime.min.time(), zone))


def year_bounds(year, code):
    """(start, end) of a calendar year where the area is."""
    return day_bounds(date(year, 1, 1), date(year, 12, 31), code)


def as_date(value):
    return value if isinstance(value, date) else date.fromisoformat(value)
