"""Accounts: actors, their passwords and tokens, as plain functions over the gateway's tables.

The HTTP API and the command line both change accounts through these functions, and every
change writes an audit entry in the same transaction (services/gateway/audit.py).

* A **token** reads `jbt_<token id>_<secret>`. The id finds the row; the secret (256 random
  bits) is kept as its SHA-256 digest, which is enough for a secret that cannot be guessed
  and lets every request check the row itself: a revoked token, an expired one or a disabled
  actor is refused at once, on every gateway replica.
* A **password** (people sign in with a username) is kept as an argon2 hash. It must be long
  enough and must not be one of the most common passwords (the list zxcvbn ships, with words
  people in Indonesia often use); the OpenAPI document declares the same rule.
* A **session** is a token made by signing in; it expires (JEMBATAN_SESSION_HOURS, 12 h by
  default) and signing out revokes it. API tokens for systems may have an expiry.
* An actor's **channels** (email address, phone number, WhatsApp, language) are how the
  notifications service reaches it; every change of them, and every new, disabled or enabled
  actor, is told to that service as `actor_changed`, in the same transaction (`announce`).
"""
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from functools import lru_cache

import eventlet
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from services.gateway import audit
from services.gateway.models import Actor, Token
from shared import events, policy
from shared.db import UnitOfWork
from shared.commands import (
    AGENCY_ID, CONTROL_CHARACTERS, DISTRICT_CODE, PLAIN_TEXT, REGENCY_CODE, VILLAGE_CODE,
)
from shared.errors import Conflict, ValidationFailed
from shared.events import iso
from shared.i18n import text

SCOPE_PATTERNS = {  # what a scope looks like for each role (an admin has none)
    policy.VILLAGE: VILLAGE_CODE,
    policy.COORDINATOR: DISTRICT_CODE,
    policy.REGENCY: REGENCY_CODE,
    policy.AGENCY: AGENCY_ID,
}
USERNAME = r"^[a-z0-9][a-z0-9._-]{2,63}$"
TOKEN = re.compile(r"jbt_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})")
MIN_PASSWORD, MAX_PASSWORD = 10, 256
SESSION, API = "session", "api"
# Passwords people in Indonesia often choose, besides the lists zxcvbn knows.
INDONESIAN_PASSWORDS = (
    "alhamdulillah", "bismillah1", "bismillah123", "bismillah12", "indonesia1", "indonesia123",
    "indonesia45", "indonesia1945", "merdeka1945", "merdeka45", "sayangkamu", "sayangku123",
    "rahasia123", "rahasiaku1", "katasandi1", "katasandi123", "jembatan123", "admin12345",
    "operator123", "pancasila1", "garudaindonesia", "kotabatu123", "12345678910",
)


@lru_cache(maxsize=1)
def common_passwords():
    """The most common passwords long enough to pass the length rule (exact spelling)."""
    return frozenset(p for p in FREQUENCY_LISTS["passwords"] + list(INDONESIAN_PASSWORDS)
                     if MIN_PASSWORD <= len(p) <= MAX_PASSWORD)


passwords = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    """Who is calling: an actor, through one of its tokens."""

    id: str
    role: str
    scope: str | None
    name: str
    regency: str | None
    token_id: str

    def as_dict(self):
        return {"id": self.id, "role": self.role, "scope": self.scope, "name": self.name,
                "regency": self.regency}


def invalid(field, message):
    """The refusal of one field's value, `message` saying why."""
    return ValidationFailed(text("Isian tidak sah.", "Invalid input."), {field: [message]})


# -- checks -------------------------------------------------------------------------------------

def check_scope(role, scope):
    """Refuse a scope that cannot belong to the role (whether it exists is asked elsewhere)."""
    if role == policy.ADMIN:
        if scope is not None:
            raise invalid("scope", text("Admin tidak memiliki cakupan.", "An admin has no scope."))
        return
    if not scope or not re.fullmatch(SCOPE_PATTERNS[role], scope):
        raise invalid("scope", text(f"Cakupan peran {role} berbentuk {SCOPE_PATTERNS[role]}.",
                                    f"A {role} scope looks like {SCOPE_PATTERNS[role]}."))


USERNAME_RULE = text("3 sampai 64 karakter: huruf kecil, angka, titik, garis bawah atau tanda "
                     "hubung, diawali huruf atau angka.",
                     "3 to 64 characters: lower-case letters, digits, dot, underscore or "
                     "hyphen, starting with a letter or digit.")
PASSWORD_LENGTH = text(f"{MIN_PASSWORD} sampai {MAX_PASSWORD} karakter.",
                       f"{MIN_PASSWORD} to {MAX_PASSWORD} characters.")
COMMON_PASSWORD = text("Kata sandi ini termasuk yang paling umum; pilih yang lain, misalnya "
                       "beberapa kata yang tidak berhubungan.",
                       "This is one of the most common passwords; choose another, e.g. a few "
                       "unrelated words.")


def check_username(username):
    if not isinstance(username, str) or not re.fullmatch(USERNAME, username):
        raise invalid("username", USERNAME_RULE)
    return username


