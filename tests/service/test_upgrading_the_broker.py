"""A service started on a broker that holds a queue of it with other arguments (an earlier
version's) says what to do and stops, instead of setting up its consumers again and again;
one whose consumers cannot be set up for another reason still stops when asked
(jembatan/runner.py; real RabbitMQ)."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from kombu import Connection

from shared.messaging import connect, declare_topology
from tests.broker import BROKER_USER, MANAGEMENT, eventually

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("service, queue", [
    ("villages", "rpc-villages"),  # its calls' queue, classic before the cluster
    ("requests", "jembatan.requests.events"),  # its events' queue, declared by hand
])
def test_a_queue_of_an_earlier_version_stops_the_service_with_the_fix(amqp_uri, tmp_path,
                                                                      service, queue):
    with Connection(amqp_uri) as connection:  # a classic queue, with none of our arguments
        connection.default_channel.queue_declare(queue, durable=True, auto_delete=False)
    started = subprocess.run(
        [sys.executable, "-m", "jembatan", "run", service], cwd=ROOT, capture_output=True,
        text=True, timeout=120,
        env={**os.environ, "AMQP_URI": amqp_uri, "JEMBATAN_DATA_DIR": str(tmp_path)})

    assert started.returncode == 2
    said = started.stderr.strip().splitlines()[-1]
    vhost = amqp_uri.rsplit("/", 1)[1]
    assert queue in said and "earlier version" in said
    assert f"rabbitmqctl delete_queue -p {vhost} {queue}" in said
    assert "Traceback" not in started.stderr


def test_a_service_whose_consumers_cannot_be_set_up_still_stops_when_asked(amqp_uri, tmp_path):
    with connect(amqp_uri) as connection:
        declare_topology(connection)
    vhost = amqp_uri.rsplit("/", 1)[1]
    requests.put(f"{MANAGEMENT}/api/permissions/{vhost}/{BROKER_USER[0]}", auth=BROKER_USER,
                 json={"configure": ".*", "write": ".*", "read": "^$"},  # may not consume
                 timeout=10).raise_for_status()
    log = tmp_path / "villages.log"
    with open(log, "wb") as out:
        service = subprocess.Popen(
            [sys.executable, "-m", "jembatan", "run", "villages"], cwd=ROOT, stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "AMQP_URI": amqp_uri, "JEMBATAN_DATA_DIR": str(tmp_path)})
    try:
        # nameko tries to set up its consumers again and again, refused each time
        eventually(lambda: log.read_text(errors="replace").count("re-establish") >= 2,
                   timeout=60)
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=30) == 1
    finally:
        if service.poll() is None:
            service.kill()
    assert "stopped before it had started" in log.read_text(errors="replace")
