"""What time it is, for every service: UTC, and movable for tests and drills.

`JEMBATAN_CLOCK_OFFSET_FILE` names a file holding a number of seconds to add to the real time
(the end-to-end tests move every process's clock this way instead of waiting days for a
deadline). Unset, or the file absent, the clock is the real one.
"""
import os
from datetime import datetime, timedelta, timezone

_cached = {"mtime": None, "offset": timedelta(0)}


def offset():
    path = os.environ.get("JEMBATAN_CLOCK_OFFSET_FILE")
    if not path:
        return timedelta(0)
    try:
        mtime = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return timedelta(0)
    if mtime != _cached["mtime"]:
        with open(path, encoding="utf-8") as handle:
            _cached["offset"] = timedelta(seconds=float(handle.read().strip() or 0))
        _cached["mtime"] = mtime
    return _cached["offset"]


def now():
    return datetime.now(timezone.utc) + offset()
