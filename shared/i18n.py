"""Text a person reads: Bahasa Indonesia by default, English available.

A text is written once with both languages (`text("…", "…")`) and picked at the edge
(`localize`). Messages that marshmallow writes in English are translated by `translate`.
"""
import re

from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"


def text(id_text, en_text):
    return {"id": id_text, "en": en_text}


def pick_language(accept_language):
    """The language an Accept-Language header prefers among ours, weighing its quality values
    (`en;q=0.3, id` is Indonesian); Indonesian when it names neither. `in` is the old code of
    Indonesian."""
    accepted = parse_accept_header(accept_language or "", LanguageAccept)
    return accepted.best_match(("id", "in", "en"), default=DEFAULT_LANGUAGE).replace("in", "id")


_MARSHMALLOW_ID = [
    (r"Missing data for required field\.", "Wajib diisi."),
    (r"Unknown field\.", "Kolom tidak dikenal."),
    (r"Field may not be null\.", "Tidak boleh kosong (null)."),
    (r"Not a valid string\.", "Harus berupa teks."),
    (r"Not a valid integer\.", "Harus berupa bilangan bulat."),
    (r"Not a valid number\.", "Harus berupa angka."),
    (r"Not a valid boolean\.", "Harus berupa true atau false."),
    (r"Not a valid list\.", "Harus berupa daftar."),
    (r"Invalid input type\.", "Jenis masukan tidak sah."),
    (r"Invalid type\.", "Jenis tidak sah."),
    (r"Invalid value\.", "Nilai tidak sah."),
    (r"Not a valid mapping type\.", "Harus berupa objek JSON."),
    (r"Must be one of: (.*)\.", r"Harus salah satu dari: \1."),
    (r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\.",
     r"Harus antara \1 dan \2."),
    (r"Must be greater than or equal to (\S+)\.", r"Harus paling sedikit \1."),
    (r"Must be less than or equal to (\S+)\.", r"Harus paling banyak \1."),
    (r"Shorter than minimum length (\d+)\.", r"Kurang dari panjang minimum \1."),
    (r"Longer than maximum length (\d+)\.", r"Melebihi panjang maksimum \1."),
    (r"Length must be between (\d+) and (\d+)\.", r"Panjang harus antara \1 dan \2."),
    (r"String does not match expected pattern\.", "Format tidak sesuai."),
    (r"Special numeric values \(nan or infinity\) are not permitted\.",
     "Nilai NaN atau tak hingga tidak diperbolehkan."),
]


def translate(message, lang):
    """Translate one English message of marshmallow into `lang` (unknown ones stay as they are)."""
    if lang == "en":
        return message
    for pattern, replacement in _MARSHMALLOW_ID:
        if re.fullmatch(pattern, message):
            return re.sub(pattern, replacement, message)
    return message


def localize(value, lang):
    """Pick `lang` out of a text, a list or a dict of field errors, recursively."""
    if isinstance(value, dict):
        if set(value) == set(LANGUAGES):
            return value[lang]
        return {key: localize(item, lang) for key, item in value.items()}
    if isinstance(value, list):
        return [localize(item, lang) for item in value]
    if isinstance(value, str):
        return translate(value, lang)
    return value
