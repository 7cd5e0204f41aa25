"""What is kept of an uploaded photo (services/gateway/photos.py), and where its bytes go
(services/gateway/storage.py): driven directly, no broker."""
import io
import struct
import uuid
import zlib

import pytest
from PIL import ExifTags, Image

from services.gateway import photos, storage
from shared.errors import ValidationFailed
from tests.e2e.helpers import phone_exif, photo_bytes

GPS = ExifTags.IFD.GPSInfo


def opened(data):
    return Image.open(io.BytesIO(data))


def refusal(data):
    """The messages of the field `photo` when `data` is refused."""
    with pytest.raises(ValidationFailed) as refused:
        photos.prepare(data)
    messages = refused.value.details["photo"]
    assert messages and all(set(message) == {"id", "en"} for message in messages), messages
    return messages


def declared_png(width, height):
    """A 1x1 PNG whose header says it is width x height: a decompression bomb's trick."""
    data = bytearray(photo_bytes("PNG", Image.new("L", (1, 1))))
    data[16:24] = struct.pack(">II", width, height)  # IHDR's width and height
    data[29:33] = struct.pack(">I", zlib.crc32(data[12:29]))  # and its checksum
    return bytes(data)


# -- what is kept --------------------------------------------------------------------------------

def test_a_phones_photo_is_kept_without_any_exif():
    sent = photo_bytes(exif=phone_exif())
    assert opened(sent).getexif()[ExifTags.Base.Make] == "Samsung"
    kept = photos.prepare(sent)
    image = opened(kept.body)
    assert image.format == "JPEG" and kept.content_type == "image/jpeg"
    assert not image.getexif()
    assert (image.size, kept.width, kept.height) == ((640, 480), 640, 480)
    assert kept.metadata()["size"] == len(kept.body)


def test_sharing_the_location_keeps_the_gps_and_nothing_else():
    kept = photos.prepare(photo_bytes(exif=phone_exif()), keep_location=True)
    exif = opened(kept.body).getexif()
    assert set(exif) == {GPS}
    gps = exif.get_ifd(GPS)
    assert gps[ExifTags.GPS.GPSLatitudeRef] == "S"
    assert gps[ExifTags.GPS.GPSLatitude] == (7.0, 50.0, 31.0)
    assert gps[ExifTags.GPS.GPSLongitude] == (112.0, 31.0, 44.0)


def test_a_photo_taken_sideways_comes_back_upright():
    sideways = Image.new("RGB", (64, 48), "blue")
    sideways.paste("red", (0, 0, 64, 24))  # the top half, as stored
    kept = photos.prepare(photo_bytes(image=sideways, exif=phone_exif(orientation=6)))
    image = opened(kept.body).convert("RGB")
    assert (kept.width, kept.height) == image.size == (48, 64)
    # Orientation 6: shown turned a quarter clockwise, the stored top is on the right.
    right, left = image.getpixel((40, 32)), image.getpixel((8, 32))
    assert right[0] > 200 > right[2] and left[2] > 200 > left[0], (left, right)
    assert not opened(kept.body).getexif()  # no orientation left to turn it again


def test_a_jpeg_comment_is_not_kept():
    kept = photos.prepare(photo_bytes(comment=b"Jl. Raya Punten 12, -7.842, 112.529"))
    assert "comment" not in opened(kept.body).info


def test_a_png_with_transparency_is_accepted_and_its_thumbnail_fits_320():
    kept = photos.prepare(photo_bytes("PNG", Image.new("RGBA", (1000, 600), (0, 90, 200, 120)),
                                      exif=phone_exif()))
    image = opened(kept.body)
    assert kept.content_type == "image/png" and image.mode == "RGBA" and not image.getexif()
    thumbnail = opened(kept.thumbnail)
    assert thumbnail.format == "WEBP" and thumbnail.size == (320, 192)
    assert thumbnail.mode == "RGBA"


