"""What the public is told of an area's cases, month by month: the rules of the transparency
pages and the open data (no sign-in), as plain Python over the cases' rows.

A month is a calendar month where the area is (shared.timezones: WIB, WITA or WIT). For each
month, per category and per agency:

- **received**: the cases reported that month;
- **resolved**: the cases whose work was done that month (their `resolved_at`: the agencies
  completed it; a case reopened since is not resolved, nor one cancelled after);
- **overdue**: of the cases received that month, those that missed a deadline (a
  `deadline_missed` on their timeline, whenever it came);
- **median days to resolve**: of the cases resolved that month, the median from reported to
  resolved, in days.

For an agency: the cases it was given a task on (received), those resolved while its task
still counted (not declined or withdrawn), and those on which it missed a deadline itself
(the timeline names the agency). Only public cases count (domain.is_public: never a
confidential one): the public learns nothing of those, not even that they exist.
"""
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from shared.timezones import zone_of

MOST_MONTHS = 24


@dataclass
class CaseRow:
    """What the rules read of a case (queries.public_record_rows)."""
    category: str
    created_at: datetime
    resolved_at: datetime | None  # None for a case cancelled after its work was done
    agencies: dict = field(default_factory=dict)  # agency id -> name, each given a task on it
    working: set = field(default_factory=set)     # of those, whose task still counts
    missed_by: set = field(default_factory=set)   # the agencies that missed a deadline on it

    @property
    def missed_deadline(self):
        return bool(self.missed_by)


def month_of(moment, area):
    """'2026-11': the month of a UTC moment where the area is."""
    return f"{moment.astimezone(zone_of(area)):%Y-%m}"


def month_start(month, area):
    """The first moment of a month ('2026-11') where the area is."""
    year, number = (int(part) for part in month.split("-"))
    return datetime(year, number, 1, tzinfo=zone_of(area))


def months_back(now, area, months):
    """The last `months` months where the area is, oldest first, this month last."""
    local = now.astimezone(zone_of(area))
    year, month = local.year, local.month
    found = []
    for _ in range(months):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found[::-1]


def days(delta):
    return delta.total_seconds() / 86400


def record(rows, area, months):
    """An area's record over `months` (a list of 'YYYY-MM', oldest first): lines of received,
    resolved, overdue and median_days_to_resolve (None when nothing was resolved):

    - `by_category`, `by_agency`: per month and category / agency (those with something);
    - `total`: per month, every month;
    - `categories`, `agencies`: per category / agency over all the months together."""
    wanted = set(months)
    tallies = {}

    def tally(kind, key, month):
        return tallies.setdefault((kind, key, month), {"received": 0, "resolved": 0,
                                                       "overdue": 0, "to_resolve": []})

    for month in months:  # every month has its total, nothing received or resolved included
        tally("total", None, month)
    for row in rows:
        # (kind, key, whether it missed a deadline on the case, whether its work resolved it)
        keys = [("category", row.category, row.missed_deadline, True),
                ("total", None, row.missed_deadline, True)]
        keys += [("agency", (agency_id, name), agency_id in row.missed_by,
                  agency_id in row.working) for agency_id, name in row.agencies.items()]
        received = month_of(row.created_at, area)
        resolved = row.resolved_at and month_of(row.resolved_at, area)
        for kind, key, missed, resolving in keys:
            for month in (received, None) if kind != "total" else (received,):
                if received in wanted:
                    line = tally(kind, key, month)
                    line["received"] += 1
                    line["overdue"] += missed
            for month in (resolved, None) if kind != "total" else (resolved,):
                if resolved in wanted and resolving:
                    line = tally(kind, key, month)
                    line["resolved"] += 1
                    line["to_resolve"].append(days(row.resolved_at - row.created_at))
    lines = {name: [] for name in ("by_category", "by_agency", "total", "categories",
                                   "agencies")}
    for (kind, key, month), line in sorted(tallies.items(), key=_order):
        taken = line.pop("to_resolve")
        line["median_days_to_resolve"] = round(median(taken), 1) if taken else None
        what = ({"category": key} if kind == "category" else
                {"agency": {"id": key[0], "name": key[1]}} if kind == "agency" else {})
        if month is None:
            lines["categories" if kind == "category" else "agencies"].append({**what, **line})
        else:
            lines[{"category": "by_category", "agency": "by_agency", "total": "total"}[kind]
                  ].append({"month": month, **what, **line})
    return lines


def _order(item):
    (kind, key, month), _line = item
    name = key[1] if kind == "agency" else key or ""
    return kind, month or "", name
