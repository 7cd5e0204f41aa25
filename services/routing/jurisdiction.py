"""Loading a regency's agencies and routing rules from a data file (see data/)."""
import json
from pathlib import Path

from sqlalchemy import delete

from services.routing.models import Agency, Rule
from shared.categories import CODES as CATEGORY_CODES
from shared import workdays
from shared.events import SEVERITIES

DATA = Path(__file__).parent / "data"
DEMO_FILE = DATA / "35.79-kota-batu.json"


class InvalidJurisdiction(ValueError):
    pass


def check(document):
    """Refuse a file whose rules name unknown agencies, categories or severities."""
    regency = document["regency"]["code"]
    agency_ids = {agency["id"] for agency in document["agencies"]}
    problems = []
    for agency in document["agencies"]:
        problems += [f"agency {agency['id']}: unknown category {c}"
                     for c in agency["categories"] if c not in CATEGORY_CODES]
    for rule in document["rules"]:
        where = f"rule {rule['id']}"
        if rule["category"] not in CATEGORY_CODES:
            problems.append(f"{where}: unknown category {rule['category']}")
        if not rule["scope_code"].startswith(regency):
            problems.append(f"{where}: scope {rule['scope_code']} is outside {regency}")
        if rule.get("min_severity") not in (None, *SEVERITIES):
            problems.append(f"{where}: unknown severity {rule['min_severity']}")
        for agency_id in [rule["lead"], *rule["support"], *rule.get("fallback", [])]:
            if agency_id not in agency_ids:
                problems.append(f"{where}: unknown agency {agency_id}")
        for severity, deadlines in rule.get("deadlines", {}).items():
            if severity not in SEVERITIES:
                problems.append(f"{where}: deadlines for unknown severity {severity}")
            for kind, spec in deadlines.items():
                try:
                    if kind not in ("accept", "resolve"):
                        raise ValueError(f"{kind} is neither accept nor resolve")
                    workdays.check(spec)
                except ValueError as exc:
                    problems.append(f"{where}: {exc}")
    if problems:
        raise InvalidJurisdiction("; ".join(problems))


def load(session, path=DEMO_FILE):
    """Replace the agencies and rules of the file's regency with those in the file."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    check(document)
    regency = document["regency"]
    session.execute(delete(Rule).where(Rule.scope_code.startswith(regency["code"])))
    session.execute(delete(Agency).where(Agency.regency_code == regency["code"]))
    for agency in document["agencies"]:
        session.add(Agency(id=agency["id"], name=agency["name"], short_name=agency["short_name"],
                           regency_code=regency["code"], regency_name=regency["name"],
                           categories=agency["categories"]))
    for rule in document["rules"]:
        session.add(Rule(
            id=rule["id"], name=rule["name"], scope_code=rule["scope_code"],
            category=rule["category"], min_severity=rule.get("min_severity"),
            min_affected_people=rule.get("min_affected_people"), lead_agency_id=rule["lead"],
            support_agency_ids=rule["support"], fallback_agency_ids=rule.get("fallback", []),
            deadlines=rule.get("deadlines", {})))
    return regency, len(document["agencies"]), len(document["rules"])
