"""What the timeline says of each fact, in Bahasa Indonesia and English."""
from services.requests import facts
from shared.categories import category_name

TIMELINE = {  # fact type (facts.py) -> (Bahasa Indonesia, English)
    facts.REPORTED: ("Laporan {category} diterima dari {village}: {title}",
                     "{category} report received from {village}: {title}"),
    facts.ROUTED: ("Dirutekan ke {agency_names}", "Routed to {agency_names}"),
    facts.NEEDS_TRIAGE: ("Menunggu pemilahan oleh koordinator kecamatan: {reason}",
                         "Awaiting triage by the district coordinator: {reason}"),
    facts.IN_PROGRESS: ("Kasus sedang dikerjakan", "The case is in progress"),
    facts.TASK_ACCEPTED: ("{agency} menerima tugas", "{agency} accepted the task"),
    facts.TASK_DECLINED: ("{agency} menolak tugas: {reason}",
                          "{agency} declined the task: {reason}"),
    facts.TASK_PROGRESSED: ("{agency} melaporkan kemajuan: {note}",
                            "{agency} posted progress: {note}"),
    facts.TASK_COMPLETED: ("{agency} menyelesaikan tugas: {note}",
                           "{agency} completed the task: {note}"),
    facts.RESOLVED: ("Semua instansi selesai; menunggu konfirmasi desa",
                     "Every agency is done; awaiting the village's confirmation"),
    facts.CLOSED: ("Desa mengonfirmasi masalah teratasi; kasus ditutup",
                   "The village confirmed the problem is solved; case closed"),
    facts.REOPENED: ("Desa membuka kembali kasus: {reason}",
                     "The village reopened the case: {reason}"),
    facts.COMMENT: ("Komentar: {body}", "Comment: {body}"),
    facts.PHOTO_ADDED: ("Foto ditambahkan", "Photo added"),
    facts.CANCELLED: ("Kasus dibatalkan: {reason}", "Case cancelled: {reason}"),
    facts.LIKELY_DUPLICATE: ("Kemungkinan sama dengan kasus {other_number} yang masih terbuka",
                             "Likely the same as open case {other_number}"),
    facts.MERGED_INTO: ("Digabung ke kasus {other_number}: {reason}",
                        "Merged into case {other_number}: {reason}"),
    facts.MERGED_FROM: ("Kasus {other_number} digabung ke kasus ini: {reason}",
                        "Case {other_number} was merged into this one: {reason}"),
    facts.TASK_WITHDRAWN: ("Tugas {agency} ditarik: {reason}",
                           "{agency}'s task withdrawn: {reason}"),
    facts.LEAD_CHANGED: ("{agency} kini pemimpin: {reason}", "{agency} is now the lead: {reason}"),
    facts.DEADLINE_MISSED: ("Tenggat terlewat; {agency} diingatkan",
                            "Deadline missed; {agency} reminded"),
    facts.ESCALATED: ("Dieskalasi ke {level}: {reason}", "Escalated to the {level}: {reason}"),
    facts.CLOSING_SOON: ("Desa diingatkan: tanpa jawaban, kasus ditutup otomatis",
                         "The village was told the case closes by itself unless it answers"),
    facts.CLOSED_UNANSWERED: ("Ditutup otomatis: desa tidak menjawab dalam 10 hari kerja",
                              "Closed by itself: the village did not answer within 10 working days"),
}
LEVELS = {"district": ("koordinator kecamatan", "district coordinator"),
          "regency": ("kantor bupati/walikota", "regency office")}


def summary(entry_type, data, lang):
    """One line that says what happened, from the data recorded with the timeline entry."""
    template_id, template_en = TIMELINE[entry_type]
    template = template_en if lang == "en" else template_id
    values = {key: _shown(value, lang) for key, value in data.items()}
    if data.get("level") in LEVELS:
        values["level"] = LEVELS[data["level"]][lang == "en"]
    if "category" in data:
        values["category"] = category_name(data["category"], lang)
    return template.format_map(_Blank(values))


def _shown(value, lang):
    if isinstance(value, dict) and set(value) == {"id", "en"}:
        return value[lang]
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return "" if value is None else value


class _Blank(dict):
    def __missing__(self, key):
        return ""
