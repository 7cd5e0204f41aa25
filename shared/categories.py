"""The category catalogue: the kinds of problem a village can report.

The codes are part of the contract between services (a report names one, a routing rule names
one), so they live here; names are Bahasa Indonesia with English beside them.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    name_en: str
    description: str
    description_en: str


CATEGORIES = (
    Category("air-bersih", "Air Bersih", "Clean Water",
             "Air bersih tidak mengalir, keruh, atau tidak layak minum.",
             "No running water, or water that is muddy or unsafe to drink."),
    Category("jalan-jembatan", "Jalan dan Jembatan", "Roads and Bridges",
             "Jalan rusak, longsor menutup jalan, jembatan rusak atau putus.",
             "Damaged roads, landslides blocking a road, damaged or collapsed bridges."),
    Category("banjir-bencana", "Banjir dan Bencana", "Floods and Disasters",
             "Banjir, tanah longsor, angin kencang, kebakaran dan bencana lain.",
             "Floods, landslides, storms, fires and other disasters."),
    Category("kesehatan", "Kesehatan", "Health",
             "Wabah penyakit, gizi buruk, layanan puskesmas atau posyandu.",
             "Disease outbreaks, malnutrition, community health services."),
    Category("sampah-lingkungan", "Sampah dan Lingkungan", "Waste and Environment",
             "Sampah menumpuk, pencemaran sungai, udara atau tanah.",
             "Uncollected waste, pollution of rivers, air or soil."),
    Category("adminduk", "Administrasi Kependudukan", "Civil Registration",
             "KTP, kartu keluarga, akta kelahiran dan kematian.",
             "Identity cards, family cards, birth and death certificates."),
    Category("penerangan-jalan", "Penerangan Jalan", "Street Lighting",
             "Lampu penerangan jalan umum mati atau rusak.",
             "Street lights that are out or broken."),
    Category("sosial", "Sosial", "Social Welfare",
             "Bantuan sosial, warga rentan, lansia dan disabilitas terlantar.",
             "Social assistance, vulnerable residents, neglected elderly or disabled people."),
    Category("pendidikan", "Pendidikan", "Education",
             "Sekolah rusak, kekurangan guru, anak putus sekolah.",
             "Damaged schools, teacher shortages, children out of school."),
    Category("pertanian", "Pertanian", "Agriculture",
             "Irigasi, hama, pupuk, gagal panen.",
             "Irrigation, pests, fertiliser, crop failure."),
    Category("keamanan-ketertiban", "Keamanan dan Ketertiban", "Public Order",
             "Gangguan ketertiban umum dan pelanggaran peraturan daerah.",
             "Disturbances of public order and breaches of local regulations."),
    Category("lainnya", "Lainnya", "Other",
             "Masalah lain yang perlu ditangani pemerintah daerah.",
             "Any other problem the local government should handle."),
)

BY_CODE = {category.code: category for category in CATEGORIES}
CODES = tuple(BY_CODE)


def category_name(code, lang="id"):
    category = BY_CODE.get(code)
    if category is None:
        return code
    return category.name_en if lang == "en" else category.name
