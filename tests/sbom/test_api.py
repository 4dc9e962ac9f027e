from datetime import date

from registry.catalog.models import Adoption
from registry.db import db


def test_where_used_api(app, client, make_release, make_org, ingest):
    a = make_release("epi-movement", "1.0.0", org="vendor-a")
    ingest(a, "cyclonedx-py-requests.cdx.json")
    b = make_release("flood-alert", "2.0.0", org="vendor-b")
    ingest(b, "syft-image.cdx.json")
    city = make_org("jeonju", kind="municipality", name="전주시")
    db.session.add(Adoption(org_id=city.id, solution_id=b.solution_id, release_id=b.id, stage="piloting",
                            deployed_on=date(2024, 1, 2)))
    db.session.commit()

    answer = client.get("/api/v1/components?purl=pkg:pypi/requests@2.31.0")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["purl"] == "pkg:pypi/requests@2.31.0"
    assert [(m["solution"], m["version"], m["state"]) for m in body["matches"]] == [
        ("epi-movement", "1.0.0", "published"), ("flood-alert", "2.0.0", "published")]
    assert body["matches"][0]["adopters"] == []
    assert body["matches"][1]["adopters"] == [{"org": "jeonju", "name": "전주시", "stage": "piloting"}]
    assert body["matches"][1]["component"]["purl"] == "pkg:pypi/requests@2.31.0"


def test_where_used_api_needs_a_valid_purl(client):
    for query in ("", "?purl=", "?purl=requests"):
        answer = client.get(f"/api/v1/components{query}")
        assert answer.status_code == 400
        assert answer.get_json()["errors"][0]["field"] == "purl"


def test_components_csv_download(app, client, make_release, ingest):
    release = make_release("Traffic_Signal.API", "1.2.0")
    ingest(release, "cyclonedx-maven.cdx.xml")
    answer = client.get("/api/v1/solutions/traffic-signal-api/releases/1.2.0/components.csv")
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    lines = answer.get_data(as_text=True).splitlines()
    assert lines[0] == "name,version,purl,type,licenses,verdict,findings"
    assert len(lines) == 5


def test_components_csv_of_unpublished_release_is_hidden(app, client, make_release, make_user, make_token, ingest):
    release = make_release("draft-solution", "0.1.0", state="pending_review", org="vendor-co")
    ingest(release, "hand-1.2.cdx.json")
    url = "/api/v1/solutions/draft-solution/releases/0.1.0/components.csv"
    assert client.get(url).status_code == 404
    owner = make_user("owner", org="vendor-co")
    token = make_token(owner, "vendor-co", scopes=("read",))
    assert client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    stranger = make_user("stranger", org="other-co")
    other = make_token(stranger, "other-co", scopes=("read",))
    assert client.get(url, headers={"Authorization": f"Bearer {other}"}).status_code == 404


def test_components_csv_unknown_release(client):
    answer = client.get("/api/v1/solutions/nope/releases/1.0.0/components.csv")
    assert answer.status_code == 404
