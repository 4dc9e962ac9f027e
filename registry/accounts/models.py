"""Organizations, people, their memberships, and the credentials they hold."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from registry.db import db, one_of, utcnow
from registry.spec.vocabulary import PROVINCES


class OrgKind(StrEnum):
    VENDOR = "vendor"
    MUNICIPALITY = "municipality"
    AGENCY = "agency"


class SiteRole(StrEnum):
    ADMIN = "admin"
    REVIEWER = "reviewer"


class MemberRole(StrEnum):
    OWNER = "owner"
    MEMBER = "member"


class TokenScope(StrEnum):
    """Stored as a JSON list on the token, which no CHECK can look into: issue_token validates them."""

    PUBLISH = "publish"
    YANK = "yank"
    REVIEW = "review"
    ADOPT = "adopt"
    READ = "read"


class Organization(db.Model):
    __tablename__ = "organizations"
    __table_args__ = (one_of("kind", OrgKind),
                      CheckConstraint(f"province IN ({', '.join(repr(p) for p in PROVINCES)})", name="province"))

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    # One of the 17 시·도 (registry.spec.vocabulary.Province); None: not recorded, counted as unknown.
    province: Mapped[str | None] = mapped_column(String(24))
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(128))
    webhook_disabled_at: Mapped[datetime | None]  # set by the worker after days of failed deliveries
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="org", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Organization {self.slug}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (one_of("site_role", SiteRole),)  # NULL: no site role

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    site_role: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Part of the id kept in session and remember cookies; raising it voids every cookie issued before.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # Two-factor: the TOTP secret (set at enrolment, in force once confirmed) and the last time-step
    # accepted, so a code cannot be used twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def set_password(self, password: str) -> None:
        # werkzeug's default is scrypt, a memory-hard KDF.
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        self.session_generation = (self.session_generation or 0) + 1

    def get_id(self) -> str:
        return f"{self.id}:{self.session_generation or 0}"

    @property
    def has_two_factor(self) -> bool:
        return self.totp_confirmed_at is not None

    @property
    def is_staff(self) -> bool:
        """Reviewers and admins: the people who must use two-factor sign-in."""
        return self.site_role in tuple(SiteRole)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_admin(self) -> bool:
        return self.site_role == SiteRole.ADMIN

    @property
    def is_reviewer(self) -> bool:
        return self.site_role in (SiteRole.REVIEWER, SiteRole.ADMIN)

    @property
    def orgs(self) -> list[Organization]:
        return [m.org for m in self.memberships]

    def member_of(self, org_id: int | None) -> bool:
        return org_id is not None and any(m.org_id == org_id for m in self.memberships)

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "org_id"), one_of("role", MemberRole))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16), default=MemberRole.MEMBER.value)

    user: Mapped[User] = relationship(back_populates="memberships")
    org: Mapped[Organization] = relationship(back_populates="memberships")


class RecoveryCode(db.Model):
    """A one-time code that stands in for a TOTP code; only its hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="recovery_codes")


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    # Bound by normalised name: a token may be made for a solution before its first upload.
    solution_name: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    org: Mapped[Organization] = relationship()

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class SigningKey(db.Model):
    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    keyid: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    public_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
