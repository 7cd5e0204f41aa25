"""Acknowledgements sent in groups (shared.messaging.Acknowledgements), against a channel that
plays the broker's part: it refuses a tag acknowledged twice or never delivered (RabbitMQ
closes the channel: PRECONDITION_FAILED), and the test refuses an acknowledgement that covers
a message still being handled (lost, were the service to crash). Sending makes the sender
wait, as a socket whose buffer is full does, so that messages finish meanwhile."""
import random
from types import SimpleNamespace

import eventlet

from shared.messaging import Acknowledgements
from tests.broker import eventually


class Channel:
    def __init__(self, delivered):
        self.connection = True
        self.outstanding = set(delivered)  # delivered, not acknowledged yet
        self.done = set()  # the tags whose handler finished (the test says so)
        self.sent = []
        self.wrong = []  # what the broker would refuse, or a crash lose

    def basic_ack(self, tag, multiple=False):
        eventlet.sleep(0.002)
        self.sent.append((tag, multiple))
        if tag not in self.outstanding:
            self.wrong.append(f"tag {tag} acknowledged twice, or never delivered")
        covered = {t for t in self.outstanding if t <= tag} if multiple else {tag}
        if not covered <= self.done:
            self.wrong.append(f"{sorted(covered - self.done)} acknowledged while being handled")
        self.outstanding -= covered


def message(channel, tag):
    return SimpleNamespace(channel=channel, delivery_tag=tag)


def test_every_message_is_acknowledged_once_and_only_after_it_finished():
    random.seed(7)
    tags = range(1, 61)
    channel, acks = Channel(tags), Acknowledgements()
    for tag in tags:
        acks.received(message(channel, tag))

    def handle(tag):
        eventlet.sleep(random.random() * 0.02)
        channel.done.add(tag)
        acks.finished(message(channel, tag))

    pool = eventlet.GreenPool()
    for tag in tags:
        pool.spawn_n(handle, tag)
    pool.waitall()
    eventually(lambda: not channel.outstanding or channel.wrong, timeout=10)
    assert channel.wrong == []
    assert not channel.outstanding
    assert len(channel.sent) < len(tags)  # in groups


def test_a_new_connection_never_gets_a_tag_of_the_old_one():
    old, acks = Channel([1, 2, 3]), Acknowledgements()
    for tag in (1, 2, 3):
        acks.received(message(old, tag))
    old.done |= {1, 3}
    acks.finished(message(old, 1))
    acks.finished(message(old, 3))
    eventlet.sleep(0)  # the flush starts (1 of the old channel), and waits on the socket
    old.connection = None  # meanwhile the connection is lost; the broker gives back 2 and 3
    new = Channel([1, 2])
    for tag in (1, 2):
        acks.received(message(new, tag))
    eventually(lambda: old.sent and not acks._flush_due, timeout=5)
    assert new.sent == []  # not the old 3
    new.done |= {1, 2}
    for tag in (2, 1):
        acks.finished(message(new, tag))
    eventually(lambda: not new.outstanding or new.wrong, timeout=5)
    assert new.wrong == [] and old.wrong == []
