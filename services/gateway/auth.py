"""Actors and their bearer tokens. A token is shown once; only its argon2 hash is kept.

A token reads `jbt_<token id>_<secret>`: the id finds the row, the secret is verified against
the hash. Verified tokens are remembered briefly so that argon2 runs once, not per request.
"""
import re
import secrets
import time
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from services.gateway.models import Actor, Token
from shared.events import utcnow

ROLES = ("village", "agency", "coordinator", "regency", "admin")
SCOPE_PATTERNS = {  # what a scope looks like for each role
    "village": r"\d{2}\.\d{2}\.\d{2}\.\d{4}",
    "coordinator": r"\d{2}\.\d{2}\.\d{2}",
    "regency": r"\d{2}\.\d{2}",
    "agency": r"[a-z0-9][a-z0-9-]{1,63}",
}
TOKEN_PATTERN = re.compile(r"jbt_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})")
CACHE_SECONDS = 60

# Tokens carry 256 random bits: a light argon2 setting is plenty and keeps requests fast.
hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


@dataclass(frozen=True)
class Principal:
    id: str
    role: str
    scope: str | None
    name: str

    def as_dict(self):
        return {"id": self.id, "role": self.role, "scope": self.scope, "name": self.name}


def scope_problem(role, scope):
    """Why a (role, scope) pair is not valid, or None."""
    if role not in ROLES:
        return f"role must be one of {', '.join(ROLES)}"
    if role == "admin":
        return None if not scope else "an admin has no scope"
    if not scope or not re.fullmatch(SCOPE_PATTERNS[role], scope):
        return f"a {role} scope looks like {SCOPE_PATTERNS[role]}"
    return None


def create_actor(session, role, scope, name):
    """A new actor and its first token (the only time the token is seen)."""
    problem = scope_problem(role, scope)
    if problem:
        raise ValueError(problem)
    actor = Actor(id=str(uuid.uuid4()), role=role, scope=scope or None, name=name,
                  created_at=utcnow())
    session.add(actor)
    session.flush()
    return actor, issue_token(session, actor)


def issue_token(session, actor):
    token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    session.add(Token(id=token_id, actor_id=actor.id, secret_hash=hasher.hash(secret),
                      created_at=utcnow()))
    return f"jbt_{token_id}_{secret}"


class Authenticator:
    def __init__(self, sessions):
        self.sessions = sessions
        self._cache = {}

    def principal(self, token):
        """The actor a bearer token belongs to, or None."""
        match = TOKEN_PATTERN.fullmatch(token or "")
        if not match:
            return None
        cached = self._cache.get(token)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        token_id, secret = match.groups()
        with self.sessions() as session:
            row = session.execute(
                select(Token, Actor).join(Actor, Token.actor_id == Actor.id)
                .where(Token.id == token_id, Token.revoked_at.is_(None))).first()
        if row is None:
            return None
        stored, actor = row
        try:
            hasher.verify(stored.secret_hash, secret)
        except (VerificationError, InvalidHashError):
            return None
        principal = Principal(actor.id, actor.role, actor.scope, actor.name)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[token] = (principal, time.monotonic() + CACHE_SECONDS)
        return principal
