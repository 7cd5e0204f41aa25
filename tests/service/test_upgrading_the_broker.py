"""A service started on a broker that still holds an earlier version's queues says what to do
and stops, instead of reconnecting again and again (jembatan/runner.py prepare_broker; real
RabbitMQ)."""
import os
import subprocess
import sys
from pathlib import Path

from kombu import Connection

ROOT = Path(__file__).resolve().parents[2]


def test_a_classic_rpc_queue_of_an_earlier_version_stops_the_service_with_the_fix(amqp_uri,
                                                                                tmp_path):
    with Connection(amqp_uri) as connection:  # as a version from before the cluster left it
        connection.default_channel.queue_declare("rpc-villages", durable=True,
                                                 auto_delete=False)
    started = subprocess.run(
        [sys.executable, "-m", "jembatan", "run", "villages"], cwd=ROOT, capture_output=True,
        text=True, timeout=120,
        env={**os.environ, "AMQP_URI": amqp_uri, "JEMBATAN_DATA_DIR": str(tmp_path)})

    assert started.returncode == 2
    said = started.stderr.strip().splitlines()[-1]
    vhost = amqp_uri.rsplit("/", 1)[1]
    assert "rpc-villages" in said and "earlier version" in said
    assert f"rabbitmqctl delete_queue -p {vhost} rpc-villages" in said
    assert "Traceback" not in started.stderr
