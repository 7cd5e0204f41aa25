"""The web app as the coordinator, the regency office and the admin use it, and what it does
with a bad upload or a switch of language."""
import pytest
import requests

from tests.e2e.helpers import (
    case_when, clean_water_report, csrf_of, photo_bytes, report, signed_in,
)
from tests.e2e.system import System

UPLOAD_LIMIT = 200_000


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    """The board asks for changes every second here, and a photo may be 200 kB."""
    running = System(tmp_path_factory.mktemp("jembatan"), env={
        "JEMBATAN_BOARD_POLL_SECONDS": "1",
        "JEMBATAN_UPLOAD_MAX_BYTES": str(UPLOAD_LIMIT)}).start()
    try:
        yield running
    finally:
        running.stop()


def stored_photos(system):
    folder = system.data_dir / "attachments"
    return sorted(path.name for path in folder.rglob("*") if path.is_file()) \
        if folder.exists() else []


def test_the_coordinator_sees_a_new_case_arrive_routes_it_and_escalates_it(system, browsers):
    coordinator = browsers("kecamatan").sign_in("kec.bumiaji")
    assert coordinator.path == "/board"
    coordinator.check_page("board")
    village = system.village("35.79.02.2002")
    case_id = report(village, clean_water_report(
        category="lainnya", title="Tanah longsor menutup saluran irigasi"))["case_id"]
    # The board shows it by itself, without a reload.
    coordinator.wait_for_text("Tanah longsor menutup saluran irigasi", reload=False)
    case = case_when(village, case_id, "needs_triage")

    coordinator.open("/board?status=needs_triage")
    assert "Tanah longsor" in coordinator.text(".cases")
    coordinator.check_page("triage")
    coordinator.open(f"/cases/{case['tracking_number']}")
    coordinator.press("Rutekan")  # without a lead or a note: refused, next to the fields
    assert coordinator.all(".errors li")
    coordinator.select("#route-lead", "pupr-batu")
    coordinator.type("#route-note", "Saluran irigasi: Dinas PUPR memimpin.")
    coordinator.press("Rutekan")
    assert "Kasus dirutekan" in coordinator.text()
    assert "Dinas Pekerjaan Umum" in coordinator.text(".tasks")
    coordinator.check_page("case-coordinator")
    coordinator.type("form[action$='/escalate'] textarea", "Longsor meluas; perlu alat berat.")
    coordinator.press("Eskalasi ke kantor bupati/walikota")
    assert "Kasus dieskalasi" in coordinator.text()

    regency = browsers("walikota").sign_in("walikota.batu")
    assert regency.path == "/escalations"
    assert "Tanah longsor menutup saluran irigasi" in regency.text(".cases")
    regency.check_page("escalations")
    regency.open("/records?days=90")
    assert "Dinas Pekerjaan Umum" in regency.text("table")

    admin = browsers("admin").sign_in("admin")
    admin.open("/board?village=35.79.02.2002")
    assert "Tanah longsor" in admin.text(".cases")
    assert not admin.all("form[action$='/route']")  # an admin reads, never routes


def test_the_board_filters_by_what_the_api_filters(system, browsers):
    village = system.village("35.79.02.2003")
    case_when(village, report(village, clean_water_report(title="Air keruh di Tulungrejo"))[
        "case_id"], "routed")
    coordinator = browsers("kecamatan").sign_in("kec.bumiaji")
    coordinator.find("details summary").click()
    coordinator.select("#f-village", "35.79.02.2003")
    coordinator.select("#f-agency", "pdam-batu")
    coordinator.press("Terapkan")
    assert "village=35.79.02.2003" in coordinator.path
    shown = coordinator.text(".cases")
    assert "Air keruh di Tulungrejo" in shown and "Tanah longsor" not in shown
    coordinator.open("/board?no_lead=true")
    assert "Air keruh di Tulungrejo" not in coordinator.text(".cases")
    coordinator.open("/board?status=bogus")
    assert coordinator.find("h1").text == "Ada masalah"


def report_with_photo(village, path):
    """The report form filled in, with the file at `path` as its photo (not sent yet)."""
    village.open("/reports/new")
    village.choose("category", "air-bersih")
    village.type("#title", "Pipa pecah")
    village.type("#description", "Pipa di depan balai desa pecah.")
    village.choose("severity", "medium")
    village.attach("#photo", path)


