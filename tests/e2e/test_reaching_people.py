"""Notifications that reach people: email to a real SMTP server, SMS and WhatsApp through a
provider's HTTP API, and signed webhooks, each to a real server this test starts; what arrives
is read back and checked (content, language, signature, exactly once), also while the mail
server is down for a while, or for good, or the service is killed mid-send. And announcements:
sent to every village of an area, read, reminded, over HTTP and on the web app."""
import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from shared.timezones import WIB
from tests.broker import eventually, free_port
from tests.e2e.helpers import (
    PUNTEN, case_when, clean_water_report, csrf_of, every, report, signed_in,
)
from tests.e2e.receivers import HttpReceiver, Mailbox
from tests.e2e.system import DEMO_PASSWORD, System

PUBLIC_URL = "https://jembatan.batukota.go.id"
SMS_TEMPLATE = '{"msisdn": "{{ to_digits }}", "message": {{ text|tojson }}, "ref": "{{ delivery_id }}"}'
PDAM_EMAIL, PDAM_PHONE = "pdam@example.org", "+6281234567801"
VILLAGE_EMAIL, VILLAGE_PHONE = "desa.punten@example.org", "+6281234567802"


class World:
    def __init__(self, system, mailbox, provider, hooks):
        self.system, self.mailbox, self.provider, self.hooks = system, mailbox, provider, hooks
        self.pdam = system.agency("pdam-batu")
        self.village = system.village(PUNTEN)
        self.admin = system.admin()

    def mail_to(self, address, number):
        return [m for m in self.mailbox.messages()
                if m["To"].addresses[0].addr_spec == address and number in m["Subject"]]

    def texts(self, path, phone, number):
        found = []
        for request in self.provider.requests(path):
            body = json.loads(request["body"])
            if body["msisdn"] == phone.lstrip("+") and number in body["message"]:
                found.append({**request, "json": body})
        return found

    def webhook_calls(self, number):
        return [r for r in self.hooks.requests("/hooks/pdam")
                if json.loads(r["body"])["case"]["tracking_number"] == number]

    def deliveries(self, **params):
        return every(self.admin, "/deliveries", **params)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One system on SQLite: what differs on PostgreSQL (claiming deliveries) is
    tests/service/test_delivery_fan_out.py's."""
    folder = tmp_path_factory.mktemp("delivery")
    mailbox = Mailbox(folder / "mail", free_port()).start()
    provider = HttpReceiver(folder / "provider", free_port()).start()
    hooks = HttpReceiver(folder / "hooks", free_port()).start()
    provider_url = f"http://127.0.0.1:{provider.port}"
    system = System(folder / "system", env={
        "JEMBATAN_PUBLIC_URL": PUBLIC_URL,
        "JEMBATAN_SMTP_URL": f"smtp://127.0.0.1:{mailbox.port}",
        "JEMBATAN_MAIL_FROM": "Jembatan Kota Batu <jembatan@batukota.go.id>",
        "JEMBATAN_SMS_GATEWAY_URL": f"{provider_url}/sms",
        "JEMBATAN_SMS_GATEWAY_AUTH": "Bearer sms-key",
        "JEMBATAN_SMS_GATEWAY_BODY": SMS_TEMPLATE,
        "JEMBATAN_WHATSAPP_GATEWAY_URL": f"{provider_url}/whatsapp",
        "JEMBATAN_WHATSAPP_GATEWAY_AUTH": "Bearer wa-key",
        "JEMBATAN_WHATSAPP_GATEWAY_BODY": SMS_TEMPLATE,
        "JEMBATAN_WEBHOOKS_ALLOW_PRIVATE": "1",
        "JEMBATAN_DELIVERY_RETRY_SECONDS": "0.5",
        "JEMBATAN_DELIVERY_ATTEMPTS": "4",
        "JEMBATAN_DELIVERY_POLL_SECONDS": "0.2",
        "JEMBATAN_SEND_TIMEOUT_SECONDS": "3",
    })
    system.start()
    world = World(system, mailbox, provider, hooks)
    try:
        set_up(world)
        yield world
    finally:
        system.stop()
        for receiver in (mailbox, provider, hooks):
            receiver.stop()


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def set_up(world):
    """PDAM reads English by email and SMS and has a webhook; Punten reads Indonesian by email
    and WhatsApp (for a routed case, instead of SMS)."""
    ok(world.pdam.request("PUT", "/me/channels", {
        "email": PDAM_EMAIL, "phone": "0812-3456-7801", "language": "en"}))
    ok(world.village.request("PUT", "/me/channels", {
        "email": VILLAGE_EMAIL, "phone": "62 812 3456 7802", "whatsapp": True}))
    ok(world.village.request("PUT", "/me/preferences", {
        "events": {"case_routed": ["email", "whatsapp"]}}))
    world.secret = ok(world.pdam.post("/webhooks", {
        "url": f"http://127.0.0.1:{world.hooks.port}/hooks/pdam",
        "events": ["case_routed", "comment_added"]}), 201)["secret"]
    for client in (world.pdam, world.village):  # the notifications service knows them now
        eventually(lambda: ok(client.get("/me/preferences"))["reachable"]["email"], timeout=30)


