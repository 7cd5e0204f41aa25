"""Another regency: `jembatan regency init` writes its starter file, `jembatan rules check`
says what is wrong with a file (each problem naming where), `jembatan rules load` refuses
the same files with the same words, then loads it next to the regencies already there."""
import json
import re

import pytest
from sqlalchemy import select

from services.routing import jurisdiction, starter
from services.routing.jurisdiction import DEMO_FILE
from services.routing.models import Agency, Base, Rule
from services.villages import registry
from shared.categories import CODES as CATEGORY_CODES
from shared.db import Store


def demo():
    return json.loads(DEMO_FILE.read_text(encoding="utf-8"))


def written(tmp_path, document, name="file.json"):
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document),
                    encoding="utf-8")
    return str(path)


def init(cli, tmp_path, code):
    path = tmp_path / f"{code}.json"
    result = cli("regency", "init", code, "-o", str(path))
    assert result.exit_code == 0, result.output
    return path


def routing_rows(tmp_path):
    store = Store("routing", Base.metadata, url=f"sqlite:///{tmp_path / 'routing.db'}")
    try:
        with store.read() as session:
            return ({a.id: a.regency_code for a in session.scalars(select(Agency))},
                    {r.id: r.scope_code for r in session.scalars(select(Rule))})
    finally:
        store.close()


# -- regency init -------------------------------------------------------------------------------

@pytest.mark.parametrize("code,name,pdam", [
    ("73.71", "Kota Makassar", "pdam-makassar"),        # Sulawesi Selatan, WITA
    ("73.06", "Kabupaten Gowa", "pdam-kab-gowa"),
    ("33.74", "Kota Semarang", "pdam-semarang"),        # Jawa Tengah, WIB
    ("51.71", "Kota Denpasar", "pdam-denpasar"),        # Bali, WITA
    ("91.03", "Kabupaten Jayapura", "pdam-kab-jayapura"),  # Papua, WIT
])
def test_the_starter_file_of_a_regency_passes_the_check(cli, tmp_path, code, name, pdam):
    path = init(cli, tmp_path, code)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["regency"] == {"code": code, "name": name}
    agencies = {agency["id"]: agency for agency in document["agencies"]}
    assert agencies[pdam]["name"] == f"Perumda Air Minum {name} (PDAM)"
    assert len(agencies) == 11 and all(a["name"].endswith(name) or a["id"] == pdam
                                       for a in agencies.values())
    assert {d["code"]: d["name"] for d in document["districts"]} == {
        district: district_name for district, district_name
        in registry.names("districts.csv").items() if district.startswith(f"{code}.")}
    assert {rule["category"] for rule in document["rules"]} | set(document["triage"]) == set(
        CATEGORY_CODES)

    checked = cli("rules", "check", str(path))
    assert checked.exit_code == 0, checked.output
    assert f"is valid: {name} ({code}), 11 agencies, 13 rules" in checked.output
    assert "triage: lainnya" in checked.output


def test_no_two_regencies_starters_share_an_id():
    keys = {}
    for code, name in registry.names("regencies.csv").items():
        key = starter.regency_key(registry.pretty_regency_name(name))
        assert key not in keys, f"{code} and {keys[key]} are both {key}"
        keys[key] = code
    # Every id carries the key: Kabupaten Malang and Kota Malang share a name, not an id.
    kabupaten, kota = starter.starter("35.07"), starter.starter("35.73")
    assert agency(kabupaten, "pdam-kab-malang") and agency(kota, "pdam-malang")
    for field in ("agencies", "rules"):
        assert not {a["id"] for a in kabupaten[field]} & {a["id"] for a in kota[field]}
        assert all("kab-malang" in item["id"] for item in kabupaten[field])


def test_the_starter_of_a_regency_of_every_province_passes_the_check():
    first_of_each = {}
    for code in registry.names("regencies.csv"):
        first_of_each.setdefault(code[:2], code)
    assert len(first_of_each) == 38
    for code in first_of_each.values():
        jurisdiction.check(json.loads(starter.to_json(starter.starter(code))))