@pytest.mark.parametrize("name,data", [
    ("catatan.jpg", b"Ini bukan foto, hanya teks.\n" * 20),
    ("foto.jpg", b"\x7fELF\x02\x01\x01" + bytes(4000)),          # a program, renamed
    ("foto.jpg", b"MZ\x90\x00" + bytes(4000)),                    # a Windows program
])
def test_a_bad_upload_is_refused_next_to_the_field_and_nothing_is_kept(
        system, browsers, tmp_path, name, data):
    before = stored_photos(system)
    reports = system.count("villages", "reports")
    village = browsers("desa").sign_in("desa.punten")
    (tmp_path / name).write_bytes(data)
    report_with_photo(village, tmp_path / name)
    village.press("Kirim laporan")
    assert village.path == "/reports/new"
    assert village.errors_of("#photo") == [
        "Bukan foto yang dapat dibaca; kirim JPEG, PNG atau WebP."]
    assert village.find("#photo").get_attribute("aria-invalid") == "true"
    assert village.find("#title").get_attribute("value") == "Pipa pecah"  # what was typed stays
    assert stored_photos(system) == before
    assert system.count("villages", "reports") == reports


def test_a_photo_over_the_limit_is_refused_by_the_page_before_it_is_sent(
        system, browsers, tmp_path):
    reports = system.count("villages", "reports")
    village = browsers("desa").sign_in("desa.punten")
    (tmp_path / "besar.jpg").write_bytes(photo_bytes() + bytes(UPLOAD_LIMIT))
    report_with_photo(village, tmp_path / "besar.jpg")
    assert village.errors_of("#photo") == ["Foto ini lebih dari 0.2 MB; pilih yang lebih kecil."]
    village.find("button.primary[type='submit']").click()  # not sent: still the same page
    assert village.find("#title").get_attribute("value") == "Pipa pecah"
    assert system.count("villages", "reports") == reports


def test_the_language_switch_is_remembered(system, browsers):
    village = browsers("desa").sign_in("desa.punten")
    village.find("a[lang='en']").click()
    assert village.find("html").get_attribute("lang") == "en"
    village.open("/reports/new")
    assert village.find("h1").text == "Report a village problem"
    assert village.find("html").get_attribute("lang") == "en"
    village.find("a[lang='id']").click()
    assert village.find("h1").text == "Laporkan masalah desa"


def test_the_admin_adds_a_person_who_signs_in_until_disabled(system, browsers):
    admin = browsers("admin").sign_in("admin")
    admin.open("/actors").check_page("actors")
    admin.press("Tambah aktor")
    admin.select("#role", "village")
    admin.type("#name", "Kaur Pemerintahan Tulungrejo")
    admin.type("#username", "kaur.tulungrejo")
    admin.press("Simpan")  # no scope: a village operator needs its village
    assert admin.errors_of("#scope")
    admin.type("#scope", "35.79.02.2003")
    admin.press("Simpan")
    assert "Aktor dibuat" in admin.text()
    admin.type("#password", "pendek")
    admin.press("Simpan kata sandi")
    assert admin.errors_of("#password")
    admin.type("#password", "tulungrejo-sejahtera-2026")
    admin.press("Simpan kata sandi")
    assert "Kata sandi disimpan" in admin.text()
    admin.check_page("actor")

    person = browsers("kaur").sign_in("kaur.tulungrejo", "tulungrejo-sejahtera-2026")
    assert person.path == "/cases"
    admin.press("Nonaktifkan")
    assert "Aktor dinonaktifkan" in admin.text()
    person.open("/cases")
    assert person.path.startswith("/login")  # its session ended at once


@pytest.mark.parametrize("extra", [1_000, 300_000])  # just over; far over (not even read)
def test_a_photo_over_the_limit_sent_without_the_pages_script_is_refused_too(system, extra):
    web = signed_in(system, "desa.punten")
    form = web.get(system.root + "/reports/new").text
    before, reports = stored_photos(system), system.count("villages", "reports")
    answer = web.post(system.root + "/reports/new", data={
        "csrf_token": csrf_of(form), "idempotency_key": "besar-1", "category": "air-bersih",
        "title": "Pipa pecah", "description": "Di depan balai desa.", "severity": "medium",
    }, files={"photo": ("besar.jpg", photo_bytes() + bytes(UPLOAD_LIMIT + extra),
                        "image/jpeg")})
    assert answer.status_code == 413
    assert 'id="photo-error"' in answer.text and "lebih dari 0.2 MB" in answer.text
    assert stored_photos(system) == before
    assert system.count("villages", "reports") == reports


