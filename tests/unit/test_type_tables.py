"""Every table keyed by a type of fact or of event covers every type, and names only known ones.

The types are named once: the facts in services/requests/facts.py, the events in
shared/events.py. A table that misses one fails here, not in front of a user.
"""
from services.notifications.domain import ALWAYS_TOLD
from services.notifications.templates import TEMPLATES
from services.requests import domain, facts, handlers
from services.requests.texts import TIMELINE
from shared import events, policy
from shared.events import ACTOR_CHANGED, ANNOUNCEMENT, CASE_EVENTS
from shared.messaging import SUBSCRIPTIONS

AUDIENCES = {policy.VILLAGE, policy.AGENCY, policy.COORDINATOR, policy.REGENCY, "system"}


def test_the_fact_types_are_named_once_each():
    assert len(set(facts.FACT_TYPES)) == len(facts.FACT_TYPES)


def test_every_status_a_case_can_move_to_is_a_type_of_fact():
    # domain.move tells a change of status by a fact named as the new status.
    reachable = set().union(*domain.CASE_TRANSITIONS.values())
    assert reachable == set(facts.STATUS_CHANGES)
    assert set(facts.STATUS_CHANGES) <= set(facts.FACT_TYPES)


def test_the_timeline_says_every_fact_in_both_languages():
    assert set(TIMELINE) == set(facts.FACT_TYPES)
    assert all(len(texts) == 2 and all(texts) for texts in TIMELINE.values())


def test_every_fact_is_announced_by_a_known_event_but_the_opening_and_in_progress():
    assert set(facts.FACT_EVENTS) == set(facts.FACT_TYPES) - set(facts.UNANNOUNCED)
    assert set(facts.FACT_EVENTS.values()) <= set(events.EVENT_TYPES)


def test_the_subscriptions_name_only_known_events():
    for service, subscribed in SUBSCRIPTIONS.items():
        assert set(subscribed) <= set(events.EVENT_TYPES), service


def test_requests_handles_exactly_the_events_it_subscribes_to():
    assert set(handlers.EVENT_HANDLERS) == set(SUBSCRIPTIONS["requests"])


def test_notifications_knows_whom_to_tell_of_every_case_event_it_subscribes_to():
    # Besides the case events, it hears of actors (how to reach them), which tell nobody.
    assert set(ALWAYS_TOLD) == set(SUBSCRIPTIONS["notifications"]) - {ACTOR_CHANGED}
    assert set(ALWAYS_TOLD) == set(CASE_EVENTS)


def test_every_case_event_notifications_subscribes_to_has_its_text():
    # templates.template_key falls back to the event's own template: each type needs one.
    subscribed = set(SUBSCRIPTIONS["notifications"]) - {ACTOR_CHANGED}
    assert subscribed <= set(TEMPLATES)
    for key in TEMPLATES:
        event_type, _, audience = key.partition(".")
        assert event_type in subscribed | {ANNOUNCEMENT}, key
        assert not audience or audience in AUDIENCES or key == f"{ANNOUNCEMENT}.reminder", key


def test_the_routing_outcomes_are_those_a_decision_may_carry():
    [one_of] = events.RoutingDecided().fields["outcome"].validators
    assert set(one_of.choices) == set(events.ROUTING_OUTCOMES)