def routed_case(world, title):
    accepted = report(world.village, clean_water_report(title=title))
    case = case_when(world.admin, accepted["case_id"], "routed")
    return case


def signature_holds(secret, request):
    header = request["headers"]["X-Jembatan-Signature"]
    parts = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + request["body"],
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - int(parts["t"])) < 300


def test_each_party_hears_on_its_channels_in_its_language_exactly_once(world):
    case = routed_case(world, "Air PDAM mati tiga hari di Dusun Krajan")
    number, link = case["tracking_number"], f"{PUBLIC_URL}/cases/{case['id']}"

    # PDAM: an email in English, with the task's details and the case's link.
    mail, = eventually(lambda: world.mail_to(PDAM_EMAIL, number), timeout=30)
    assert mail["Subject"] == f"New task: Air PDAM mati tiga hari di Dusun Krajan ({number})"
    assert mail["From"] == "Jembatan Kota Batu <jembatan@batukota.go.id>"
    assert mail["Content-Language"] == "en"
    text = mail.get_content()
    assert "Your agency is assigned as lead" in text and "Accept by" in text
    assert f"Tracking number: {number}" in text and "Punten" in text and link in text
    # … an SMS (urgent: a new task), through the provider's API as configured …
    sms, = eventually(lambda: world.texts("/sms", PDAM_PHONE, number), timeout=30)
    assert sms["headers"]["Authorization"] == "Bearer sms-key"
    assert sms["json"]["message"].startswith("Jembatan: New task:") and link in sms["json"]["message"]
    assert len(sms["json"]["message"]) <= 306
    # … and its system hears by webhook, signed with the secret it was given.
    call, = eventually(lambda: world.webhook_calls(number), timeout=30)
    assert call["headers"]["X-Jembatan-Event"] == "case_routed"
    assert signature_holds(world.secret, call)
    body = json.loads(call["body"])
    assert body["delivery_id"] == call["headers"]["X-Jembatan-Delivery"]
    assert body["case"]["url"] == link and body["message"]["language"] == "id"

    # Punten: its receipt and the routing by email, in Indonesian; the routing by WhatsApp.
    eventually(lambda: len(world.mail_to(VILLAGE_EMAIL, number)) == 2, timeout=30)
    subjects = sorted(m["Subject"] for m in world.mail_to(VILLAGE_EMAIL, number))
    assert subjects == [f"Kasus {number} dirutekan", f"Laporan {number} diterima"]
    assert all(m["Content-Language"] == "id" for m in world.mail_to(VILLAGE_EMAIL, number))
    whatsapp, = eventually(lambda: world.texts("/whatsapp", VILLAGE_PHONE, number), timeout=30)
    assert whatsapp["headers"]["Authorization"] == "Bearer wa-key"
    assert f"Kasus {number} dirutekan" in whatsapp["json"]["message"]

    # Once nothing waits to be sent, nothing arrived twice, and each was sent at once.
    eventually(lambda: not world.deliveries(status="pending")
               and not world.deliveries(status="sending"), timeout=30)
    ids = [m["Message-ID"] for m in world.mailbox.messages()]
    ids += [r["headers"]["X-Jembatan-Delivery"]
            for receiver in (world.provider, world.hooks) for r in receiver.requests()]
    sent = world.deliveries(status="sent")
    assert len(ids) == len(set(ids)) == len(sent)
    assert all(d["attempts"] == 1 and d["history"][0]["outcome"] == "sent" for d in sent)


