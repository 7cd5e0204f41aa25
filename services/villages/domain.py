"""Village-side intake rules, in plain Python."""
import hashlib
import json
import secrets

from shared.errors import Conflict, Forbidden
from shared.i18n import text

# Crockford's base32 without I, L, O, U: nothing to mishear or misread over the phone.
TRACKING_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_tracking_number():
    """'JBT-7K3Q-XM2P': short enough to read over the phone, 40 bits of randomness."""
    chars = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(8))
    return f"JBT-{chars[:4]}-{chars[4:]}"


def fingerprint(report):
    """A stable digest of a report's content, to tell a retry from a different report."""
    return hashlib.sha256(json.dumps(report, sort_keys=True, default=str).encode()).hexdigest()


def check_reporter(actor, village_code=None):
    """A report is raised by an operator of its own village; returns the village code."""
    if actor.get("role") != "village":
        raise Forbidden(text("Hanya operator desa/kelurahan yang dapat melapor.",
                             "Only a village operator can report an issue."))
    if village_code is not None and village_code != actor.get("scope"):
        raise Forbidden(text("Operator hanya dapat melapor untuk desanya sendiri.",
                             "An operator can only report for their own village."))
    return actor["scope"]


def check_idempotent_retry(existing_fingerprint, new_fingerprint):
    if existing_fingerprint != new_fingerprint:
        raise Conflict(
            text("Idempotency-Key ini sudah dipakai untuk laporan lain.",
                 "This Idempotency-Key was already used for a different report."),
            {"Idempotency-Key": [text("Sudah dipakai untuk laporan dengan isi berbeda.",
                                      "Already used for a report with different content.")]})
