"""Accounts: people, organizations, memberships, API tokens and signing keys."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from registry.accounts.models import (
    ApiToken,
    MemberRole,
    Membership,
    Organization,
    OrgKind,
    SigningKey,
    SiteRole,
    TokenScope,
    User,
)
from registry.audit import service as audit
from registry.db import db, utcnow, write_apart
from registry.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from registry.spec.vocabulary import PROVINCES
from registry.transparency import service as transparency

TOKEN_PREFIX = "solreg_"
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,62}$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10


# --- people and organizations -------------------------------------------------------------

def create_user(username: str, email: str, password: str, role: str | None = None) -> User:
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise InvalidInput("username must be 2-63 characters: a-z, 0-9, '.', '_' or '-'", field="username")
    if not EMAIL_RE.match(email or ""):
        raise InvalidInput(f"{email!r} is not an e-mail address", field="email")
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD} characters", field="password")
    if role is not None and role not in tuple(SiteRole):
        raise InvalidInput(f"unknown role {role!r}; choose one of {', '.join(SiteRole)}", field="role")
    if db.session.scalar(select(User).where(User.username == username)):
        raise Conflict(f"username {username!r} is taken", field="username")
    if db.session.scalar(select(User).where(func.lower(User.email) == email.lower())):
        raise Conflict(f"e-mail {email!r} already belongs to an account", field="email")
    user = User(username=username, email=email, site_role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", actor=user, details={"username": username, "role": role})
    return user


def create_org(slug: str, name: str, kind: str, province: str | None = None) -> Organization:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise InvalidInput("org slug must be 2-63 characters: a-z, 0-9 or '-'", field="slug")
    if kind not in tuple(OrgKind):
        raise InvalidInput(f"unknown kind {kind!r}; choose one of {', '.join(OrgKind)}", field="kind")
    if not name.strip():
        raise InvalidInput("an organization needs a name", field="name")
    if province is not None and province not in PROVINCES:
        raise InvalidInput(f"unknown province {province!r}; choose one of {', '.join(PROVINCES)}", field="province")
    if db.session.scalar(select(Organization).where(Organization.slug == slug)):
        raise Conflict(f"organization {slug!r} already exists", field="slug")
    if db.session.scalar(select(Organization).where(Organization.name == name.strip())):
        raise Conflict(f"an organization named {name!r} already exists", field="name")
    org = Organization(slug=slug, name=name.strip(), kind=kind, province=province)
    db.session.add(org)
    db.session.flush()
    audit.record("org.create", org_id=org.id, details={"slug": slug, "kind": kind, "province": province})
    return org


def add_member(org: Organization, user: User, role: str = MemberRole.MEMBER) -> Membership:
    if role not in tuple(MemberRole):
        raise InvalidInput(f"unknown role {role!r}; choose one of {', '.join(MemberRole)}", field="role")
    existing = db.session.scalar(select(Membership).where(Membership.org_id == org.id, Membership.user_id == user.id))
    if existing:
        raise Conflict(f"{user.username} is already a member of {org.slug}", field="username")
    membership = Membership(org=org, user=user, role=role)
    db.session.add(membership)
    db.session.flush()
    audit.record("org.member_add", org_id=org.id, details={"username": user.username, "role": role})
    return membership


def get_user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(f"no user {username!r}", field="username")
    return user


def get_org(slug: str) -> Organization:
    org = db.session.scalar(select(Organization).where(Organization.slug == slug.strip().lower()))
    if org is None:
        raise NotFound(f"no organization {slug!r}", field="org")
    return org


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == (username or "").strip().lower()))
    if user is None:
        # Spend the same time as a real check so timing does not reveal which usernames exist.
        check_password_hash(_dummy_hash(), password or "")
        return None
    return user if user.check_password(password or "") else None


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: the user whose id *and* session generation match the cookie's."""
    user_id, _, generation = (session_id or "").partition(":")
    if not (user_id.isdigit() and generation.isdigit() and len(user_id) < 19):
        return None  # also every cookie from before generations existed
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.get_id() == session_id else None


@cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))


# --- API tokens --------------------------------------------------------------------------

# Who may hold which scope: the organisations that make software publish and yank it, the cities
# that use it record adoptions, and only the site's reviewers (a role, not an org kind) review.
SCOPES_BY_ORG_KIND = {
    OrgKind.VENDOR: {TokenScope.PUBLISH, TokenScope.YANK, TokenScope.READ},
    OrgKind.AGENCY: {TokenScope.PUBLISH, TokenScope.YANK, TokenScope.READ},
    OrgKind.MUNICIPALITY: {TokenScope.ADOPT, TokenScope.READ},
}


def allowed_scopes(user: User, org: Organization) -> list[str]:
    """The scopes `user` may hold for `org` now, in TokenScope order; none unless a member."""
    if not user.member_of(org.id):
        return []
    allowed = SCOPES_BY_ORG_KIND[org.kind] | ({TokenScope.REVIEW} if user.is_reviewer else set())
    return [scope.value for scope in TokenScope if scope in allowed]


def token_grants(token: ApiToken, scope: str) -> bool:
    """Whether the token carries `scope` and its owner's role still allows it (checked at every use)."""
    return scope in token.scopes and scope in allowed_scopes(token.user, token.org)


def _hash_token(raw: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is enough (no KDF needed).
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class IssuedToken:
    token: ApiToken
    raw: str


def issue_token(user: User, org: Organization, scopes: list[str], *, name: str = "",
                solution: str | None = None, expires_days: int | None = None) -> IssuedToken:
    scopes = sorted(set(scopes))
    if not scopes:
        raise InvalidInput("a token needs at least one scope", field="scopes")
    unknown = [s for s in scopes if s not in tuple(TokenScope)]
    if unknown:
        raise InvalidInput(f"unknown scope {unknown[0]!r}; choose from {', '.join(TokenScope)}", field="scopes")
    if not user.member_of(org.id):
        raise Forbidden(f"{user.username} is not a member of {org.slug}", field="org")
    refused = [s for s in scopes if s not in allowed_scopes(user, org)]
    if refused:
        raise Forbidden(f"{user.username} may not hold the {refused[0]!r} scope for the {org.kind} {org.slug}; "
                        f"allowed: {', '.join(allowed_scopes(user, org))}", field="scopes")
    if expires_days is not None and expires_days <= 0:
        raise InvalidInput("expiry must be a positive number of days", field="expires_days")
    from registry.spec.names import normalize_name

    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, org=org, scopes=scopes, name=name,
        solution_name=normalize_name(solution) if solution else None,
        prefix=raw[: len(TOKEN_PREFIX) + 6], token_hash=_hash_token(raw),
        expires_at=utcnow() + timedelta(days=expires_days) if expires_days else None,
    )
    db.session.add(token)
    db.session.flush()
    audit.record("token.create", actor=user, org_id=org.id,
                 details={"token": token.prefix, "scopes": scopes, "solution": token.solution_name})
    return IssuedToken(token, raw)


def revoke_token(token: ApiToken, actor: User) -> None:
    if token.user_id != actor.id and not actor.is_admin:
        raise Forbidden("you can only revoke your own tokens")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record("token.revoke", actor=actor, org_id=token.org_id, details={"token": token.prefix})


def token_from_header(header: str | None) -> ApiToken:
    """Resolve `Authorization: Bearer solreg_...` to an active token, or raise 401."""
    if not header:
        raise Unauthorized("missing API token; send 'Authorization: Bearer solreg_...'")
    scheme, _, raw = header.partition(" ")
    raw = raw.strip()
    if scheme.lower() != "bearer" or not raw.startswith(TOKEN_PREFIX):
        raise Unauthorized("malformed Authorization header; expected 'Bearer solreg_...'")
    digest = _hash_token(raw)
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    # compare_digest keeps the final comparison constant-time even though the lookup is by hash.
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        raise Unauthorized("unknown API token; create one on your account page")
    now = utcnow()
    if token.revoked_at is not None:
        raise Unauthorized("this API token was revoked; create a new one")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthorized("this API token has expired; create a new one")
    _record_use(token, now)
    return token


