"""What the timeline says of each fact, in Bahasa Indonesia and English."""
from shared.categories import category_name

TIMELINE = {
    "reported": ("Laporan {category} diterima dari {village}: {title}",
                 "{category} report received from {village}: {title}"),
    "routed": ("Dirutekan ke {agency_names}", "Routed to {agency_names}"),
    "needs_triage": ("Menunggu pemilahan oleh koordinator kecamatan: {reason}",
                     "Awaiting triage by the district coordinator: {reason}"),
    "in_progress": ("Kasus sedang dikerjakan", "The case is in progress"),
    "task_accepted": ("{agency} menerima tugas", "{agency} accepted the task"),
    "task_declined": ("{agency} menolak tugas: {reason}", "{agency} declined the task: {reason}"),
    "task_progressed": ("{agency} melaporkan kemajuan: {note}", "{agency} posted progress: {note}"),
    "task_completed": ("{agency} menyelesaikan tugas: {note}", "{agency} completed the task: {note}"),
    "resolved": ("Semua instansi selesai; menunggu konfirmasi desa",
                 "Every agency is done; awaiting the village's confirmation"),
    "closed": ("Desa mengonfirmasi masalah teratasi; kasus ditutup",
               "The village confirmed the problem is solved; case closed"),
    "reopened": ("Desa membuka kembali kasus: {reason}", "The village reopened the case: {reason}"),
    "comment": ("Komentar: {body}", "Comment: {body}"),
    "cancelled": ("Kasus dibatalkan: {reason}", "Case cancelled: {reason}"),
    "likely_duplicate": ("Kemungkinan sama dengan kasus {other_number} yang masih terbuka",
                         "Likely the same as open case {other_number}"),
    "merged_into": ("Digabung ke kasus {other_number}: {reason}",
                    "Merged into case {other_number}: {reason}"),
    "merged_from": ("Kasus {other_number} digabung ke kasus ini: {reason}",
                    "Case {other_number} was merged into this one: {reason}"),
    "task_withdrawn": ("Tugas {agency} ditarik: {reason}", "{agency}'s task withdrawn: {reason}"),
    "lead_changed": ("{agency} kini pemimpin: {reason}", "{agency} is now the lead: {reason}"),
    "deadline_missed": ("Tenggat terlewat; {agency} diingatkan", "Deadline missed; {agency} reminded"),
    "escalated": ("Dieskalasi ke {level}: {reason}", "Escalated to the {level}: {reason}"),
    "closing_soon": ("Desa diingatkan: tanpa jawaban, kasus ditutup otomatis",
                     "The village was told the case closes by itself unless it answers"),
    "closed_unanswered": ("Ditutup otomatis: desa tidak menjawab dalam 10 hari kerja",
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
