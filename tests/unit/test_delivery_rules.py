"""The rules of delivery outside the app, without a broker: addresses, who is told on what,
backoff, SMS length, the webhook's signature, the SMTP URL."""
import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from services.notifications import delivery, outgoing
from shared import events
from shared.channels import DELIVERY_STATUSES, normalise_email, normalise_phone

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("typed", ["081234567890", "0812-3456-7890", "+62 812 3456 7890",
                                   "62812 3456 7890", "+62 (812) 3456.7890"])
def test_an_indonesian_mobile_number_is_kept_as_e164_however_it_was_typed(typed):
    assert normalise_phone(typed) == "+6281234567890"


@pytest.mark.parametrize("typed", ["0341-512345", "+1 415 555 0100", "0812345", "0812345678901234",
                                   "nomor saya", "", "+62 812 3456 789a"])
def test_what_is_not_an_indonesian_mobile_number_is_refused(typed):
    with pytest.raises(ValueError):
        normalise_phone(typed)


def test_an_email_address_is_checked_and_its_domain_lower_cased():
    assert normalise_email(" Kades.Punten@Desa.ID ") == "Kades.Punten@desa.id"
    for wrong in ("kades@", "@desa.id", "kades punten@desa.id", "a" * 250 + "@desa.id"):
        with pytest.raises(ValueError):
            normalise_email(wrong)


def contact(**overrides):
    values = {"email": "a@desa.id", "phone": "+6281234567890", "whatsapp": False,
              "disabled": False}
    return SimpleNamespace(**{**values, **overrides})


ALL = ("email", "sms", "whatsapp", "webhook")


def test_an_actor_who_has_not_chosen_gets_email_and_for_urgent_events_sms_too():
    assert delivery.personal_deliveries(contact(), events.CASE_ROUTED, {}, ALL) == [
        ("email", "a@desa.id"), ("sms", "+6281234567890")]
    assert delivery.personal_deliveries(contact(), events.COMMENT_ADDED, {}, ALL) == [
        ("email", "a@desa.id")]


def test_a_choice_wins_and_whatsapp_needs_the_switch_on():
    chosen = {events.CASE_ROUTED: ["whatsapp"]}
    assert delivery.personal_deliveries(contact(), events.CASE_ROUTED, chosen, ALL) == []
    assert delivery.personal_deliveries(contact(whatsapp=True), events.CASE_ROUTED, chosen,
                                        ALL) == [("whatsapp", "+6281234567890")]
    assert delivery.personal_deliveries(contact(), events.CASE_ROUTED,
                                        {events.CASE_ROUTED: []}, ALL) == []


def test_no_address_no_channel_or_a_disabled_actor_means_no_delivery():
    assert delivery.personal_deliveries(contact(email=None), events.CASE_ROUTED, {}, ALL) == [
        ("sms", "+6281234567890")]
    assert delivery.personal_deliveries(contact(), events.CASE_ROUTED, {}, ("webhook",)) == []
    assert delivery.personal_deliveries(contact(disabled=True), events.CASE_ROUTED, {}, ALL) == []


def test_every_event_a_party_hears_of_has_its_default_channels():
    assert set(delivery.DEFAULT_CHANNELS) == set(events.NOTIFIED_EVENTS)
    assert set(delivery.URGENT) <= set(events.NOTIFIED_EVENTS)


def test_a_failed_attempt_waits_twice_as_long_each_time_up_to_an_hour_then_fails():
    waits = [delivery.after_failure(n, 8, NOW, 30)[1] - NOW for n in range(1, 8)]
    assert waits == [timedelta(seconds=s) for s in (30, 60, 120, 240, 480, 960, 1920)]
    assert delivery.backoff(12, 30) == timedelta(hours=1)
    assert delivery.after_failure(7, 8, NOW, 30)[0] == delivery.PENDING
    assert delivery.after_failure(8, 8, NOW, 30) == (delivery.FAILED, None)


LINK = " https://jembatan.batukota.go.id/cases/859562d6-648f-47f4-8582-919c597c4976"


def test_a_short_text_is_sent_whole_in_one_segment():
    message = delivery.fit_sms("Jembatan: Kasus JBT-1 dirutekan.", LINK)
    assert message == "Jembatan: Kasus JBT-1 dirutekan." + LINK
    assert delivery.sms_segments(message) == 1


@pytest.mark.parametrize("title", ["Air mati " * 60, "Banjir bandang 🌊 " * 30,
                                   "Jalan [rusak] {parah} " * 30])
def test_a_long_text_is_cut_to_two_segments_and_keeps_the_link(title):
    message = delivery.fit_sms(f"Jembatan: {title}.", LINK)
    assert message.endswith("..." + LINK)
    assert delivery.sms_segments(message) == 2  # cut to fit, not shorter than needed


def test_sms_length_counts_the_gsm_alphabet_and_falls_back_to_ucs2():
    assert delivery.sms_length("Air mati") == (8, True)
    assert delivery.sms_length("€[]") == (6, True)        # two places each
    assert delivery.sms_length("Air 💧") == (6, False)    # UCS-2, outside the basic plane
    assert delivery.sms_segments("a" * 160) == 1 and delivery.sms_segments("a" * 161) == 2
    assert delivery.sms_segments("é" * 70) == 1 and delivery.sms_segments("ā" * 71) == 2


def test_a_webhooks_signature_follows_the_documented_recipe():
    body = b'{"event":"case_routed"}'
    header = outgoing.signature("whsec_rahasia", 1764892800, body)
    t, v1 = (part.split("=", 1)[1] for part in header.split(","))
    assert t == "1764892800"
    assert v1 == hmac.new(b"whsec_rahasia", b"1764892800." + body, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("url,expected", [
    ("smtp://mail.batukota.go.id", {"host": "mail.batukota.go.id", "port": 25, "tls": None,
                                    "username": None, "password": None, "cafile": None}),
    ("smtp://jembatan%40batu:p%40ss@mail:587?starttls=true",
     {"host": "mail", "port": 587, "tls": "starttls", "username": "jembatan@batu",
      "password": "p@ss", "cafile": None}),
    ("smtps://u:p@mail?cafile=/etc/ca.pem", {"host": "mail", "port": 465, "tls": "implicit",
                                            "username": "u", "password": "p",
                                            "cafile": "/etc/ca.pem"}),
])
def test_the_smtp_url_says_host_port_tls_and_login(url, expected):
    assert outgoing.smtp_settings(url) == expected


def test_an_smtp_url_of_another_scheme_is_refused():
    with pytest.raises(ValueError):
        outgoing.smtp_settings("http://mail:25")


@pytest.mark.parametrize("host,private", [("127.0.0.1", True), ("10.1.2.3", True),
                                          ("192.168.0.10", True), ("169.254.169.254", True),
                                          ("::1", True), ("8.8.8.8", False)])
def test_a_webhook_may_not_reach_the_machines_inside(host, private):
    assert outgoing.private_address(host) is private


def test_the_contract_names_every_state_a_delivery_takes():
    assert set(DELIVERY_STATUSES) == {delivery.PENDING, delivery.SENDING, delivery.SENT,
                                      delivery.FAILED, delivery.HELD, delivery.DIGESTED}
