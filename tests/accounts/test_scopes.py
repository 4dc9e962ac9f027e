"""Token scopes are bounded by the holder's role, when the token is made and every time it is used."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import func, select

from registry.accounts.models import ApiToken, User
from registry.db import db
from tests.helpers import csrf_token, login


def auth(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def reviewed_pending(client, upload, vendor_token, make_user, make_token):
    """A pending release of hanbit with a reviewer's comment on it (changes requested)."""
    release = upload(vendor_token).json["release"]
    reviewer = make_user("reviewer", role="reviewer", org="agency", org_kind="agency", member_role="member")
    review_token = make_token(reviewer, "agency", ["review"])
    response = client.post(f"/api/v1/reviews/{release['id']}", headers=auth(review_token),
                           json={"decision": "request_changes", "comment": "설치 안내가 없습니다"})
    assert response.status_code == 200, response.json
    return release, review_token


def _planted_token(user: User, org_slug: str, scopes: list[str]) -> str:
    """A token written straight into the database, as if the old code had issued it."""
    from registry.accounts.service import get_org

    raw = "solreg_planted" + user.username
    db.session.add(ApiToken(user=user, org=get_org(org_slug), scopes=scopes, prefix=raw[:13],
                            token_hash=hashlib.sha256(raw.encode()).hexdigest()))
    db.session.commit()
    return raw


def _sees(client, raw: str, release: dict) -> dict[str, int]:
    base = f"/api/v1/solutions/parking-share/releases/{release['version']}"
    seen = {path: client.get(base + path, headers=auth(raw)).status_code
            for path in ("", "/archive", "/sbom", "/components.csv")}
    solution = client.get("/api/v1/solutions/parking-share", headers=auth(raw))
    seen["solution"] = len(solution.json["solution"].get("releases", [])) if solution.status_code == 200 else 0
    return seen


# --- issuing ---------------------------------------------------------------------------------

def test_a_vendor_cannot_issue_a_review_token(make_user, make_token):
    from registry.errors import Forbidden

    vendor = make_user("vendor", org="hanbit")
    with pytest.raises(Forbidden) as refused:
        make_token(vendor, "hanbit", ["review", "read"])
    assert refused.value.field == "scopes"
    db.session.rollback()
    assert db.session.scalar(select(func.count(ApiToken.id))) == 0


def test_a_municipality_cannot_issue_publish_or_yank_tokens(make_user, make_token):
    from registry.errors import Forbidden

    clerk = make_user("clerk", org="cheonan", org_kind="municipality")
    for scope in ("publish", "yank"):
        with pytest.raises(Forbidden):
            make_token(clerk, "cheonan", [scope])
        db.session.rollback()
    assert make_token(clerk, "cheonan", ["adopt", "read"]).startswith("solreg_")


def test_the_web_form_offers_only_allowed_scopes_and_refuses_others(client, make_user):
    make_user("vendor", org="hanbit")
    login(client, "vendor")
    page = client.get("/account").get_data(as_text=True)
    offered = set(re.findall(r'name="token-scopes"[^>]*value="([a-z]+)"', page)) or set(
        re.findall(r'<option[^>]*value="([a-z]+)"', page.split('name="token-scopes"')[1].split("</select>")[0]))
    assert offered == {"publish", "yank", "read"}
    response = client.post("/account/tokens", data={
        "token-csrf_token": csrf_token(client, "/account"), "token-org": "hanbit", "token-scopes": ["review"]})
    assert response.status_code == 400
    assert "class=\"error\"" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ApiToken.id))) == 0


def test_the_web_form_of_a_municipality_user_offers_no_publish_or_yank(client, make_user):
    make_user("clerk", org="cheonan", org_kind="municipality")
    login(client, "clerk")
    page = client.get("/account?lang=ko").get_data(as_text=True)
    # Checkboxes, one per scope the organisation allows (no Ctrl-click multi-select).
    offered = set(re.findall(r'name="token-scopes" type="checkbox" value="([a-z]+)"', page))
    assert offered == {"adopt", "read"} and "<select multiple" not in page
    response = client.post("/account/tokens", data={
        "token-csrf_token": csrf_token(client, "/account"), "token-org": "cheonan", "token-scopes": ["publish"]})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(ApiToken.id))) == 0


def test_the_cli_refuses_a_review_token_for_a_vendor(runner, make_user):
    make_user("vendor", org="hanbit")
    result = runner.invoke(args=["tokens", "create", "vendor", "--org", "hanbit", "--scope", "review"])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and "review" in result.output
    assert db.session.scalar(select(func.count(ApiToken.id))) == 0


# --- using -----------------------------------------------------------------------------------

def test_a_planted_review_token_of_a_vendor_sees_nothing_of_other_orgs(client, reviewed_pending, make_user):
    release, _ = reviewed_pending
    rival = make_user("rival", org="urban-data-lab")
    raw = _planted_token(rival, "urban-data-lab", ["review", "read"])
    assert _sees(client, raw, release) == {"": 404, "/archive": 404, "/sbom": 404, "/components.csv": 404,
                                           "solution": 0}
    assert client.get("/api/v1/reviews/queue", headers=auth(raw)).status_code == 403
    assert "설치 안내가 없습니다" not in client.get(f"/api/v1/reviews/{release['id']}", headers=auth(raw)).get_data(
        as_text=True)


def test_a_demoted_reviewer_loses_review_access_with_an_existing_token(client, reviewed_pending):
    release, review_token = reviewed_pending
    assert _sees(client, review_token, release)[""] == 200
    reviewer = db.session.scalar(select(User).where(User.username == "reviewer"))
    reviewer.site_role = None
    db.session.commit()
    assert _sees(client, review_token, release) == {"": 404, "/archive": 404, "/sbom": 404, "/components.csv": 404,
                                                    "solution": 0}
    response = client.get("/api/v1/reviews/queue", headers=auth(review_token))
    assert response.status_code == 403 and response.json["errors"][0]["field"] == "scopes"


def test_a_planted_publish_token_of_a_municipality_cannot_publish(upload, make_user):
    clerk = make_user("clerk", org="cheonan", org_kind="municipality")
    response = upload(_planted_token(clerk, "cheonan", ["publish"]))
    assert response.status_code == 403 and response.json["errors"][0]["field"] == "scopes"
