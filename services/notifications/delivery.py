"""Who is told outside the app, on which channel, and what happens after an attempt: the rules
of delivery, in plain Python (the sender, services/notifications/sender.py, does the I/O).

* Every notification is in its party's inbox. Besides, each actor of the party is told on the
  channels it chose for that kind of event (`DEFAULT_CHANNELS` until it chooses), where it has
  the address and the deployment has the channel.
* Each webhook of the party that asked for the kind of event gets it too.
* A failed attempt is tried again after 30 s, 1 min, 2 min, … (doubling, at most an hour
  apart); after the last attempt the delivery is `failed`, and an admin sees it.
"""
from datetime import timedelta, timezone

from shared import events
from shared.channels import EMAIL, SMS, WHATSAPP
from shared.policy import party

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
HELD, DIGESTED = "held", "digested"  # an email waiting for the daily digest, and put in one
DIGEST = "digest"  # the kind of a digest's own delivery

# The kinds of news that ask the party to act now: told by SMS as well as email by default.
URGENT = (events.CASE_ROUTED, events.CASE_NEEDS_TRIAGE, events.DEADLINE_MISSED,
          events.CASE_ESCALATED, events.CASE_RESOLVED, events.CASE_CLOSING_SOON,
          events.ANNOUNCEMENT)
# What an actor who has not chosen is told on, besides the inbox. WhatsApp only when chosen.
DEFAULT_CHANNELS = {event_type: ((EMAIL, SMS) if event_type in URGENT else (EMAIL,))
                    for event_type in events.NOTIFIED_EVENTS}


def contact_party(actor):
    """The party an actor of an `actor_changed` event reads the notifications of."""
    return party(actor["role"], actor.get("scope") or "*")


def address_on(contact, channel):
    """The contact's address on a channel, or None (WhatsApp: the phone, once switched on)."""
    if channel == EMAIL:
        return contact.email
    if channel == SMS:
        return contact.phone
    if channel == WHATSAPP:
        return contact.phone if contact.whatsapp else None
    return None


def chosen_channels(event_type, preferences):
    """The channels an actor is told on for a kind of event: its choice, or the default."""
    if event_type in preferences:
        return tuple(preferences[event_type])
    return DEFAULT_CHANNELS.get(event_type, ())


def personal_deliveries(contact, event_type, preferences, available):
    """[(channel, address)] for one actor and one notification."""
    if contact.disabled:
        return []
    told = []
    for channel in chosen_channels(event_type, preferences):
        address = address_on(contact, channel)
        if channel in available and address:
            told.append((channel, address))
    return told


def first_status(channel, digest):
    """A new delivery waits to be sent, or (an email to an actor who takes a daily digest) is
    held for the digest."""
    return HELD if digest and channel == EMAIL else PENDING


def last_digest_moment(now, zone, hour):
    """The latest daily digest time (`hour` o'clock in `zone`) at or before `now`."""
    local = now.astimezone(zone)
    moment = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if moment > local:
        moment -= timedelta(days=1)
    return moment.astimezone(timezone.utc)


# -- following more than one's own news -----------------------------------------------------------

# What a follower of a category or a village hears of: a case's big steps.
FOLLOWED = (events.CASE_OPENED, events.CASE_ROUTED, events.CASE_NEEDS_TRIAGE,
            events.CASE_RESOLVED, events.CASE_REOPENED, events.CASE_CLOSED,
            events.CASE_CANCELLED, events.CASE_ESCALATED, events.DEADLINE_MISSED)
# What a follower of the overdue cases hears of.
OVERDUE = (events.DEADLINE_MISSED, events.CASE_ESCALATED)


def follows(subscription, event_type, case):
    """Whether a subscription (its party's area, and a category, a village or the overdue
    cases) covers this event of this case."""
    area = subscription.party.split(":", 1)[1]
    if not case["village"]["code"].startswith(area + "."):
        return False
    if event_type not in (OVERDUE if subscription.overdue else FOLLOWED):
        return False
    if subscription.category and case["category"] != subscription.category:
        return False
    return not subscription.village_code or case["village"]["code"] == subscription.village_code


def backoff(attempts, base_seconds, cap_seconds=3600):
    """How long to wait after the `attempts`-th failed attempt (1, 2, …)."""
    return timedelta(seconds=min(base_seconds * 2 ** (attempts - 1), cap_seconds))


def after_failure(attempts, max_attempts, now, base_seconds):
    """(status, next attempt) after a failed attempt: back to pending, or failed for good."""
    if attempts >= max_attempts:
        return FAILED, None
    return PENDING, now + backoff(attempts, base_seconds)


# -- SMS: one or two segments ---------------------------------------------------------------------

# The GSM 03.38 default alphabet; `GSM_EXTENDED` characters take two places.
GSM_BASIC = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
                "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENDED = set("^{}\\[~]|€\f")
SEGMENTS = 2
# Characters in one segment, and in each segment of a longer message (its header takes place).
GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def sms_length(message):
    """(length in the encoding's units, whether it is GSM-7)."""
    if all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in message):
        return sum(2 if ch in GSM_EXTENDED else 1 for ch in message), True
    # UCS-2: a character outside the basic plane takes two units.
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in message), False


def sms_segments(message):
    length, gsm = sms_length(message)
    single, part = (GSM_SINGLE, GSM_PART) if gsm else (UCS2_SINGLE, UCS2_PART)
    return 1 if length <= single else -(-length // part)


def fit_sms(head, tail):
    """`head` + `tail` in at most two segments: the head (the message) is shortened with "..."
    when needed; the tail (the link) is kept whole."""
    message = head + tail
    if sms_segments(message) <= SEGMENTS:
        return message
    low, high = 0, len(head)
    while low < high:  # the longest head that fits
        middle = (low + high + 1) // 2
        if sms_segments(head[:middle].rstrip() + "..." + tail) <= SEGMENTS:
            low = middle
        else:
            high = middle - 1
    return head[:low].rstrip() + "..." + tail
