"""Two-factor sign-in: TOTP (RFC 6238) codes from an authenticator app, and one-time recovery codes."""

from __future__ import annotations

import hashlib
import secrets
import time

import pyotp
from flask import current_app
from sqlalchemy import or_, update

from registry.accounts.models import RecoveryCode, User
from registry.audit import service as audit
from registry.db import db, utcnow

ISSUER = "Smart City Solution Registry"
RECOVERY_CODES = 10
STEP_SECONDS = 30


def required(user: User) -> bool:
    """Whether this user may do nothing else before enrolling (reviewers and admins, by default)."""
    return user.is_staff and not user.has_two_factor and bool(current_app.config["REQUIRE_2FA_FOR_STAFF"])


def pending_secret(user: User) -> str:
    """The secret being enrolled: made once and kept until confirmed, so a reload shows the same one."""
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32(32)
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    """The otpauth:// URI of the pending secret (kept when the request commits, so a reload shows the same one)."""
    return pyotp.TOTP(pending_secret(user)).provisioning_uri(name=user.username, issuer_name=ISSUER)


def confirm(user: User, code: str) -> list[str] | None:
    """Switch two-factor on if `code` matches the pending secret; the new recovery codes, shown once."""
    if user.has_two_factor or not _accept_totp(user, code):
        return None
    user.totp_confirmed_at = utcnow()
    codes = _new_recovery_codes(user)
    audit.record("user.two_factor_enable", actor=user, details={"username": user.username})
    return codes


def verify(user: User, code: str) -> bool:
    """A second factor at sign-in: a fresh TOTP code, or an unused recovery code (then spent)."""
    code = "".join((code or "").split()).replace("-", "").lower()
    if code.isdigit() and len(code) == 6:
        return _accept_totp(user, code)
    return _spend_recovery_code(user, code)


def _accept_totp(user: User, code: str) -> bool:
    """Accept a code of the current time-step or a neighbour (clock drift), newer than the last one used.

    The last step is moved forward by one conditional UPDATE, so two workers racing with the same code
    cannot both succeed, and a code seen by an onlooker cannot be used again.
    """
    if not user.totp_secret or not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now = int(time.time()) // STEP_SECONDS
    for step in (now - 1, now, now + 1):
        if secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
            moved = db.session.execute(update(User).where(
                User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
                .values(totp_last_step=step).execution_options(synchronize_session=False))
            db.session.refresh(user, ["totp_last_step"])
            return moved.rowcount == 1
    return False


def _hash_code(code: str) -> str:
    # Recovery codes carry 64 random bits, so a fast hash is enough (no KDF needed), like API tokens.
    return hashlib.sha256(code.encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    for old in list(user.recovery_codes):
        db.session.delete(old)
    codes = [secrets.token_hex(8) for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user=user, code_hash=_hash_code(c)) for c in codes)
    db.session.flush()
    return ["-".join(c[i:i + 4] for i in range(0, 16, 4)) for c in codes]


def _spend_recovery_code(user: User, code: str) -> bool:
    if len(code) != 16:
        return False
    spent = db.session.execute(update(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash_code(code), RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    if spent.rowcount != 1:
        return False
    audit.record("user.recovery_code_used", actor=user, details={"username": user.username})
    return True