LAST_USE_PRECISION = timedelta(minutes=1)


def _record_use(token: ApiToken, now: datetime) -> None:
    """Note the token's use, at most once a minute, in a tiny transaction of its own that commits at once.

    Set on the session's object it would be flushed with the request's first query and keep the
    database write-locked for the whole request, a long upload included.
    """
    if token.last_used_at is not None and now - token.last_used_at < LAST_USE_PRECISION:
        return
    write_apart(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
    set_committed_value(token, "last_used_at", now)  # what the row now holds, without a second write


def require_scope(token: ApiToken, scope: str, *, org_id: int | None = None, solution: str | None = None) -> None:
    if scope not in token.scopes:
        raise Forbidden(f"this token lacks the {scope!r} scope; create a token with it on your account page (/account)", field="scope")
    if not token.user.member_of(token.org_id):
        raise Forbidden("the token's owner is no longer a member of its organization")
    if not token_grants(token, scope):
        raise Forbidden(f"{token.user.username}'s role no longer allows the {scope!r} scope for {token.org.slug}",
                        field="scopes")
    if org_id is not None and token.org_id != org_id:
        raise Forbidden("this token belongs to another organization than the one that owns this solution",
                        field="token")
    if solution is not None and token.solution_name is not None:
        from registry.spec.names import normalize_name

        if normalize_name(solution) != token.solution_name:
            raise Forbidden(f"this token is limited to the solution {token.solution_name!r}", field="token")


# --- signing keys ------------------------------------------------------------------------

def register_signing_key(user: User, public_key_pem: str, name: str = "") -> SigningKey:
    from registry.spec.provenance import SignatureError, key_id, load_public_key_pem

    try:
        public_key = load_public_key_pem(public_key_pem)
    except SignatureError as exc:
        raise InvalidInput(f"not an Ed25519 public key in PEM form: {exc}", field="public_key") from exc
    keyid = key_id(public_key)
    if db.session.scalar(select(SigningKey).where(SigningKey.keyid == keyid)):
        raise Conflict(f"key {keyid[:16]}… is already registered", field="public_key")
    key = SigningKey(user=user, keyid=keyid, name=name or f"key {keyid[:8]}", public_key_pem=public_key_pem.strip() + "\n")
    db.session.add(key)
    db.session.flush()
    audit.record("key.register", actor=user, details={"keyid": keyid, "name": key.name})
    transparency.key_registered(key)
    return key


def revoke_signing_key(key: SigningKey, actor: User) -> None:
    if key.user_id != actor.id and not actor.is_admin:
        raise Forbidden("you can only revoke your own keys")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record("key.revoke", actor=actor, details={"keyid": key.keyid})
        transparency.key_revoked(key)


def end_sessions(user: User) -> None:
    """Sign out everywhere: every cookie issued so far stops working, copies included."""
    user.end_sessions()


def org_signing_keys(org: Organization) -> list[SigningKey]:
    member_ids = [m.user_id for m in org.memberships]
    return list(db.session.scalars(select(SigningKey).where(SigningKey.user_id.in_(member_ids)).order_by(SigningKey.id)))


def require_member(user: User | None, org: Organization, *, owner: bool = False) -> User:
    if user is None or not getattr(user, "is_authenticated", False) or not user.member_of(org.id):
        raise Forbidden(f"only members of {org.name} can do this")
    if owner and not any(m.org_id == org.id and m.role == MemberRole.OWNER for m in user.memberships):
        raise Forbidden(f"only owners of {org.name} can do this")
    return user
