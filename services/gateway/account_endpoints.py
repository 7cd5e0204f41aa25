"""The API of accounts: signing in and out, one's own account, the actors an admin (everywhere)
or a regency office (its own regency) manages, their tokens, and the audit log.

The rules are in services/gateway/accounts.py (shared with the command line); who may manage
whom is shared/policy.py's `manages_actor`.
"""
from datetime import timedelta

from nameko.extensions import DependencyProvider
from sqlalchemy import or_, select

from services.gateway import accounts, audit, limits, schemas
from services.gateway.http import (
    Gatekeeper, TooManyRequests, Unauthorized, api, read_json, read_query,
)
from services.gateway.models import Actor, Token
from shared import config, paging, policy
from shared.errors import Forbidden, NotFound
from shared.events import iso, utcnow
from shared.i18n import text


class Accounts(DependencyProvider):
    """The gateway's own database, for the endpoints of accounts."""

    gatekeeper = Gatekeeper()

    def get_dependency(self, worker_ctx):
        return self.gatekeeper.store


def actor_not_found():
    return NotFound(text("Aktor tidak ditemukan.", "Actor not found."))


def managed_actor(session, manager, actor_id):
    """The actor `manager` may manage, or 404."""
    actor = session.get(Actor, actor_id)
    if actor is None or not policy.manages_actor(manager, actor.regency_code, actor.role):
        raise actor_not_found()
    return actor


def scope_not_found():
    """A scope that does not exist, or outside the area the caller manages."""
    return NotFound(text("Cakupan tidak ditemukan di wilayah yang Anda kelola.",
                         "No such scope in the area you manage."),
                    {"scope": [text("Tidak ditemukan.", "Not found.")]})


def by(actor, request):
    return {**actor, "address": request.remote_addr}


