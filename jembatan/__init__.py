"""Jembatan's command line and process runner.

eventlet must patch the standard library before anything imports sockets, in every process:
this package is the entry point of every Jembatan process (and the test session imports it
first), so it patches here, before anything else.
"""
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402  (the filter above must come first)

eventlet.monkey_patch()
