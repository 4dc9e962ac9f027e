"""login, whoami, keys register, status, yank, search, info against the stub registry."""

import stat

from publisher_cli.commands.keys import generate_signing_key
from publisher_cli.config import config_path, load_config

WHOAMI = {"user": {"username": "kim"}, "org": {"slug": "cheonan", "name": "천안시"},
          "scopes": ["publish", "yank"], "solution": None}
RELEASE = "/api/v1/solutions/parking-share/releases/1.2.0"


def record(**extra):
    data = {"name": "parking-share", "version": "1.2.0", "state": "changes_requested", "queue_position": None,
            "url": "http://x/r", "yank_reason": None,
            "reviews": [{"decision": "changes_requested", "comment": "SBOM lacks licences\nplease add them",
                         "reviewer": "park", "created_at": "2024-03-03"}]}
    data.update(extra)
    return data


def test_login_checks_and_stores_the_token(solreg, stub, config_home):
    stub.on("GET", "/api/v1/whoami", (200, WHOAMI))
    result = solreg("--registry", "local", "login", "--url", stub.url, input="solreg_secret\n")
    assert result.returncode == 0, result.stderr
    assert "as kim @ cheonan" in result.stdout
    assert stub.requests[0].headers["Authorization"] == "Bearer solreg_secret"
    assert stat.S_IMODE(config_path().stat().st_mode) == 0o600
    config = load_config()
    assert config.default == "local"
    assert config.registries["local"].token == "solreg_secret"
    assert "solreg_secret" not in result.stdout + result.stderr

    again = solreg("whoami")
    assert again.returncode == 0
    assert again.stdout.strip() == "kim @ cheonan (천안시), scopes: publish, yank"


def test_login_with_a_bad_token_stores_nothing(solreg, stub, config_home):
    stub.on("GET", "/api/v1/whoami", (401, {"errors": [{"code": "bad-token", "detail": "token is revoked",
                                                        "field": None}]}))
    result = solreg("login", "--url", stub.url, input="solreg_old\n")
    assert result.returncode == 1
    assert "token is revoked" in result.stderr
    assert not config_path().exists()


def test_keys_register_posts_the_public_key(solreg, stub, config_home):
    _, keyid = generate_signing_key()
    stub.on("POST", "/api/v1/keys", (201, {"key": {"keyid": keyid, "name": "laptop", "created_at": "now"}}))
    result = solreg("keys", "register", "--name", "laptop",
                    env={"SOLREG_REGISTRY_URL": stub.url, "SOLREG_TOKEN": "solreg_t"})
    assert result.returncode == 0, result.stderr
    body = stub.requests[0].body.decode()
    assert "BEGIN PUBLIC KEY" in body and '"name": "laptop"' in body
    assert "PRIVATE" not in body


def test_keys_register_without_a_key(solreg, config_home):
    result = solreg("keys", "register", env={"SOLREG_REGISTRY_URL": "http://127.0.0.1:9", "SOLREG_TOKEN": "t"})
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["error: no signing key yet",
                                          "hint: run `solreg keygen` to create a signing key"]


def test_keygen_cli(solreg, config_home):
    result = solreg("keygen")
    assert result.returncode == 0
    assert "mode 0600" in result.stdout
    assert solreg("keygen").returncode == 1


def test_status_shows_state_and_review_comments(solreg, stub):
    stub.on("GET", RELEASE, (200, {"release": record()}))
    result = solreg("status", "parking-share@1.2.0", env={"SOLREG_REGISTRY_URL": stub.url})
    assert result.returncode == 0, result.stderr
    assert "state:   changes_requested" in result.stdout
    assert "park: changes_requested" in result.stdout
    assert "      please add them" in result.stdout


def test_status_of_a_solution_lists_releases(solreg, stub):
    stub.on("GET", "/api/v1/solutions/parking-share", (200, {"solution": {
        "name": "parking-share", "state": "active", "latest_version": "1.2.0",
        "releases": [record(state="pending_review", queue_position=2)]}}))
    result = solreg("status", "parking-share", env={"SOLREG_REGISTRY_URL": stub.url})
    assert result.returncode == 0, result.stderr
    assert "pending_review (queue position 2)" in result.stdout


def test_yank_and_unyank(solreg, stub):
    stub.on("POST", f"{RELEASE}/yank", (200, {"release": record(state="yanked", yank_reason="CVE-2024-1")}))
    stub.on("POST", f"{RELEASE}/unyank", (200, {"release": record(state="published")}))
    env = {"SOLREG_REGISTRY_URL": stub.url, "SOLREG_TOKEN": "solreg_t"}
    yanked = solreg("yank", "parking-share@1.2.0", "--reason", "CVE-2024-1", env=env)
    assert yanked.returncode == 0, yanked.stderr
    assert "yank reason: CVE-2024-1" in yanked.stdout
    assert stub.requests[0].body == b'{"reason": "CVE-2024-1"}'
    unyanked = solreg("unyank", "parking-share@1.2.0", env=env)
    assert "state:   published" in unyanked.stdout


def test_search_and_info(solreg, stub):
    stub.on("GET", "/api/v1/solutions", (200, {"results": [
        {"name": "parking-share", "title": "Smart Parking", "summary": "Share spaces", "latest_version": "1.2.0",
         "org": "cheonan"}], "total": 1, "page": 1, "pages": 1}))
    stub.on("GET", "/api/v1/solutions/parking-share", (200, {"solution": {
        "name": "parking-share", "title": "Smart Parking", "summary": "Share spaces", "org": "cheonan",
        "state": "active", "latest_version": "1.2.0", "releases": [record(state="published", created_at="2024")]}}))
    env = {"SOLREG_REGISTRY_URL": stub.url, "COLUMNS": "200"}
    found = solreg("search", "주차 parking", env=env)
    assert found.returncode == 0, found.stderr
    assert "parking-share" in found.stdout and "1 result(s), page 1 of 1" in found.stdout
    assert stub.requests[0].path == "/api/v1/solutions?q=%EC%A3%BC%EC%B0%A8+parking&page=1"
    info = solreg("info", "parking-share", env=env)
    assert info.returncode == 0
    assert "latest:  1.2.0" in info.stdout and "1.2.0" in info.stdout
