"""Issue 10: a second regency, in another province and time zone, onboarded with the command
line beside Kota Batu in one running Jembatan; each regency sees only its own cases."""
import json
import subprocess
import sys
from datetime import datetime, time
from zoneinfo import ZoneInfo

from tests.e2e.helpers import (
    BATU, BUMIAJI, PUNTEN, case_when, clean_water_report, every, inbox_types, report, task_of,
)
from tests.e2e.system import ROOT, Client

MAKASSAR, MARISO, BONTORANNU = "73.71", "73.71.01", "73.71.01.1001"
WITA, WIB = ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jakarta")


def jembatan(system, *args):
    """A `jembatan` command run as a person runs it, against the system's databases."""
    done = subprocess.run([sys.executable, "-m", "jembatan", *args], env=system.env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"jembatan {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


def add_actor(system, role, scope, name):
    """An actor added with `jembatan actors add`, as a client of the API with its token."""
    added = json.loads(jembatan(system, "actors", "add", "--role", role, "--scope", scope,
                                "--name", name, "--json"))
    return Client(system.base, added["token"], name)


def local(value, zone):
    return datetime.fromisoformat(value).astimezone(zone)


def ids(client, path="/cases"):
    return {case["id"] for case in every(client, path)}


def test_makassar_is_onboarded_and_its_clean_water_story_runs_beside_batu_s(
        sqlite_system, tmp_path):
    system = sqlite_system
    # Onboarding: the starter file, checked, loaded; then the people who use it.
    path = str(tmp_path / "73.71-kota-makassar.json")
    assert "Kota Makassar (73.71)" in jembatan(system, "regency", "init", MAKASSAR, "-o", path)
    assert "is valid: Kota Makassar (73.71)" in jembatan(system, "rules", "check", path)
    assert "Kota Makassar (73.71): 11 agencies" in jembatan(system, "rules", "load", path)
    village = add_actor(system, "village", BONTORANNU, "Operator Kelurahan Bontorannu")
    pdam = add_actor(system, "agency", "pdam-makassar", "Petugas PDAM Makassar")
    coordinator = add_actor(system, "coordinator", MARISO, "Koordinator Kecamatan Mariso")
    office = add_actor(system, "regency", MAKASSAR, "Kantor Walikota Makassar")
    batu = {"coordinator": system.coordinator(BUMIAJI), "regency": system.regency(BATU),
            "agency": system.agency("pdam-batu")}
    makassar = {"coordinator": coordinator, "regency": office, "agency": pdam}

    # Both villages have no clean water at the same time.
    punten_case = report(system.village(PUNTEN), clean_water_report())["case_id"]
    case_id = report(village, clean_water_report(
        title="Air PDAM tidak mengalir di Bontorannu", affected_people=150))["case_id"]

    # Makassar's own rules route it: PDAM Makassar leads, its deadlines in WITA.
    case = case_when(village, case_id, "routed")
    assert case["regency"] == {"code": MAKASSAR, "name": "Kota Makassar"}
    assert case["routing"]["rule_id"] == "makassar-air-bersih-besar"
    lead = task_of(case, "pdam-makassar")
    assert lead["role"] == "lead"
    assert local(lead["due_at"], WITA).time() == time(16, 0)  # 2 working days, at closing
    routed = inbox_types(pdam, case_id, ["case_routed"])[0]
    assert "16:00 WITA" in routed["body"]
    batu_lead = task_of(case_when(system.village(PUNTEN), punten_case, "routed"), "pdam-batu")
    assert local(batu_lead["due_at"], WIB).time() == time(16, 0)

    # Each regency sees its own case, never the other's: not found, and absent from its lists.
    for own, other, own_case, other_case in ((batu, makassar, punten_case, case_id),
                                             (makassar, batu, case_id, punten_case)):
        for role, client in own.items():
            assert client.get(f"/cases/{own_case}").status_code == 200, role
            assert client.get(f"/cases/{other_case}").status_code == 404, role
            assert own_case in ids(client) and other_case not in ids(client), role
        assert other_case not in ids(own["regency"], "/escalations")
    assert village.get(f"/cases/{punten_case}").status_code == 404
    rules = every(office, "/routing/rules")
    assert rules and all(rule["id"].startswith("makassar-") for rule in rules)

    # The coordinator leaves the work to PDAM Makassar; it accepts, progresses, completes.
    support = task_of(case, "pupr-makassar")["id"]
    base = f"/cases/{case_id}/tasks"
    withdrawn = coordinator.post(f"{base}/{support}/withdraw",
                                 {"reason": "PDAM menangani sendiri"})
    assert withdrawn.status_code == 200, withdrawn.text
    for action, body in (("accept", {"note": "Tim menuju Bontorannu"}),
                         ("progress", {"note": "Katup distribusi diperbaiki"}),
                         ("complete", {"note": "Air mengalir kembali"})):
        answer = pdam.post(f"{base}/{lead['id']}/{action}", body)
        assert answer.status_code == 200, answer.text
    assert village.get(f"/cases/{case_id}").json()["status"] == "resolved"

    # The village confirms; the case is closed, and the regency office sees it so.
    confirmed = village.post(f"/cases/{case_id}/confirm", {"note": "Air sudah lancar"})
    assert confirmed.status_code == 200, confirmed.text
    assert office.get(f"/cases/{case_id}").json()["status"] == "closed"
    inbox_types(pdam, case_id, ["case_closed"])
    assert batu["coordinator"].get(f"/cases/{case_id}").status_code == 404
