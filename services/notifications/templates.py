"""The text of every notification, in Bahasa Indonesia and English (Jinja2).

Keyed by event type, and by `type.audience` where one party should read something else.
"""
from datetime import datetime

from jinja2 import Environment, StrictUndefined

from shared.categories import category_name
from shared import events
from shared.events import iso
from shared.policy import ENDED_TASK_STATUSES
from shared.regions import regency_office
from shared.timezones import local_time

TEMPLATES = {
    f"{events.CASE_OPENED}.village": {
        "id": ("Laporan {{ number }} diterima",
               "Laporan \"{{ title }}\" tercatat dengan nomor {{ number }}. Kami sedang "
               "menentukan instansi yang menangani."),
        "en": ("Report {{ number }} received",
               "Report \"{{ title }}\" is recorded as {{ number }}. We are finding the agency "
               "responsible."),
    },
    events.CASE_OPENED: {
        "id": ("Laporan baru dari {{ village }}: {{ category }}",
               "{{ village }} melaporkan \"{{ title }}\" ({{ number }}), keparahan {{ severity }}."),
        "en": ("New report from {{ village }}: {{ category }}",
               "{{ village }} reported \"{{ title }}\" ({{ number }}), severity {{ severity }}."),
    },
    f"{events.CASE_ROUTED}.agency": {
        "id": ("Tugas baru: {{ title }} ({{ number }})",
               "Instansi Anda ditugaskan sebagai {{ role }} untuk laporan {{ village }}, "
               "Kecamatan {{ district }}: \"{{ title }}\". Terima paling lambat {{ accept_due }}; "
               "selesaikan paling lambat {{ due }}."),
        "en": ("New task: {{ title }} ({{ number }})",
               "Your agency is assigned as {{ role }} for a report from {{ village }}, "
               "{{ district }} district: \"{{ title }}\". Accept by {{ accept_due }}; "
               "complete by {{ due }}."),
    },
    events.CASE_ROUTED: {
        "id": ("Kasus {{ number }} dirutekan",
               "\"{{ title }}\" ditangani oleh {{ agencies }}."),
        "en": ("Case {{ number }} routed", "\"{{ title }}\" is handled by {{ agencies }}."),
    },
    f"{events.CASE_NEEDS_TRIAGE}.coordinator": {
        "id": ("Perlu dirutekan: {{ title }} ({{ number }})",
               "Laporan {{ village }} ({{ category }}): {{ note }} Mohon tentukan instansi yang "
               "menangani."),
        "en": ("Needs routing: {{ title }} ({{ number }})",
               "Report from {{ village }} ({{ category }}): {{ note }} Please choose the agency "
               "to handle it."),
    },
    events.CASE_NEEDS_TRIAGE: {
        "id": ("Laporan {{ number }} menunggu koordinator",
               "Koordinator kecamatan akan menentukan instansi yang menangani \"{{ title }}\"."),
        "en": ("Report {{ number }} awaits the coordinator",
               "The district coordinator will choose the agency to handle \"{{ title }}\"."),
    },
    events.TASK_ACCEPTED: {
        "id": ("{{ agency }} menerima kasus {{ number }}",
               "{{ agency }} mulai menangani \"{{ title }}\".{% if note %} Catatan: {{ note }}{% endif %}"),
        "en": ("{{ agency }} accepted case {{ number }}",
               "{{ agency }} is now handling \"{{ title }}\".{% if note %} Note: {{ note }}{% endif %}"),
    },
    events.TASK_DECLINED: {
        "id": ("{{ agency }} menolak kasus {{ number }}",
               "{{ agency }} menolak \"{{ title }}\": {{ note }}"),
        "en": ("{{ agency }} declined case {{ number }}",
               "{{ agency }} declined \"{{ title }}\": {{ note }}"),
    },
    events.TASK_PROGRESSED: {
        "id": ("Kemajuan kasus {{ number }}", "{{ agency }}: {{ note }}"),
        "en": ("Progress on case {{ number }}", "{{ agency }}: {{ note }}"),
    },
    events.TASK_COMPLETED: {
        "id": ("{{ agency }} menyelesaikan tugasnya ({{ number }})", "{{ agency }}: {{ note }}"),
        "en": ("{{ agency }} completed its task ({{ number }})", "{{ agency }}: {{ note }}"),
    },
    f"{events.CASE_RESOLVED}.village": {
        "id": ("Kasus {{ number }} selesai ditangani: mohon konfirmasi",
               "Semua instansi menyatakan \"{{ title }}\" selesai. Mohon konfirmasi bila masalah "
               "sudah teratasi, atau buka kembali bila belum."),
        "en": ("Case {{ number }} resolved: please confirm",
               "Every agency reports \"{{ title }}\" as done. Please confirm if the problem is "
               "solved, or reopen the case if it is not."),
    },
    events.CASE_RESOLVED: {
        "id": ("Kasus {{ number }} selesai ditangani",
               "Semua instansi menyatakan \"{{ title }}\" selesai; menunggu konfirmasi desa."),
        "en": ("Case {{ number }} resolved",
               "Every agency reports \"{{ title }}\" as done; awaiting the village's confirmation."),
    },
    events.CASE_REOPENED: {
        "id": ("Kasus {{ number }} dibuka kembali",
               "{{ village }} menyatakan \"{{ title }}\" belum teratasi: {{ note }}"),
        "en": ("Case {{ number }} reopened",
               "{{ village }} says \"{{ title }}\" is not solved: {{ note }}"),
    },
    f"{events.CASE_CLOSED}.system": {
        "id": ("Kasus {{ number }} ditutup otomatis",
               "\"{{ title }}\" ditutup otomatis karena desa tidak menjawab dalam 10 hari kerja "
               "setelah selesai ditangani."),
        "en": ("Case {{ number }} closed by itself",
               "\"{{ title }}\" closed by itself: the village did not answer within 10 working "
               "days after it was resolved."),
    },
    events.CASE_CLOSED: {
        "id": ("Kasus {{ number }} ditutup",
               "{{ village }} mengonfirmasi \"{{ title }}\" sudah teratasi. Terima kasih."),
        "en": ("Case {{ number }} closed",
               "{{ village }} confirmed \"{{ title }}\" is solved. Thank you."),
    },
    events.DEADLINE_MISSED: {
        "id": ("Tenggat terlewat: {{ title }} ({{ number }})",
               "Tenggat untuk {{ deadline }} tugas ini sudah lewat ({{ due }}). Mohon segera "
               "ditindaklanjuti; bila tidak, kasus dieskalasi ke koordinator kecamatan."),
        "en": ("Deadline missed: {{ title }} ({{ number }})",
               "The deadline to {{ deadline }} this task has passed ({{ due }}). Please act now; "
               "otherwise the case is escalated to the district coordinator."),
    },
    f"{events.CASE_ESCALATED}.regency": {
        "id": ("Eskalasi ke {{ office }}: {{ title }} ({{ number }})",
               "Kasus dari {{ village }}, Kecamatan {{ district }} dieskalasi ke {{ office }}: "
               "{{ note }}"),
        "en": ("Escalated to the {{ office_en }}: {{ title }} ({{ number }})",
               "The case from {{ village }}, {{ district }} district, is escalated to the "
               "{{ office_en }}: {{ note }}"),
    },
    events.CASE_ESCALATED: {
        "id": ("Eskalasi: {{ title }} ({{ number }})",
               "Kasus dieskalasi ke {{ level }}: {{ note }}"),
        "en": ("Escalated: {{ title }} ({{ number }})",
               "The case is escalated to the {{ level_en }}: {{ note }}"),
    },
    events.CASE_CLOSING_SOON: {
        "id": ("Kasus {{ number }} akan ditutup otomatis",
               "\"{{ title }}\" sudah selesai ditangani. Bila tidak ada jawaban, kasus ditutup "
               "otomatis pada {{ due }}. Konfirmasi atau buka kembali sebelum itu."),
        "en": ("Case {{ number }} will close by itself",
               "\"{{ title }}\" is resolved. Without an answer it closes by itself on {{ due }}. "
               "Confirm or reopen it before then."),
    },
    events.TASK_WITHDRAWN: {
        "id": ("Tugas {{ agency }} ditarik ({{ number }})",
               "Koordinator menarik tugas {{ agency }} untuk \"{{ title }}\": {{ note }}"),
        "en": ("{{ agency }}'s task withdrawn ({{ number }})",
               "The coordinator withdrew {{ agency }}'s task on \"{{ title }}\": {{ note }}"),
    },
    events.LEAD_CHANGED: {
        "id": ("{{ agency }} kini memimpin kasus {{ number }}",
               "{{ author }} menjadikan {{ agency }} instansi pemimpin untuk \"{{ title }}\": {{ note }}"),
        "en": ("{{ agency }} now leads case {{ number }}",
               "{{ author }} made {{ agency }} the lead agency for \"{{ title }}\": {{ note }}"),
    },
    events.LIKELY_DUPLICATE: {
        "id": ("Kemungkinan laporan ganda: {{ title }} ({{ number }})",
               "Laporan baru dari {{ village }} ({{ category }}) mirip kasus {{ other }} yang masih "
               "terbuka. Gabungkan bila sama."),
        "en": ("Likely duplicate: {{ title }} ({{ number }})",
               "A new report from {{ village }} ({{ category }}) looks like open case {{ other }}. "
               "Merge them if they are the same."),
    },
    events.CASE_MERGED: {
        "id": ("Laporan {{ number }} digabung ke {{ other }}",
               "\"{{ title }}\" kini ditangani bersama kasus {{ other }}: {{ note }}"),
        "en": ("Report {{ number }} merged into {{ other }}",
               "\"{{ title }}\" is now handled together with case {{ other }}: {{ note }}"),
    },
    events.DUPLICATE_MERGED: {
        "id": ("Laporan {{ other }} digabung ke kasus {{ number }}",
               "Laporan {{ other }} digabung ke \"{{ title }}\": {{ note }}"),
        "en": ("Report {{ other }} merged into case {{ number }}",
               "Report {{ other }} was merged into \"{{ title }}\": {{ note }}"),
    },
    events.CASE_CANCELLED: {
        "id": ("Kasus {{ number }} dibatalkan", "\"{{ title }}\" dibatalkan oleh {{ author }}: {{ note }}"),
        "en": ("Case {{ number }} cancelled", "\"{{ title }}\" was cancelled by {{ author }}: {{ note }}"),
    },
    events.COMMENT_ADDED: {
        "id": ("Komentar baru pada kasus {{ number }}", "{{ author }}: {{ body }}"),
        "en": ("New comment on case {{ number }}", "{{ author }}: {{ body }}"),
    },
    # Announcements: their own title and body, in the words the sender wrote.
    events.ANNOUNCEMENT: {
        "id": ("Pengumuman: {{ title }}", "{{ body }}\n\n{{ sender }}, {{ area }}"),
        "en": ("Announcement: {{ title }}", "{{ body }}\n\n{{ sender }}, {{ area }}"),
    },
    f"{events.ANNOUNCEMENT}.reminder": {
        "id": ("Pengingat: {{ title }}", "Pengumuman ini belum dibaca di desa Anda.\n\n"
                                        "{{ body }}\n\n{{ sender }}, {{ area }}"),
        "en": ("Reminder: {{ title }}", "This announcement is not read in your village yet."
                                       "\n\n{{ body }}\n\n{{ sender }}, {{ area }}"),
    },
}
ROLE_NAMES = {"lead": {"id": "pemimpin", "en": "lead"},
              "support": {"id": "pendukung", "en": "support"}}
