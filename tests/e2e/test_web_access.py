"""Every page of the web app, opened and posted by every role and by nobody signed in.

The expected answer of each row comes from the page's own declaration (services/gateway/web.py
PAGES: the roles, or the API operation of shared/policy.py, that may open it): nobody signed in
is sent to /login; a role the page does not admit gets 403; a form without the CSRF token gets
403; an admitted role gets its page (or, for a form sent empty, the form again or the next
page), and never a server error. A case outside the caller's area is 404, as in the API.
"""
import re
from datetime import datetime, timezone

import pytest
import requests

from services.gateway import service as gateway_service  # noqa: F401  (declares the pages)
from services.gateway.web import PAGES
from shared import policy
from tests.e2e.helpers import (
    PUNTEN, case_when, clean_water_report, csrf_of, report, signed_in, upload_photo,
)
from tests.e2e.system import DEMO_PASSWORD

USERNAMES = {policy.VILLAGE: "desa.punten", policy.AGENCY: "pdam-batu",
             policy.COORDINATOR: "kec.bumiaji", policy.REGENCY: "walikota.batu",
             policy.ADMIN: "admin"}


@pytest.fixture(scope="module")
def system(sqlite_system):
    return sqlite_system


@pytest.fixture(scope="module")
def sessions(system):
    """A signed-in session of each role (the row of POST /logout ends them: it comes last)."""
    return {role: signed_in(system, username) for role, username in USERNAMES.items()}


@pytest.fixture(scope="module")
def case(system):
    """A clean-water case of Punten, routed to PDAM and PUPR, with a photo."""
    village = system.village(PUNTEN)
    routed = case_when(village, report(village, clean_water_report())["case_id"], "routed")
    photo = upload_photo(village, routed["id"])
    assert photo.status_code == 201, photo.text
    return {**routed, "photo": photo.json()["id"]}


@pytest.fixture(scope="module")
def values(system, case):
    """What each path value of a page is: the case above, its first task and its photo, an
    actor made for the rows that manage actors, an announcement and a subscription of
    Bumiaji's coordinator, a static file, the public record's district."""
    made = system.admin().post("/actors", {"role": "village", "scope": "35.79.02.2003",
                                           "name": "Kaur Matriks", "username": "kaur.matriks"})
    assert made.status_code == 201, made.text
    announced = system.coordinator().post("/announcements", {
        "title": "Uji halaman", "body": "Pengumuman uji", "district": "35.79.02"})
    assert announced.status_code == 201, announced.text
    followed = system.coordinator().post("/subscriptions", {"overdue": True})
    assert followed.status_code == 201, followed.text
    return {"case_id": case["id"], "task_id": case["tasks"][0]["id"],
            "attachment_id": case["photo"], "actor_id": made.json()["id"], "name": "app.css",
            "announcement_id": announced.json()["id"],
            "subscription_id": followed.json()["id"], "area": "35.79.02",
            "district": "35.79.02", "year": str(datetime.now(timezone.utc).year),
            "category": "air-bersih"}


def address(url, values):
    url = re.sub(r"<any\(([a-z_]+)[^)]*\):\w+>", r"\1", url)  # the first choice named
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda match: values[match.group(1)], url)


def admitted(page, role):
    if page.public:
        return True
    if page.operation is not None:
        operation = re.sub(r"\{\w+\}", re.search(r"<any\(([a-z_]+)", page.url).group(1),
                           page.operation) if "{" in page.operation else page.operation
        return policy.role_may(role, operation)
    return role in page.roles


# Signing out ends the sessions the other rows use: it comes last.
ROWS = sorted(PAGES, key=lambda key: (key == ("POST", "/logout"), key))


