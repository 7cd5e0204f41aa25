"""The text of every notification, in Bahasa Indonesia and English (Jinja2).

Keyed by event type, and by `type.audience` where one party should read something else.
"""
from datetime import datetime

from jinja2 import Environment, StrictUndefined

from shared.categories import category_name
from shared.events import iso
from shared.timezones import local_time

TEMPLATES = {
    "case_opened.village": {
        "id": ("Laporan {{ number }} diterima",
               "Laporan \"{{ title }}\" tercatat dengan nomor {{ number }}. Kami sedang "
               "menentukan instansi yang menangani."),
        "en": ("Report {{ number }} received",
               "Report \"{{ title }}\" is recorded as {{ number }}. We are finding the agency "
               "responsible."),
    },
    "case_opened": {
        "id": ("Laporan baru dari {{ village }}: {{ category }}",
               "{{ village }} melaporkan \"{{ title }}\" ({{ number }}), keparahan {{ severity }}."),
        "en": ("New report from {{ village }}: {{ category }}",
               "{{ village }} reported \"{{ title }}\" ({{ number }}), severity {{ severity }}."),
    },
    "case_routed.agency": {
        "id": ("Tugas baru: {{ title }} ({{ number }})",
               "Instansi Anda ditugaskan sebagai {{ role }} untuk laporan {{ village }}, "
               "Kecamatan {{ district }}: \"{{ title }}\". Terima paling lambat {{ accept_due }}; "
               "selesaikan paling lambat {{ due }}."),
        "en": ("New task: {{ title }} ({{ number }})",
               "Your agency is assigned as {{ role }} for a report from {{ village }}, "
               "{{ district }} district: \"{{ title }}\". Accept by {{ accept_due }}; "
               "complete by {{ due }}."),
    },
    "case_routed": {
        "id": ("Kasus {{ number }} dirutekan",
               "\"{{ title }}\" ditangani oleh {{ agencies }}."),
        "en": ("Case {{ number }} routed", "\"{{ title }}\" is handled by {{ agencies }}."),
    },
    "case_needs_triage.coordinator": {
        "id": ("Perlu dirutekan: {{ title }} ({{ number }})",
               "Tidak ada aturan yang cocok untuk laporan {{ village }} ({{ category }}). "
               "Mohon tentukan instansi yang menangani."),
        "en": ("Needs routing: {{ title }} ({{ number }})",
               "No rule matched the report from {{ village }} ({{ category }}). Please choose "
               "the agency to handle it."),
    },
    "case_needs_triage": {
        "id": ("Laporan {{ number }} menunggu koordinator",
               "Koordinator kecamatan akan menentukan instansi yang menangani \"{{ title }}\"."),
        "en": ("Report {{ number }} awaits the coordinator",
               "The district coordinator will choose the agency to handle \"{{ title }}\"."),
    },
    "task_accepted": {
        "id": ("{{ agency }} menerima kasus {{ number }}",
               "{{ agency }} mulai menangani \"{{ title }}\".{% if note %} Catatan: {{ note }}{% endif %}"),
        "en": ("{{ agency }} accepted case {{ number }}",
               "{{ agency }} is now handling \"{{ title }}\".{% if note %} Note: {{ note }}{% endif %}"),
    },
    "task_declined": {
        "id": ("{{ agency }} menolak kasus {{ number }}",
               "{{ agency }} menolak \"{{ title }}\": {{ note }}"),
        "en": ("{{ agency }} declined case {{ number }}",
               "{{ agency }} declined \"{{ title }}\": {{ note }}"),
    },
    "task_progressed": {
        "id": ("Kemajuan kasus {{ number }}", "{{ agency }}: {{ note }}"),
        "en": ("Progress on case {{ number }}", "{{ agency }}: {{ note }}"),
    },
    "task_completed": {
        "id": ("{{ agency }} menyelesaikan tugasnya ({{ number }})", "{{ agency }}: {{ note }}"),
        "en": ("{{ agency }} completed its task ({{ number }})", "{{ agency }}: {{ note }}"),
    },
    "case_resolved.village": {
        "id": ("Kasus {{ number }} selesai ditangani: mohon konfirmasi",
               "Semua instansi menyatakan \"{{ title }}\" selesai. Mohon konfirmasi bila masalah "
               "sudah teratasi, atau buka kembali bila belum."),
        "en": ("Case {{ number }} resolved: please confirm",
               "Every agency reports \"{{ title }}\" as done. Please confirm if the problem is "
               "solved, or reopen the case if it is not."),
    },
    "case_resolved": {
        "id": ("Kasus {{ number }} selesai ditangani",
               "Semua instansi menyatakan \"{{ title }}\" selesai; menunggu konfirmasi desa."),
        "en": ("Case {{ number }} resolved",
               "Every agency reports \"{{ title }}\" as done; awaiting the village's confirmation."),
    },
    "case_reopened": {
        "id": ("Kasus {{ number }} dibuka kembali",
               "{{ village }} menyatakan \"{{ title }}\" belum teratasi: {{ note }}"),
        "en": ("Case {{ number }} reopened",
               "{{ village }} says \"{{ title }}\" is not solved: {{ note }}"),
    },
    "case_closed": {
        "id": ("Kasus {{ number }} ditutup",
               "{{ village }} mengonfirmasi \"{{ title }}\" sudah teratasi. Terima kasih."),
        "en": ("Case {{ number }} closed",
               "{{ village }} confirmed \"{{ title }}\" is solved. Thank you."),
    },
    "comment_added": {
        "id": ("Komentar baru pada kasus {{ number }}", "{{ author }}: {{ body }}"),
        "en": ("New comment on case {{ number }}", "{{ author }}: {{ body }}"),
    },
}
ROLE_NAMES = {"lead": {"id": "pemimpin", "en": "lead"},
              "support": {"id": "pendukung", "en": "support"}}
