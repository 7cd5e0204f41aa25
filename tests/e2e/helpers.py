"""What a test does the way a user would: report, wait for a state, read an inbox, add a
photo, sign in to the web app."""
import io
import re

import requests
from PIL import ExifTags, Image

from tests.broker import eventually
from tests.e2e.system import DEMO_PASSWORD

PUNTEN, BUMIAJI, BATU = "35.79.02.2001", "35.79.02", "35.79"


def clean_water_report(**overrides):
    report = {"category": "air-bersih", "title": "Air bersih tidak mengalir empat hari",
              "description": "Sejak Kamis tidak ada air bersih di Dusun Krajan dan Dusun Jeding.",
              "severity": "high", "affected_people": 320}
    report.update(overrides)
    return report


def report(village, body, **kwargs):
    response = village.post("/reports", body, **kwargs)
    assert response.status_code == 202, response.text
    return response.json()


def case_when(client, case_id, status, timeout=15):
    """The case as `client` sees it, once it has reached `status`."""
    def reached():
        response = client.get(f"/cases/{case_id}")
        assert response.status_code == 200, response.text
        case = response.json()
        assert case["status"] == status, f"status is {case['status']}, waiting for {status}"
        return case

    return eventually(reached, timeout=timeout)


def resolve(system, case):
    """Every agency of the case accepts and completes its task; the case, once resolved."""
    for task in case["tasks"]:
        agency = system.agency(task["agency"]["id"])
        path = f"/cases/{case['id']}/tasks/{task['id']}"
        assert agency.post(f"{path}/accept", {}).status_code == 200
        assert agency.post(f"{path}/complete", {"note": "Selesai"}).status_code == 200
    return case_when(system.admin(), case["id"], "resolved")


def every(client, path, **params):
    """Every item of a paged list, read page after page."""
    items, page = [], 1
    while True:
        response = client.get(path, params={**params, "page": page, "per_page": 100})
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        if len(items) >= body["total"] or not body["items"]:
            return items
        page += 1


def timeline(client, case_id):
    """The whole timeline of a case, oldest first."""
    return every(client, f"/cases/{case_id}/timeline")


def inbox_types(client, case_id, expected, timeout=15):
    """The notifications `client` has for the case, once their types include `expected`."""
    def arrived():
        inbox = every(client, "/notifications", case_id=case_id)
        types = [n["type"] for n in inbox]
        missing = [t for t in expected if t not in types]
        assert not missing, f"{client.name} has {types}, still missing {missing}"
        return inbox

    return eventually(arrived, timeout=timeout)


def task_of(case, agency_id):
    return next(t for t in case["tasks"] if t["agency"]["id"] == agency_id)


def photo_bytes(kind="JPEG", image=None, **options):
    """An image file as Pillow writes it: a 640x480 photo unless `image` is given; `options`
    as Image.save takes them (exif=, comment=...)."""
    out = io.BytesIO()
    (image or Image.new("RGB", (640, 480), "#3c8d40")).save(out, kind, **options)
    return out.getvalue()


def phone_exif(orientation=1):
    """The EXIF a phone writes into a photo: its make and model, when, and where."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = "Samsung", "Galaxy A14"
    exif[ExifTags.Base.DateTime] = "2026:11:30 07:12:44"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "S", ExifTags.GPS.GPSLatitude: (7.0, 50.0, 31.0),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (112.0, 31.0, 44.0)}
    return exif


def upload_photo(client, case_id, data=None, filename="foto.jpg", content_type="image/jpeg",
                 **fields):
    """`client` adds a photo (a plain JPEG unless `data` is given) to the case; the response."""
    photo = (filename, photo_bytes() if data is None else data, content_type)
    return client.post_file(f"/cases/{case_id}/attachments", {"photo": photo}, fields or None)


# -- the web app, without a browser ----------------------------------------------------------

def csrf_of(html):
    """The CSRF token the forms of a page carry."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def signed_in(system, username, password=DEMO_PASSWORD):
    """A session of the web app (its cookies), signed in with the sign-in form."""
    web = requests.Session()
    token = csrf_of(web.get(system.root + "/login").text)
    answer = web.post(system.root + "/login", data={
        "csrf_token": token, "username": username, "password": password})
    assert answer.status_code == 200 and "/login" not in answer.url, answer.text[:300]
    return web
