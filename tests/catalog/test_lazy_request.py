"""What a cached search hit works out only when something asks: the reader's language (part of the
cache key, so once), the signed-in user (loaded only when the session or a cookie can name one)."""

from __future__ import annotations

from urllib.parse import quote

URL = "/api/v1/solutions?q=" + quote("주차")


def test_an_anonymous_cached_search_takes_no_long_way_to_its_user_and_picks_its_language_once(
        app, client, publish, counted):
    publish("parking-share")
    assert client.get(URL).status_code == 200  # fills the caches
    counted.update(locale=0, login=0)
    response = client.get(URL)
    assert response.status_code == 200 and response.json["total"] == 1
    assert response.headers["Vary"] == "Cookie"  # it still depends on the cookie (language, signed-in reader)
    assert counted == {"locale": 1, "login": 0}  # the language is part of the cache key; no user to find


def test_the_cached_search_answers_each_reader_in_the_language_their_cookie_picks(app, client, publish):
    publish("parking-share", title={"ko": "스마트 주차 공유", "en": "Smart Parking Share"})
    assert client.get(URL).json["results"][0]["title"] == "스마트 주차 공유"  # Korean unless told otherwise
    english = app.test_client()
    english.set_cookie("lang", "en")
    assert english.get(URL).json["results"][0]["title"] == "Smart Parking Share"
    assert english.get(URL + "&lang=ko").json["results"][0]["title"] == "스마트 주차 공유"
    assert client.get(URL).json["results"][0]["title"] == "스마트 주차 공유"  # its own cached answer


def test_a_signed_in_reader_on_the_cached_search_is_still_seen(app, client, make_user, publish):
    """A reviewer without two-factor sign-in is refused by the API even on a cached answer: the user was loaded."""
    from tests.helpers import login

    app.config["REQUIRE_2FA_FOR_STAFF"] = True
    publish("parking-share")
    assert client.get(URL).status_code == 200
    make_user("rev", role="reviewer")
    login(client, "rev")
    response = client.get(URL)
    assert response.status_code == 403 and response.json["errors"][0]["field"] == "two_factor"