def test_a_message_waits_while_the_mail_server_is_down_then_arrives(world):
    case = routed_case(world, "Pipa bocor di depan balai desa")
    number = case["tracking_number"]
    eventually(lambda: world.mail_to(PDAM_EMAIL, number), timeout=30)
    world.mailbox.stop()
    try:
        ok(world.village.post(f"/cases/{case['id']}/comments",
                              {"body": "Airnya sudah keruh sejak pagi"}), 201)

        def retried():
            pending = [d for d in world.deliveries(channel="email", status="pending")
                       if d["address"] == PDAM_EMAIL and d["event"] == "comment_added"]
            return pending and pending[0]["attempts"] >= 2 and pending[0]

        waiting = eventually(retried, timeout=30)
        assert "SMTP" in waiting["last_error"] and waiting["next_attempt_at"]
        assert not [m for m in world.mail_to(PDAM_EMAIL, number) if "comment" in m["Subject"]]
    finally:
        world.mailbox.start()
    mail, = eventually(lambda: [m for m in world.mail_to(PDAM_EMAIL, number)
                                if m["Subject"] == f"New comment on case {number}"], timeout=30)
    assert "Airnya sudah keruh sejak pagi" in mail.get_content()
    sent = eventually(lambda: [d for d in world.deliveries(channel="email", status="sent")
                               if d["id"] == waiting["id"]], timeout=30)[0]
    outcomes = [attempt["outcome"] for attempt in sent["history"]]
    assert outcomes[-1] == "sent" and set(outcomes[:-1]) == {"failed"} and len(outcomes) >= 3


def test_a_dead_mail_server_fails_the_email_and_the_other_channels_still_deliver(world):
    world.mailbox.stop()
    try:
        case = routed_case(world, "Sumur warga tercemar limbah")
        number = case["tracking_number"]
        # The SMS and the webhook arrive while the email is still being tried.
        eventually(lambda: world.texts("/sms", PDAM_PHONE, number), timeout=30)
        eventually(lambda: world.webhook_calls(number), timeout=30)
        email = [d for d in world.deliveries(channel="email")
                 if d["address"] == PDAM_EMAIL and d["event"] == "case_routed"][0]
        assert email["status"] in ("pending", "sending"), email

        failed = eventually(lambda: [d for d in world.deliveries(status="failed")
                                     if d["id"] == email["id"]], timeout=60)[0]
        assert failed["attempts"] == 4 and len(failed["history"]) == 4
        assert all(a["outcome"] == "failed" for a in failed["history"])
        assert "SMTP" in failed["last_error"]
    finally:
        world.mailbox.start()
    assert not world.mail_to(PDAM_EMAIL, number)
    # The admin tries it again once the server is back: it arrives.
    ok(world.admin.post(f"/deliveries/{failed['id']}/retry"))
    eventually(lambda: world.mail_to(PDAM_EMAIL, number), timeout=30)