def test_a_report_without_a_photo_is_sent_as_a_browser_sends_it(system):
    web = signed_in(system, "kel.sisir")
    form = web.get(system.root + "/reports/new").text
    fields = {"csrf_token": csrf_of(form), "idempotency_key": "sisir-lampu-1",
              "category": "penerangan-jalan", "title": "Lampu jalan mati di Jl. Sisir",
              "description": "Lima tiang lampu mati sejak minggu lalu.", "severity": "low",
              "affected_people": "", "lat": "-7.87", "lon": "112.52"}
    # A form with a file field is multipart, its file part empty when no photo was chosen.
    sent = web.post(system.root + "/reports/new", data=fields,
                    files={"photo": ("", b"", "application/octet-stream")})
    assert sent.status_code == 200 and "/cases/JBT-" in sent.url, sent.text[:500]
    assert "Laporan terkirim" in sent.text and "Lampu jalan mati di Jl. Sisir" in sent.text
    assert "-7.87, 112.52" in sent.text


def test_a_report_marked_confidential_in_the_form_is_shown_so_and_kept_from_the_public(system):
    web = signed_in(system, "kel.sisir")
    form = web.get(system.root + "/reports/new").text
    assert 'name="confidential"' in form
    fields = {"csrf_token": csrf_of(form), "idempotency_key": "sisir-pungli-1",
              "category": "adminduk", "title": "Pungutan untuk surat pengantar",
              "description": "Warga dimintai uang untuk surat pengantar KTP.",
              "severity": "medium", "confidential": "true"}
    sent = web.post(system.root + "/reports/new", data=fields,
                    files={"photo": ("", b"", "application/octet-stream")})
    assert sent.status_code == 200 and "/cases/JBT-" in sent.url, sent.text[:500]
    assert "Rahasia" in sent.text
    number = sent.url.rsplit("/", 1)[1].split("?")[0]
    public = requests.get(f"{system.root}/open311/v2/requests.json", timeout=10)
    assert public.status_code == 200 and number not in public.text
    assert requests.get(f"{system.root}/open311/v2/requests/{number}.json",
                        timeout=10).status_code == 404


def test_anyone_reads_the_public_record_of_batu_on_a_phone(system, browsers):
    village = system.village("35.79.01.1001")
    case_when(village, report(village, clean_water_report(title="Air keruh di Temas"))[
        "case_id"], "routed")
    anyone = browsers("warga")  # nobody signed in
    anyone.open("/publik")
    anyone.check_page("public-index")
    anyone.open("/publik/35.79")
    assert "Kota Batu" in anyone.text("h1")
    assert "Air keruh di Temas" not in anyone.text()  # a case's title is never public
    anyone.check_page("public-record")


def test_an_announcement_sent_in_one_browser_is_read_in_another(system, browsers):
    coordinator = browsers("kecamatan").sign_in("kec.bumiaji")
    coordinator.open("/announcements").check_page("announcements")
    coordinator.press("Kirim pengumuman")
    coordinator.check_page("announcement-new")
    coordinator.type("#title", "Jadwal vaksinasi campak")
    coordinator.press("Kirim ke semua desa")  # no text yet
    assert coordinator.errors_of("#body")
    coordinator.type("#body", "Sabtu 12 Desember, pukul 08.00, di Puskesmas Bumiaji.")
    coordinator.press("Kirim ke semua desa")
    assert "Pengumuman terkirim" in coordinator.text()
    assert "Dibaca 0 dari" in coordinator.text()

    village = browsers("desa").sign_in("desa.punten")
    village.open("/announcements")
    assert "Belum dibaca" in village.text()
    village.find("main a[href^='/announcements/']").click()
    assert "Puskesmas Bumiaji" in village.text()
    village.check_page("announcement")

    coordinator.wait_for_text("Dibaca 1 dari")
    coordinator.check_page("announcement-receipts")
    coordinator.press("Ingatkan desa yang belum membaca")
    assert "Pengingat terkirim" in coordinator.text()


def test_the_settings_page_reads_well_on_a_phone(system, browsers):
    agency = browsers("instansi").sign_in("pdam-batu")
    agency.open("/settings").check_page("settings")
    agency.type("#phone", "0812 3456")
    agency.press("Simpan alamat")
    assert agency.errors_of("#phone")
    agency.type("#phone", "0812 3456 7890")
    agency.press("Simpan alamat")
    assert "Alamat tersimpan" in agency.text()
    assert agency.find("#email").get_attribute("value") == ""  # none given: none shown
