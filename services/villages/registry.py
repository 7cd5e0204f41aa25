"""The official wilayah data shipped with Jembatan (ODbL, see data/wilayah/LICENSE.md)."""
import csv
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func, insert, select

from services.villages.models import District, Province, Regency, Village

DATA = Path(__file__).parent / "data" / "wilayah"
LEVELS = (  # level, file, model, columns in the file after `code`
    ("province", "provinces.csv", Province, ()),
    ("regency", "regencies.csv", Regency, ("province_code",)),
    ("district", "districts.csv", District, ("regency_code",)),
    ("village", "villages.csv", Village, ("district_code",)),
)


def rows(filename):
    with open(DATA / filename, newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


@lru_cache(maxsize=None)
def names(filename):
    """code -> name of one level, read from the shipped files (for tools without a database)."""
    return {row["code"]: row["name"] for row in rows(filename)}


def level_of(code):
    """'province', 'regency', 'district' or 'village' for an official code, else None."""
    for level, filename, _model, _columns in LEVELS:
        if code in names(filename):
            return level
    return None


def load(session):
    """Fill the registry tables from the shipped files; a no-op when already complete."""
    expected = sum(1 for _ in rows("villages.csv"))
    if session.scalar(select(func.count()).select_from(Village)) == expected:
        return False
    for _level, _filename, model, _columns in reversed(LEVELS):
        session.execute(model.__table__.delete())
    for _level, filename, model, columns in LEVELS:
        batch = [{"code": r["code"], "name": r["name"], **{c: r[c] for c in columns}}
                 for r in rows(filename)]
        session.execute(insert(model), batch)
    return True


def pretty_regency_name(name):
    """'KOTA BATU' -> 'Kota Batu' (the dataset spells regencies in capitals)."""
    return " ".join(word.capitalize() for word in name.split())