def test_killed_while_sending_every_message_arrives_once(world):
    """kill -9 while webhooks and SMS are in flight (the receivers answer slowly): after the
    restart every message arrives, none under two ids, and a message sent again carries the
    id it had (a receiver that keeps the ids it saw gets it once)."""
    for receiver in (world.provider, world.hooks):
        receiver.answer(200, delay=0.4)
    numbers = [report(world.village, clean_water_report(title=f"Air mati, uji kill {n}"))
               ["tracking_number"] for n in range(6)]
    try:
        eventually(lambda: any(world.webhook_calls(n) for n in numbers), timeout=30)
        world.system.kill("notifications")  # SIGKILL, mid-send
    finally:
        for receiver in (world.provider, world.hooks):
            receiver.answer(200)
    world.system.run("notifications")
    world.system.wait_healthy()
    eventually(lambda: not world.deliveries(status="pending")
               and not world.deliveries(status="sending"), timeout=90)

    for number in numbers:
        pdam_mail = world.mail_to(PDAM_EMAIL, number)
        village_mail = world.mail_to(VILLAGE_EMAIL, number)
        sms = world.texts("/sms", PDAM_PHONE, number)
        whatsapp = world.texts("/whatsapp", VILLAGE_PHONE, number)
        hooks = world.webhook_calls(number)
        by_id = {}
        for kind, ids in (
                ("pdam email", [m["Message-ID"] for m in pdam_mail]),
                ("village email", [m["Message-ID"] for m in village_mail]),
                ("sms", [r["headers"]["X-Jembatan-Delivery"] for r in sms]),
                ("whatsapp", [r["headers"]["X-Jembatan-Delivery"] for r in whatsapp]),
                ("webhook", [r["headers"]["X-Jembatan-Delivery"] for r in hooks])):
            by_id[kind] = set(ids)
        # One message each (the village: its receipt and the routing), under one id each.
        assert {kind: len(ids) for kind, ids in by_id.items()} == {
            "pdam email": 1, "village email": 2, "sms": 1, "whatsapp": 1, "webhook": 1}, number
    sent = {d["id"] for d in world.deliveries(status="sent")}
    received = {m["Message-ID"].strip("<>").split("@")[0] for m in world.mailbox.messages()}
    received |= {r["headers"]["X-Jembatan-Delivery"]
                 for receiver in (world.provider, world.hooks) for r in receiver.requests()}
    assert received <= sent  # nothing arrived that the service does not know it sent


def test_a_person_sets_addresses_and_choices_on_the_settings_page(world):
    """The coordinator of Bumiaji, on the web app: an address refused next to its field, then
    saved; SMS chosen for comments only; the API reads what the page saved."""
    web = signed_in(world.system, "kec.bumiaji", DEMO_PASSWORD)
    page = web.get(world.system.root + "/settings")
    assert page.status_code == 200 and 'name="phone"' in page.text
    refused = web.post(world.system.root + "/settings/channels", data={
        "csrf_token": csrf_of(page.text), "email": "camat@", "phone": "0812 9999 0001",
        "language": "en"})
    assert refused.status_code == 400 and 'id="email-error"' in refused.text
    assert 'value="0812 9999 0001"' in refused.text  # what was typed stays
    saved = web.post(world.system.root + "/settings/channels", data={
        "csrf_token": csrf_of(refused.text), "email": "camat.bumiaji@example.org",
        "phone": "0812 9999 0001", "language": "en"})
    assert saved.status_code == 200 and saved.url.endswith("/settings?done=channels")
    assert "Alamat tersimpan." in saved.text  # the page keeps its own language
    coordinator = world.system.coordinator()
    assert ok(coordinator.get("/me"))["channels"] == {
        "email": "camat.bumiaji@example.org", "phone": "+6281299990001", "whatsapp": False,
        "language": "en"}
    eventually(lambda: ok(coordinator.get("/me/preferences"))["reachable"]["sms"], timeout=30)
    page = web.get(world.system.root + "/settings")
    chosen = web.post(world.system.root + "/settings/preferences", data={
        "csrf_token": csrf_of(page.text), "comment_added:sms": "on"})
    assert chosen.status_code == 200 and "Pilihan tersimpan." in chosen.text
    events = {row["event"]: row["channels"] for row in ok(coordinator.get("/me/preferences"))["events"]}
    assert events["comment_added"] == ["sms"]
    assert events["case_routed"] == [] and events["deadline_missed"] == []

    # Following a village's clean-water cases, a village of another district refused.
    page = web.get(world.system.root + "/settings")
    refused = web.post(world.system.root + "/settings/subscriptions", data={
        "csrf_token": csrf_of(page.text), "category": "air-bersih", "village": "35.79.03.2002"})
    assert refused.status_code == 404 and 'id="village-error"' in refused.text
    followed = web.post(world.system.root + "/settings/subscriptions", data={
        "csrf_token": csrf_of(refused.text), "category": "air-bersih", "village": PUNTEN})
    assert "Anda kini mengikutinya." in followed.text
    following, = every(coordinator, "/subscriptions")
    assert (following["category"], following["village"]) == ("air-bersih", PUNTEN)
    web.post(world.system.root + f"/settings/subscriptions/{following['id']}/delete",
             data={"csrf_token": csrf_of(followed.text)})
    assert every(coordinator, "/subscriptions") == []