def test_the_starter_of_kota_batu_routes_as_the_demo_file_does():
    def routing(document):
        return {rule["id"]: {key: value for key, value in rule.items() if key != "name"}
                for rule in document["rules"] if rule["scope_code"] == "35.79"}

    generated = jurisdiction.check(starter.starter("35.79"))
    shipped = jurisdiction.check(demo())
    assert routing(generated) == routing(shipped)
    assert ({a["id"]: a["categories"] for a in generated["agencies"]}
            == {a["id"]: a["categories"] for a in shipped["agencies"]})
    assert generated["triage"] == shipped["triage"] == ["lainnya"]


def test_without_a_file_name_the_starter_is_printed(cli):
    result = cli("regency", "init", "35.07")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["regency"] == {"code": "35.07", "name": "Kabupaten Malang"}


@pytest.mark.parametrize("code,complaint", [
    ("73.7", "'73.7' is not a regency code"),
    ("73.71.01", "'73.71.01' is not a regency code"),
    ("makassar", "'makassar' is not a regency code"),
    ("99.99", "no regency has the code 99.99"),
])
def test_an_unknown_or_malformed_code_is_refused_by_name(cli, tmp_path, code, complaint):
    result = cli("regency", "init", code, "-o", str(tmp_path / "x.json"))
    assert result.exit_code == 2
    assert complaint in result.output
    assert not (tmp_path / "x.json").exists()


def test_init_does_not_overwrite_a_file(cli, tmp_path):
    path = tmp_path / "makassar.json"
    path.write_text("my edits")
    result = cli("regency", "init", "73.71", "-o", str(path))
    assert result.exit_code == 2 and "exists already" in result.output
    assert path.read_text() == "my edits"


# -- rules check, and rules load refusing the same ------------------------------------------------

def rule(document, rule_id):
    return next(r for r in document["rules"] if r["id"] == rule_id)


def agency(document, agency_id):
    return next(a for a in document["agencies"] if a["id"] == agency_id)


def set_field(finder, item_id, field, value):
    def change(document):
        finder(document, item_id)[field] = value
    return change


def drop_field(finder, item_id, field):
    def change(document):
        del finder(document, item_id)[field]
    return change


def add_rule(**fields):
    def change(document):
        document["rules"].append({"id": "batu-extra", "name": "Extra", "scope_code": "35.79",
                                  "category": "pertanian", "lead": "distan-batu", **fields})
    return change


def remove_rules(category):
    def change(document):
        document["rules"] = [r for r in document["rules"] if r["category"] != category]
    return change


def document_set(field, value):
    def change(document):
        document[field] = value
    return change


def duplicate(field, index):
    def change(document):
        document[field].append(dict(document[field][index]))
    return change


