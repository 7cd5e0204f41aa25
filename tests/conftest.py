"""Test session set-up: eventlet patches the standard library before anything else runs."""
import jembatan  # noqa: F401  (patches sockets first: see jembatan/__init__.py)