class AccountEndpoints:
    store = Accounts()

    # -- signing in and out ----------------------------------------------------------------------

    @api("POST", "/auth/login", "auth.login", "Sign in with a username and password",
         body=schemas.LoginInput, answers={200: schemas.LoginOut, 401: schemas.Error,
                                           429: schemas.Error})
    def login(self, request, actor):
        body = read_json(request, schemas.LoginInput)
        token, secret, account = self.sign_in(request, body["username"], body["password"])
        return {"token": secret, "token_id": token.id, "expires_at": iso(token.expires_at),
                "actor": accounts.actor_view(account)}

    def sign_in(self, request, username, password):
        """A new session for the person whose password this is: (token row, token, actor);
        else 401 (or 429 after too many failures). The API and the web app sign in here."""
        account = self._password_checked(request, username, password, "auth.login_refused")
        if account is None or account.disabled_at is not None:
            raise Unauthorized(text("Nama pengguna atau kata sandi salah.",
                                    "Wrong username or password."))
        with self.store.transaction() as unit:
            account = unit.session.get(Actor, account.id)
            token, secret = accounts.open_session(unit.session, account, utcnow(),
                                                  timedelta(hours=config.session_hours()))
        return token, secret, account

    def _password_checked(self, request, username, password, refusal):
        """The person whose password this is, else None (the refusal audited); too many
        failures for the username or the address before it: 429 (limits.py)."""
        now, address = utcnow(), request.remote_addr
        with self.store.transaction() as unit:
            wait = limits.reserve_attempt(unit.session, username, address, now)
            if wait:
                audit.record(unit.session, now, "auth.login_throttled", address=address,
                             target=username[:100])
        if wait:
            raise TooManyRequests(wait, text(
                f"Terlalu banyak percobaan masuk yang gagal; coba lagi dalam {wait} detik.",
                f"Too many failed sign-ins; try again in {wait} seconds."))
        with self.store.read() as session:
            account = accounts.person(session, username)
        matched = accounts.password_matches(account, password)
        with self.store.transaction() as unit:
            if matched:
                limits.attempt_succeeded(unit.session, username, address)
            else:
                audit.record(unit.session, utcnow(), refusal, address=address,
                             target=username[:100])
        return account if matched else None

    @api("POST", "/auth/logout", "auth.logout", "Sign out: the token used is revoked",
         answers={204: None})
    def logout(self, request, actor):
        self.sign_out(request, actor)
        return 204, None

    def sign_out(self, request, actor):
        """Revoke the token the caller used (the API's, or the web app's session)."""
        with self.store.transaction() as unit:
            accounts.revoke(unit.session, unit.session.get(Token, request.token_id), utcnow(),
                            by=by(actor, request), action="auth.logout")

    @api("GET", "/me", "me.read", "Who the caller is, and the token it uses",
         answers={200: schemas.MeOut})
    def me(self, request, actor):
        with self.store.read() as session:
            account = session.get(Actor, actor["id"])
            token = session.get(Token, request.token_id)
            return {**accounts.actor_view(account), "token": accounts.token_view(token)}

    @api("POST", "/me/password", "me.password",
         "Change one's own password (other sessions are signed out)",
         body=schemas.OwnPasswordInput, answers={204: None})
    def change_own_password(self, request, actor):
        body = read_json(request, schemas.OwnPasswordInput)
        with self.store.read() as session:
            username = session.get(Actor, actor["id"]).username
        if username is None or self._password_checked(
                request, username, body["current_password"], "auth.password_refused") is None:
            raise Forbidden(text("Kata sandi sekarang salah.", "The current password is wrong."),
                            {"current_password": [text("Salah.", "Wrong.")]})
        with self.store.transaction() as unit:
            accounts.set_password(unit.session, unit.session.get(Actor, actor["id"]),
                                  body["new_password"], utcnow(), by=by(actor, request),
                                  keep_token=request.token_id, field="new_password")
        return 204, None

    @api("PUT", "/me/channels", "me.channels",
         "How the caller is reached outside the app: email, phone (SMS), WhatsApp, language",
         body=schemas.ChannelsInput, answers={200: schemas.ChannelsOut})
    def set_own_channels(self, request, actor):
        return self.set_channels(request, actor, actor["id"],
                                 read_json(request, schemas.ChannelsInput), own=True)

    def set_channels(self, request, actor, actor_id, body, own=False):
        """Set the channels of the caller (`own`) or of an actor it manages."""
        with self.store.transaction() as unit:
            account = (unit.session.get(Actor, actor_id) if own
                       else managed_actor(unit.session, actor, actor_id))
            accounts.set_channels(unit.session, account, body, utcnow(), by=by(actor, request))
            return accounts.channels_view(account)

    # -- actors ----------------------------------------------------------------------------------

    @api("GET", "/actors", "actors.list", "The actors the caller manages",
         query=schemas.ActorQuery, answers={200: schemas.ActorList})
    def list_actors(self, request, actor):
        return self.actors_of(actor, read_query(request, schemas.ActorQuery))

    def actors_of(self, actor, query):
        """One page of the actors `actor` manages (schemas.ActorQuery)."""
        conditions = [policy.actors_managed(actor, Actor)]
        for name in ("role", "scope"):
            if query.get(name):
                conditions.append(getattr(Actor, name) == query[name])
        if query.get("q"):
            conditions.append(or_(Actor.name.icontains(query["q"], autoescape=True),
                                  Actor.username.icontains(query["q"], autoescape=True)))
        if query.get("disabled") is not None:
            conditions.append(Actor.disabled_at.is_not(None) if query["disabled"]
                              else Actor.disabled_at.is_(None))
        rows = select(Actor).where(*conditions).order_by(Actor.role, Actor.scope, Actor.name,
                                                         Actor.id)
        with self.store.read() as session:
            return paging.read_page(session, query, rows, accounts.actor_view)

    @api("POST", "/actors", "actors.create",
         "A new actor: a person (with a username; then set its password) or a system (then "
         "issue it a token)", body=schemas.ActorInput,
         answers={201: schemas.ActorOut, 404: schemas.Error})
    def create_actor(self, request, actor):
        return 201, self.add_actor(request, actor, read_json(request, schemas.ActorInput))

    def add_actor(self, request, actor, body):
        """A new actor (schemas.ActorInput), made by `actor`."""
        role, scope = body["role"], body.get("scope")
        regency = self._regency_of(role, scope)
        if not policy.manages_actor(actor, regency, role):
            raise scope_not_found()
        with self.store.transaction() as unit:
            created = accounts.create_actor(unit.session, role, scope, body["name"], regency,
                                            utcnow(), by=by(actor, request),
                                            username=body.get("username"))
            if body.get("channels"):
                accounts.set_channels(unit.session, created, body["channels"], utcnow(),
                                      by=by(actor, request))
            return accounts.actor_view(created)

    def _regency_of(self, role, scope):
        """The regency of a new actor's scope, asked of the service that knows it; 404 for a
        scope that does not exist."""
        accounts.check_scope(role, scope)
        if role == policy.ADMIN:
            return None
        try:
            if role == policy.AGENCY:
                return self.routing.agency(scope)["regency"]["code"]
            return self.villages.place(scope, role)["regency"]["code"]
        except NotFound:
            raise scope_not_found() from None

    @api("GET", "/actors/<actor_id>", "actors.read", "One actor, with its tokens",
         answers={200: schemas.ActorDetail})
    def get_actor(self, request, actor, actor_id):
        return self.actor_detail(actor, actor_id)

    def actor_detail(self, actor, actor_id):
        with self.store.read() as session:
            account = managed_actor(session, actor, actor_id)
            tokens = session.scalars(select(Token).where(Token.actor_id == account.id)
                                     .order_by(Token.created_at.desc())).all()
            return {**accounts.actor_view(account),
                    "tokens": [accounts.token_view(token) for token in tokens]}

    def _set_disabled(self, request, actor, actor_id, disabled):
        body = read_json(request, schemas.DisableInput, optional=True)
        return self.set_disabled(request, actor, actor_id, disabled, body)

    def set_disabled(self, request, actor, actor_id, disabled, body):
        """Disable or enable an actor `actor` manages (schemas.DisableInput)."""
        with self.store.transaction() as unit:
            account = managed_actor(unit.session, actor, actor_id)
            accounts.set_disabled(unit.session, account, disabled, utcnow(),
                                  by=by(actor, request), reason=body.get("reason"))
            return accounts.actor_view(account)

    @api("POST", "/actors/<actor_id>/disable", "actors.disable",
         "Disable an actor: every one of its tokens is refused at once",
         body=schemas.DisableInput, body_optional=True, answers={200: schemas.ActorOut})
    def disable_actor(self, request, actor, actor_id):
        return self._set_disabled(request, actor, actor_id, True)

    @api("POST", "/actors/<actor_id>/enable", "actors.enable", "Enable a disabled actor again",
         body=schemas.DisableInput, body_optional=True, answers={200: schemas.ActorOut})
    def enable_actor(self, request, actor, actor_id):
        return self._set_disabled(request, actor, actor_id, False)

    @api("POST", "/actors/<actor_id>/password", "actors.password",
         "Set an actor's password (its sessions are signed out)", body=schemas.PasswordInput,
         answers={204: None})
    def reset_password(self, request, actor, actor_id):
        self.set_actor_password(request, actor, actor_id,
                                read_json(request, schemas.PasswordInput))
        return 204, None

    def set_actor_password(self, request, actor, actor_id, body):
        """Set the password of an actor `actor` manages (schemas.PasswordInput)."""
        with self.store.transaction() as unit:
            account = managed_actor(unit.session, actor, actor_id)
            accounts.set_password(unit.session, account, body["password"], utcnow(),
                                  by=by(actor, request))

    @api("PUT", "/actors/<actor_id>/channels", "actors.channels",
         "How an actor is reached outside the app", body=schemas.ChannelsInput,
         answers={200: schemas.ChannelsOut})
    def set_actor_channels(self, request, actor, actor_id):
        return self.set_channels(request, actor, actor_id,
                                 read_json(request, schemas.ChannelsInput))

    @api("POST", "/actors/<actor_id>/tokens", "actors.token",
         "Issue an API token to an actor (shown once)", body=schemas.TokenInput,
         body_optional=True, answers={201: schemas.IssuedToken})
    def issue_token(self, request, actor, actor_id):
        body = read_json(request, schemas.TokenInput, optional=True)
        now = utcnow()
        days = body.get("expires_in_days")
        with self.store.transaction() as unit:
            account = managed_actor(unit.session, actor, actor_id)
            token, secret = accounts.issue_token(
                unit.session, account, now, label=body.get("label"),
                expires_at=now + timedelta(days=days) if days else None, by=by(actor, request))
            return 201, {**accounts.token_view(token), "token": secret}

    @api("DELETE", "/tokens/<token_id>", "tokens.revoke",
         "Revoke a token: it is refused at once", answers={204: None})
    def revoke_token(self, request, actor, token_id):
        with self.store.transaction() as unit:
            token = unit.session.get(Token, token_id)
            owner = token and unit.session.get(Actor, token.actor_id)
            if owner is None or not policy.manages_actor(actor, owner.regency_code, owner.role):
                raise NotFound(text("Token tidak ditemukan.", "Token not found."))
            accounts.revoke(unit.session, token, utcnow(), by=by(actor, request))
        return 204, None

    # -- audit -----------------------------------------------------------------------------------

    @api("GET", "/audit", "audit.list", "The audit log, newest first", query=schemas.AuditQuery,
         answers={200: schemas.AuditList})
    def audit_log(self, request, actor):
        query = read_query(request, schemas.AuditQuery)
        with self.store.read() as session:
            return paging.read_page(session, query, audit.entries(query), audit.entry_view)