MISTAKES = {
    "missing field": (drop_field(rule, "batu-sosial", "lead"),
                      "rule batu-sosial, field lead: Missing data for required field."),
    "missing list": (document_set("agencies", None),
                     "field agencies: Field may not be null."),
    "wrong type": (set_field(agency, "dlh-batu", "name", 5),
                   "agency dlh-batu, field name: Not a valid string."),
    "unknown field": (set_field(rule, "batu-sosial", "fallbak", ["dinkes-batu"]),
                      "rule batu-sosial, field fallbak: Unknown field."),
    "malformed id": (set_field(agency, "dlh-batu", "id", "DLH Batu"),
                     "agency DLH Batu, field id: Must be lowercase letters, digits and hyphens"),
    "rule not an object": (lambda d: d["rules"].append("batu-x"),
                           "rule #15: Invalid input type."),
    "unknown agency": (set_field(rule, "batu-air-bersih", "lead", "pdam-malang"),
                       "rule batu-air-bersih: lead: unknown agency pdam-malang"),
    "unknown fallback": (set_field(rule, "batu-sosial", "fallback", ["dinsos-malang"]),
                         "rule batu-sosial: fallback: unknown agency dinsos-malang"),
    "unknown category of a rule": (set_field(rule, "batu-sosial", "category", "air-minum"),
                                   "rule batu-sosial: unknown category air-minum"),
    "unknown category of an agency": (set_field(agency, "dlh-batu", "categories", ["udara"]),
                                      "agency dlh-batu: unknown category udara"),
    "unknown category to triage": (document_set("triage", ["lainnya", "cuaca"]),
                                   "triage: unknown category cuaca"),
    "unknown district": (set_field(rule, "bumiaji-pertanian-irigasi", "scope_code", "35.79.09"),
                         "rule bumiaji-pertanian-irigasi: scope_code: unknown district 35.79.09 "
                         "(not in the wilayah data)"),
    "scope in another regency": (
        set_field(rule, "bumiaji-pertanian-irigasi", "scope_code", "35.07.01"),
        "rule bumiaji-pertanian-irigasi: scope_code: 35.07.01 is outside Kota Batu (35.79)"),
    "province scope": (set_field(rule, "bumiaji-pertanian-irigasi", "scope_code", "35"),
                       "scope_code: 35 is outside Kota Batu (35.79)"),
    "listed district of another regency": (
        document_set("districts", [{"code": "35.07.01", "name": "Donomulyo"}]),
        "districts: 35.07.01 is outside Kota Batu (35.79)"),
    "unknown district listed": (
        document_set("districts", [{"code": "35.79.09", "name": "Batu Utara"}]),
        "districts: unknown district 35.79.09 (not in the wilayah data)"),
    "district listed twice": (
        document_set("districts", [{"code": "35.79.01", "name": "Batu"}] * 2),
        "districts: 35.79.01 is listed twice"),
    "listed village as a district": (
        document_set("districts", [{"code": "35.79.02.2001", "name": "Punten"}]),
        "districts: 35.79.02.2001 is not a kecamatan"),
    "unknown regency": (document_set("regency", {"code": "35.99", "name": "Kota Batu"}),
                        "regency: unknown regency 35.99"),
    "category with no rule": (remove_rules("adminduk"),
                              "category adminduk: no rule routes every report of it"),
    "category with only a conditional rule": (
        lambda d: d["rules"].remove(rule(d, "batu-kesehatan")),
        "category kesehatan: no rule routes every report of it"),
    "other without triage": (document_set("triage", []),
                             'category lainnya: no rule routes every report of it (one scoped '
                             'to 35.79, without min_severity or min_affected_people); add one, '
                             'or list lainnya under "triage"'),
    "triage of a ruled category": (
        document_set("triage", ["lainnya", "sosial"]),
        "triage: sosial is listed, but rule batu-sosial routes every report of it"),
    "duplicate agency": (duplicate("agencies", 0), "agency pdam-batu: the id is used twice"),
    "duplicate rule": (duplicate("rules", 2), "rule batu-jalan-jembatan: the id is used twice"),
    "unknown severity": (add_rule(min_severity="urgent"),
                         "rule batu-extra: min_severity: unknown severity urgent"),
    "deadline of an unknown severity": (
        add_rule(min_severity="high", deadlines={"hgh": {"accept": "1wd"}}),
        "rule batu-extra: deadlines for unknown severity hgh"),
    "bad deadline": (add_rule(min_severity="high", deadlines={"high": {"accept": "3d"}}),
                     "rule batu-extra: deadlines.high.accept: deadline '3d' is not like 3wd"),
    "unknown kind of deadline": (
        add_rule(min_severity="high", deadlines={"high": {"finish": "3wd"}}),
        "rule batu-extra: deadlines.high: finish is neither accept nor resolve"),
    "negative people threshold": (add_rule(min_affected_people=-5),
                                  "rule batu-extra, field min_affected_people: Must be greater "
                                  "than or equal to 0."),
    "lead that also supports": (set_field(rule, "batu-sosial", "support", ["dinsos-batu"]),
                                "rule batu-sosial: support: dinsos-batu is already the lead"),
}


@pytest.mark.parametrize("command", ["check", "load"])
@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_mistake_is_refused_naming_where_it_is(cli, tmp_path, command, mistake):
    change, complaint = MISTAKES[mistake]
    document = demo()
    change(document)
    result = cli("rules", command, written(tmp_path, document))
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'file.json'} is not valid:" in result.output
    assert complaint in result.output
    assert "Traceback" not in result.output and "KeyError" not in result.output
    if command == "load":
        assert routing_rows(tmp_path) == ({}, {})


