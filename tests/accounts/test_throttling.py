"""Failed sign-ins are throttled per address and per account (the limiter's storage is shared by
every worker: RATELIMIT_STORAGE_URI, memory:// here, redis:// in production)."""

from __future__ import annotations

import pytest

from tests.helpers import csrf_token

# --- throttling --------------------------------------------------------------------------------

@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "3 per minute"}


@pytest.fixture(autouse=True)
def fresh_counts(app):
    from registry.extensions import limiter

    limiter.reset()


def _attempt(client, username: str, address: str, password: str = "wrong-password-1"):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def test_failed_logins_are_throttled_per_account_across_addresses(client, make_user):
    make_user("kim")
    statuses = [_attempt(client, " KIM ", f"10.0.0.{i}").status_code for i in range(1, 5)]
    assert statuses == [400, 400, 400, 429]
    # The right password from yet another address is refused too while the account is throttled.
    assert _attempt(client, "kim", "10.0.0.9", "correct-horse-1").status_code == 429
    assert _attempt(client, "lee", "10.0.0.9").status_code == 400  # other accounts are not affected


def test_unknown_usernames_are_throttled_too(client):
    statuses = [_attempt(client, "nobody", f"10.0.1.{i}").status_code for i in range(1, 5)]
    assert statuses[-1] == 429


def test_failed_logins_are_throttled_per_address_across_accounts(client, make_user):
    statuses = [_attempt(client, f"user{i}", "10.0.2.1").status_code for i in range(4)]
    assert statuses == [400, 400, 400, 429]
    assert _attempt(client, "user9", "10.0.2.2").status_code == 400