@pytest.mark.parametrize("body,field", [
    ({"phone": "021-555-1234"}, "phone"),            # a landline: no SMS
    ({"phone": "+1 415 555 0100"}, "phone"),         # not Indonesian
    ({"email": "kades@"}, "email"),
    ({"whatsapp": True, "phone": None}, "whatsapp"),  # WhatsApp needs the phone
    ({"language": "jv"}, "language"),
])
def test_channels_that_cannot_be_reached_are_refused_naming_the_field(world, body, field):
    answer = world.system.coordinator().request("PUT", "/me/channels", body)
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["error"]["details"]


@pytest.mark.parametrize("path,method,body,field", [
    ("/webhooks", "POST", {"url": "ftp://pdam.example.org/hook", "events": ["case_routed"]}, "url"),
    ("/webhooks", "POST", {"url": "https://pdam.example.org/hook", "events": []}, "events"),
    ("/webhooks", "POST", {"url": "https://pdam.example.org/hook", "events": ["case_lost"]},
     "events"),
    ("/me/preferences", "PUT", {"events": {"case_routed": ["pigeon"]}}, "events"),
    ("/me/preferences", "PUT", {"events": {"issue_reported": ["email"]}}, "events"),
])
def test_webhooks_and_preferences_refuse_what_cannot_be_sent(world, path, method, body, field):
    answer = world.pdam.request(method, path, body)
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["error"]["details"]


# -- announcements --------------------------------------------------------------------------------

BUMIAJI_VILLAGE = "35.79.02.2002"  # another village of Bumiaji, besides Punten
JUNREJO_VILLAGE = "35.79.03.2002"  # a village of another district (Junrejo)


def inbox_of(client, announcement_id):
    return [n for n in every(client, "/notifications") if n["announcement_id"] == announcement_id]


def test_an_announcement_reaches_every_village_of_the_district_and_its_sender_sees_who_read(world):
    system = world.system
    coordinator = system.coordinator()
    villages = every(world.admin, "/villages", district="35.79.02")
    sent = ok(coordinator.post("/announcements", {
        "title": "Vaksinasi campak, Sabtu 12 Desember",
        "body": "Vaksinasi campak untuk balita di Puskesmas Bumiaji, pukul 08.00-12.00.",
        "district": "35.79.02"}), 201)
    assert sent["area"] == {"code": "35.79.02", "name": "Kecamatan Bumiaji"}
    assert (sent["villages"], sent["read"]) == (len(villages), 0) and len(villages) > 5
    assert {r["village"]["code"] for r in sent["receipts"]} == {v["code"] for v in villages}

    # Every village of Bumiaji has it in its inbox; Punten by email and SMS as well.
    for code in (PUNTEN, BUMIAJI_VILLAGE):
        copy, = eventually(lambda: inbox_of(system.village(code), sent["id"]), timeout=30)
        assert copy["title"] == "Pengumuman: Vaksinasi campak, Sabtu 12 Desember"
        assert copy["case_id"] is None
    mail, = eventually(lambda: [m for m in world.mailbox.messages()
                                if m["To"].addresses[0].addr_spec == VILLAGE_EMAIL
                                and "Vaksinasi campak" in m["Subject"]], timeout=30)
    assert "Puskesmas Bumiaji" in mail.get_content()
    assert f"{PUBLIC_URL}/announcements/{sent['id']}" in mail.get_content()
    eventually(lambda: [r for r in world.provider.requests("/sms")
                        if "Vaksinasi campak" in json.loads(r["body"])["message"]
                        and json.loads(r["body"])["msisdn"] == VILLAGE_PHONE.lstrip("+")],
               timeout=30)
    # A village of another district has nothing, and cannot open it.
    junrejo = system.village(JUNREJO_VILLAGE)
    assert not [a for a in every(junrejo, "/announcements") if a["id"] == sent["id"]]
    assert junrejo.get(f"/announcements/{sent['id']}").status_code == 404

    # Punten reads it: the coordinator sees that Punten has, and the others not.
    punten = system.village(PUNTEN)
    ok(punten.post(f"/notifications/{inbox_of(punten, sent['id'])[0]['id']}/read"))
    seen = ok(punten.get(f"/announcements/{sent['id']}"))
    assert seen["read_at"] and "receipts" not in seen  # a village sees only its own
    receipts = ok(coordinator.get(f"/announcements/{sent['id']}"))
    assert receipts["read"] == 1
    read = {r["village"]["code"]: r["read_at"] for r in receipts["receipts"]}
    assert read[PUNTEN] and not read[BUMIAJI_VILLAGE]

    # A reminder goes to those that have not read it, and only to them.
    assert ok(coordinator.post(f"/announcements/{sent['id']}/remind")) == {
        "reminded": len(villages) - 1}
    eventually(lambda: len(inbox_of(system.village(BUMIAJI_VILLAGE), sent["id"])) == 2,
               timeout=30)
    reminder = [n for n in inbox_of(system.village(BUMIAJI_VILLAGE), sent["id"])
                if n["title"].startswith("Pengingat")]
    assert reminder and len(inbox_of(punten, sent["id"])) == 1
    # Reading the reminder counts as reading the announcement.
    ok(system.village(BUMIAJI_VILLAGE).post(f"/notifications/{reminder[0]['id']}/read"))
    assert ok(coordinator.get(f"/announcements/{sent['id']}"))["read"] == 2
    listed = [a for a in every(coordinator, "/announcements") if a["id"] == sent["id"]]
    assert listed[0]["read"] == 2 and listed[0]["reminders"] == 1