def test_a_webp_is_accepted_without_its_exif():
    kept = photos.prepare(photo_bytes("WEBP", exif=phone_exif()))
    image = opened(kept.body)
    assert kept.content_type == "image/webp" and image.format == "WEBP" and not image.getexif()
    assert opened(kept.thumbnail).size == (320, 240)


# -- what is refused -----------------------------------------------------------------------------

JPEG = photo_bytes()
REFUSED = {
    "empty": b"",
    "text": "Pipa bocor di Dusun Krajan\n".encode() * 20,
    "renamed ELF executable": b"\x7fELF\x02\x01\x01\x00" + bytes(4096),
    "renamed Windows executable": b"MZ\x90\x00\x03\x00\x00\x00" + bytes(4096),
    "truncated JPEG": JPEG[:len(JPEG) // 2],
    "GIF": photo_bytes("GIF"),
    "48 megapixels": declared_png(8000, 6000),
    "decompression bomb": declared_png(20000, 20000),
}


@pytest.mark.parametrize("data", REFUSED.values(), ids=REFUSED.keys())
def test_what_is_not_a_whole_jpeg_png_or_webp_is_refused_naming_the_photo(data):
    refusal(data)


def test_a_file_over_the_size_limit_is_refused_and_one_at_the_limit_is_not(monkeypatch):
    monkeypatch.setenv("JEMBATAN_UPLOAD_MAX_BYTES", str(len(JPEG)))
    assert photos.prepare(JPEG).width == 640
    monkeypatch.setenv("JEMBATAN_UPLOAD_MAX_BYTES", str(len(JPEG) - 1))
    message, = refusal(JPEG)
    assert "MB" in message["en"]


# -- where the bytes go --------------------------------------------------------------------------

def test_storage_keeps_a_photo_and_its_thumbnail_until_deleted(tmp_path):
    store, key = storage.LocalStorage(tmp_path / "attachments"), str(uuid.uuid4())
    store.put(key, b"photo")
    store.put(key + storage.THUMBNAIL, b"thumbnail")
    assert (store.get(key), store.get(key + storage.THUMBNAIL)) == (b"photo", b"thumbnail")
    assert len([path for path in tmp_path.rglob("*") if path.is_file()]) == 2
    store.delete(key)
    store.delete(key)  # deleting what is gone is no error
    assert store.get(key) is None and store.get(key + storage.THUMBNAIL) == b"thumbnail"


def test_the_store_is_under_the_data_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("JEMBATAN_DATA_DIR", str(tmp_path))
    key = str(uuid.uuid4())
    storage.storage().put(key, b"photo")
    assert [path.name for path in (tmp_path / "attachments").rglob("*")
            if path.is_file()] == [key]


@pytest.mark.parametrize("key", ["../x", "../" + str(uuid.uuid4())[3:], "/etc/passwd",
                                 str(uuid.uuid4()) + ".thumb/../../x", "", "x" * 36])
def test_a_key_that_is_not_a_photos_is_refused(tmp_path, key):
    store = storage.LocalStorage(tmp_path / "attachments")
    for attempt in (lambda: store.put(key, b"x"), lambda: store.get(key),
                    lambda: store.delete(key)):
        with pytest.raises(ValueError):
            attempt()
    assert not list(tmp_path.rglob("*"))


def test_a_phone_jpeg_holding_two_pictures_is_a_jpeg():
    """Many phones write MPF JPEGs (a second, smaller picture inside); Pillow reads "MPO"."""
    out = io.BytesIO()
    first, second = Image.new("RGB", (640, 480), "#3c8d40"), Image.new("RGB", (160, 120))
    first.save(out, "MPO", save_all=True, append_images=[second])
    kept = photos.prepare(out.getvalue())
    assert kept.content_type == "image/jpeg" and (kept.width, kept.height) == (640, 480)
    assert opened(kept.body).format == "JPEG"