@pytest.mark.parametrize("key", ROWS, ids=" ".join)
def test_every_page_answers_every_role_as_declared(system, sessions, values, key):
    method, url = key
    page = PAGES[key]
    path = address(url, values)
    wrong = []
    nobody = requests.request(method, system.root + path, allow_redirects=False,
                              data={"csrf_token": "x"}, cookies={"jembatan_csrf": "x"})
    if not page.public and (nobody.status_code != 303
                            or not nobody.headers["Location"].startswith("/login")):
        wrong.append(f"nobody: {nobody.status_code}")
    for role, web in sessions.items():
        token = csrf_of(web.get(system.root + "/").text)
        if method == "POST" and not page.public and admitted(page, role):
            forged = web.post(system.root + path, data={}, allow_redirects=False)
            if forged.status_code != 403:
                wrong.append(f"{role}, no CSRF token: {forged.status_code}, not 403")
        answer = web.request(method, system.root + path, allow_redirects=False,
                             data={"csrf_token": token} if method == "POST" else None)
        if not admitted(page, role):
            if answer.status_code != 403:
                wrong.append(f"{role}: {answer.status_code}, not 403")
        elif answer.status_code >= 500 or answer.status_code in (401, 403):
            wrong.append(f"{role}: {answer.status_code}")
    assert not wrong, f"{method} {url}: " + "; ".join(wrong)


def test_a_case_of_another_village_is_not_found_on_its_page(system, case):
    web = signed_in(system, "desa.gunungsari")
    assert web.get(system.root + f"/cases/{case['id']}").status_code == 404
    assert web.get(system.root + f"/cases/{case['id']}/photos/{case['photo']}").status_code == 404
    elsewhere = signed_in(system, "kec.junrejo").get(system.root + f"/cases/{case['id']}")
    assert elsewhere.status_code == 404 and "tidak ditemukan" in elsewhere.text.lower()


def test_signing_in_goes_back_only_to_a_page_of_this_site(system):
    web = requests.Session()
    token = csrf_of(web.get(system.root + "/login?next=//evil.example/x").text)
    answer = web.post(system.root + "/login", allow_redirects=False, data={
        "csrf_token": token, "username": "kec.bumiaji", "password": DEMO_PASSWORD,
        "next": "https://evil.example/"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/board"
    cookie = next(c for c in web.cookies if c.name == "jembatan_session")
    assert cookie.has_nonstandard_attr("HttpOnly") and "samesite" in str(cookie._rest).lower()


def test_a_wrong_password_is_shown_next_to_the_field_and_nobody_is_signed_in(system):
    web = requests.Session()
    token = csrf_of(web.get(system.root + "/login").text)
    answer = web.post(system.root + "/login", data={
        "csrf_token": token, "username": "desa.punten", "password": "bukan-kata-sandinya"})
    assert answer.status_code == 401
    assert 'id="password-error"' in answer.text and "salah" in answer.text
    assert "jembatan_session" not in web.cookies


def test_a_form_token_serves_only_its_own_session_and_site(system):
    village, coordinator = signed_in(system, "desa.punten"), signed_in(system, "kec.bumiaji")
    token = csrf_of(village.get(system.root + "/cases").text)
    # Another site that planted the village's CSRF cookie in the coordinator's browser, and
    # knows the village's token, still cannot act as the coordinator.
    coordinator.cookies.set("jembatan_csrf", village.cookies.get("jembatan_csrf"))
    assert coordinator.post(system.root + "/logout", data={"csrf_token": token}).status_code \
        == 403
    for origin in ("https://evil.example", "null"):
        refused = village.post(system.root + "/logout", data={"csrf_token": token},
                               headers={"Origin": origin})
        assert refused.status_code == 403, origin
    assert village.post(system.root + "/logout", data={"csrf_token": token},
                        headers={"Origin": system.root}).url.endswith("/login")


def test_a_form_sent_once_signed_out_leads_back_to_its_page_after_signing_in(system, case):
    answer = requests.post(system.root + f"/cases/{case['id']}/comment",
                           data={"body": "Halo"}, allow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/login?next=%2Fcases%2F{case['id']}"