SEVERITY_NAMES = {"low": {"id": "rendah", "en": "low"}, "medium": {"id": "sedang", "en": "medium"},
                  "high": {"id": "tinggi", "en": "high"}, "critical": {"id": "kritis", "en": "critical"}}

_environment = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_compiled = {key: {lang: tuple(_environment.from_string(part) for part in pair)
                   for lang, pair in languages.items()}
             for key, languages in TEMPLATES.items()}


def template_key(event_type, audience):
    specific = f"{event_type}.{audience}"
    return specific if specific in TEMPLATES else event_type


def params(event_type, payload, recipient):
    """Everything a template may say, taken from the event (kept with the notification)."""
    case = payload["case"]
    tasks = case["tasks"]
    values = {
        "number": case["tracking_number"], "title": case["title"],
        "category": case["category"], "severity": case["severity"],
        "village": case["village"]["name"], "district": case["district"]["name"],
        "regency_code": case["regency"]["code"],
        "agencies": [t["agency_name"] for t in tasks if t["status"] != "declined"],
        "agency": (payload.get("task") or {}).get("agency_name", ""),
        "note": payload.get("note") or "", "author": payload["actor"]["name"],
        "body": payload.get("body", ""),
        "role": "", "accept_due": None, "due": None,
    }
    if recipient.startswith("agency:"):
        agency_id = recipient.split(":", 1)[1]
        own = [t for t in tasks if t["agency_id"] == agency_id and t["status"] == "pending"]
        if own:
            values.update(role=own[-1]["role"], accept_due=iso(own[-1]["accept_due_at"]),
                          due=iso(own[-1]["due_at"]))
    return values


def render(key, values, lang):
    """(title, body) of a notification in `lang`."""
    code = values["regency_code"]
    shown = dict(values)
    shown["category"] = category_name(values["category"], lang)
    shown["severity"] = SEVERITY_NAMES.get(values["severity"], {}).get(lang, values["severity"])
    shown["role"] = ROLE_NAMES.get(values["role"], {}).get(lang, values["role"])
    shown["agencies"] = ", ".join(values["agencies"])
    for name in ("accept_due", "due"):
        shown[name] = (local_time(datetime.fromisoformat(values[name]), code)
                       if values[name] else "-")
    title, body = _compiled[key][lang]
    return title.render(shown), body.render(shown)

