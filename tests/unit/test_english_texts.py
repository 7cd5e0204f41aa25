"""An English text says in English what has an English name: categories, severities, roles,
statuses, offices, levels. Only proper names (of places, agencies, rules, people) and what a
person wrote stay as they are."""
import re
from types import SimpleNamespace

import pytest

from services.notifications import templates
from services.requests import domain, texts
from services.routing import domain as routing
from shared.categories import CATEGORIES
from shared.i18n import text

# Words of Bahasa Indonesia that have an English word: none may stand in an English text.
INDONESIAN = {"kasus", "laporan", "tugas", "instansi", "pemimpin", "pendukung", "kecamatan",
              "kabupaten", "kantor", "bupati", "walikota", "desa", "kelurahan", "keparahan",
              "rendah", "sedang", "tinggi", "kritis", "dirutekan", "ditutup", "dibatalkan",
              "menunggu", "pemilahan", "eskalasi", "dieskalasi", "koordinator", "warga",
              "kategori", "aturan", "tenggat", "menerima", "menyelesaikan", "catatan", "oleh"}
INDONESIAN |= {word for c in CATEGORIES for word in re.findall(r"\w+", c.name.lower())
               if word not in {word for w in CATEGORIES for word in re.findall(r"\w+", w.name_en.lower())}}
# Proper names in the samples below, which stay as they are.
NAMES = {"punten", "bumiaji", "batu", "pdam", "pupr", "perumda", "air", "minum", "among",
         "tirta", "dinas", "kota", "sekdes", "operator"}


def indonesian_words(english):
    return sorted({w for w in re.findall(r"[a-z]+", english.lower())} & (INDONESIAN - NAMES))


REASON = text("Tidak ada lagi instansi pemimpin.", "No agency leads it any more.")


@pytest.mark.parametrize("entry_type", sorted(texts.TIMELINE))
def test_every_timeline_entry_reads_in_english(entry_type):
    data = {"village": "Punten", "title": "Air mati", "category": "air-bersih",
            "agency_names": ["Perumda Air Minum Among Tirta Kota Batu (PDAM)"],
            "agency": "Dinas PUPR", "reason": REASON, "note": "Pipe replaced", "body": "Thanks",
            "other_number": "JBT-AAAA-BBBB", "level": "regency", "from": "routed",
            "to": "needs_triage"}
    summary = texts.summary(entry_type, data, "en")
    assert not indonesian_words(summary), summary


NOTIFICATION = {
    "number": "JBT-AAAA-BBBB", "title": "Water outage", "category": "air-bersih",
    "severity": "critical", "village": "Punten", "district": "Bumiaji",
    "regency_code": "35.79", "regency_name": "Kota Batu", "agencies": ["Dinas PUPR"],
    "agency": "Dinas PUPR", "note": "", "explanation": REASON, "author": "Sekdes Punten",
    "body": "Thanks", "role": "lead", "accept_due": "2026-12-02T09:00:00.000Z",
    "due": "2026-12-04T09:00:00.000Z", "level": "regency", "other": "JBT-CCCC-DDDD",
    "deadline": "pending",
    # an announcement's own words, as its sender wrote them
    "sender": "District coordinator", "area": "Bumiaji district",
}


@pytest.mark.parametrize("key", sorted(templates.TEMPLATES))
def test_every_notification_reads_in_english(key):
    title, body = templates.render(key, NOTIFICATION, "en")
    assert not indonesian_words(title + " " + body), (title, body)


def test_routing_explains_itself_in_english():
    place = {"code": "35.79.02.2001", "name": "Punten"}
    situation = routing.Situation(village=place, district={"code": "35.79.02", "name": "Bumiaji"},
                                  regency={"code": "35.79", "name": "Kota Batu"},
                                  category="air-bersih", severity="high", affected_people=40)
    rule = SimpleNamespace(id="batu-air", name="Clean water", scope_code="35.79.02",
                           category="air-bersih", min_severity="high", min_affected_people=10)
    pdam = SimpleNamespace(name="Perumda Air Minum Among Tirta Kota Batu (PDAM)")
    pupr = SimpleNamespace(name="Dinas PUPR")
    for explanation in (routing.explain(rule, [rule], situation, pdam, [pupr]),
                        routing.explain(None, [], situation, None, []),
                        routing.explain_manual("Kasi Bumiaji", "urgent", pdam, [pupr]),
                        routing.explain_referral("Dinas PUPR", "not ours", rule, pdam),
                        routing.explain_referral("Dinas PUPR", "not ours", rule, pdam, True)):
        assert not indonesian_words(explanation["en"]), explanation["en"]


@pytest.mark.parametrize("status", domain.CASE_STATUSES)
def test_every_status_has_its_english_name(status):
    assert not indonesian_words(domain.status_name(status, "en"))
