"""Photos of a case: what an upload must be, and what is kept of it.

An upload is a photo only when Pillow decodes all of it as JPEG, PNG or WebP, within the size
(JEMBATAN_UPLOAD_MAX_BYTES) and pixel limits. What is kept is the photo drawn again, turned
upright, without any of the file's metadata (camera, time, the phone's location), and a small
thumbnail for lists; the phone's location stays only when the uploader chose to share it.
Every refusal names the field `photo`.
"""
import hashlib
import io
import uuid
import warnings
from dataclasses import dataclass

from eventlet import tpool
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from shared import config
from shared.errors import ValidationFailed
from shared.i18n import text

FIELD = "photo"
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
ACCEPTED = ", ".join(FORMATS.values())
MAX_PIXELS = 40_000_000        # a 40-megapixel photo; more is refused before it is decoded
THUMBNAIL_BOX = (320, 320)
THUMBNAIL_TYPE = "image/webp"
SAVE_OPTIONS = {"JPEG": {"quality": 85, "optimize": True}, "PNG": {"optimize": True},
                "WEBP": {"quality": 82}}


@dataclass(frozen=True)
class Photo:
    id: str
    content_type: str
    body: bytes
    thumbnail: bytes
    width: int
    height: int
    sha256: str

    def metadata(self):
        """What the requests service records of the photo (the bytes stay in storage)."""
        return {"id": self.id, "content_type": self.content_type, "size": len(self.body),
                "width": self.width, "height": self.height, "sha256": self.sha256}


class PhotoTooLarge(ValidationFailed):
    """A refused upload that is only too large: 413, naming the field."""

    code, status = "payload_too_large", 413


def refused(message, refusal=ValidationFailed):
    return refusal(text("Foto tidak dapat diterima.", "The photo cannot be accepted."),
                   {FIELD: [message]})


def too_large(limit=None):
    limit = limit or config.upload_max_bytes()
    megabytes = f"{limit / 1_000_000:g}"
    return refused(text(f"Berkas lebih dari {megabytes} MB.",
                        f"The file is larger than {megabytes} MB."), PhotoTooLarge)


def missing():
    return refused(text("Pilih sebuah foto.", "Choose a photo."))


def not_a_photo():
    return refused(text("Bukan foto yang dapat dibaca; kirim JPEG, PNG atau WebP.",
                        "Not a readable photo; send JPEG, PNG or WebP."))


def prepare_aside(data, keep_location=False):
    """prepare() in a thread of its own: decoding a large photo would otherwise hold every
    other request of the gateway (eventlet runs them all on one thread)."""
    return tpool.execute(prepare, data, keep_location)


def prepare(data, keep_location=False):
    """The Photo to keep from the uploaded bytes `data`, or ValidationFailed naming `photo`."""
    if not data:
        raise missing()
    if len(data) > config.upload_max_bytes():
        raise too_large()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(FORMATS)) as opened:
                if opened.width * opened.height > MAX_PIXELS:
                    raise refused(text("Foto terlalu besar ukurannya (piksel).",
                                       "The photo has too many pixels."))
                # A phone's JPEG holding more than one picture (MPF) reads as MPO: a JPEG.
                kind = "JPEG" if opened.format == "MPO" else opened.format
                location = opened.getexif().get_ifd(ExifTags.IFD.GPSInfo)
                opened.load()  # decodes every byte: a truncated or forged file fails here
                upright = ImageOps.exif_transpose(opened)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise not_a_photo() from None
    body = _encode(upright, kind, location if keep_location and location else None)
    return Photo(id=str(uuid.uuid4()), content_type=FORMATS[kind], body=body,
                 thumbnail=_thumbnail(upright), width=upright.width, height=upright.height,
                 sha256=hashlib.sha256(body).hexdigest())


def _encode(image, kind, location):
    if kind == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    for carried in ("comment", "exif", "xmp"):  # what Pillow would write again from the file
        image.info.pop(carried, None)
    exif = None
    if location:
        exif = Image.Exif()
        exif[ExifTags.IFD.GPSInfo] = location
    out = io.BytesIO()
    image.save(out, kind, **SAVE_OPTIONS[kind], **({"exif": exif} if exif else {}))
    return out.getvalue()


def _thumbnail(image):
    small = image.copy()
    if small.mode not in ("RGB", "RGBA"):
        small = small.convert("RGBA" if "A" in small.getbands() or "transparency" in small.info
                              else "RGB")
    small.thumbnail(THUMBNAIL_BOX)
    out = io.BytesIO()
    small.save(out, "WEBP", quality=75)
    return out.getvalue()
