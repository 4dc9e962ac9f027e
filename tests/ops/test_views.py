from registry.db import db


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["status"] == "ok"


def test_healthz_names_failing_storage(client, app, tmp_path):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    app.extensions["blob_storage"].root = blocker / "blobs"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "storage" in response.json["failing"]


def test_healthz_names_failing_database(tmp_path):
    from registry import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
                      "STORAGE_PATH": str(tmp_path), "SECRET_KEY": "x"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert "database" in response.json["failing"]


def test_errors_answer_html_to_browsers_and_json_to_api_clients(client):
    html = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert html.status_code == 404 and html.mimetype == "text/html"
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json["errors"][0]["code"] == "not-found"
    wants_json = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert wants_json.json["errors"][0]["code"] == "not-found"


def test_oversized_body_is_413(app, client, make_user, make_token):
    raw = make_token(make_user("kim", org="hanbit"), "hanbit")
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/api/v1/keys", data=b"x" * 4096,
                           headers={"Content-Type": "application/json", "Authorization": f"Bearer {raw}"})
    assert response.status_code == 413
    assert response.json["errors"][0]["code"] == "too-large"


def test_language_switch_is_remembered(client):
    assert 'lang="ko"' in client.get("/").get_data(as_text=True)
    client.get("/lang/en")
    assert 'lang="en"' in client.get("/").get_data(as_text=True)


def test_manifest_schema_is_served(client):
    import jsonschema

    response = client.get("/schema/solution/v1.json")
    assert response.status_code == 200 and response.mimetype == "application/schema+json"
    schema = response.json
    assert schema["$schema"].endswith("2020-12/schema") and schema["$id"].endswith("/schema/solution/v1.json")
    jsonschema.Draft202012Validator.check_schema(schema)


def test_storage_down_is_a_korean_page_without_a_traceback(app, client, upload, vendor_token, monkeypatch):
    from pathlib import Path

    from registry.releases import states
    from registry.releases.service import get_release
    from registry.review import files
    from registry.storage.base import blob_key

    assert upload(vendor_token).status_code == 201
    release = get_release("parking-share", "1.2.0")
    states.transition_release(release, "approve")
    db.session.commit()
    (Path(app.config["STORAGE_PATH"]) / blob_key(release.sha256)).unlink()
    monkeypatch.setattr(files, "_cache", files._ArchiveCache(files.CACHE_BYTES))  # nothing read before
    # A file's page reads the archive (the tree is listed from the release's file index).
    page = client.get(f"/review/releases/{release.id}/files/solution.yaml", headers={"Accept": "text/html"})
    html = page.get_data(as_text=True)
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "파일 저장소에 접근할 수 없습니다" in html
    assert "is missing" not in html and "Traceback" not in html


def test_a_bug_is_500_with_a_request_id_that_is_in_the_log(app, client, caplog):
    def broken():
        raise RuntimeError("a bug")

    app.add_url_rule("/api/v1/broken", view_func=broken)
    app.add_url_rule("/broken", view_func=broken)
    api = client.get("/api/v1/broken")
    request_id = api.json["request_id"]
    assert api.status_code == 500 and api.headers["X-Request-Id"] == request_id
    assert api.json["errors"][0]["code"] == "internal" and request_id in api.json["errors"][0]["detail"]
    assert f"unhandled error {request_id}" in caplog.text and "RuntimeError: a bug" in caplog.text
    page = client.get("/broken", headers={"Accept": "text/html"})
    html = page.get_data(as_text=True)
    assert page.status_code == 500 and page.headers["X-Request-Id"] in html and "a bug" not in html