def password_problem(password):
    """Why a password may not be used (a text), or None."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return PASSWORD_LENGTH
    if not re.fullmatch(PLAIN_TEXT, password):
        return CONTROL_CHARACTERS
    if password in common_passwords():
        return COMMON_PASSWORD
    return None


def check_password(password, field="password"):
    problem = password_problem(password)
    if problem:
        raise invalid(field, problem)


# argon2 takes a fifth of a second of CPU and as much memory as it is set to: it runs in a
# thread of its own (eventlet's hub would stop for it), a few at a time.
ARGON2_AT_ONCE = eventlet.semaphore.Semaphore(2)


def in_thread(work, *args):
    with ARGON2_AT_ONCE:
        return tpool.execute(work, *args)


def hash_password(password):
    return in_thread(passwords.hash, password)


def password_matches(actor, password):
    """Whether `password` is the actor's. The same work is done for no actor or one without a
    password yet, so how long it takes tells nothing of who exists."""
    stored = actor.password_hash if actor is not None and actor.password_hash else None
    try:
        matched = in_thread(lambda: passwords.verify(stored or dummy_hash(), password))
    except (VerificationError, InvalidHashError):
        return False
    return matched and stored is not None


def digest(secret):
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# -- changes --------------------------------------------------------------------------------------

def create_actor(session, role, scope, name, regency, now, by=None, username=None):
    """A new actor: a person has a username (and then a password, set_password), a system
    none. `regency` is the regency the actor belongs to (None for an admin); whether its scope
    exists was checked by the caller."""
    check_scope(role, scope)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise invalid("name", text("Tidak boleh kosong; paling banyak 200 karakter.",
                                   "Must not be blank; at most 200 characters."))
    if username is not None:
        check_username(username)
    actor = Actor(id=str(uuid.uuid4()), role=role, scope=scope or None, name=name,
                  regency_code=regency, username=username, created_at=now, whatsapp=False,
                  language="id", version=0)
    try:
        with session.begin_nested():
            session.add(actor)
            session.flush()
    except IntegrityError:  # the username is taken (the unique index says so, even in a race)
        raise Conflict(text("Nama pengguna itu sudah dipakai.", "That username is taken."),
                       {"username": [text("Sudah dipakai.", "Already taken.")]}) from None
    audit.record(session, now, "actor.created", by, target=actor_label(actor),
                 detail={"actor_id": actor.id, "role": role, "scope": scope})
    announce(session, actor)
    return actor


def announce(session, actor):
    """Tell the notifications service how to reach the actor now (in the session's
    transaction, through the outbox)."""
    actor.version = (actor.version or 0) + 1
    session.flush()
    UnitOfWork.of(session).emit(events.ACTOR_CHANGED, {
        "actor": {"id": actor.id, "role": actor.role, "scope": actor.scope, "name": actor.name,
                  "email": actor.email, "phone": actor.phone, "whatsapp": bool(actor.whatsapp),
                  "language": actor.language or "id", "disabled": actor.disabled_at is not None},
        "version": actor.version}, correlation_id=actor.id)


CHANNEL_FIELDS = ("email", "phone", "whatsapp", "language")


def set_channels(session, actor, values, now, by=None):
    """Change how the actor is reached: the fields of `values` given (checked already by
    schemas.ChannelsInput; a null clears an address); WhatsApp goes to the phone number, so it
    needs one."""
    changed = {name: values[name] for name in CHANNEL_FIELDS
               if name in values and values[name] != getattr(actor, name)}
    whatsapp = changed.get("whatsapp", actor.whatsapp)
    phone = changed["phone"] if "phone" in changed else actor.phone
    if whatsapp and not phone:
        raise invalid("whatsapp", text("WhatsApp dikirim ke nomor ponsel: isi nomor ponsel dulu.",
                                       "WhatsApp goes to the phone number: set one first."))
    if not changed:
        return
    for name, value in changed.items():
        setattr(actor, name, value)
    audit.record(session, now, "actor.channels_set", by, target=actor_label(actor),
                 detail={"actor_id": actor.id, "changed": sorted(changed)})
    announce(session, actor)


def channels_view(actor):
    return {"email": actor.email, "phone": actor.phone, "whatsapp": bool(actor.whatsapp),
            "language": actor.language or "id"}


def issue_token(session, actor, now, kind=API, label=None, expires_at=None, by=None):
    """A new token of the actor: (row, the token itself, shown only now). API tokens are for
    systems: a person signs in, and nobody issues a token to themself."""
    if kind == API and actor.username is not None:
        raise Conflict(text("Orang masuk dengan nama pengguna dan kata sandi; token API untuk "
                            "sistem.",
                            "A person signs in with a username and password; API tokens are "
                            "for systems."))
    if kind == API and by is not None and by.get("id") == actor.id:
        raise Conflict(text("Anda tidak dapat memberi diri sendiri token.",
                            "You cannot issue yourself a token."))
    secret = secrets.token_urlsafe(32)
    token = Token(id=secrets.token_hex(8), actor_id=actor.id, secret_hash=digest(secret),
                  kind=kind, label=label, created_at=now, expires_at=expires_at)
    session.add(token)
    session.flush()
    if kind == API:
        audit.record(session, now, "token.issued", by, target=actor_label(actor),
                     detail={"actor_id": actor.id, "token_id": token.id,
                             "expires_at": iso(expires_at)})
    return token, f"jbt_{token.id}_{secret}"


def person(session, username):
    """The actor who signs in with this username, or None."""
    return session.scalar(select(Actor).where(Actor.username == (username or "").strip().lower()))


def open_session(session, actor, now, lifetime):
    """A session for an actor whose password was right: (token row, the token)."""
    token, secret = issue_token(session, actor, now, kind=SESSION, expires_at=now + lifetime)
    audit.record(session, now, "auth.login", principal_of(actor, token), target=actor_label(actor))
    return token, secret


def revoke(session, token, now, by=None, action="token.revoked"):
    """Revoke a token (signing out revokes the token used: `action` auth.logout)."""
    if token.revoked_at is None:
        token.revoked_at = now
        audit.record(session, now, action, by, detail={
            "actor_id": token.actor_id, "token_id": token.id, "kind": token.kind})


def revoke_all(session, actor, now, keep=None):
    """Revoke every token of the actor (its sessions and API tokens), except `keep`."""
    session.execute(update(Token).where(Token.actor_id == actor.id, Token.revoked_at.is_(None),
                                        Token.id != (keep or "")).values(revoked_at=now))


def set_password(session, actor, password, now, by=None, keep_token=None, field="password"):
    """Set the password of a person (an actor with a username); every other token of it ends:
    whoever knew the old password is signed out."""
    if by is not None and by.get("id") == actor.id and keep_token is None:
        raise Conflict(text("Ganti kata sandi Anda sendiri lewat /me/password (yang menanyakan "
                            "kata sandi sekarang).",
                            "Change your own password with /me/password (which asks for the "
                            "current one)."))
    check_password(password, field)
    if actor.username is None:
        raise Conflict(text("Aktor ini tidak punya nama pengguna, jadi tidak masuk dengan kata "
                            "sandi; beri ia token.",
                            "This actor has no username, so it does not sign in with a "
                            "password; issue it a token."))
    actor.password_hash = hash_password(password)
    revoke_all(session, actor, now, keep=keep_token)
    audit.record(session, now, "actor.password_set", by, target=actor_label(actor),
                 detail={"actor_id": actor.id})


def set_disabled(session, actor, disabled, now, by=None, reason=None):
    """Disable an actor (every token of it ends: enabling it again does not bring them back),
    or enable it."""
    if by is not None and by.get("id") == actor.id and disabled:
        raise Conflict(text("Anda tidak dapat menonaktifkan diri sendiri.",
                            "You cannot disable yourself."))
    if (actor.disabled_at is not None) == disabled:
        return
    actor.disabled_at = now if disabled else None
    if disabled:
        revoke_all(session, actor, now)
    audit.record(session, now, "actor.disabled" if disabled else "actor.enabled", by,
                 target=actor_label(actor), detail={"actor_id": actor.id, "reason": reason})
    announce(session, actor)


# -- reading a token -----------------------------------------------------------------------------

def principal(connection, token, now):
    """The principal a bearer token stands for, or None (unknown, wrong, revoked, expired, or
    its actor disabled). Every request asks: one prebuilt statement, no ORM."""
    match = TOKEN.fullmatch(token or "")
    if not match:
        return None
    token_id, secret = match.groups()
    row = connection.execute(BEARER, {"token_id": token_id}).first()
    if row is None:
        return None
    if (row.revoked_at is not None or row.disabled_at is not None
            or (row.expires_at is not None and row.expires_at <= now)
            or not hmac.compare_digest(row.secret_hash, digest(secret))):
        return None
    return Principal(row.actor_id, row.role, row.scope, row.name, row.regency_code, token_id)


BEARER = (select(Token.secret_hash, Token.revoked_at, Token.expires_at, Actor.id.label("actor_id"),
                 Actor.role, Actor.scope, Actor.name, Actor.regency_code, Actor.disabled_at)
          .join(Actor, Token.actor_id == Actor.id).where(Token.id == bindparam("token_id")))


def principal_of(actor, token):
    return Principal(actor.id, actor.role, actor.scope, actor.name, actor.regency_code, token.id)


# -- views -----------------------------------------------------------------------------------------

def actor_label(actor):
    return f"{actor.role}:{actor.scope or '*'} {actor.name}"


def actor_view(actor):
    return {"id": actor.id, "role": actor.role, "scope": actor.scope, "name": actor.name,
            "regency": actor.regency_code, "username": actor.username,
            "created_at": iso(actor.created_at), "disabled_at": iso(actor.disabled_at),
            "channels": channels_view(actor)}


def token_view(token):
    return {"id": token.id, "kind": token.kind, "label": token.label,
            "created_at": iso(token.created_at), "expires_at": iso(token.expires_at),
            "revoked_at": iso(token.revoked_at)}


@lru_cache(maxsize=1)
def dummy_hash():
    """A hash of nothing anyone knows, made once, on the first sign-in that needs it."""
    return passwords.hash(secrets.token_hex(16))
