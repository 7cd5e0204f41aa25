"""Test session set-up: eventlet patches the standard library before anything else runs, and
the processes the tests start sign their messages with a key of this session's own."""
import os
import secrets

import jembatan  # noqa: F401  (patches sockets first: see jembatan/__init__.py)

os.environ.setdefault("JEMBATAN_SECRET_KEY", secrets.token_hex(32))
