"""A regency's jurisdiction file: its agencies and routing rules (data/35.79-kota-batu.json).

`check` says everything wrong with a file, each problem naming where (the rule, the agency,
the field); `jembatan rules check` prints them, and `load` refuses a file that has any.

Every category of the catalogue needs a rule that routes every report of it anywhere in the
regency (scoped to the regency, without conditions), unless the file lists it under `triage`:
the categories whose reports no rule covers go to the coordinator on purpose.
"""
import json
from pathlib import Path

from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import delete, select

from services.routing.domain import scope_level
from services.routing.models import Agency, Rule
from services.villages import registry
from shared import workdays
from shared.categories import CODES as CATEGORY_CODES
from shared.commands import AGENCY_ID
from shared.events import SEVERITIES

DATA = Path(__file__).parent / "data"
DEMO_FILE = DATA / "35.79-kota-batu.json"
DEADLINE_KINDS = ("accept", "resolve")
ID_FORM = "lowercase letters, digits and hyphens (2 to 64)"


class InvalidJurisdiction(ValueError):
    """A file that may not be loaded; `problems` lists each thing wrong with it."""

    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = list(problems)


# -- the shape of the file: which fields, of which types -------------------------------------

def _id():
    return fields.String(required=True,
                         validate=validate.Regexp(AGENCY_ID, error=f"Must be {ID_FORM}."))


def _name(max_length):
    return fields.String(required=True, validate=validate.Length(1, max_length))


def _list():
    return fields.List(fields.String(), load_default=list)


class AreaShape(Schema):
    code = fields.String(required=True)
    name = _name(100)


class AgencyShape(Schema):
    id = _id()
    short_name = _name(40)
    name = _name(200)
    categories = fields.List(fields.String(), required=True)


class RuleShape(Schema):
    id = _id()
    name = _name(200)
    scope_code = fields.String(required=True)
    category = fields.String(required=True)
    min_severity = fields.String(load_default=None, allow_none=True)
    min_affected_people = fields.Integer(load_default=None, allow_none=True, strict=True,
                                         validate=validate.Range(min=0))
    lead = fields.String(required=True)
    support = _list()
    fallback = _list()
    # {severity: {"accept": "1wd", "resolve": "3wd"}}: overrides of the default deadlines
    deadlines = fields.Dict(keys=fields.String(), load_default=dict,
                            values=fields.Dict(keys=fields.String(), values=fields.String()))


class FileShape(Schema):
    regency = fields.Nested(AreaShape, required=True)
    triage = _list()
    agencies = fields.List(fields.Nested(AgencyShape), required=True)
    rules = fields.List(fields.Nested(RuleShape), required=True)
    # The regency's kecamatan, for the person who scopes a rule to one (not loaded).
    districts = fields.List(fields.Nested(AreaShape), load_default=list)


ITEMS = {"agencies": "agency", "rules": "rule", "districts": "district"}


def _where(document, path):
    """'rule batu-air-bersih, field lead', 'agency #3, field name', 'field regency.code'."""
    place, rest = "", list(path)
    if len(path) > 1 and path[0] in ITEMS and isinstance(path[1], int):
        item = document[path[0]][path[1]]
        label = item.get("id", item.get("code")) if isinstance(item, dict) else None
        place = f"{ITEMS[path[0]]} {label if isinstance(label, str) else f'#{path[1] + 1}'}"
        rest = rest[2:]
    field = ".".join(str(part) for part in rest if part not in ("_schema", "key", "value"))
    return ", ".join(part for part in (place, field and f"field {field}") if part)


def _shape_problems(document, messages, path=()):
    for key, value in messages.items():
        if isinstance(value, dict):
            yield from _shape_problems(document, value, (*path, key))
        else:
            yield f"{_where(document, (*path, key)) or 'the file'}: {' '.join(value)}"


# -- what the file means: references, places, deadlines, every category ----------------------

def _area_problem(code, regency):
    """Why a rule may not be scoped to `code` (nor a kecamatan listed) in `regency`, or None."""
    if registry.level_of(code) is None:
        return f"unknown {scope_level(code) or 'area'} {code} (not in the wilayah data)"
    if code != regency["code"] and not code.startswith(f"{regency['code']}."):
        return f"{code} is outside {regency['name']} ({regency['code']})"
    return None


def _deadline_problems(deadlines):
    for severity, kinds in deadlines.items():
        if severity not in SEVERITIES:
            yield f"deadlines for unknown severity {severity}"
        for kind, spec in kinds.items():
            if kind not in DEADLINE_KINDS:
                yield f"deadlines.{severity}: {kind} is neither accept nor resolve"
            try:
                workdays.check(spec)
            except ValueError as exc:
                yield f"deadlines.{severity}.{kind}: {exc}"


def _twice(ids):
    seen, repeated = set(), []
    for item_id in ids:
        if item_id in seen and item_id not in repeated:
            repeated.append(item_id)
        seen.add(item_id)
    return repeated


def _routes_every_report(rule, regency):
    """Whether a rule covers every report of its category in the regency."""
    return (rule["scope_code"] == regency and rule["min_severity"] in (None, SEVERITIES[0])
            and rule["min_affected_people"] is None)


