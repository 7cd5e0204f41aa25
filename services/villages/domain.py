"""Village-side intake rules, in plain Python."""
import hashlib
import json
import secrets

from shared.errors import Conflict
from shared.i18n import text

# Crockford's base32 without I, L, O, U: nothing to mishear or misread over the phone.
TRACKING_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_tracking_number():
    """'JBT-7K3Q-XM2P': short enough to read over the phone, 40 bits of randomness."""
    chars = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(8))
    return f"JBT-{chars[:4]}-{chars[4:]}"


def fingerprint(report):
    """A stable digest of a report's content, to tell a retry from a different report (a
    report that is not confidential digests as before confidentiality existed)."""
    if not report.get("confidential"):
        report = {key: value for key, value in report.items() if key != "confidential"}
    return hashlib.sha256(json.dumps(report, sort_keys=True, default=str).encode()).hexdigest()


def check_idempotent_retry(existing_fingerprint, new_fingerprint):
    if existing_fingerprint != new_fingerprint:
        raise Conflict(
            text("Idempotency-Key ini sudah dipakai untuk laporan lain.",
                 "This Idempotency-Key was already used for a different report."),
            {"Idempotency-Key": [text("Sudah dipakai untuk laporan dengan isi berbeda.",
                                      "Already used for a report with different content.")]})
