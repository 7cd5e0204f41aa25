"""What a notification says on each channel, in the reader's language: an email (subject and
text), an SMS or WhatsApp text (one or two SMS segments), a webhook's JSON body.

Each is built from the notification's own title and body (services/notifications/templates.py)
with the case's tracking number, village, agencies, deadline and a link to the case page.
"""
from datetime import datetime

from jinja2 import Environment, StrictUndefined

from services.notifications import delivery, templates
from shared import config
from shared.events import iso
from shared.regions import regency_office
from shared.timezones import local_time

_environment = Environment(undefined=StrictUndefined, autoescape=False,
                           keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)

EMAIL = {
    "id": _environment.from_string("""\
{{ body }}
{% if not number %}

Baca di Jembatan: {{ link }}
{% else %}

Nomor pelacakan: {{ number }}
Desa/Kelurahan: {{ village }}, Kecamatan {{ district }}
{% if agencies %}
Instansi: {{ agencies }}
{% endif %}
{% if due %}
Tenggat: {{ due }}
{% endif %}
Lihat kasus: {{ link }}
{% endif %}

--
Jembatan, {{ office }}
Pesan otomatis; mohon tidak membalas. Atur kabar yang Anda terima: {{ settings }}
"""),
    "en": _environment.from_string("""\
{{ body }}
{% if not number %}

Read it on Jembatan: {{ link }}
{% else %}

Tracking number: {{ number }}
Village: {{ village }}, {{ district }} district
{% if agencies %}
Agencies: {{ agencies }}
{% endif %}
{% if due %}
Deadline: {{ due }}
{% endif %}
See the case: {{ link }}
{% endif %}

--
Jembatan, {{ office_en }}
An automatic message; please do not reply. Choose the news you receive: {{ settings }}
"""),
}


def case_link(case_id):
    return f"{config.public_url()}/cases/{case_id}"


def settings_link():
    return f"{config.public_url()}/settings"


def announcement_link(announcement_id):
    return f"{config.public_url()}/announcements/{announcement_id}"


def _facts(notification, lang):
    values = notification.params
    title, body = templates.render(values["template"], values, lang)
    if notification.announcement_id:
        return {"title": title, "body": body, "number": None,
                "link": announcement_link(notification.announcement_id),
                "settings": settings_link(), "office": values["sender"],
                "office_en": values["sender"]}
    due = values.get("due")
    return {"title": title, "body": body, "number": values["number"],
            "village": values["village"], "district": values["district"],
            "agencies": ", ".join(values.get("agencies") or ()),
            "due": local_time(datetime.fromisoformat(due), values["regency_code"]) if due else "",
            "link": case_link(notification.case_id), "settings": settings_link(),
            "office": regency_office(values.get("regency_name", ""), "id"),
            "office_en": regency_office(values.get("regency_name", ""), "en")}


def email(notification, lang):
    """(subject, text) of the email."""
    facts = _facts(notification, lang)
    return facts["title"], EMAIL[lang].render(facts)


DIGEST = {
    "id": _environment.from_string("""\
Kabar dari Jembatan sejak ringkasan terakhir:

{% for item in items %}
{{ loop.index }}. {{ item.title }}
   {{ item.link }}
{% endfor %}

--
Pesan otomatis; mohon tidak membalas. Atur kabar yang Anda terima: {{ settings }}
"""),
    "en": _environment.from_string("""\
News from Jembatan since the last digest:

{% for item in items %}
{{ loop.index }}. {{ item.title }}
   {{ item.link }}
{% endfor %}

--
An automatic message; please do not reply. Choose the news you receive: {{ settings }}
"""),
}
DIGEST_SUBJECT = {"id": "Ringkasan harian Jembatan: {n} kabar",
                  "en": "Jembatan daily digest: {n} items"}


def digest(notifications, lang):
    """(subject, text) of a daily digest: each notification's title and link, oldest first."""
    items = [_facts(notification, lang) for notification in notifications]
    return (DIGEST_SUBJECT[lang].format(n=len(items)),
            DIGEST[lang].render(items=items, settings=settings_link()))


def short_text(notification, lang):
    """The SMS or WhatsApp text: the title and the link, in at most two SMS segments."""
    facts = _facts(notification, lang)
    return delivery.fit_sms(f"Jembatan: {facts['title']}.", f" {facts['link']}")


def webhook_body(notification, delivery_row, lang):
    """The JSON body a webhook receives (its schema is docs/api.md's, "Webhooks")."""
    facts = _facts(notification, lang)
    values = notification.params
    common = {"delivery_id": delivery_row.id, "event": notification.type,
              "notification_id": notification.id, "created_at": iso(notification.created_at),
              "message": {"language": lang, "title": facts["title"], "body": facts["body"]}}
    if notification.announcement_id:
        return {**common, "case": None, "announcement": {
            "id": notification.announcement_id, "title": values["title"],
            "body": values["body"], "sender": values["sender"], "area": values["area"],
            "url": facts["link"]}}
    return {**common, "announcement": None, "case": {
        "id": notification.case_id, "tracking_number": values["number"],
        "title": values["title"], "category": values["category"],
        "severity": values["severity"], "village": values["village"],
        "district": values["district"], "regency": values["regency_code"],
        "agencies": values.get("agencies") or [], "due_at": values.get("due"),
        "url": facts["link"]}}