SEVERITY_NAMES = {"low": {"id": "rendah", "en": "low"}, "medium": {"id": "sedang", "en": "medium"},
                  "high": {"id": "tinggi", "en": "high"}, "critical": {"id": "kritis", "en": "critical"}}

DEADLINE_NAMES = {"pending": {"id": "menerima", "en": "accept"},
                  "accepted": {"id": "menyelesaikan", "en": "complete"}}
LEVEL_NAMES = {"district": {"id": "koordinator kecamatan", "en": "district coordinator"},
               "regency": {"id": "kantor bupati/walikota", "en": "regency office"}}

_environment = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_compiled = {key: {lang: tuple(_environment.from_string(part) for part in pair)
                   for lang, pair in languages.items()}
             for key, languages in TEMPLATES.items()}


def template_key(event_type, audience, payload):
    """The template for this event and this party: `type.audience`, or `type.system` for what
    the clock did (a case closed because nobody answered), or the event's own."""
    for key in (f"{event_type}.{audience}",
                f"{event_type}.system" if payload["actor"]["role"] == "system" else None):
        if key in TEMPLATES:
            return key
    return event_type


def params(event_type, payload, recipient):
    """Everything a template may say, taken from the event (kept with the notification)."""
    case = payload["case"]
    tasks = case["tasks"]
    values = {
        "number": case["tracking_number"], "title": case["title"],
        "category": case["category"], "severity": case["severity"],
        "village": case["village"]["name"], "district": case["district"]["name"],
        "regency_code": case["regency"]["code"], "regency_name": case["regency"]["name"],
        "agencies": [t["agency_name"] for t in tasks if t["status"] not in ENDED_TASK_STATUSES],
        "agency": (payload.get("task") or {}).get("agency_name", ""),
        "note": payload.get("note") or "", "explanation": payload.get("explanation"),
        "author": payload["actor"]["name"],
        "body": payload.get("body", ""),
        "role": "", "accept_due": None, "due": iso(payload.get("due_at")),
        "level": payload.get("level") or "", "other": payload.get("other_number") or "", "deadline": (payload.get("task") or {}).get("status"),
    }
    if recipient.startswith("agency:") and event_type in (events.CASE_ROUTED, events.CASE_REOPENED):
        agency_id = recipient.split(":", 1)[1]
        own = [t for t in tasks if t["agency_id"] == agency_id and t["status"] == "pending"]
        if own:
            values.update(role=own[-1]["role"], accept_due=iso(own[-1]["accept_due_at"]),
                          due=iso(own[-1]["due_at"]))
    return values