def _meaning_problems(document):
    regency = document["regency"]["code"]
    if regency not in registry.names("regencies.csv"):
        return [f"regency: unknown regency {regency} (not in the wilayah data; a code like "
                f"35.79 or 73.71)"]
    problems = [f"districts: {code} is listed twice"
                for code in _twice(d["code"] for d in document["districts"])]
    for district in document["districts"]:
        problem = _area_problem(district["code"], document["regency"])
        if problem is None and scope_level(district["code"]) != "district":
            problem = f"{district['code']} is not a kecamatan"
        if problem:
            problems.append(f"districts: {problem}")

    agencies = document["agencies"]
    agency_ids = {agency["id"] for agency in agencies}
    problems += [f"agency {agency_id}: the id is used twice"
                 for agency_id in _twice(a["id"] for a in agencies)]
    for agency in agencies:
        problems += [f"agency {agency['id']}: unknown category {category}"
                     for category in agency["categories"] if category not in CATEGORY_CODES]

    rules = document["rules"]
    problems += [f"rule {rule_id}: the id is used twice"
                 for rule_id in _twice(r["id"] for r in rules)]
    for rule in rules:
        where = f"rule {rule['id']}"
        if rule["category"] not in CATEGORY_CODES:
            problems.append(f"{where}: unknown category {rule['category']}")
        scope = _area_problem(rule["scope_code"], document["regency"])
        if scope:
            problems.append(f"{where}: scope_code: {scope}")
        if rule["min_severity"] not in (None, *SEVERITIES):
            problems.append(f"{where}: min_severity: unknown severity {rule['min_severity']}")
        for field in ("lead", "support", "fallback"):
            named = [rule[field]] if field == "lead" else rule[field]
            problems += [f"{where}: {field}: unknown agency {agency_id}"
                         for agency_id in named if agency_id not in agency_ids]
        if rule["lead"] in rule["support"]:
            problems.append(f"{where}: support: {rule['lead']} is already the lead")
        problems += [f"{where}: {problem}" for problem in _deadline_problems(rule["deadlines"])]

    for category in document["triage"]:
        if category not in CATEGORY_CODES:
            problems.append(f"triage: unknown category {category}")
    for category in CATEGORY_CODES:
        covering = [r["id"] for r in rules
                    if r["category"] == category and _routes_every_report(r, regency)]
        if covering and category in document["triage"]:
            problems.append(f"triage: {category} is listed, but rule {covering[0]} routes "
                            f"every report of it")
        if not covering and category not in document["triage"]:
            problems.append(
                f"category {category}: no rule routes every report of it (one scoped to "
                f"{regency}, without min_severity or min_affected_people); add one, or list "
                f"{category} under \"triage\" for the coordinator to route by hand")
    return problems


def check(document):
    """The file's content (parsed JSON) with its defaults filled in; InvalidJurisdiction with
    every problem when it may not be loaded."""
    if not isinstance(document, dict):
        raise InvalidJurisdiction(["the file: must be one JSON object, like "
                                   "services/routing/data/35.79-kota-batu.json"])
    try:
        loaded = FileShape().load(document)
    except ValidationError as exc:  # the meaning cannot be read from a broken shape
        raise InvalidJurisdiction(list(_shape_problems(document, exc.messages))) from None
    problems = _meaning_problems(loaded)
    if problems:
        raise InvalidJurisdiction(problems)
    return loaded


def read(path):
    """The checked content of a jurisdiction file (see `check`)."""
    try:
        content = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidJurisdiction([f"byte {exc.start}: not UTF-8 text"]) from None
    except OSError as exc:
        raise InvalidJurisdiction([f"the file: cannot be read ({exc.strerror})"]) from None
    try:
        document = json.loads(content)
    except json.JSONDecodeError as exc:
        raise InvalidJurisdiction([f"line {exc.lineno}, column {exc.colno}: not valid JSON "
                                   f"({exc.msg})"]) from None
    return check(document)


def _taken_elsewhere(session, document):
    """Agency and rule ids of the file already used by another regency (ids are global)."""
    regency = document["regency"]["code"]
    problems = []
    agencies = session.scalars(select(Agency).where(
        Agency.id.in_([a["id"] for a in document["agencies"]]),
        Agency.regency_code != regency).order_by(Agency.id))
    problems += [f"agency {agency.id}: the id is already an agency of {agency.regency_name} "
                 f"({agency.regency_code})" for agency in agencies]
    rules = session.scalars(select(Rule).where(Rule.id.in_([r["id"] for r in document["rules"]]))
                            .order_by(Rule.id))
    problems += [f"rule {rule.id}: the id is already a rule of {rule.scope_code}"
                 for rule in rules if not rule.scope_code.startswith(regency)]
    return problems


def load(session, path=DEMO_FILE):
    """Replace the agencies and rules of the file's regency with those in the file."""
    document = read(path)
    taken = _taken_elsewhere(session, document)
    if taken:
        raise InvalidJurisdiction(taken)
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
            category=rule["category"], min_severity=rule["min_severity"],
            min_affected_people=rule["min_affected_people"], lead_agency_id=rule["lead"],
            support_agency_ids=rule["support"], fallback_agency_ids=rule["fallback"],
            deadlines=rule["deadlines"]))
    return regency, len(document["agencies"]), len(document["rules"])
