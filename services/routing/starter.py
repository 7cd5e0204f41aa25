"""A starter jurisdiction file for any regency of the wilayah data (`jembatan regency init`).

The usual agencies of a kabupaten/kota, named for it, a routing rule for every category as
Kota Batu has them (data/35.79-kota-batu.json), and the regency's kecamatan: for a person to
edit (the PDAM's real name, a rule for one kecamatan), check and load.

Agency and rule ids are global, so each carries the regency's key: its name without "Kota"
(`pdam-makassar`), or with "kab-" for a kabupaten (`pdam-kab-gowa`), because a kota and a
kabupaten may share a name (Kota Malang 35.73, Kabupaten Malang 35.07) while two kota, or two
kabupaten, never do.
"""
import json
import re

from services.villages import registry
from shared.commands import REGENCY_CODE

# (id prefix, short name, full name before the regency's name, categories it handles)
AGENCIES = (
    ("pdam", "PDAM", "Perumda Air Minum {regency} (PDAM)", ["air-bersih"]),
    ("pupr", "Dinas PUPR", "Dinas Pekerjaan Umum dan Penataan Ruang {regency}",
     ["jalan-jembatan", "air-bersih", "banjir-bencana", "penerangan-jalan"]),
    ("bpbd", "BPBD", "Badan Penanggulangan Bencana Daerah {regency}", ["banjir-bencana"]),
    ("dinkes", "Dinas Kesehatan", "Dinas Kesehatan {regency}", ["kesehatan"]),
    ("dlh", "DLH", "Dinas Lingkungan Hidup {regency}", ["sampah-lingkungan"]),
    ("dinsos", "Dinas Sosial", "Dinas Sosial {regency}", ["sosial", "banjir-bencana"]),
    ("disdukcapil", "Disdukcapil", "Dinas Kependudukan dan Pencatatan Sipil {regency}",
     ["adminduk"]),
    ("dishub", "Dinas Perhubungan", "Dinas Perhubungan {regency}",
     ["penerangan-jalan", "jalan-jembatan"]),
    ("disdik", "Dinas Pendidikan", "Dinas Pendidikan {regency}", ["pendidikan"]),
    ("distan", "Dinas Pertanian", "Dinas Pertanian {regency}", ["pertanian"]),
    ("satpolpp", "Satpol PP", "Satuan Polisi Pamong Praja {regency}", ["keamanan-ketertiban"]),
)

# Kota Batu's regency-wide rules; agencies by their prefix, ids after the regency's key.
RULES = (
    {"id": "air-bersih", "name": "Air bersih", "category": "air-bersih",
     "lead": "pdam", "support": [], "fallback": ["pupr"]},
    {"id": "air-bersih-besar", "name": "Air bersih: gangguan besar", "category": "air-bersih",
     "min_severity": "high", "lead": "pdam", "support": ["pupr"], "fallback": ["bpbd"],
     "deadlines": {"high": {"accept": "6h", "resolve": "2wd"},
                   "critical": {"accept": "2h", "resolve": "24h"}}},
    {"id": "jalan-jembatan", "name": "Jalan dan jembatan", "category": "jalan-jembatan",
     "lead": "pupr", "support": ["dishub"], "fallback": ["bpbd"]},
    {"id": "banjir-bencana", "name": "Banjir dan bencana", "category": "banjir-bencana",
     "lead": "bpbd", "support": ["pupr", "dinsos"], "fallback": ["satpolpp", "dlh"],
     "deadlines": {"medium": {"accept": "1wd", "resolve": "3wd"},
                   "high": {"accept": "2h", "resolve": "2wd"},
                   "critical": {"accept": "1h", "resolve": "12h"}}},
    {"id": "kesehatan", "name": "Kesehatan", "category": "kesehatan",
     "lead": "dinkes", "support": []},
    {"id": "kesehatan-wabah", "name": "Kesehatan: wabah", "category": "kesehatan",
     "min_severity": "critical", "lead": "dinkes", "support": ["bpbd"],
     "deadlines": {"critical": {"accept": "1h", "resolve": "24h"}}},
    {"id": "sampah-lingkungan", "name": "Sampah dan lingkungan", "category": "sampah-lingkungan",
     "lead": "dlh", "support": [], "fallback": ["pupr"]},
    {"id": "adminduk", "name": "Administrasi kependudukan", "category": "adminduk",
     "lead": "disdukcapil", "support": []},
    {"id": "penerangan-jalan", "name": "Penerangan jalan umum", "category": "penerangan-jalan",
     "lead": "dishub", "support": ["pupr"], "fallback": ["pupr"]},
    {"id": "sosial", "name": "Sosial", "category": "sosial", "lead": "dinsos", "support": []},
    {"id": "pendidikan", "name": "Pendidikan", "category": "pendidikan",
     "lead": "disdik", "support": [],
     "deadlines": {"low": {"accept": "3wd", "resolve": "15wd"},
                   "medium": {"accept": "3wd", "resolve": "10wd"}}},
    {"id": "pertanian", "name": "Pertanian", "category": "pertanian",
     "lead": "distan", "support": []},
    {"id": "keamanan-ketertiban", "name": "Keamanan dan ketertiban",
     "category": "keamanan-ketertiban", "lead": "satpolpp", "support": []},
)
# What no rule covers goes to the coordinator's triage on purpose.
TRIAGE = ["lainnya"]


