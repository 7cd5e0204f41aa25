"""A service started on a broker that holds a queue of it with other arguments (an earlier
version's) says what to do and stops, instead of setting up its consumers again and again
(jembatan/runner.py prepare_broker; real RabbitMQ)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kombu import Connection

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
