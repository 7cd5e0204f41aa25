"""Messages between Jembatan's processes are signed: the broker is not trusted with authority.

Anyone who can publish on the broker could otherwise open a case in a village's name, accept a
task as an agency, or answer the gateway in a service's place. So every event a service
publishes, every RPC call the gateway makes and every answer to one carries an HMAC-SHA256 of
its content under the deployment's secret key, and a process acts only on a message whose
signature is right (an RPC call's also must not have expired). A forged or unsigned event goes
to the dead letters; a forged call is refused; a forged answer is dropped.

The key is `JEMBATAN_SECRET_KEY`; without it, `<data dir>/secret.key`, created on first use
(every process of one machine shares the data directory). Processes on several machines must
be given the same `JEMBATAN_SECRET_KEY`.
"""
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import time
from functools import lru_cache

from shared import config

SIGNATURE_HEADER = "x-jembatan-signature"
CALL_SIGNATURE = "_signature"     # the keyword argument that carries an RPC call's signature
KEY_FILE = "secret.key"


@lru_cache(maxsize=1)
def _key():
    value = os.environ.get("JEMBATAN_SECRET_KEY")
    if value:
        return value.encode("utf-8")
    path = config.data_dir() / KEY_FILE
    if not path.exists():
        # Written aside, then linked in place whole: a process starting at the same moment
        # (a replica) reads the key, never an empty file.
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, aside = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32))
        try:
            os.link(aside, path)
        except FileExistsError:  # another process of this machine made it a moment ago
            pass
        finally:
            os.unlink(aside)
    return path.read_text().strip().encode("utf-8")


def signature(content: bytes) -> str:
    return hmac.new(_key(), content, hashlib.sha256).hexdigest()


def valid(content: bytes, claimed) -> bool:
    return isinstance(claimed, str) and hmac.compare_digest(signature(content), claimed)


def _canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode("ascii")


def _call_content(method, args, kwargs, expires):
    return _canonical([method, args, kwargs, expires])


def sign_call(method, args, kwargs, lifetime):
    """The signature an RPC call of `service.method` carries, valid for `lifetime` seconds."""
    expires = int(time.time() + lifetime) + 1
    return f"{expires}.{signature(_call_content(method, list(args), kwargs, expires))}"


def call_is_signed(method, args, kwargs, claimed):
    """Whether an RPC call's signature is right for its method and arguments, and not expired."""
    if not isinstance(claimed, str) or "." not in claimed:
        return False
    expires, _, digest = claimed.partition(".")
    if not expires.isdigit() or int(expires) < time.time():
        return False
    return valid(_call_content(method, list(args), kwargs, int(expires)), digest)


def reply_signature(correlation_id, payload):
    """The signature of a service's answer to the call `correlation_id` (which no other call
    shares, so an answer cannot stand for another)."""
    return signature(_canonical([correlation_id, payload]))


def reply_is_signed(correlation_id, payload, claimed):
    return valid(_canonical([correlation_id, payload]), claimed)
