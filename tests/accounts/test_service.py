from datetime import timedelta

import pytest
from sqlalchemy import func, select

from registry.accounts import service
from registry.accounts.models import ApiToken, User
from registry.db import db, utcnow
from registry.errors import Conflict, Forbidden, InvalidInput, Unauthorized


def test_password_is_stored_with_a_modern_kdf(app, make_user):
    user = make_user("kim")
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:sha256:"))
    assert "correct-horse-1" not in user.password_hash
    assert user.check_password("correct-horse-1")
    assert not user.check_password("wrong")


@pytest.mark.parametrize("username,email,password,role,field", [
    ("Bad Name!", "a@b.kr", "long-enough-pw", None, "username"),
    ("lee", "not-an-email", "long-enough-pw", None, "email"),
    ("lee", "a@b.kr", "short", None, "password"),
    ("lee", "a@b.kr", "long-enough-pw", "superuser", "role"),
])
def test_bad_user_input_is_refused_and_leaves_nothing(app, username, email, password, role, field):
    with pytest.raises(InvalidInput) as exc:
        service.create_user(username, email, password, role)
    assert exc.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_duplicate_username_and_org(app, make_user):
    make_user("park", org="hanbit")
    with pytest.raises(Conflict, match="taken"):
        service.create_user("PARK", "other@example.org", "long-enough-pw")
    db.session.rollback()
    with pytest.raises(Conflict, match="already exists"):
        service.create_org("hanbit", "Another", "vendor")
    db.session.rollback()
    with pytest.raises(InvalidInput, match="unknown kind"):
        service.create_org("newco", "New Co", "company")


def test_token_is_random_prefixed_and_stored_only_as_hash(app, make_user, make_token):
    user = make_user(org="hanbit")
    raw = make_token(user, "hanbit", ["publish", "read"])
    assert raw.startswith("solreg_") and len(raw) > 40
    token = db.session.scalar(select(ApiToken))
    assert raw not in (token.token_hash, token.prefix)
    assert raw.startswith(token.prefix)
    assert service.token_from_header(f"Bearer {raw}").id == token.id
    assert token.last_used_at is not None


def test_expired_and_revoked_tokens_are_refused(app, make_user, make_token):
    user = make_user(org="hanbit")
    raw = make_token(user, "hanbit")
    token = db.session.scalar(select(ApiToken))
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(Unauthorized, match="expired"):
        service.token_from_header(f"Bearer {raw}")
    token.expires_at = None
    service.revoke_token(token, user)
    db.session.commit()
    db.session.commit()
    with pytest.raises(Unauthorized, match="revoked"):
        service.token_from_header(f"Bearer {raw}")


def test_token_for_an_org_the_user_is_not_in_is_refused(app, make_user):
    make_user("ann", org="hanbit")
    outsider = make_user("bob", org="other")
    with pytest.raises(Forbidden):
        service.issue_token(outsider, service.get_org("hanbit"), ["publish"])


def test_scope_org_and_solution_binding(app, make_user, make_token):
    user = make_user(org="hanbit")
    raw = make_token(user, "hanbit", ["read"], solution="Parking_Share")
    token = service.token_from_header(f"Bearer {raw}")
    with pytest.raises(Forbidden, match="publish"):
        service.require_scope(token, "publish")
    service.require_scope(token, "read", org_id=token.org_id, solution="parking-share")
    with pytest.raises(Forbidden, match="limited"):
        service.require_scope(token, "read", solution="other-thing")
    with pytest.raises(Forbidden, match="another organization"):
        service.require_scope(token, "read", org_id=token.org_id + 1000)
