"""Where the bytes of photos are kept: a small interface, and the local disk behind it.

`LocalStorage` keeps each object as a file under <data dir>/attachments (JEMBATAN_DATA_DIR),
written whole or not at all. Another store (an object store shared by several gateway hosts)
needs only the same three methods.
"""
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

from services.gateway.http import Unavailable
from shared import config

THUMBNAIL = ".thumb"  # the key of a photo's thumbnail: the photo's, and this
KEY = re.compile(r"[0-9a-f-]{36}(\.thumb)?")


class LocalStorage:
    def __init__(self, root):
        self.root = Path(root)

    def _path(self, key):
        if not KEY.fullmatch(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key

    def put(self, key, data):
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key):
        """The object's bytes, or None when there is no such object."""
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key):
        self._path(key).unlink(missing_ok=True)


def storage():
    return LocalStorage(config.data_dir() / "attachments")


@contextmanager
def kept(photo):
    """Store a photo (photos.Photo) and its thumbnail for what the block does with it: when
    the block is refused, they are removed again. When a service did not answer in time they
    stay: the case may have recorded the photo."""
    store = storage()
    store.put(photo.id, photo.body)
    store.put(photo.id + THUMBNAIL, photo.thumbnail)
    try:
        yield
    except Exception as refusal:
        if not isinstance(refusal, Unavailable):
            store.delete(photo.id)
            store.delete(photo.id + THUMBNAIL)
        raise
