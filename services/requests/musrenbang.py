"""The Musrenbang input of a district: what its villages raised in a year, grouped by kind of
problem and ranked, as plain Python over the cases' rows (queries.musrenbang_rows).

The Kantor Camat gathers the villages' aspirations for the development planning forum
(Musrenbang kecamatan). An item is a category of problem of the district's villages, with:

- **cases**: how often it was raised (the cases of the year, each report once);
- **villages**: which villages raised it, each with its own cases;
- **affected people**: how many, all its cases together (a case that did not say: none);
- **days unresolved**: the median, over its cases, of the days from the report to the work
  done, or to today for a case still open;
- **recurring**: its cases that came back after being resolved — reopened by the village,
  or reported again by a village after an earlier case of the same kind there was resolved.

Items are ranked by cases, then affected people, then days unresolved, then recurring (each
the more, the higher), then by category code (the same in every language). Confidential and
cancelled cases are never part of it: the list goes to a public forum, and a case cancelled
was sent by mistake or merged into another.
"""
from dataclasses import dataclass
from datetime import datetime
from statistics import median


@dataclass
class CaseRow:
    """What the rules read of a case."""
    tracking_number: str
    village_code: str
    village_name: str
    category: str
    title: str
    status: str
    affected_people: int | None
    created_at: datetime
    resolved_at: datetime | None
    recurring: bool      # reopened, or reported again after one of its kind was resolved there


def days_unresolved(row, now):
    return round(((row.resolved_at or now) - row.created_at).total_seconds() / 86400, 1)


def items(rows, now, category_name):
    """The district's items, ranked (each with its `rank`, from 1)."""
    grouped = {}
    for row in rows:
        grouped.setdefault(row.category, []).append(row)
    found = []
    for category, cases in grouped.items():
        villages = {}
        for case in sorted(cases, key=lambda c: c.created_at):
            villages.setdefault((case.village_name, case.village_code), []).append({
                "tracking_number": case.tracking_number, "title": case.title,
                "status": case.status, "affected_people": case.affected_people,
                "reported_at": case.created_at, "days_unresolved": days_unresolved(case, now)})
        found.append({
            "category": category, "category_name": category_name(category),
            "cases": len(cases),
            "affected_people": sum(case.affected_people or 0 for case in cases),
            "median_days_unresolved": round(median(days_unresolved(c, now) for c in cases), 1),
            "recurring": sum(case.recurring for case in cases),
            "villages": [{"code": code, "name": name, "cases": listed}
                         for (name, code), listed in sorted(villages.items())],
        })
    found.sort(key=lambda item: (-item["cases"], -item["affected_people"],
                                 -item["median_days_unresolved"], -item["recurring"],
                                 item["category"]))
    for rank, item in enumerate(found, start=1):
        item["rank"] = rank
    return found