def test_an_announcement_goes_only_to_the_senders_own_area(world):
    system = world.system
    other = system.coordinator("35.79.03")
    body = {"title": "Jadwal posyandu", "body": "Posyandu bulan ini tanggal 15."}
    refused = other.post("/announcements", {**body, "district": "35.79.02"})
    assert refused.status_code == 404 and "district" in refused.json()["error"]["details"]
    unknown = system.regency().post("/announcements", {**body, "district": "35.79.09"})
    assert unknown.status_code == 404 and "district" in unknown.json()["error"]["details"]
    both = system.regency().post("/announcements", {**body, "district": "35.79.02",
                                                      "regency": "35.79"})
    assert both.status_code == 400
    # The regency office: the whole regency (every village of Batu), or one district.
    regency = ok(system.regency().post("/announcements", {**body, "regency": "35.79"}), 201)
    assert regency["villages"] == len(every(world.admin, "/villages", district="35.79.01")) + \
        len(every(world.admin, "/villages", district="35.79.02")) + \
        len(every(world.admin, "/villages", district="35.79.03"))
    assert other.get(f"/announcements/{regency['id']}").status_code == 404
    assert ok(system.admin().get(f"/announcements/{regency['id']}"))["villages"] == \
        regency["villages"]
    assert world.pdam.get("/announcements").status_code == 403


def test_an_announcement_sent_and_read_on_the_web_app(world):
    system = world.system
    coordinator = signed_in(system, "kec.bumiaji", DEMO_PASSWORD)
    form = coordinator.get(system.root + "/announcements/new")
    refused = coordinator.post(system.root + "/announcements/new", data={
        "csrf_token": csrf_of(form.text), "title": "", "body": "Kerja bakti Minggu pagi."})
    assert refused.status_code == 400 and 'id="title-error"' in refused.text
    assert "Kerja bakti Minggu pagi." in refused.text
    sent = coordinator.post(system.root + "/announcements/new", data={
        "csrf_token": csrf_of(refused.text), "title": "Kerja bakti bersih sungai",
        "body": "Kerja bakti Minggu pagi."})
    assert sent.status_code == 200 and "?done=sent" in sent.url
    announcement_id = sent.url.split("/announcements/")[1].split("?")[0]
    assert "Belum dibaca" in sent.text

    village = signed_in(system, "desa.punten", DEMO_PASSWORD)
    listed = village.get(system.root + "/announcements")
    assert "Kerja bakti bersih sungai" in listed.text and "Belum dibaca" in listed.text
    opened = village.get(system.root + f"/announcements/{announcement_id}")
    assert opened.status_code == 200 and "Kerja bakti Minggu pagi." in opened.text
    assert "Sudah dibaca" in village.get(system.root + "/announcements").text

    page = coordinator.get(system.root + f"/announcements/{announcement_id}")
    villages = ok(system.coordinator().get(f"/announcements/{announcement_id}"))["villages"]
    assert f"Dibaca 1 dari {villages} desa" in page.text
    reminded = coordinator.post(system.root + f"/announcements/{announcement_id}/remind",
                                data={"csrf_token": csrf_of(page.text)})
    assert reminded.status_code == 200 and "Pengingat terkirim" in reminded.text


