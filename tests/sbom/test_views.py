import re

from sqlalchemy import select

from registry.db import db
from registry.sbom.models import Component, LicensePolicyRule
from tests.helpers import csrf_token, login

CATEGORY_FIELDS = {
    "permissive": "allow", "weak-copyleft": "allow", "strong-copyleft": "warn", "network-copyleft": "warn",
    "source-available": "deny", "proprietary": "deny", "unknown": "review",
}


def form_token(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]+)"', html)
    assert match, f"no {name} on the page"
    return match.group(1)


def category_post(token: str, **changes) -> dict:
    data = {f"categories-cat_{k.replace('-', '_')}": v for k, v in {**CATEGORY_FIELDS, **changes}.items()}
    data["categories-csrf_token"] = token
    return data


def test_policy_page_is_for_admins_only(app, client, make_user):
    assert client.get("/admin/license-policy").status_code == 403
    make_user("vendor", org="vendor-co")
    login(client, "vendor")
    assert client.get("/admin/license-policy").status_code == 403
    token = csrf_token(client, "/")
    assert client.post("/admin/license-policy", data=category_post(token, unknown="allow")).status_code == 403
    assert db.session.scalars(select(LicensePolicyRule)).all() == []


def test_admin_sees_the_default_policy(app, client, make_user):
    make_user("root", role="admin")
    login(client, "root")
    page = client.get("/admin/license-policy")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for category, action in CATEGORY_FIELDS.items():
        select_html = re.search(rf'<select id="categories-cat_{category.replace("-", "_")}".*?</select>', html).group(0)
        assert re.findall(r'<option selected value="(\w+)">', select_html) == [action]


def test_post_without_csrf_is_refused(app, client, make_user):
    make_user("root", role="admin")
    login(client, "root")
    data = category_post("not-a-token", **{"strong-copyleft": "deny"})
    assert client.post("/admin/license-policy", data=data).status_code == 400
    assert db.session.scalars(select(LicensePolicyRule)).all() == []


def test_admin_changes_a_category_and_verdicts_follow(app, client, make_user, make_release, ingest):
    release = make_release("drt-ageing-town", "1.0.0")
    ingest(release, "hand-1.4.cdx.xml")
    make_user("root", role="admin")
    login(client, "root")
    html = client.get("/admin/license-policy").get_data(as_text=True)
    answer = client.post("/admin/license-policy",
                         data=category_post(form_token(html, "categories-csrf_token"), **{"network-copyleft": "deny"}))
    assert answer.status_code == 302
    rule = db.session.scalar(select(LicensePolicyRule).where(LicensePolicyRule.subject == "network-copyleft"))
    assert rule.action == "deny"
    db.session.expire_all()
    minijson = db.session.scalar(select(Component).where(Component.name == "minijson"))
    assert minijson.license_verdict == "deny"


def test_admin_adds_and_removes_a_licence_rule(app, client, make_user):
    make_user("root", role="admin")
    login(client, "root")
    html = client.get("/admin/license-policy").get_data(as_text=True)
    token = form_token(html, "rule-csrf_token")
    bad = client.post("/admin/license-policy/rules", data={"rule-license": "Not A Licence", "rule-action": "deny",
                                                           "rule-csrf_token": token})
    assert bad.status_code == 400
    assert 'id="rule-license-error"' in bad.get_data(as_text=True)
    ok = client.post("/admin/license-policy/rules", data={"rule-license": "GPL-2.0", "rule-action": "allow",
                                                          "rule-csrf_token": token})
    assert ok.status_code == 302
    rule = db.session.scalar(select(LicensePolicyRule).where(LicensePolicyRule.kind == "license"))
    assert (rule.subject, rule.action) == ("GPL-2.0-only", "allow")
    html = client.get("/admin/license-policy").get_data(as_text=True)
    assert "GPL-2.0-only" in html
    removed = client.post(f"/admin/license-policy/rules/{rule.id}/delete", data={"csrf_token": form_token(html, "csrf_token")})
    assert removed.status_code == 302
    assert db.session.scalars(select(LicensePolicyRule)).all() == []


def test_where_used_page(app, client, make_release, ingest):
    release = make_release("epi-movement", "1.0.0")
    ingest(release, "cyclonedx-py-requests.cdx.json")
    page = client.get("/components?purl=pkg:pypi/requests")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "epi-movement" in html and "pkg:pypi/requests@2.31.0" in html
    bad = client.get("/components?purl=requests")
    assert bad.status_code == 400
    assert 'id="purl-error"' in bad.get_data(as_text=True) and "not a valid package URL" in bad.get_data(as_text=True)
    assert client.get("/components").status_code == 200
