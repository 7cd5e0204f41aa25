"""Email through a real SMTP server that wants STARTTLS and a login (aiosmtpd, a certificate
made for the test): the adapter upgrades, logs in and is received; a wrong password or a
server it cannot trust is a failed attempt that says why."""
import subprocess

import pytest

from services.notifications import outgoing
from tests.broker import eventually, free_port
from tests.e2e.receivers import Mailbox


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("smtp-tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    mailbox = Mailbox(folder / "mail", free_port(), "--cert", str(cert), "--key", str(key),
                      "--login", "jembatan:rahasia-smtp").start()
    try:
        yield mailbox, cert
    finally:
        mailbox.stop()


def message(subject):
    return outgoing.email_message("0f6c0000-0000-4000-8000-000000000001", "case_routed",
                                  "Petugas PDAM", "pdam@example.org", subject,
                                  "Tugas baru untuk Anda.", "id")


def test_starttls_and_login_deliver(server, monkeypatch):
    mailbox, cert = server
    monkeypatch.setenv("JEMBATAN_SMTP_URL", f"smtp://jembatan:rahasia-smtp@127.0.0.1:"
                                            f"{mailbox.port}?starttls=true&cafile={cert}")
    assert "accepted" in outgoing.send_email(message("Lewat STARTTLS"))
    received, = eventually(lambda: [m for m in mailbox.messages()
                                    if m["Subject"] == "Lewat STARTTLS"])
    assert received["Message-ID"] == "<0f6c0000-0000-4000-8000-000000000001@localhost>"
    assert received.get_content().strip() == "Tugas baru untuk Anda."


@pytest.mark.parametrize("url,why", [
    ("smtp://jembatan:salah@127.0.0.1:{port}?starttls=true&cafile={cert}", "Authentication"),
    ("smtp://jembatan:rahasia-smtp@127.0.0.1:{port}?starttls=true", "CERTIFICATE_VERIFY_FAILED"),
    # Without STARTTLS the server offers no login at all.
    ("smtp://jembatan:rahasia-smtp@127.0.0.1:{port}", "AUTH extension not supported"),
], ids=["wrong password", "untrusted certificate", "no STARTTLS"])
def test_a_refused_login_or_connection_is_a_failed_attempt_that_says_why(server, monkeypatch,
                                                                       url, why):
    mailbox, cert = server
    monkeypatch.setenv("JEMBATAN_SMTP_URL", url.format(port=mailbox.port, cert=cert))
    with pytest.raises(outgoing.SendFailed) as failed:
        outgoing.send_email(message("Tidak sampai"))
    assert why in str(failed.value)
    assert not [m for m in mailbox.messages() if m["Subject"] == "Tidak sampai"]
