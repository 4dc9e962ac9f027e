"""The reuse dashboard: which solutions cities other than their origin run, counted exactly, and the
page, its CSV tables and its JSON telling the same numbers."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest

from registry.accounts import service as accounts
from registry.catalog import dashboard, koreamap
from registry.catalog.adoption import record_adoption
from registry.db import db
from registry.spec.vocabulary import PROVINCES

ZEROS = (0, 0, 0, 0)


def funding(programme: str, year: int, municipality: str) -> dict:
    return {"programme": programme, "year": year, "fundedBy": "국토교통부 (MOLIT)", "municipality": municipality}


@pytest.fixture
def cities(make_user):
    """Four municipalities in three provinces and one whose province nobody recorded; one officer each."""
    officers = {}
    for slug, name, province in [("cheonan", "천안시", "south-chungcheong"), ("gwangmyeong", "광명시", "gyeonggi"),
                                 ("taebaek", "태백시", "gangwon"), ("gyeongsan", "경산시", None)]:
        accounts.create_org(slug, name, "municipality", province)
        officers[slug] = make_user(f"{slug}-officer", org=slug)
    db.session.commit()
    return officers


@pytest.fixture
def reuse(cities, publish):
    """Five solutions in the catalogue (a sixth waits for review) and who runs them.

    parking-share (천안시's): 천안시 itself, and 광명시 and 경산시 — reused.
    flood-alert (천안시's): 천안시, and 태백시 piloting — reused.
    air-quality (광명시's): 광명시 only; 태백시 ran it and retired it — not reused.
    bus-route (태백시's): nobody.
    bus-shelter: its funding names "광명시청", which no organisation is called, so 광명시 running it is reuse.
    """
    def adopt(city: str, release, stage: str, when: date) -> None:
        record_adoption(cities[city], accounts.get_org(city), release, stage, when)

    parking_old = publish("parking-share", "1.0.0", categories=["mobility", "parking"],
                          funding=funding("small-strong-population", 2023, "천안시"))
    parking = publish("parking-share", "1.1.0", categories=["mobility", "parking"],
                      funding=funding("small-strong-population", 2023, "천안시"))
    flood = publish("flood-alert", "2.1.0", categories=["safety", "disaster"],
                    funding=funding("small-strong-climate", 2024, "천안시"))
    air = publish("air-quality", "3.0.1", categories=["environment"], funding=funding("hub", 2021, "광명시"))
    publish("bus-route", "1.0.0", categories=["mobility"], funding=funding("small-strong-population", 2024, "태백시"))
    shelter = publish("bus-shelter", "1.0.0", categories=["mobility"], funding=funding("solution-spread", 2025, "광명시청"))
    publish("drt-ageing-town", "0.9.0", pending=True, categories=["mobility"],
            funding=funding("small-strong-population", 2024, "태백시"))

    adopt("cheonan", parking_old, "retired", date(2024, 3, 5))
    adopt("cheonan", parking, "production", date(2024, 9, 10))
    adopt("gwangmyeong", parking, "piloting", date(2024, 5, 20))
    adopt("gyeongsan", parking, "production", date(2024, 11, 11))
    adopt("cheonan", flood, "production", date(2024, 6, 15))
    adopt("taebaek", flood, "piloting", date(2025, 2, 3))
    adopt("gwangmyeong", air, "production", date(2024, 5, 2))
    adopt("taebaek", air, "retired", date(2024, 7, 1))
    adopt("gwangmyeong", shelter, "production", date(2025, 1, 20))
    db.session.commit()


def numbers(rows) -> dict[str, tuple[int, int, int, int]]:
    return {row.key: (row.solutions, row.reused, row.adoptions, row.municipalities) for row in rows}


def test_reuse_counts_only_cities_other_than_the_origin(app, reuse):
    summary = dashboard.reuse_dashboard().summary
    assert (summary.solutions, summary.reused, summary.adoptions, summary.reuse_adoptions,
            summary.municipalities, summary.retired) == (5, 3, 7, 4, 4, 1)
    assert summary.reuse_share == pytest.approx(0.6)


def test_breakdowns_by_programme_year_and_category(app, reuse):
    data = dashboard.reuse_dashboard()
    assert numbers(data.by_programme) == {
        "hub": (1, 0, 1, 1), "small-strong-climate": (1, 1, 2, 2), "small-strong-population": (2, 1, 3, 3),
        "solution-spread": (1, 1, 1, 1), "data-hub-pilot": ZEROS, "other": ZEROS}
    assert [row.key for row in data.by_programme][:3] == ["hub", "small-strong-climate", "small-strong-population"]
    assert numbers(data.by_year) == {"2021": (1, 0, 1, 1), "2023": (1, 1, 3, 3), "2024": (2, 1, 2, 2),
                                     "2025": (1, 1, 1, 1)}
    # A solution in several categories counts in each; categories nobody uses are left out.
    assert numbers(data.by_category) == {"mobility": (3, 2, 4, 3), "parking": (1, 1, 3, 3), "safety": (1, 1, 2, 2),
                                         "environment": (1, 0, 1, 1), "disaster": (1, 1, 2, 2)}
    assert [row.key for row in data.by_category] == ["mobility", "parking", "safety", "environment", "disaster"]


def test_provinces_every_one_listed_and_unknown_last(app, reuse):
    rows = dashboard.reuse_dashboard().by_province
    assert [row.key for row in rows] == [*PROVINCES, "unknown"]
    counted = {key: value for key, value in numbers(rows).items() if value != ZEROS}
    # bus-shelter, whose origin matches no organisation, is in no province; 경산시 recorded none.
    assert counted == {"gyeonggi": (1, 0, 3, 1), "gangwon": (1, 0, 1, 1), "south-chungcheong": (2, 2, 2, 1),
                       "unknown": (1, 1, 1, 1)}


def test_adoptions_by_month_of_the_first_deployment_still_running(app, reuse):
    months = [(row.month, row.adoptions, row.cumulative) for row in dashboard.reuse_dashboard().over_time]
    # 천안시's retired 1.0.0 (2024-03) does not count; its 1.1.0 in production from 2024-09 does.
    assert months == [("2024-05", 2, 2), ("2024-06", 1, 3), ("2024-07", 0, 3), ("2024-08", 0, 3), ("2024-09", 1, 4),
                      ("2024-10", 0, 4), ("2024-11", 1, 5), ("2024-12", 0, 5), ("2025-01", 1, 6), ("2025-02", 1, 7)]


def test_an_empty_registry(app):
    data = dashboard.reuse_dashboard()
    assert (data.summary.solutions, data.summary.adoptions, data.summary.reuse_share) == (0, 0, None)
    assert data.by_year == data.by_category == data.over_time == []
    assert len(data.by_programme) == 6 and len(data.by_province) == 17


def test_the_map_has_every_province_and_the_darkest_shade_is_the_largest():
    assert set(koreamap.korea_map().paths) == set(PROVINCES)
    levels, legend = koreamap.shading({"gyeonggi": 3, "gangwon": 1, "seoul": 0})
    assert levels == {"gyeonggi": 4, "gangwon": 2, "seoul": 0}
    assert [(s.level, s.low, s.high) for s in legend] == [(0, 0, 0), (2, 1, 1), (3, 2, 2), (4, 3, 3)]


def _csv(client, table: str) -> list[dict]:
    response = client.get(f"/reuse.csv?table={table}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="reuse-{table}.csv"'
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))


def test_csv_and_json_agree_with_the_page(app, client, reuse):
    client.get("/lang/ko")
    page = client.get("/reuse").get_data(as_text=True)
    assert "재사용 현황" in page and "60%" in page
    province_rows = dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">\d+</td>\s*<td class="num">\d+'
                                    r'</td><td class="num">(\d+)</td>', page))
    assert province_rows["경기도"] == "3" and province_rows["알 수 없음"] == "1"

    document = client.get("/api/v1/reuse").json
    assert document["summary"] == {"solutions": 5, "reused": 3, "reuse_share": 0.6, "adoptions": 7,
                                   "reuse_adoptions": 4, "municipalities": 4, "retired": 1}
    for table in dashboard.TABLES:
        records = document["tables"][table]
        rows = _csv(client, table)
        assert rows == [{k: str(v) for k, v in record.items()} for record in records], table
    programmes = {r["key"]: r for r in document["tables"]["by_programme"]}
    assert programmes["small-strong-climate"] == {"key": "small-strong-climate", "label": "강소형 스마트시티(기후위기 대응)",
                                                  "solutions": 1, "reused": 1, "adoptions": 2, "municipalities": 2}
    assert client.get("/api/v1/reuse?table=over_time").json["tables"] == {"over_time": document["tables"]["over_time"]}

    client.get("/lang/en")
    english = _csv(client, "by_province")
    assert {r["key"]: r["label"] for r in english}["south-chungcheong"] == "South Chungcheong"
    assert english[-1] == {"key": "unknown", "label": "Unknown", "solutions": "1", "reused": "1", "adoptions": "1",
                           "municipalities": "1"}


def test_the_page_draws_the_map_and_the_charts_from_its_own_files(client, reuse):
    page = client.get("/reuse").get_data(as_text=True)
    assert page.count('<path class="shade-') == 17
    assert '<path class="shade-4" d="' in page  # 경기도, the most adoptions
    assert page.count('role="img"') == 5  # three bar charts, the map, the months
    assert "http://" not in re.sub(r'href="[^"]*"|xmlns="[^"]*"', "", page)  # nothing is loaded from elsewhere


def test_an_unknown_table_is_refused_with_its_name(client):
    response = client.get("/api/v1/reuse?table=by_city")
    assert response.status_code == 400
    assert response.json["errors"][0]["field"] == "table" and "by_city" in response.json["errors"][0]["detail"]
    client.get("/lang/ko")
    page = client.get("/reuse.csv?table=by_city")
    assert page.status_code == 400 and "by_city 표는 없습니다" in page.get_data(as_text=True)


def test_the_nav_links_the_dashboard_and_cities_show_their_province(client, reuse):
    client.get("/lang/ko")
    home = client.get("/").get_data(as_text=True)
    assert '<a href="/reuse">재사용 현황</a>' in home
    solution = client.get("/solutions/parking-share").get_data(as_text=True)
    assert "광명시 (경기도)" in solution and "경산시 ·" in solution
    adopters = {a["org"]: a["province"] for a in client.get("/api/v1/solutions/parking-share/overview").json["adopters"]}
    assert adopters == {"cheonan": "south-chungcheong", "gwangmyeong": "gyeonggi", "gyeongsan": None}
