"""Search over published solutions: Korean the way people type it, English, facets, sorting, bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from registry.catalog import search as search_module
from registry.catalog.models import SearchFacetValue
from registry.catalog.search import SearchQuery, parse_query, search, strip_particle
from registry.catalog.service import reindex_all
from registry.db import db
from registry.errors import InvalidInput
from registry.releases import states
from tests.catalog.conftest import texts

COMPOSE_ONLY = {"targets": [{"kind": "compose", "path": "deploy/compose.yaml"}], "architectures": ["amd64"]}
COMMUNITY = {"type": "community", "contacts": [{"name": "Park", "email": "park@example.org"}]}


def names(result) -> list[str]:
    return [hit.name for hit in result.hits]


def run(q: str = "", **filters) -> search_module.SearchResult:
    args = MultiDict([("q", q)] + [(k, v) for k, values in filters.items()
                                   for v in (values if isinstance(values, list) else [values])])
    return search(SearchQuery.from_args(args))


@pytest.fixture
def corpus(publish):
    publish("parking-share")  # the full example: 스마트 주차 공유, 천안시, mobility+parking, helm+compose
    publish("bus-shelter", org="urban-lab", title=texts("스마트 버스 쉼터", "Smart Bus Shelter"),
            summary=texts("버스 정류장의 냉난방과 안내를 자동으로 제어합니다",
                          "Controls heating and signage of bus stops"),
            description=texts("정류장 센서로 쉼터를 제어합니다.", "Uses stop sensors."), keywords=["shelter"],
            categories=["transport-infrastructure"],
            funding={"programme": "hub", "year": 2022, "municipality": "광명시"},
            dataHub={"api": "ngsi-ld", "specVersion": ">=1.6.1", "entities": [
                {"type": "WeatherObserved", "access": ["read"], "attributes": [
                    {"name": "temperature", "attributeType": "Property", "required": True}]}]},
            deploy=COMPOSE_ONLY, maintenance=COMMUNITY, developmentStatus="beta")
    publish("flood-alert", org="urban-lab", title=texts("침수 경보", "Flood Alert"),
            summary=texts("하천 수위가 오르면 주민에게 알립니다", "Warns residents when river levels rise"),
            description=texts("수위 센서를 구독합니다.", "Subscribes to water level sensors."), keywords=["flood"],
            categories=["disaster", "water"], funding={"programme": "hub", "year": 2023, "municipality": "태백시"},
            legal={"license": "MIT", "copyrightOwner": "태백시"}, deploy=COMPOSE_ONLY, dataHub=None)


@pytest.mark.parametrize("query, expected", [
    ("주차", ["parking-share"]),  # two syllables: the LIKE fallback
    ("버스", ["bus-shelter"]),
    ("주차장을", ["parking-share"]),  # the description says 주차장의; the particle is tried off
    ("버스를", ["bus-shelter"]),
    ("정류장에서", ["bus-shelter"]),
    ("PARK", ["parking-share"]),  # English: case-insensitive, part of a word
    ("shelter SMART", ["bus-shelter"]),  # every term must match
    ("offstreetpark", ["parking-share"]),  # entity type
    ("Urban-Lab", ["bus-shelter", "flood-alert"]),  # vendor (org name)
    ("태백", ["flood-alert"]),  # origin municipality
    ("수위", ["flood-alert"]),  # summary, Korean
    ("river levels", ["flood-alert"]),  # summary, English
    ("재난", ["flood-alert"]),  # the category's Korean label
    ("침수 주차", []),
])
def test_finds_what_people_type(corpus, query, expected):
    assert sorted(names(run(query))) == sorted(expected)


def test_particles_are_stripped_only_when_a_real_stem_remains():
    assert strip_particle("주차장을") == "주차장"
    assert strip_particle("정류장에서") == "정류장"
    assert strip_particle("버스로") == "버스"
    assert strip_particle("차를") is None  # one syllable would match far too much
    assert strip_particle("parking") is None
    assert [t.forms for t in parse_query("주차장을 parking")[0]] == [("주차장을", "주차장"), ("parking",)]


def test_query_terms_are_normalised_deduplicated_and_bounded():
    terms, shortened = parse_query('  "Parking"  parking  ＰＡＲＫ  (주차) ')
    assert [t.text for t in terms] == ["parking", "park", "주차"]  # quotes stripped, NFKC, casefolded
    assert not shortened
    terms, shortened = parse_query("a" * 10_000)
    assert shortened and len(terms[0].text) == search_module.MAX_QUERY_CHARS
    terms, shortened = parse_query(" ".join(f"w{i}" for i in range(20)))
    assert shortened and len(terms) == search_module.MAX_TERMS


@pytest.mark.parametrize("query", [
    '"', '""', "'", "주차 AND", "NOT parking", "park*", "^park", "body:park", "NEAR(a b)", "a OR", "(", ")",
    "'; DROP TABLE solutions; --", "%", "_", "\\", "%%%", "1' OR '1'='1", "주차" * 5000, "\x00", "🙂",
])
def test_hostile_queries_never_fail(corpus, query):
    result = run(query)
    assert result.total >= 0
    assert len(result.hits) <= search_module.PAGE_SIZE


def test_like_wildcards_in_queries_are_literal(corpus):
    assert names(run("p_rking")) == []
    assert names(run("p%ing")) == []
    assert names(run("park*")) == ["parking-share"]  # a trailing * is edge punctuation, not an operator
    assert run("%").total == 3  # nothing left to search for: everything


def test_fts_operators_are_plain_words(corpus):
    assert names(run("NOT")) == []  # would be an FTS syntax error if passed through
    assert names(run("parking NEAR")) == []  # "near" is a term that no document contains
    assert names(run("parking OR flood")) == []  # OR is a term too: all three must match


def test_only_published_latest_releases_are_searchable(corpus, publish):
    publish("noise-map", org="urban-lab", pending=True, title=texts("소음 지도", "Noise Map"))
    assert names(run("소음")) == []

    newer = publish("parking-share", "1.1.0", title=texts("주차 공유 플러스", "Parking Share Plus"))
    result = run("parking")
    assert [(h.name, h.version) for h in result.hits] == [("parking-share", "1.1.0")]
    assert names(run("플러스")) == ["parking-share"]

    states.transition_release(newer, "yank", reason="broken booking")
    db.session.commit()
    assert [(h.name, h.version) for h in run("parking").hits] == [("parking-share", "1.0.0")]
    assert names(run("플러스")) == []

    from registry.releases.service import get_release

    older = get_release("parking-share", "1.0.0")
    states.transition_release(older, "yank", reason="also broken")
    db.session.commit()
    assert names(run("parking")) == []

    states.transition_release(newer, "unyank")
    db.session.commit()
    assert [(h.name, h.version) for h in run("parking").hits] == [("parking-share", "1.1.0")]


def test_reindex_all_rebuilds_the_same_index(corpus):
    before = [(h.name, h.version) for h in run("").hits]
    assert reindex_all() == 3
    db.session.commit()
    assert [(h.name, h.version) for h in run("").hits] == before
    assert names(run("주차")) == ["parking-share"]


def test_a_facet_value_its_last_solution_left_is_neither_counted_nor_found_and_is_named_once(corpus, publish):
    publish("parking-share", "1.1.0", funding={"programme": "hub", "year": 2024, "municipality": "세종시"})
    counts = {v.value: v.count for v in run("").facets["municipality"]}
    assert counts == {"세종시": 1, "광명시": 1, "태백시": 1}
    assert names(run("", municipality="천안시")) == []
    never = run("", municipality="울릉군")  # a value the index never held: no match, still shown, chosen
    assert never.total == 0 and [(v.value, v.count, v.selected) for v in never.facets["municipality"]
                                 if v.value == "울릉군"] == [("울릉군", 0, True)]

    publish("flood-alert", "1.1.0", org="urban-lab", funding={"programme": "hub", "year": 2023, "municipality": "천안시"})
    assert names(run("", municipality="천안시")) == ["flood-alert"]
    named = db.session.scalar(select(func.count()).select_from(SearchFacetValue)
                              .where(SearchFacetValue.facet == "municipality", SearchFacetValue.value == "천안시"))
    assert named == 1  # the value came back under the id it was given first


def test_facets_count_with_the_other_facets_applied(corpus):
    result = run("")
    counts = {f: {v.value: v.count for v in values} for f, values in result.facets.items()}
    assert counts["category"] == {"mobility": 1, "parking": 1, "transport-infrastructure": 1, "disaster": 1, "water": 1}
    assert counts["programme"] == {"hub": 2, "small-strong-population": 1}
    assert counts["year"] == {"2022": 1, "2023": 2}
    assert counts["deploy"] == {"compose": 3, "helm": 1}
    assert counts["license"] == {"Apache-2.0": 2, "MIT": 1}
    assert counts["status"] == {"stable": 2, "beta": 1}
    assert counts["maintenance"] == {"contract": 2, "community": 1}
    assert counts["municipality"] == {"천안시": 1, "광명시": 1, "태백시": 1}
    assert counts["entity_type"] == {"OffStreetParking": 1, "ParkingSpot": 1, "WeatherObserved": 1}
    assert [v.value for v in result.facets["year"]] == ["2023", "2022"]

    result = run("", programme="hub")
    assert sorted(names(result)) == ["bus-shelter", "flood-alert"]
    counts = {f: {v.value: v.count for v in values} for f, values in result.facets.items()}
    # Its own facet ignores its filter (so alternatives stay visible); the others apply it.
    assert counts["programme"] == {"hub": 2, "small-strong-population": 1}
    assert counts["year"] == {"2022": 1, "2023": 1}
    assert [v.selected for v in result.facets["programme"]] == [True, False]

    result = run("", programme="hub", year="2023")
    assert names(result) == ["flood-alert"]
    counts = {f: {v.value: v.count for v in values} for f, values in result.facets.items()}
    assert counts["programme"] == {"hub": 1, "small-strong-population": 1}
    assert counts["year"] == {"2022": 1, "2023": 1}

    assert sorted(names(run("", category=["parking", "disaster"]))) == ["flood-alert", "parking-share"]
    assert names(run("스마트", deploy="compose", status="beta")) == ["bus-shelter"]
    assert names(run("", entity_type="WeatherObserved")) == ["bus-shelter"]
    assert names(run("", municipality="천안시", maintenance="contract", license="Apache-2.0")) == ["parking-share"]


def test_a_chosen_value_without_results_stays_visible(corpus):
    result = run("flood", category="parking")
    assert result.total == 0
    assert [(v.value, v.count, v.selected) for v in result.facets["category"] if v.value == "parking"] == \
        [("parking", 0, True)]


@pytest.mark.parametrize("args, field", [
    ({"category": "parkingg"}, "category"), ({"programme": "x"}, "programme"), ({"year": "twenty"}, "year"),
    ({"sort": "random"}, "sort"), ({"status": "done"}, "status"), ({"license": "x" * 500}, "license"),
])
def test_bad_filters_are_refused_with_the_reason(app, args, field):
    with pytest.raises(InvalidInput) as caught:
        SearchQuery.from_args(MultiDict(args))
    assert caught.value.field == field
    assert field in caught.value.detail


@pytest.mark.parametrize("page, expected", [("2", 2), ("0", 1), ("-3", 1), ("abc", 1), ("1e9", 1), ("99999999", 1000)])
def test_bad_page_numbers_fall_back(page, expected):
    assert SearchQuery.from_args(MultiDict({"page": page})).page == expected


def test_pagination_and_sorting(corpus, monkeypatch, make_user, municipality):
    from registry.catalog.adoption import record_adoption
    from registry.releases.service import get_release

    monkeypatch.setattr(search_module, "PAGE_SIZE", 2)
    first, second = run("", page="1"), run("", page="2")
    assert (first.total, first.pages, len(first.hits), len(second.hits)) == (3, 2, 2, 1)
    assert set(names(first)) | set(names(second)) == {"parking-share", "bus-shelter", "flood-alert"}
    assert run("", page="7").hits == []

    assert names(run("", sort="newest"))[:1] == ["flood-alert"]  # approved last
    from datetime import date

    from registry.accounts.models import User

    owner = db.session.scalar(db.select(User).where(User.username == "cheonan"))
    record_adoption(owner, municipality, get_release("bus-shelter", "1.0.0"), "production", date(2024, 3, 1))
    db.session.commit()
    monkeypatch.setattr(search_module, "PAGE_SIZE", 20)
    assert names(run("", sort="adopted"))[0] == "bus-shelter"
    assert run("", sort="adopted").hits[0].adoption_count == 1


def test_relevance_prefers_title_matches_over_body_matches(publish):
    publish("parking-share")  # "parking" in its name and title
    publish("bus-shelter", org="urban-lab", title=texts("버스 쉼터", "Bus Shelter"), keywords=["bus"],
            summary=texts("쉼터 옆 parking 안내", "Shows parking next to the shelter"), categories=["mobility"])
    assert names(run("parking")) == ["parking-share", "bus-shelter"]
    assert names(run("parking-share")) == ["parking-share"]
    # Newest first by the sort alone: relevance is what puts parking-share first, also with two facets chosen
    # (the candidates then come from one read of the match, and are scored apart).
    assert names(run("parking", sort="adopted")) == ["bus-shelter", "parking-share"]
    assert names(run("parking", category="mobility", status="stable")) == ["parking-share", "bus-shelter"]


def test_word_pieces_index_every_character_and_two_character_piece_of_every_word():
    assert search_module.word_pieces("주차장 ab-cd e") == "a ab b c cd d e 장 주 주차 차 차장"
    assert search_module.word_pieces("") == ""


def test_one_character_queries_use_the_index_of_word_pieces(corpus):
    from sqlalchemy.dialects import postgresql, sqlite

    terms, _ = parse_query("차")
    on_sqlite = str(search_module.text_condition(terms, "sqlite").compile(dialect=sqlite.dialect()))
    on_postgres = str(search_module.text_condition(terms, "postgresql").compile(dialect=postgresql.dialect()))
    assert "search_grams" in on_sqlite and "instr" not in on_sqlite.lower()  # not a scan of every body
    assert "search_pieces" in on_postgres and "like" not in on_postgres.lower()
    assert sorted(names(run("쉼"))) == ["bus-shelter"]
    assert names(run("ev")) == ["flood-alert"]  # two letters, through the two-character index: "levels"
    assert names(run("qz")) == []


def test_repeated_searches_are_served_from_the_cache_until_the_index_changes(corpus, publish):
    first = search_module.cached_search(SearchQuery(text="스마트"))
    assert search_module.cached_search(SearchQuery(text="스마트")) is first
    publish("smart-crosswalk", org="urban-lab", title=texts("스마트 횡단보도", "Smart Crosswalk"))
    again = search_module.cached_search(SearchQuery(text="스마트"))
    assert again is not first and "smart-crosswalk" in names(again)
    assert again.total == first.total + 1


def test_counts_are_exact_up_to_the_cap_and_lower_bounds_beyond_it(corpus, monkeypatch):
    exact = run("")
    assert (exact.total, exact.total_is_estimate, exact.estimated_facets) == (3, False, frozenset())

    monkeypatch.setattr(search_module, "COUNT_CAP", 2)
    capped = run("스마트")  # parking-share and bus-shelter say 스마트; with the cap at 2 that is still exact
    assert (capped.total, capped.total_is_estimate) == (2, False)
    broad = run("", status=["stable", "beta"])  # three matches, two counted
    assert (broad.total, broad.total_is_estimate, broad.pages) == (2, True, 1)
    assert set(broad.estimated_facets) == set(search_module.FACETS)  # every facet: lower bounds
    assert all(v.count <= 2 for values in broad.facets.values() for v in values)
    assert sum(v.count for v in broad.facets["programme"]) == 2
    # The whole index is counted exactly (one cheap count); its facets are still bounded.
    everything = run("")
    assert (everything.total, everything.total_is_estimate) == (3, False)
    assert "category" in everything.estimated_facets


def test_pages_beyond_the_cap_of_a_listing_are_still_served(corpus, monkeypatch):
    monkeypatch.setattr(search_module, "PAGE_SIZE", 1)
    monkeypatch.setattr(search_module, "COUNT_CAP", 2)
    pages = [run("", sort="newest", page=str(n)) for n in (1, 2, 3, 4)]
    assert [len(p.hits) for p in pages] == [1, 1, 1, 0]
    assert [p.has_next for p in pages] == [True, True, False, False]
    assert len({p.hits[0].name for p in pages[:3]}) == 3


@pytest.mark.parametrize("sort", ["relevance", "newest", "adopted"])
def test_page_order_is_stable_and_pages_do_not_overlap(publish, monkeypatch, sort):
    for n in range(5):
        publish(f"parking-{n}", org="urban-lab", title=texts(f"주차 안내 {n}", f"Parking Guide {n}"),
                keywords=["주차"], categories=["parking"])
    monkeypatch.setattr(search_module, "PAGE_SIZE", 2)
    first = [names(run("주차", sort=sort, page=str(n))) for n in (1, 2, 3)]
    again = [names(run("주차", sort=sort, page=str(n))) for n in (1, 2, 3)]
    assert first == again
    flat = [name for page in first for name in page]
    assert sorted(flat) == sorted(f"parking-{n}" for n in range(5)) and len(set(flat)) == 5
    monkeypatch.setattr(search_module, "PAGE_SIZE", 20)
    assert names(run("주차", sort=sort)) == flat  # paging is slicing the one order


@pytest.mark.parametrize("query, expected", [
    ("차" * 200, []), ("%" * 200, ["bus-shelter", "flood-alert", "parking-share"]),  # nothing left: everything
    ("_" * 200, ["bus-shelter", "flood-alert", "parking-share"]), ("주_" * 100, []), ("주%" * 100, []),
    ("주차 " * 100, ["parking-share"]), ("NEAR(주차 버스) " * 20, []), ('"주차" OR "버스" ' * 20, []),
])
def test_long_hostile_queries_are_bounded_and_literal(corpus, query, expected):
    result = run(query)
    assert len(result.terms) <= search_module.MAX_TERMS
    assert all(len(t.text) <= search_module.MAX_QUERY_CHARS for t in result.terms)
    assert sorted(names(result)) == expected and result.total == len(expected)


def test_the_json_answer_says_when_counts_are_estimates(client, corpus, monkeypatch):
    answer = client.get("/api/v1/solutions").json
    assert (answer["total"], answer["total_is_estimate"], answer["estimated_facets"]) == (3, False, [])
    assert answer["count_cap"] == search_module.COUNT_CAP and answer["has_next"] is False
    monkeypatch.setattr(search_module, "COUNT_CAP", 2)
    answer = client.get("/api/v1/solutions?status=stable&status=beta").json
    assert (answer["total"], answer["total_is_estimate"]) == (2, True)
    assert "category" in answer["estimated_facets"]


def test_the_search_page_says_when_counts_are_estimates(client, corpus, monkeypatch):
    monkeypatch.setattr(search_module, "COUNT_CAP", 2)
    page = client.get("/search?status=stable&status=beta").get_data(as_text=True)
    assert "솔루션 2개 이상" in page and "+</abbr>" in page
    page = client.get("/search?status=stable&status=beta&lang=en").get_data(as_text=True)
    assert "2 or more solutions found" in page
    assert "솔루션 3개" in client.get("/search?lang=ko").get_data(as_text=True)  # below the cap: exact, no "+"


def test_a_query_with_several_facets_counts_each_from_one_read_of_the_match(corpus, monkeypatch):
    result = run("스마트", programme="hub", year="2023")  # 스마트: parking-share (2023) and bus-shelter (hub, 2022)
    assert result.total == 0
    counts = {f: {v.value: (v.count, v.selected) for v in values} for f, values in result.facets.items()}
    assert counts["programme"] == {"small-strong-population": (1, False), "hub": (0, True)}  # 스마트 in 2023
    assert counts["year"] == {"2022": (1, False), "2023": (0, True)}  # 스마트 of the hub programme
    assert counts["category"] == {} and result.estimated_facets == frozenset()

    result = run("스마트", programme="hub", year="2022", status="beta")
    assert names(result) == ["bus-shelter"]
    counts = {f: {v.value: v.count for v in values} for f, values in result.facets.items()}
    assert counts["status"] == {"beta": 1}  # parking-share (stable) is of another programme and year
    assert counts["year"] == {"2022": 1} and counts["programme"] == {"hub": 1}

    # The same sets as reading the search without each facet's filter, also when capped.
    monkeypatch.setattr(search_module, "COUNT_CAP", 1)
    result = run("스마트", programme=["hub", "small-strong-population"], year=["2022", "2023"])
    assert (result.total, result.total_is_estimate) == (1, True)
    assert set(result.estimated_facets) == set(search_module.FACETS)
    assert all(sum(v.count for v in result.facets[f]) == 1 for f in ("programme", "year"))
    terms, _ = parse_query("스마트")
    base = [search_module.text_condition(terms, db.session.get_bind().dialect.name)]
    value_ids = search_module.chosen_value_ids({"programme": ["hub"], "year": ["2022", "2023"]})
    main, others = search_module._candidate_sets(base, value_ids)
    hub = search_module.facet_condition(value_ids["programme"], db.session.get_bind().dialect.name)
    assert main == search_module._candidates(base + [hub], search_module.ADOPTED_ORDER)[0]
    assert others["year"] == search_module._candidates(base + [hub], search_module.ADOPTED_ORDER)[0]
    assert len(others["programme"]) == 2  # both 스마트 solutions (2022, 2023): one more than the cap