@pytest.mark.parametrize("content,complaint", [
    ('{"regency": {"code": "35.79",}', "line 1, column 30: not valid JSON"),
    ("[1, 2]", "the file: must be one JSON object"),
    ("", "line 1, column 1: not valid JSON"),
])
def test_a_file_that_is_not_a_json_object_is_refused(cli, tmp_path, content, complaint):
    result = cli("rules", "check", written(tmp_path, content))
    assert result.exit_code == 2 and complaint in result.output


def test_a_file_that_is_not_utf8_is_refused(cli, tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('{"regency": {"code": "35.79", "name": "Kota Batú"}}'.encode("latin-1"))
    result = cli("rules", "check", str(path))
    assert result.exit_code == 2 and "not UTF-8 text" in result.output


def test_every_problem_of_a_file_is_listed_each_on_its_own_line(cli, tmp_path):
    document = demo()
    for mistake in ("unknown agency", "unknown category of an agency", "duplicate rule"):
        MISTAKES[mistake][0](document)
    result = cli("rules", "check", written(tmp_path, document))
    problems = re.findall(r"^  (.+)$", result.output, re.MULTILINE)
    assert problems == ["agency dlh-batu: unknown category udara",
                        "rule batu-jalan-jembatan: the id is used twice",
                        "rule batu-air-bersih: lead: unknown agency pdam-malang"]


def test_the_demo_file_is_valid(cli):
    result = cli("rules", "check", str(DEMO_FILE))
    assert result.exit_code == 0, result.output
    assert result.output == (f"{DEMO_FILE} is valid: Kota Batu (35.79), 11 agencies, 14 rules; "
                             f"left to the coordinator's triage: lainnya\n")


# -- rules load: regencies side by side ---------------------------------------------------------

def test_a_second_regency_is_loaded_beside_the_first_and_replaced_alone(cli, tmp_path):
    assert cli("rules", "load", str(DEMO_FILE)).exit_code == 0
    makassar = init(cli, tmp_path, "73.71")
    loaded = cli("rules", "load", str(makassar))
    assert loaded.exit_code == 0, loaded.output
    assert loaded.output == "Kota Makassar (73.71): 11 agencies, 13 rules\n"

    edited = json.loads(makassar.read_text(encoding="utf-8"))
    edited["rules"] = [r for r in edited["rules"] if r["id"] != "makassar-kesehatan-wabah"]
    assert cli("rules", "load", written(tmp_path, edited)).exit_code == 0
    agencies, rules = routing_rows(tmp_path)
    assert agencies["pdam-batu"] == "35.79" and agencies["pdam-makassar"] == "73.71"
    assert len(agencies) == 22
    assert rules["bumiaji-pertanian-irigasi"] == "35.79.02"
    assert "makassar-kesehatan-wabah" not in rules and "batu-kesehatan-wabah" in rules
    assert len(rules) == 14 + 12


def test_a_file_taking_the_ids_of_another_regency_is_not_loaded(cli, tmp_path):
    assert cli("rules", "load", str(DEMO_FILE)).exit_code == 0
    document = json.loads(init(cli, tmp_path, "73.71").read_text(encoding="utf-8"))
    agency(document, "pdam-makassar")["id"] = "pdam-batu"
    rule(document, "makassar-air-bersih")["lead"] = "pdam-batu"
    rule(document, "makassar-air-bersih-besar")["lead"] = "pdam-batu"
    rule(document, "makassar-sosial")["id"] = "batu-sosial"
    path = written(tmp_path, document)
    assert cli("rules", "check", path).exit_code == 0  # the file alone is sound

    result = cli("rules", "load", path)
    assert result.exit_code == 2
    assert "agency pdam-batu: the id is already an agency of Kota Batu (35.79)" in result.output
    assert "rule batu-sosial: the id is already a rule of 35.79" in result.output
    agencies, rules = routing_rows(tmp_path)
    assert set(agencies.values()) == {"35.79"} and rules["batu-sosial"] == "35.79"
