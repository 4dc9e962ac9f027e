"""The search API's answer cache: keyed on the search only, bounded, revalidated with ETags, fresh after a write."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from registry.catalog import search
from registry.db import db
from tests.catalog.conftest import texts

URL = "/api/v1/solutions?q=" + quote("주차")


def test_a_client_changing_the_host_header_does_not_grow_the_cache(app, client, corpus_one):
    for n in range(30):
        response = client.get(URL, headers={"Host": f"host-{n}.example.org"})
        assert response.status_code == 200
        # The links still point at the host asked: the origin is put in per request.
        assert response.json["results"][0]["url"] == f"http://host-{n}.example.org/solutions/parking-share"
    assert len(search.rendered_cache()) == 1


def test_the_cache_is_a_bounded_lru(app, client, corpus_one):
    app.config["SEARCH_CACHE_SIZE"] = 3
    for n in range(10):
        assert client.get(URL + f"+{n}").status_code == 200
    assert len(search.rendered_cache()) == 3


def test_a_repeated_search_is_revalidated_with_its_etag(client, corpus_one):
    first = client.get(URL)
    assert first.headers["ETag"]
    again = client.get(URL, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    # Another host gets other links, so another ETag.
    other = client.get(URL, headers={"Host": "other.example.org", "If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200 and other.headers["ETag"] != first.headers["ETag"]


def test_a_publish_shows_in_the_next_cached_answer_of_the_same_process(client, corpus_one, publish):
    assert client.get(URL).json["total"] == 1
    publish("parking-guide", org="urban-lab", title=texts("공영 주차장 안내", "Public Parking Guide"))
    assert client.get(URL).json["total"] == 2


def test_another_process_s_write_shows_after_the_state_ttl(app, client, corpus_one):
    app.config["SEARCH_STATE_TTL"] = 0.0  # read the index state on every search
    assert client.get(URL).json["total"] == 1
    # A write this process's session never saw (another worker's, or the job queue's).
    with db.engine.begin() as connection:
        connection.execute(search.docs.delete())
    assert client.get(URL).json["total"] == 0


@pytest.fixture
def corpus_one(publish):
    publish("parking-share")  # the full example: 스마트 주차 공유
