"""Real receivers of what Jembatan sends, each its own process (no eventlet in it), each keeping
what it received as files in a folder:

* `Mailbox`: an SMTP server (aiosmtpd), optionally with STARTTLS and a login; each message a
  `.eml` file;
* `HttpReceiver`: an HTTP server taking any POST (an SMS or WhatsApp provider's API, a
  webhook's system); each request a `.json` file. It answers the status a test sets.

Both can be stopped and started again on the same port (a server that is down for a while).
Run as `python -m tests.e2e.receivers smtp|http PORT FOLDER [options]`.
"""
import argparse
import base64
import email
import email.policy
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _keep(folder, suffix, data):
    """Write a file whole, then show it under its name (a reader never sees half of one)."""
    name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
    partial = folder / f".{name}.part"
    partial.write_bytes(data)
    os.replace(partial, folder / f"{name}{suffix}")


# -- the processes ----------------------------------------------------------------------------------

def serve_smtp(port, folder, cert=None, key=None, login=None):
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Keep:
        async def handle_DATA(self, server, session, envelope):
            _keep(folder, ".eml", envelope.original_content or envelope.content)
            return "250 OK"

    options = {}
    if cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        options.update(tls_context=context, require_starttls=True)
    if login:
        user, password = login.split(":", 1)

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = (auth_data.login.decode() == user and auth_data.password.decode() == password)
            return AuthResult(success=ok, handled=False)

        options.update(authenticator=authenticate, auth_require_tls=bool(cert))
    controller = Controller(Keep(), hostname="127.0.0.1", port=port, **options)
    controller.start()
    return controller


def serve_http(port, folder):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            _keep(folder, ".json", json.dumps({
                "path": self.path, "headers": dict(self.headers.items()),
                "body": base64.b64encode(body).decode("ascii")}).encode("utf-8"))
            status_file = folder / "status"
            status, delay = (status_file.read_text().split() if status_file.exists()
                             else ("200", "0"))
            time.sleep(float(delay))  # a slow receiver: the request stays in flight
            try:
                self.send_response(int(status))
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
            except ConnectionError:
                pass  # the sender went away (killed, or timed out): it tries again

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=("smtp", "http"))
    parser.add_argument("port", type=int)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--login")
    arguments = parser.parse_args()
    if arguments.kind == "smtp":
        serve_smtp(arguments.port, arguments.folder, arguments.cert, arguments.key,
                   arguments.login)
    else:
        serve_http(arguments.port, arguments.folder)
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()


# -- what the tests hold ----------------------------------------------------------------------------

class Receiver:
    kind = None
    suffix = None

    def __init__(self, folder, port, *options):
        self.folder, self.port, self.options = Path(folder), port, options
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.receivers", self.kind, str(self.port),
             str(self.folder), *self.options], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "ready", f"{self.kind} did not start"
        return self

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def files(self):
        return sorted(self.folder.glob(f"*{self.suffix}"))


class Mailbox(Receiver):
    kind, suffix = "smtp", ".eml"

    def messages(self):
        """Every message received, oldest first (email.message.EmailMessage)."""
        return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                for path in self.files()]


class HttpReceiver(Receiver):
    kind, suffix = "http", ".json"

    def requests(self, path=None):
        """Every request received (oldest first): {path, headers, body (bytes)}."""
        received = []
        for file in self.files():
            request = json.loads(file.read_text())
            request["body"] = base64.b64decode(request["body"])
            if path is None or request["path"] == path:
                received.append(request)
        return received

    def answer(self, status, delay=0.0):
        """The status every later request is answered with, after `delay` seconds."""
        (self.folder / "status").write_text(f"{status} {delay}")


if __name__ == "__main__":
    main()