class UnknownRegency(ValueError):
    pass


def regency_key(name):
    """'Kota Makassar' -> 'makassar', 'Kabupaten Gowa' -> 'kab-gowa'."""
    kind, _space, place = name.partition(" ")
    slug = re.sub(r"[^a-z0-9]+", "-", place.lower()).strip("-")
    return f"kab-{slug}" if kind.lower() == "kabupaten" else slug


def regency_name(code):
    """The pretty name of the regency `code` ('Kota Makassar'); UnknownRegency naming the code."""
    if not re.fullmatch(REGENCY_CODE, code):
        raise UnknownRegency(f"{code!r} is not a regency code: two pairs of digits, like 73.71")
    name = registry.names("regencies.csv").get(code)
    if name is None:
        raise UnknownRegency(f"no regency has the code {code} in the wilayah data")
    return registry.pretty_regency_name(name)


def starter(code):
    """The starter file of the regency `code`, as a dict."""
    name = regency_name(code)
    key = regency_key(name)

    def agency_id(prefix):
        return f"{prefix}-{key}"

    agencies = [{"id": agency_id(prefix), "short_name": short, "name": full.format(regency=name),
                 "categories": categories} for prefix, short, full, categories in AGENCIES]
    rules = []
    for template in RULES:  # in the order of Kota Batu's file
        rule = {"id": f"{key}-{template['id']}", "name": template["name"], "scope_code": code,
                "category": template["category"]}
        if "min_severity" in template:
            rule["min_severity"] = template["min_severity"]
        rule["lead"] = agency_id(template["lead"])
        for field in ("support", "fallback"):
            if field in template:
                rule[field] = [agency_id(prefix) for prefix in template[field]]
        if "deadlines" in template:
            rule["deadlines"] = template["deadlines"]
        rules.append(rule)
    districts = sorted((district, district_name) for district, district_name
                       in registry.names("districts.csv").items()
                       if district.startswith(f"{code}."))
    return {"regency": {"code": code, "name": name}, "triage": list(TRIAGE),
            "agencies": agencies, "rules": rules,
            "districts": [{"code": c, "name": district_name} for c, district_name in districts]}


def to_json(document):
    """The file as a person edits it: one agency, rule or kecamatan a line."""
    lines = ["{"]
    for n, (field, value) in enumerate(document.items()):
        end = "," if n < len(document) - 1 else ""
        if isinstance(value, list) and value and isinstance(value[0], dict):
            items = [f"    {json.dumps(item, ensure_ascii=False)}" for item in value]
            lines += [f'  "{field}": [', ",\n".join(items), f"  ]{end}"]
        else:
            lines.append(f'  "{field}": {json.dumps(value, ensure_ascii=False)}{end}')
    return "\n".join(lines + ["}"]) + "\n"
