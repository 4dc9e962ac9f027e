"""Every documented REGISTRY_* setting takes effect; an unknown one is a warning, not silence."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from registry import create_app
from registry.config import DEFAULTS

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"

# Values that change a setting and still let the app start; other settings get one derived from their default.
SAMPLES = {
    "STORAGE_BACKEND": {"REGISTRY_STORAGE_BACKEND": "s3", "REGISTRY_S3_BUCKET": "도시-블롭"},
    "S3_BUCKET": {"REGISTRY_STORAGE_BACKEND": "s3", "REGISTRY_S3_BUCKET": "도시-블롭"},
    "LOG_LEVEL": {"REGISTRY_LOG_LEVEL": "DEBUG"},
    "DEFAULT_LOCALE": {"REGISTRY_DEFAULT_LOCALE": "en"},
    "RATELIMIT_STORAGE_URI": {"REGISTRY_RATELIMIT_STORAGE_URI": "memory://other"},
    "QUEUE_URL": {"REGISTRY_QUEUE_URL": "immediate"},
}


def documented_settings() -> list[str]:
    """The REGISTRY_* names in the first column of the settings table of docs/operations.md."""
    text = OPERATIONS.read_text(encoding="utf-8")
    section = text[text.index("## Settings"):]
    section = section[:section.index("\n## ", 1)]
    names = []
    for line in section.splitlines():
        if line.startswith("| `REGISTRY_"):
            names += re.findall(r"`REGISTRY_([A-Z0-9_]+)`", line.split("|")[1])
    return names


def sample_environment(key: str, tmp_path: Path) -> dict[str, str]:
    if key in SAMPLES:
        return SAMPLES[key]
    default = DEFAULTS[key]
    if isinstance(default, bool):
        value = str(not default).lower()
    elif isinstance(default, (int, float)):
        value = str(default + 1)
    elif key in ("DATABASE_URL", "DATABASE_REPLICA_URL"):
        value = f"sqlite:///{tmp_path / 'other.db'}"
    elif key.endswith("_PATH"):
        value = str(tmp_path / "other")
    else:
        value = f"설정-{key.lower()}"
    return {f"REGISTRY_{key}": value}


def app_with(environment: dict[str, str], tmp_path: Path, monkeypatch):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    # Explicit settings win over the environment, so give only those the environment does not set.
    base = {"DATABASE_URL": f"sqlite:///{tmp_path / 'base.db'}", "STORAGE_PATH": str(tmp_path / "blobs"),
            "SECRET_KEY": "기본-비밀"}
    return create_app({k: v for k, v in base.items() if f"REGISTRY_{k}" not in environment})


def test_the_settings_table_is_found():
    names = documented_settings()
    assert {"DATABASE_URL", "S3_BUCKET", "RATELIMIT_API", "SESSION_COOKIE_SECURE", "PROXY_FIX"} <= set(names)


@pytest.mark.parametrize("key", documented_settings())
def test_every_documented_setting_takes_effect(key, tmp_path, monkeypatch):
    assert key in DEFAULTS, f"REGISTRY_{key} is documented but registry/config.py does not know it"
    before = app_with({}, tmp_path, monkeypatch).config[key]
    after = app_with(sample_environment(key, tmp_path), tmp_path, monkeypatch).config[key]
    assert after != before, f"REGISTRY_{key} set in the environment does not change the configuration"


def test_every_setting_is_documented():
    assert set(DEFAULTS) == set(documented_settings())


def test_secure_cookies_setting_covers_the_session_and_remember_cookies(tmp_path, monkeypatch):
    assert not app_with({}, tmp_path, monkeypatch).config["REMEMBER_COOKIE_SECURE"]
    app = app_with({"REGISTRY_SESSION_COOKIE_SECURE": "true"}, tmp_path, monkeypatch)
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_SECURE"] is True
    response = app.test_client().get("/lang/en")
    session_cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "; Secure" in session_cookie


def test_unknown_setting_is_a_warning_naming_the_closest_setting(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("REGISTRY_SESION_COOKIE_SECURE", "true")
    with caplog.at_level(logging.WARNING, logger="registry.config"):
        app = app_with({}, tmp_path, monkeypatch)
        app_with({}, tmp_path, monkeypatch)
    warnings = [r.getMessage() for r in caplog.records if "REGISTRY_SESION_COOKIE_SECURE" in r.getMessage()]
    assert len(warnings) == 1, "logged once, however many apps the process makes"
    assert "REGISTRY_SESSION_COOKIE_SECURE" in warnings[0]
    assert app.config["SESSION_COOKIE_SECURE"] is False  # a misspelt name changes nothing


def test_unknown_setting_without_a_close_name_is_still_named(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("REGISTRY_QQQQQQQQQQQQQQQQ", "1")
    with caplog.at_level(logging.WARNING, logger="registry.config"):
        app_with({}, tmp_path, monkeypatch)
    assert any("REGISTRY_QQQQQQQQQQQQQQQQ" in r.getMessage() for r in caplog.records)