# -- following more, and the daily digest (last: it moves the clock a day on) ---------------------

REGENCY_EMAIL, JUNREJO_EMAIL = "staf.walikota@example.org", "kec.junrejo@example.org"


def test_the_regency_office_follows_a_category_and_hears_of_every_new_case_of_it(world):
    regency = world.system.regency()
    ok(regency.request("PUT", "/me/channels", {"email": REGENCY_EMAIL}))
    followed = ok(regency.post("/subscriptions", {"category": "air-bersih"}), 201)
    assert any(s["id"] == followed["id"] for s in every(regency, "/subscriptions"))
    elsewhere = regency.post("/subscriptions", {"village": "35.07.01.2001"})
    assert elsewhere.status_code == 404 and "village" in elsewhere.json()["error"]["details"]
    eventually(lambda: ok(regency.get("/me/preferences"))["reachable"]["email"], timeout=30)

    case = routed_case(world, "Air bersih tidak mengalir di RW 03")
    number = case["tracking_number"]
    mail = eventually(lambda: [m for m in world.mailbox.messages()
                               if m["To"].addresses[0].addr_spec == REGENCY_EMAIL
                               and number in m["Subject"]], timeout=30)
    assert {m["Subject"] for m in mail} >= {f"Kasus {number} dirutekan"}
    assert any(n["case_id"] == case["id"] for n in every(regency, "/notifications"))
    # Unfollowed: the next case of the category tells the office nothing.
    assert regency.delete(f"/subscriptions/{followed['id']}").status_code == 204
    later = routed_case(world, "Air bersih keruh di RW 05")
    eventually(lambda: world.mail_to(PDAM_EMAIL, later["tracking_number"]), timeout=30)
    assert not any(n["case_id"] == later["id"] for n in every(regency, "/notifications"))


def test_a_coordinator_who_takes_the_daily_digest_gets_one_email_the_next_morning(world):
    system = world.system
    junrejo = system.coordinator("35.79.03")
    ok(junrejo.request("PUT", "/me/channels", {"email": JUNREJO_EMAIL}))
    assert ok(junrejo.request("PUT", "/me/preferences", {"digest": True}))["digest"] is True
    eventually(lambda: ok(junrejo.get("/me/preferences"))["reachable"]["email"], timeout=30)
    village = system.village(JUNREJO_VILLAGE)
    case = case_when(world.admin, report(village, clean_water_report(
        title="Air mati di Junrejo"))["case_id"], "routed")

    def held():  # the case opened, and routed
        mine = [d for d in world.deliveries(status="held") if d["address"] == JUNREJO_EMAIL]
        return len(mine) == 2 and mine

    waiting = eventually(held, timeout=30)
    assert not [m for m in world.mailbox.messages()
                if m["To"].addresses[0].addr_spec == JUNREJO_EMAIL]

    # The next morning at 07:01 WIB, one email gathers them all.
    now = datetime.now(timezone.utc)
    tomorrow = (now.astimezone(WIB) + timedelta(days=1)).replace(hour=7, minute=1, second=0,
                                                                  microsecond=0)
    system.set_clock(tomorrow.astimezone(timezone.utc))
    digest, = eventually(lambda: [m for m in world.mailbox.messages()
                                  if m["To"].addresses[0].addr_spec == JUNREJO_EMAIL],
                         timeout=90)
    assert digest["Subject"] == "Ringkasan harian Jembatan: 2 kabar"
    text = digest.get_content()
    assert f"Laporan baru dari {case['village']['name']}" in text
    assert f"Kasus {case['tracking_number']} dirutekan" in text
    assert f"{PUBLIC_URL}/cases/{case['id']}" in text
    assert {d["status"] for d in world.deliveries() if d["id"] in
            {w["id"] for w in waiting}} == {"digested"}
