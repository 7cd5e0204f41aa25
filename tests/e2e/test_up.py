"""`jembatan up --demo` (what ./scripts/up runs): the demo city, every service, a clean stop;
with `--replicas`, several processes of a service, each started again when it dies."""
import os
import re
import signal
import subprocess
import sys

import requests

from tests.broker import Vhost, eventually, free_port
from tests.e2e.system import ROOT


def test_up_seeds_the_demo_starts_replicas_restarts_a_killed_one_and_stops_cleanly(tmp_path):
    vhost = Vhost()
    port = free_port()
    env = {**os.environ, "AMQP_URI": vhost.create(), "JEMBATAN_HTTP_HOST": "127.0.0.1"}
    output = tmp_path / "up.log"
    with open(output, "w") as log:
        up = subprocess.Popen(
            [sys.executable, "-m", "jembatan", "up", "--demo", "--port", str(port),
             "--replicas", "gateway=2,requests=2", "--data-dir", str(tmp_path / "data")],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)

    def started():
        """label -> pid of each process that said it started, the latest of each label."""
        return dict(re.findall(r" INFO (\w+#\d) jembatan: started \(pid (\d+)\)",
                               output.read_text()))

    try:
        printed = eventually(lambda: "Operator Desa Punten" in output.read_text()
                             and output.read_text(), timeout=120, interval=0.2)
        assert "Kota Batu (35.79), 3 kecamatan, 24 desa/kelurahan, 11 instansi" in printed
        token = re.search(r"Operator Desa Punten.* (\S+)\n", printed).group(1)
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
        # Two gateways on the one port (the second is not refused as the port's squatter),
        # two requests processes, one of each other service.
        processes = eventually(lambda: len(started()) == 7 and started(), timeout=60)
        assert sorted(processes) == ["gateway#1", "gateway#2", "notifications#1", "requests#1",
                                     "requests#2", "routing#1", "villages#1"]
        assert "already in use" not in output.read_text()

        os.kill(int(processes["requests#2"]), signal.SIGKILL)
        eventually(lambda: started()["requests#2"] != processes["requests#2"], timeout=60)
        assert "requests#2 exited with -9; starting it again in 1 s" in output.read_text()

        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=60) == 0
        try:
            requests.get(f"{base}/health", timeout=2)
            stopped = False
        except requests.ConnectionError:
            stopped = True
        assert stopped, "the gateway still answers after `jembatan up` stopped"
        for label, pid in started().items():
            assert not os.path.exists(f"/proc/{pid}"), f"{label} still runs"
    finally:
        if up.poll() is None:
            up.kill()
        vhost.delete()
