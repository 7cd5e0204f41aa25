"""`jembatan up --demo` (what ./scripts/up runs): the demo city, every service, a clean stop."""
import os
import signal
import subprocess
import sys

import requests

from tests.broker import Vhost, eventually, free_port
from tests.e2e.system import ROOT


def test_up_seeds_the_demo_starts_everything_and_stops_cleanly(tmp_path):
    vhost = Vhost()
    port = free_port()
    env = {**os.environ, "AMQP_URI": vhost.create(), "JEMBATAN_HTTP_HOST": "127.0.0.1"}
    up = subprocess.Popen(
        [sys.executable, "-m", "jembatan", "up", "--demo", "--port", str(port),
         "--data-dir", str(tmp_path)],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        printed = []
        for line in up.stdout:
            printed.append(line)
            if "Operator Desa Punten" in line:
                break
        assert "Kota Batu (35.79), 3 kecamatan, 24 desa/kelurahan, 11 instansi" in "".join(printed)
        token = printed[-1].split()[-1]
        base = f"http://127.0.0.1:{port}/api/v1"

        def healthy():
            try:
                return requests.get(f"{base}/health", timeout=5).json()["status"] == "ok"
            except (requests.RequestException, ValueError):
                return False

        eventually(healthy, timeout=60, interval=0.2)
        cases = requests.get(f"{base}/cases", headers={"Authorization": f"Bearer {token}"},
                             timeout=10)
        assert cases.status_code == 200 and cases.json()["total"] == 0

        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=60) == 0
        try:
            requests.get(f"{base}/health", timeout=2)
            stopped = False
        except requests.ConnectionError:
            stopped = True
        assert stopped, "the gateway still answers after `jembatan up` stopped"
    finally:
        if up.poll() is None:
            up.kill()
        vhost.delete()
