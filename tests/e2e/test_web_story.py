"""The clean-water story in the web app, as three people live it in three browsers: the
village reports from a phone with a photo, PDAM and PUPR work their tasks, the village
confirms. Screenshots of each page are saved under test-artifacts/screenshots."""
import io

import pytest
from PIL import Image

from tests.e2e.browser import PHONE
from tests.e2e.helpers import PUNTEN, phone_exif, photo_bytes


@pytest.fixture(scope="module")
def system(sqlite_system):
    """SQLite only: the pages run the same RPCs whatever the database."""
    return sqlite_system


def phone_photo(path):
    """A photo as a phone takes it: JPEG, with the camera and the place in its EXIF."""
    path.write_bytes(photo_bytes(exif=phone_exif()))
    return path


def test_the_clean_water_story_across_three_browsers(system, browsers, tmp_path):
    village = browsers("desa")
    village.resize(*PHONE)
    village.open("/login").check_page("login")
    village.sign_in("desa.punten")
    assert village.path == "/cases"
    village.check_page("village-cases")
    village.open("/reports/new").check_page("report-form")
    village.choose("category", "air-bersih")
    village.type("#title", "Air bersih tidak mengalir empat hari")
    village.type("#description", "Sejak Kamis tidak ada air di Dusun Krajan dan Dusun Jeding.")
    village.choose("severity", "high")
    village.type("#affected_people", "320")
    village.attach("#photo", phone_photo(tmp_path / "pipa.jpg"))
    village.press("Kirim laporan")
    assert "Laporan terkirim" in village.text()
    number = village.path.split("/cases/")[1].split("?")[0]
    village.wait_for_text("Diteruskan")
    thumbnail = village.find(".photos img")
    assert village.driver.execute_script("return arguments[0].naturalWidth", thumbnail) > 0
    photo = system.village(PUNTEN).get(f"/cases/{number}").json()["attachments"][0]
    kept = system.village(PUNTEN).get(f"/cases/{number}/attachments/{photo['id']}")
    assert not Image.open(io.BytesIO(kept.content)).getexif()  # the phone's location is gone
    village.check_page("case-village")

    pdam = browsers("pdam")
    pdam.sign_in("pdam-batu")
    assert pdam.path == "/inbox"
    pdam.wait_for_text("Air bersih tidak mengalir empat hari")
    pdam.check_page("agency-inbox")
    pdam.open(f"/cases/{number}")
    pdam.press("Terima tugas")
    assert "Tugas diterima" in pdam.text()
    pdam.type("form[action$='/progress'] textarea[name='note']", "Pipa bocor ditemukan di Krajan.")
    pdam.attach("form[action$='/progress'] input[type='file']", phone_photo(tmp_path / "b.jpg"))
    pdam.press("Kirim kemajuan")
    assert "Kemajuan terkirim" in pdam.text()
    pdam.check_page("case-agency")

    pupr = browsers("pupr")
    pupr.sign_in("pupr-batu")
    pupr.open(f"/cases/{number}")
    pupr.press("Terima tugas")
    pupr.type("form[action$='/complete'] textarea[name='note']", "Jalan akses sudah diperbaiki.")
    pupr.press("Tandai selesai")
    assert "Tugas selesai" in pupr.text()

    pdam.open(f"/cases/{number}")
    pdam.type("form[action$='/complete'] textarea[name='note']", "Pipa diganti; air mengalir.")
    pdam.press("Tandai selesai")

    village.open(f"/cases/{number}")
    village.wait_for_text("Menunggu konfirmasi desa")
    assert len(village.all(".photos img")) == 2  # the village's and PDAM's
    village.check_page("case-resolved")
    village.press("Ya, sudah teratasi")
    assert "kasus ditutup" in village.text()
    assert "Selesai" in village.text(".status")
    timeline = village.text(".timeline")
    assert "Pipa bocor ditemukan di Krajan" in timeline
    assert "Desa mengonfirmasi masalah teratasi" in timeline

    regency = browsers("walikota").sign_in("walikota.batu")
    regency.open("/records")
    records = {row.find_element("css selector", "th").text:
               [cell.text for cell in row.find_elements("css selector", "td")]
               for row in regency.all("tbody tr")}
    pdam = next(cells for name, cells in records.items() if "PDAM" in name)
    # received, accepted (in time), completed (in time), declined (referred)
    assert pdam[:4] == ["1", "1 (1)", "1 (1)", "0 (0)"]
    assert regency.find(".chart svg")
    regency.check_page("agency-records")
