"""People sign in and out; managers manage actors and tokens; whatever is revoked or disabled
is refused at once; every refused sign-in and denied request is in the audit log."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.helpers import PUNTEN, every
from tests.e2e.system import Client

PASSWORD = "air-bersih-untuk-semua-2026"


@pytest.fixture(scope="module")
def system(sqlite_system):
    """SQLite only: what these tests check is decided above the database."""
    return sqlite_system


def create_person(admin, username, role="village", scope=PUNTEN, name="Sekdes Punten"):
    created = admin.post("/actors", {"role": role, "scope": scope, "name": name,
                                     "username": username})
    assert created.status_code == 201, created.text
    given = admin.post(f"/actors/{created.json()['id']}/password", {"password": PASSWORD})
    assert given.status_code == 204, given.text
    return created.json()


def sign_in(system, username, password=PASSWORD):
    return requests.post(system.base + "/auth/login",
                         json={"username": username, "password": password}, timeout=20)


def as_client(system, token):
    return Client(system.base, token)


def test_sign_in_use_sign_out_and_the_token_is_refused(system):
    person = create_person(system.admin(), "sekdes.punten")
    signed_in = sign_in(system, "Sekdes.Punten")
    assert signed_in.status_code == 200, signed_in.text
    body = signed_in.json()
    assert body["actor"]["id"] == person["id"] and body["actor"]["role"] == "village"
    assert body["expires_at"] > person["created_at"]
    me = as_client(system, body["token"])
    assert me.get("/me").json()["token"]["kind"] == "session"
    assert me.get("/cases").status_code == 200
    assert me.post("/auth/logout").status_code == 204
    refused = me.get("/cases")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"


def test_a_wrong_password_or_unknown_user_is_refused_alike_and_audited(system):
    create_person(system.admin(), "kades.punten")
    wrong = sign_in(system, "kades.punten", "bukan-kata-sandinya")
    unknown = sign_in(system, "tidak.ada", "bukan-kata-sandinya")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]
    refused = every(system.admin(), "/audit", action="auth.login_refused")
    assert {"kades.punten", "tidak.ada"} <= {entry["target"] for entry in refused}


def test_failed_sign_ins_are_slowed_down_even_with_the_right_password(system):
    create_person(system.admin(), "operator.bulukerto", scope="35.79.02.2004",
                  name="Operator Bulukerto")
    for _ in range(5):
        assert sign_in(system, "operator.bulukerto", "salah-salah-salah").status_code == 401
    slowed = sign_in(system, "operator.bulukerto")
    assert slowed.status_code == 429, slowed.text
    assert int(slowed.headers["Retry-After"]) >= 1
    assert every(system.admin(), "/audit", action="auth.login_throttled")


def test_disabling_an_actor_ends_its_tokens_at_once_and_enabling_lets_it_sign_in(system):
    admin = system.admin()
    person = create_person(admin, "operator.punten2", name="Operator Punten Dua")
    token = sign_in(system, "operator.punten2").json()["token"]
    me = as_client(system, token)
    assert me.get("/me").status_code == 200
    disabled = admin.post(f"/actors/{person['id']}/disable", {"reason": "pindah tugas"})
    assert disabled.status_code == 200 and disabled.json()["disabled_at"]
    assert me.get("/me").status_code == 401
    assert sign_in(system, "operator.punten2").status_code == 401
    assert admin.post(f"/actors/{person['id']}/enable").status_code == 200
    assert me.get("/me").status_code == 401  # disabling ended the session for good
    again = as_client(system, sign_in(system, "operator.punten2").json()["token"])
    assert again.get("/me").status_code == 200


def test_a_revoked_api_token_is_refused_at_once(system):
    admin = system.admin()
    system_actor = admin.post("/actors", {"role": "agency", "scope": "pdam-batu",
                                          "name": "Sistem SCADA PDAM"}).json()
    issued = admin.post(f"/actors/{system_actor['id']}/tokens",
                        {"label": "scada", "expires_in_days": 30})
    assert issued.status_code == 201, issued.text
    scada = as_client(system, issued.json()["token"])
    assert scada.get("/cases").status_code == 200
    listed = admin.get(f"/actors/{system_actor['id']}").json()["tokens"]
    assert [(t["id"], t["label"], t["revoked_at"]) for t in listed] == [
        (issued.json()["id"], "scada", None)]
    assert admin.delete(f"/tokens/{issued.json()['id']}").status_code == 204
    assert scada.get("/cases").status_code == 401


def test_a_regency_office_manages_the_actors_of_its_own_regency_only(system):
    admin, walikota = system.admin(), system.regency()
    made = walikota.post("/actors", {"role": "coordinator", "scope": "35.79.03",
                                     "name": "Staf Kecamatan Junrejo"})
    assert made.status_code == 201, made.text
    elsewhere = walikota.post("/actors", {"role": "village", "scope": "35.07.01.2001",
                                          "name": "Operator di Kabupaten Malang"})
    assert elsewhere.status_code == 404 and "scope" in elsewhere.json()["error"]["details"]
    no_admin = walikota.post("/actors", {"role": "admin", "name": "Admin Baru"})
    assert no_admin.status_code == 404
    malang = admin.post("/actors", {"role": "village", "scope": "35.07.01.2001",
                                    "name": "Operator Malang"}).json()
    assert walikota.get(f"/actors/{malang['id']}").status_code == 404
    assert walikota.post(f"/actors/{malang['id']}/disable").status_code == 404
    seen = {actor["id"] for actor in every(walikota, "/actors")}
    assert made.json()["id"] in seen and malang["id"] not in seen
    assert all(actor["regency"] == "35.79" for actor in every(walikota, "/actors"))


@pytest.mark.parametrize("body,field", [
    ({"role": "village", "scope": PUNTEN, "name": "X", "username": "Bukan Nama!"}, "username"),
    ({"role": "village", "scope": "35.79.02", "name": "X"}, "scope"),
    ({"role": "village", "name": "X"}, "scope"),
    ({"role": "admin", "scope": "35.79", "name": "X"}, "scope"),
    ({"role": "village", "scope": PUNTEN, "name": "  "}, "name"),
    ({"role": "walikota", "scope": "35.79", "name": "X"}, "role"),
    ({"role": "village", "scope": PUNTEN, "name": "X", "password": PASSWORD}, "password"),
])
def test_a_bad_actor_is_refused_naming_the_field(system, body, field):
    refused = system.admin().post("/actors", body)
    assert refused.status_code == 400, refused.text
    assert field in refused.json()["error"]["details"]


@pytest.mark.parametrize("body", [
    {"role": "village", "scope": "35.79.02.2999", "name": "X"},
    {"role": "coordinator", "scope": "35.79.09", "name": "X"},
    {"role": "agency", "scope": "pdam-malang", "name": "X"},
])
def test_an_actor_of_a_scope_that_does_not_exist_is_not_found(system, body):
    refused = system.admin().post("/actors", body)
    assert refused.status_code == 404, refused.text
    assert "scope" in refused.json()["error"]["details"]


@pytest.mark.parametrize("password", ["pendek", "password123", "qwertyuiop", "bismillah123"])
def test_a_short_or_common_password_is_refused(system, password):
    person = system.admin().post("/actors", {"role": "village", "scope": PUNTEN, "name": "X",
                                             "username": f"lemah.{len(password)}.{password[:3]}"})
    refused = system.admin().post(f"/actors/{person.json()['id']}/password",
                                  {"password": password})
    assert refused.status_code == 400, refused.text
    assert "password" in refused.json()["error"]["details"]


def test_a_system_actor_has_no_password(system):
    robot = system.admin().post("/actors", {"role": "agency", "scope": "pdam-batu",
                                            "name": "Sistem Tagihan PDAM"}).json()
    refused = system.admin().post(f"/actors/{robot['id']}/password", {"password": PASSWORD})
    assert refused.status_code == 409, refused.text


def test_a_taken_username_is_a_conflict(system):
    create_person(system.admin(), "sekdes.unik")
    again = system.admin().post("/actors", {"role": "village", "scope": PUNTEN, "name": "Lain",
                                            "username": "sekdes.unik"})
    assert again.status_code == 409 and "username" in again.json()["error"]["details"]


def test_changing_ones_password_signs_out_the_other_sessions(system):
    create_person(system.admin(), "sekdes.ganti")
    first = as_client(system, sign_in(system, "sekdes.ganti").json()["token"])
    second = as_client(system, sign_in(system, "sekdes.ganti").json()["token"])
    wrong = second.post("/me/password", {"current_password": "salah-salah-salah",
                                         "new_password": "jembatan-baru-di-punten-77"})
    assert wrong.status_code == 403 and "current_password" in wrong.json()["error"]["details"]
    changed = second.post("/me/password", {"current_password": PASSWORD,
                                           "new_password": "kali-brantas-mengalir-jernih"})
    assert changed.status_code == 204, changed.text
    assert first.get("/me").status_code == 401
    assert second.get("/me").status_code == 200
    assert sign_in(system, "sekdes.ganti", "kali-brantas-mengalir-jernih").status_code == 200


def test_only_an_admin_reads_the_audit_log_and_denials_are_in_it(system):
    village = system.village(PUNTEN)
    assert village.get("/audit").status_code == 403
    assert system.regency().get("/audit").status_code == 403
    assert system.anonymous().get("/audit").status_code == 401
    denied = every(system.admin(), "/audit", action="access.forbidden")
    assert any(entry["target"] == "GET /api/v1/audit" and entry["actor"]["role"] == "village"
               for entry in denied)
    unauthorized = every(system.admin(), "/audit", action="access.unauthorized")
    assert any(entry["target"] == "GET /api/v1/audit" for entry in unauthorized)


def test_sign_ins_sent_together_are_counted_before_any_password_is_checked(system):
    create_person(system.admin(), "operator.serentak", scope="35.79.02.2005",
                  name="Operator Serentak")
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda _n: sign_in(system, "operator.serentak",
                                                   "salah-salah-salah").status_code, range(12)))
    assert sorted(answers) == [401] * 5 + [429] * 7


def test_api_tokens_are_for_systems_and_nobody_gives_themself_one(system):
    admin, walikota = system.admin(), system.regency()
    person = create_person(admin, "sekdes.token")
    refused = admin.post(f"/actors/{person['id']}/tokens", {"label": "x"})
    assert refused.status_code == 409, refused.text
    own = system.actors[("regency", "35.79")]["id"]
    assert walikota.post(f"/actors/{own}/tokens", {"label": "x"}).status_code == 409
    assert admin.post(f"/actors/{system.actors[('admin', None)]['id']}/password",
                      {"password": PASSWORD}).status_code == 409


def test_actors_are_found_by_part_of_their_name_or_username_and_wildcards_are_letters(system):
    admin = system.admin()
    person = create_person(admin, "kaur.umum_sidomulyo", name="Kaur Umum Sidomulyo 100%")
    found = admin.get("/actors", params={"q": "umum sido"}).json()["items"]
    assert [a["id"] for a in found] == [person["id"]]
    assert [a["id"] for a in admin.get("/actors", params={"q": "UMUM_SIDO"}).json()["items"]] \
        == [person["id"]]
    assert [a["id"] for a in admin.get("/actors", params={"q": "100%"}).json()["items"]] \
        == [person["id"]]
    # % and _ are letters here, not wildcards: "o%y" and "r_u" match nobody.
    assert admin.get("/actors", params={"q": "o%y"}).json()["items"] == []
    assert admin.get("/actors", params={"q": "r_u"}).json()["items"] == []
