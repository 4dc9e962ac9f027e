"""Fixtures of the catalog tests: solutions published through the real upload API and state machine."""

from __future__ import annotations

import pytest

from registry.db import db
from registry.releases import states
from registry.releases.models import Release
from registry.releases.service import get_release
from tests.publishing.packages import archive


@pytest.fixture
def vendor_tokens(make_user, make_token):
    """A publish token per vendor org, made on first use."""
    tokens: dict[str, str] = {}

    def _token(org: str) -> str:
        if org not in tokens:
            user = make_user(f"{org}-owner", org=org)
            tokens[org] = make_token(user, org, ["publish", "yank", "read"])
        return tokens[org]

    return _token


@pytest.fixture
def publish(upload, vendor_tokens):
    """Upload a package (manifest fields as keywords) and, unless pending=True, approve it."""

    def _publish(name: str = "parking-share", version: str = "1.0.0", *, org: str = "hanbit", pending: bool = False,
                 **manifest_changes) -> Release:
        response = upload(vendor_tokens(org), archive(name, version, **manifest_changes), name=name)
        assert response.status_code == 201, response.json
        release = get_release(name, version)
        if not pending:
            states.transition_release(release, "approve")
            db.session.commit()
        return release

    return _publish


@pytest.fixture
def municipality(make_user):
    """A municipality org "cheonan" (천안시) with an owner "cheonan"."""
    from registry.accounts import service

    user = make_user("cheonan")
    org = service.create_org("cheonan", "천안시", "municipality")
    service.add_member(org, user, "owner")
    db.session.commit()
    return org


def texts(ko: str, en: str) -> dict:
    return {"ko": ko, "en": en}
