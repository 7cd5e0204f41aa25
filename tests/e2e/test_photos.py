"""Photos of a case, over HTTP with every service running: a party adds one, whoever may read
the case sees it (without the phone's metadata), and a refused upload leaves nothing behind."""
import io

import pytest
from PIL import ExifTags, Image

from tests.e2e.helpers import (
    BUMIAJI, PUNTEN, case_when, clean_water_report, phone_exif, photo_bytes, report, timeline,
    upload_photo,
)
from tests.e2e.system import System

LIMIT = 100_000  # JEMBATAN_UPLOAD_MAX_BYTES of the SQLite system
MISSING_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def sqlite(tmp_path_factory):
    """SQLite, with uploads limited to 100 kB: what these tests check is decided above the
    database (the one test on both databases uses `system`)."""
    running = System(tmp_path_factory.mktemp("photos"),
                     env={"JEMBATAN_UPLOAD_MAX_BYTES": str(LIMIT)}).start()
    try:
        yield running
    finally:
        running.stop()


def routed_case(system, title="Pipa induk bocor di Dusun Krajan"):
    client = system.village(PUNTEN)
    return case_when(client, report(client, clean_water_report(title=title))["case_id"], "routed")


@pytest.fixture(scope="module")
def case(sqlite):
    """A routed clean-water case of Punten: PDAM leads."""
    return routed_case(sqlite)


def stored(system):
    """Every file kept under the system's <JEMBATAN_DATA_DIR>/attachments."""
    return sorted(path for path in (system.data_dir / "attachments").rglob("*") if path.is_file())


def added(response):
    assert response.status_code == 201, response.text
    return response.json()


def image_of(response, content_type):
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == content_type
    return Image.open(io.BytesIO(response.content))


def error_of(response, status):
    assert response.status_code == status, response.text
    return response.json()["error"]


def test_a_village_adds_a_photo_of_its_case_and_no_exif_is_kept(system):
    village = system.village(PUNTEN)
    case = routed_case(system)
    photo = added(upload_photo(village, case["id"], photo_bytes(exif=phone_exif())))
    assert (photo["content_type"], photo["width"], photo["height"]) == ("image/jpeg", 640, 480)
    assert photo["added_by"] == {"role": "village", "name": village.name}
    assert village.get(f"/cases/{case['id']}").json()["attachments"] == [photo]
    entry = next(e for e in timeline(village, case["id"]) if e["type"] == "photo_added")
    assert entry["summary"] == "Foto ditambahkan" and entry["actor"]["role"] == "village"

    path = f"/cases/{case['id']}/attachments/{photo['id']}"
    image = image_of(village.get(path), "image/jpeg")
    assert image.size == (640, 480) and not image.getexif()
    assert len(village.get(path).content) == photo["size"]
    thumbnail = image_of(village.get(f"{path}/thumbnail"), "image/webp")
    assert thumbnail.format == "WEBP" and max(thumbnail.size) <= 320


def test_whoever_may_read_the_case_sees_its_photo_and_nobody_else(sqlite, case):
    photo = added(upload_photo(sqlite.village(PUNTEN), case["id"]))
    path = f"/cases/{case['id']}/attachments/{photo['id']}"
    for reader in (sqlite.agency("pdam-batu"), sqlite.coordinator(BUMIAJI), sqlite.regency(),
                   sqlite.admin()):
        image_of(reader.get(path), "image/jpeg")
        image_of(reader.get(f"{path}/thumbnail"), "image/webp")
    for outsider in (sqlite.village("35.79.02.2002"), sqlite.coordinator("35.79.03"),
                     sqlite.agency("dlh-batu")):
        for url in (path, f"{path}/thumbnail"):
            assert error_of(outsider.get(url), 404)["code"] == "not_found"
    # A photo is reached only through its own case.
    other = routed_case(sqlite, title="Air keruh di Dusun Jeding")
    wrong_case = f"/cases/{other['id']}/attachments/{photo['id']}"
    assert sqlite.village(PUNTEN).get(wrong_case).status_code == 404
    assert sqlite.anonymous().get(path).status_code == 401
    before = stored(sqlite)
    assert error_of(upload_photo(sqlite.admin(), case["id"]), 403)["code"] == "forbidden"
    assert stored(sqlite) == before


def test_an_agency_adds_a_progress_photo_that_keeps_its_location_when_shared(sqlite, case):
    pdam = sqlite.agency("pdam-batu")
    photo = added(upload_photo(pdam, case["id"], photo_bytes(exif=phone_exif()),
                               share_location="true"))
    assert photo["added_by"]["role"] == "agency"
    seen = sqlite.village(PUNTEN).get(f"/cases/{case['id']}/attachments/{photo['id']}")
    exif = image_of(seen, "image/jpeg").getexif()
    assert set(exif) == {ExifTags.IFD.GPSInfo}  # the location, not the camera or the time
    assert exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "S"
    assert photo["id"] in [a["id"] for a in pdam.get(f"/cases/{case['id']}").json()["attachments"]]


JPEG = photo_bytes()
BAD_UPLOADS = {  # what is sent as the photo: (bytes, file name, content type, status)
    "not an image": (b"Pipa bocor di Dusun Krajan\n" * 20, "foto.jpg", "image/jpeg", 400),
    "renamed executable": (b"MZ\x90\x00\x03\x00" + bytes(8192), "foto.jpg", "image/jpeg", 400),
    "truncated JPEG": (JPEG[:len(JPEG) // 2], "foto.jpg", "image/jpeg", 400),
    "GIF": (photo_bytes("GIF"), "foto.gif", "image/gif", 400),
    "just over the limit": (JPEG + bytes(LIMIT), "foto.jpg", "image/jpeg", 413),
    "ten times the limit": (bytes(10 * LIMIT), "foto.jpg", "image/jpeg", 413),
}
CODES = {400: "validation_error", 413: "payload_too_large"}


@pytest.mark.parametrize("data, filename, content_type, status", BAD_UPLOADS.values(),
                         ids=BAD_UPLOADS.keys())
def test_a_refused_upload_names_the_photo_and_keeps_nothing(sqlite, case, data, filename,
                                                            content_type, status):
    village = sqlite.village(PUNTEN)
    before = stored(sqlite), village.get(f"/cases/{case['id']}").json()["attachments"]
    refused = upload_photo(village, case["id"], data, filename, content_type)
    assert refused.status_code in (400, 413), refused.text
    assert refused.json()["error"]["details"]["photo"], refused.text
    assert (stored(sqlite), village.get(f"/cases/{case['id']}").json()["attachments"]) == before
    assert error_of(refused, status)["code"] == CODES[status]


def test_no_photo_a_cancelled_case_and_an_unknown_case_are_refused_and_nothing_is_kept(sqlite,
                                                                                       case):
    village, before = sqlite.village(PUNTEN), stored(sqlite)
    path = f"/cases/{case['id']}/attachments"
    assert "body" in error_of(village.post(path, {"photo": "foto.jpg"}), 400)["details"]
    no_file = village.post_file(path, {"share_location": (None, "true")})  # a field, no file
    assert "photo" in error_of(no_file, 400)["details"]

    cancelled = routed_case(sqlite, title="Laporan ganda air mati")
    assert sqlite.coordinator(BUMIAJI).post(f"/cases/{cancelled['id']}/cancel",
                                            {"reason": "Laporan ganda"}).status_code == 200
    assert error_of(upload_photo(village, cancelled["id"]), 409)["code"] == "conflict"
    assert error_of(upload_photo(village, MISSING_ID), 404)["code"] == "not_found"
    assert stored(sqlite) == before
