"""A whole Jembatan on a RabbitMQ cluster of three nodes (scripts/rabbitmq-cluster, beside the
machine's own broker): every queue it keeps is a quorum queue with a member on each node, and
the node the services are connected to, which leads the queues, stopped while reports flow and
started again loses and doubles nothing.

Slow (the cluster takes half a minute to start on a busy machine): it runs only with
JEMBATAN_CLUSTER_TEST=1, as CI sets it (.ci/run); then a cluster that cannot start fails it.
"""
import os
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from tests.broker import Vhost, eventually
from tests.e2e.system import ROOT, System
from tests.e2e.steady_load import (
    assert_each_case_routed_once_and_each_party_told_once, send_steadily,
)

pytestmark = pytest.mark.skipif(os.environ.get("JEMBATAN_CLUSTER_TEST") != "1",
                                reason="the cluster test runs with JEMBATAN_CLUSTER_TEST=1")

SCRIPT = ROOT / "scripts" / "rabbitmq-cluster"
NODES = {"a": 1, "b": 2, "c": 3}  # node a: AMQP on 5681, management on 15681; b: 5682, …
GUEST = ("guest", "guest")
REPORTS, PER_SECOND = 200, 10


class Cluster:
    """The three nodes of scripts/rabbitmq-cluster in `folder`."""

    def __init__(self, folder):
        self.folder = folder

    def script(self, command, *node):
        subprocess.run([SCRIPT, command, self.folder, *node], check=True, timeout=600)

    def node(self, name):
        return f"jembatan-{name}@localhost"

    def vhost(self):
        """A vhost for a System: every process tries a, then b, then c; made (and deleted)
        through c, the node that is never stopped."""
        return Vhost(self.management("c"), GUEST, ports=[5680 + n for n in NODES.values()])

    def management(self, name):
        return f"http://127.0.0.1:{15680 + NODES[name]}"

    def api(self, path, via):
        """GET a path of the management API of node `via`."""
        response = requests.get(f"{self.management(via)}/api/{path}", auth=GUEST, timeout=10)
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="module")
def cluster():
    # One folder, whatever the run: a run killed before it could tear its cluster down leaves
    # it running there, and this one takes it down first.
    running = Cluster(Path(tempfile.gettempdir()) / "jembatan-rabbitmq-cluster")
    running.script("down")
    try:
        running.script("start")
        yield running
    finally:
        running.script("down")


@pytest.fixture(scope="module")
def system(cluster, tmp_path_factory):
    running = System(tmp_path_factory.mktemp("cluster"), vhost=cluster.vhost()).start()
    try:
        yield running
    finally:
        running.stop()


def queues(cluster, system):
    return cluster.api(f"queues/{quote(system.vhost.name, safe='')}", via="c")


def kept(queue):
    """A queue that outlives its connection: every one but the RPC answers' own."""
    return not queue["name"].startswith("rpc.reply-")


def test_every_queue_is_a_quorum_queue_with_a_member_on_each_node(cluster, system):
    answers = [queue for queue in queues(cluster, system) if not kept(queue)]
    assert answers and all(queue["exclusive"] for queue in answers)
    every = {queue["name"]: queue for queue in queues(cluster, system) if kept(queue)}
    assert {"jembatan.requests.events", "jembatan.requests.delay-1000ms",
            "jembatan.dead-letters", "rpc-requests"} <= set(every)
    for name, queue in every.items():
        assert queue["type"] == "quorum", f"{name} is a {queue['type']} queue"
        assert sorted(queue["members"]) == sorted(map(cluster.node, NODES)), name


def test_the_node_leading_the_queues_stopped_while_reports_flow_loses_nothing(cluster, system):
    # Every process is connected to a, the first node of its AMQP_URI, which also leads the
    # queues they declared.
    leaders = {queue["leader"] for queue in queues(cluster, system) if kept(queue)}
    assert leaders == {cluster.node("a")}
    connections = f"vhosts/{quote(system.vhost.name, safe='')}/connections"
    connected = {connection["node"] for connection in eventually(
        lambda: cluster.api(connections, via="c"), timeout=30, interval=1)}
    assert connected == {cluster.node("a")}

    sender = send_steadily(system, REPORTS, PER_SECOND, "cluster")
    eventually(lambda: system.count("villages", "reports") >= 20, timeout=60)
    cluster.script("stop-node", "a")
    # Without a, reports are still taken, and cases routed.
    accepted = system.count("villages", "reports")
    routed = system.count("requests", "timeline", type="routed")
    eventually(lambda: system.count("villages", "reports") >= accepted + 20, timeout=60)
    eventually(lambda: system.count("requests", "timeline", type="routed") >= routed + 20,
               timeout=60)
    cluster.script("start-node", "a")
    sent = sender.wait()
    system.wait_healthy()

    case_ids = {case_id for _key, case_id, _refused in sent}
    assert len(case_ids) == REPORTS, "two reports got the same case"
    assert system.count("villages", "reports") == REPORTS
    assert_each_case_routed_once_and_each_party_told_once(system, case_ids)

    # Back, a is a member of every queue again.
    def all_online():
        for queue in filter(kept, queues(cluster, system)):
            assert sorted(queue["online"]) == sorted(map(cluster.node, NODES)), queue["name"]
        return True

    eventually(all_online, timeout=60, interval=1)