def announcement_params(announcement, reminder=False):
    """What an announcement's notification says (kept with it)."""
    return {"template": f"{events.ANNOUNCEMENT}.reminder" if reminder else events.ANNOUNCEMENT,
            "title": announcement.title, "body": announcement.body,
            "sender": announcement.sender_name, "area": announcement.area_name}


def render(key, values, lang):
    """(title, body) of a notification in `lang`."""
    if key.startswith(events.ANNOUNCEMENT):
        title, body = _compiled[key][lang]
        return title.render(values), body.render(values)
    code = values["regency_code"]
    shown = dict(values)
    shown["category"] = category_name(values["category"], lang)
    shown["severity"] = SEVERITY_NAMES.get(values["severity"], {}).get(lang, values["severity"])
    shown["role"] = ROLE_NAMES.get(values["role"], {}).get(lang, values["role"])
    shown["agencies"] = ", ".join(values["agencies"])
    # A reason the system wrote (in both languages) stands where a person's note would.
    if not shown["note"] and values.get("explanation"):
        shown["note"] = values["explanation"][lang]
    shown["deadline"] = DEADLINE_NAMES.get(values.get("deadline"), {}).get(lang, "")
    shown["office"] = regency_office(values.get("regency_name", ""), "id")
    shown["office_en"] = regency_office(values.get("regency_name", ""), "en")
    shown["level"] = LEVEL_NAMES.get(values.get("level"), {}).get("id", "")
    shown["level_en"] = LEVEL_NAMES.get(values.get("level"), {}).get("en", "")
    for name in ("accept_due", "due"):
        shown[name] = (local_time(datetime.fromisoformat(values[name]), code)
                       if values[name] else "-")
    title, body = _compiled[key][lang]
    return title.render(shown), body.render(shown)

