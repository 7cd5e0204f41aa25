"""Names people use for places and for a region's government."""


def village_kind(code, lang="id"):
    """A kelurahan's code ends in 1xxx, a desa's in 2xxx (the wilayah data's convention)."""
    urban = code.split(".")[-1].startswith("1")
    if lang == "en":
        return "urban village" if urban else "village"
    return "Kelurahan" if urban else "Desa"


def regency_office(regency_name, lang="id"):
    """'Kota Batu' -> 'Kantor Walikota Batu'; 'Kabupaten Malang' -> 'Kantor Bupati Malang'."""
    words = regency_name.split()
    if not words:
        return ""
    kind, place = words[0].lower(), " ".join(words[1:])
    if kind == "kota":
        return f"Kantor Walikota {place}" if lang == "id" else f"Mayor's Office of {place}"
    if kind in ("kabupaten", "kab.", "kab"):
        return f"Kantor Bupati {place}" if lang == "id" else f"Regent's Office of {place}"
    return f"Kantor Kepala Daerah {regency_name}" if lang == "id" else f"Office of {regency_name}"


AREA_LEVELS = {len("35.79"): "regency", len("35.79.02"): "district"}


def area_level(code):
    """'regency' (35.79) or 'district' (35.79.02) by the form of a code; None for any other."""
    return AREA_LEVELS.get(len(code))
