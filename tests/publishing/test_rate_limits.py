"""Rate limits answer 429 with Retry-After (in-memory storage by default)."""

import pytest

from tests.helpers import csrf_token


@pytest.fixture
def limited_client(app_config, make_app):
    app = make_app({**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "3 per minute",
                      "RATELIMIT_UPLOAD": "2 per minute", "RATELIMIT_API": "5 per minute"})
    with app.app_context():
        yield app.test_client()


def test_sign_in_is_rate_limited(limited_client):
    token = csrf_token(limited_client, "/login")
    statuses = [limited_client.post("/login", data={"username": "x", "password": "y", "csrf_token": token}).status_code
                for _ in range(4)]
    assert statuses[:3] == [400, 400, 400] and statuses[3] == 429


def test_upload_is_rate_limited_with_retry_after(limited_client):
    headers = {"Authorization": "Bearer solreg_nope"}
    statuses = [limited_client.post("/api/v1/solutions/x-y-z/releases", headers=headers).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    response = limited_client.post("/api/v1/solutions/x-y-z/releases", headers=headers)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.json["errors"][0]["code"] == "rate-limited"


def test_token_use_is_rate_limited(limited_client):
    statuses = [limited_client.get("/api/v1/whoami", headers={"Authorization": "Bearer solreg_x"}).status_code
                for _ in range(6)]
    assert statuses[-1] == 429
