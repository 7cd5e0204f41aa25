"""How Jembatan reaches a person outside the app: the channels, and what an address on each
looks like. The gateway checks what an actor gives (its email address and phone number); the
notifications service sends on the channels.

* **email**: an address as email-validator reads it (no lookup in DNS: the machine that checks
  may not reach the internet);
* **sms** and **whatsapp**: an Indonesian mobile number, kept as `+628…` (E.164) however it
  was typed: `0812-3456-7890`, `62 812 3456 7890`, `+62 (812) 3456-7890`;
* **webhook**: a system's URL (services/notifications/webhooks.py).
"""
import re

from email_validator import EmailNotValidError, validate_email
from marshmallow import ValidationError, fields

from shared.i18n import text

EMAIL, SMS, WHATSAPP, WEBHOOK = "email", "sms", "whatsapp", "webhook"
PERSONAL_CHANNELS = (EMAIL, SMS, WHATSAPP)  # what an actor chooses, per kind of event
CHANNELS = PERSONAL_CHANNELS + (WEBHOOK,)
# A delivery's states (services/notifications/delivery.py): held and digested are an email's
# that waits for, then went into, a daily digest.
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "held", "digested")

# After +62: an 8, then the operator's prefix and the subscriber number, 9 to 12 digits in all.
MOBILE = re.compile(r"\+628[1-9][0-9]{7,10}")
PHONE_RULE = text("Nomor ponsel Indonesia, misalnya +6281234567890 atau 081234567890.",
                  "An Indonesian mobile number, e.g. +6281234567890 or 081234567890.")
EMAIL_RULE = text("Alamat email yang sah, misalnya nama@desa.id.",
                  "A valid email address, e.g. name@village.id.")


def normalise_phone(value):
    """`+628…` for an Indonesian mobile number however it was written; ValueError if it is not
    one."""
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("not a phone number")
    digits = re.sub(r"[\s().-]", "", value)
    if digits.startswith("+62"):
        digits = digits[1:]
    elif digits.startswith("0"):
        digits = "62" + digits[1:]
    elif not digits.startswith("62"):
        raise ValueError("not an Indonesian number")
    number = "+" + digits
    if not MOBILE.fullmatch(number):
        raise ValueError("not an Indonesian mobile number")
    return number


def normalise_email(value):
    """The address as it is kept (the domain in lower case); ValueError if it is not one."""
    if not isinstance(value, str) or len(value) > 254:
        raise ValueError("not an email address")
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


class Normalised(fields.String):
    """A string kept as `normalise` writes it (which raises ValueError for what it refuses,
    then `rule` says what is expected)."""

    def __init__(self, normalise, rule, **kwargs):
        super().__init__(**kwargs)
        self.normalise, self.rule = normalise, rule

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return self.normalise(super()._deserialize(value, attr, data, **kwargs))
        except ValueError:
            raise ValidationError(self.rule) from None


def phone_number(**kwargs):
    """An Indonesian mobile number, loaded as `+628…`."""
    return Normalised(normalise_phone, PHONE_RULE, **kwargs)


def email_address(**kwargs):
    return Normalised(normalise_email, EMAIL_RULE, **kwargs)
