"""The catalog in a real browser: Korean search, facets, language, solution page, data-hub fit,
adoption and the yank alert."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parents[1] / "catalog" / "fixtures"


def texts(ko: str, en: str) -> dict:
    return {"ko": ko, "en": en}


@pytest.fixture
def catalog(publish_live):
    parking = publish_live("parking-share")
    publish_live("bus-shelter", org="urban-lab", title=texts("스마트 버스 쉼터", "Smart Bus Shelter"),
                 summary=texts("버스 정류장 쉼터를 제어합니다", "Controls bus stop shelters"),
                 description=texts("정류장 센서", "Stop sensors"), keywords=["shelter"],
                 categories=["transport-infrastructure"], dataHub=None)
    publish_live("flood-alert", org="urban-lab", title=texts("침수 경보", "Flood Alert"),
                 summary=texts("하천 수위가 오르면 알립니다", "Warns when rivers rise"),
                 description=texts("수위 센서", "Level sensors"), keywords=["flood"], categories=["disaster"],
                 funding={"programme": "hub", "year": 2022, "municipality": "태백시"}, dataHub=None)
    return parking


def result_titles(page) -> list[str]:
    return [t.strip() for t in page.locator("ul.hits .hit-title").all_inner_texts()]


def test_korean_search_facets_and_language_switch(live_server, catalog, browser_page):
    page = browser_page
    page.goto(live_server.url)
    assert page.locator("html").get_attribute("lang") == "ko"
    page.locator("#home-q").fill("주차")
    page.locator("#home-q").press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    assert result_titles(page) == ["스마트 주차 공유"]

    page.locator("#search-q").fill("버스")
    page.locator("#search-q").press("Enter")
    page.wait_for_url(re.compile(r"q=%EB%B2%84%EC%8A%A4"))
    assert result_titles(page) == ["스마트 버스 쉼터"]

    # A facet narrows an empty search; its count is live and the URL holds the whole search.
    page.locator("#search-q").fill("")
    page.locator("#search-q").press("Enter")
    assert len(result_titles(page)) == 3
    facet = page.locator("a[data-facet=category][data-value=disaster]")
    assert facet.locator("xpath=following-sibling::span[1]").inner_text() == "1"
    facet.click()
    page.wait_for_url(re.compile(r"category=disaster"))
    assert result_titles(page) == ["침수 경보"]
    shared = page.url

    page.get_by_role("link", name="English").click()
    page.wait_for_url(shared)
    assert page.locator("html").get_attribute("lang") == "en"
    assert result_titles(page) == ["Flood Alert"]
    page.goto(live_server.url)  # remembered across pages
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="한국어").click()
    assert page.locator("html").get_attribute("lang") == "ko"


def test_solution_page(live_server, catalog, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/lang/en")
    page.goto(f"{live_server.url}/search?q=parking")
    page.get_by_role("link", name="Smart Parking Sharing").click()
    page.wait_for_url(re.compile(r"/solutions/parking-share$"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Smart Parking Sharing")
    install = page.locator("#install-h ~ pre").first.inner_text()
    assert "helm install parking-share ./deploy/helm/parking-share" in install
    assert page.get_by_role("cell", name="OffStreetParking").count() == 1
    publiccode = page.get_by_role("link", name="publiccode.yml").get_attribute("href")
    assert publiccode.endswith("/releases/1.0.0/publiccode.yml")
    response = requests.get(live_server.url + page.get_by_role("link", name="publiccode.yml").get_attribute("href"),
                            timeout=10)
    assert response.status_code == 200 and "publiccodeYmlVersion" in response.text
    assert catalog["sha256"] in page.locator("code.digest").inner_text()


def test_datahub_profile_changes_fit_badges_then_adoption_and_yank_alert(live_server, catalog, new_browser_page):
    live_server.user("cheonan", org="cheonan", org_kind="municipality")
    city = new_browser_page()
    sign_in(city, live_server.url, "cheonan")

    city.goto(f"{live_server.url}/solutions/parking-share")
    assert city.locator(".badge.ready, .badge.missing").count() == 0  # no profile yet

    # Upload what the broker answered for one type: ParkingSpot is missing.
    city.goto(f"{live_server.url}/orgs/cheonan/datahub")
    city.get_by_label("NGSI-LD spec version of the data hub").fill("1.8.1")
    city.set_input_files("input[type=file]", str(FIXTURES / "type-info.json"))
    city.get_by_role("button", name="Save data hub profile").click()
    city.wait_for_url(re.compile(r"/orgs/cheonan/datahub$"))
    assert "1 entity type" in city.locator("main").inner_text()
    city.goto(f"{live_server.url}/solutions/parking-share")
    assert city.locator("header .badge.missing").inner_text() == "Missing in your data hub"
    assert "entity type missing" in city.locator(".fit").inner_text()

    # Then the full data-model list: ready, and search can show only what fits.
    city.goto(f"{live_server.url}/orgs/cheonan/datahub")
    city.get_by_label("… or paste that JSON here").fill((FIXTURES / "citydatahub-models.json").read_text())
    city.get_by_role("button", name="Save data hub profile").click()
    city.wait_for_url(re.compile(r"/orgs/cheonan/datahub$"))
    city.goto(f"{live_server.url}/solutions/parking-share")
    assert city.locator("header .badge.ready").inner_text() == "Ready for your data hub"
    city.goto(f"{live_server.url}/search")
    city.get_by_role("link", name="Fits my data hub").click()
    assert "parking-share" in city.locator("ul.hits").inner_text()

    # Record the deployment on the solution page.
    city.goto(f"{live_server.url}/solutions/parking-share")
    city.get_by_label("Stage").select_option("production")
    city.get_by_label("Deployed on").fill("2024-05-01")
    city.get_by_role("button", name="Record deployment").click()
    city.wait_for_url(re.compile(r"/solutions/parking-share#adopters$"))
    assert "Cheonan · 1.0.0 · In production" in city.locator("#adopters").inner_text()

    # The vendor yanks it; the city sees the alert in its notifications.
    response = requests.post(f"{live_server.url}/api/v1/solutions/parking-share/releases/1.0.0/yank",
                             json={"reason": "booking times off by a day"},
                             headers={"Authorization": f"Bearer {catalog['token']}"}, timeout=10)
    assert response.status_code == 200, response.text
    city.goto(live_server.url)
    city.get_by_role("link", name=re.compile("Notifications")).click()
    assert "booking times off by a day" in city.locator("main").inner_text()
    assert "parking-share 1.0.0" in city.locator("main").inner_text()
