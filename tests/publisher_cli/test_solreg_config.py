import stat

import pytest

from publisher_cli.commands.keys import generate_signing_key, load_signing_key
from publisher_cli.config import (
    RegistryConfig,
    config_path,
    keys_dir,
    load_config,
    read_private_key_pem,
    resolve_registry,
    store_login,
)
from publisher_cli.errors import ConfigError, KeyFileError


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_paths_follow_xdg(config_home):
    assert config_path() == config_home / "solreg" / "config.toml"
    assert keys_dir() == config_home / "solreg" / "keys"


def test_default_is_dot_config_without_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config_path() == tmp_path / ".config" / "solreg" / "config.toml"


def test_store_login_writes_private_file(config_home):
    entry, path = store_login("local", "http://127.0.0.1:5000/", "solreg_abc")
    assert entry.url == "http://127.0.0.1:5000"
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    text = path.read_text()
    assert 'default = "local"' in text and "[registries.local]" in text
    config = load_config()
    assert config.default == "local"
    assert config.registries["local"].token == "solreg_abc"


def test_second_registry_keeps_the_default(config_home):
    store_login("local", "http://127.0.0.1:5000", "solreg_a")
    store_login("staging", "https://staging.example.org", "solreg_b")
    assert resolve_registry().name == "local"
    chosen = resolve_registry("staging")
    assert (chosen.url, chosen.token) == ("https://staging.example.org", "solreg_b")


def test_env_overrides(config_home, monkeypatch):
    store_login("local", "http://127.0.0.1:5000", "solreg_file")
    monkeypatch.setenv("SOLREG_TOKEN", "solreg_env")
    monkeypatch.setenv("SOLREG_REGISTRY_URL", "https://env.example.org")
    chosen = resolve_registry()
    assert (chosen.url, chosen.token) == ("https://env.example.org", "solreg_env")


def test_env_alone_is_enough(config_home, monkeypatch):
    monkeypatch.setenv("SOLREG_REGISTRY_URL", "https://env.example.org")
    assert resolve_registry(need_token=False).url == "https://env.example.org"
    with pytest.raises(ConfigError, match="not logged in"):
        resolve_registry(need_token=True)


def test_unknown_registry_and_nothing_configured(config_home):
    with pytest.raises(ConfigError, match="no registry configured"):
        resolve_registry()
    store_login("local", "http://127.0.0.1:5000", "t")
    with pytest.raises(ConfigError, match="no registry named 'prod'.*known: local"):
        resolve_registry("prod")


def test_broken_toml_is_a_clear_error(config_home):
    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text("default = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config()


def test_world_readable_config_with_token_warns(config_home, capsys):
    _, path = store_login("local", "http://127.0.0.1:5000", "solreg_abc")
    path.chmod(0o644)
    load_config()
    assert "readable by others" in capsys.readouterr().err


def test_keygen_modes_and_refusal(config_home):
    path, keyid = generate_signing_key()
    assert mode(path) == 0o600
    assert mode(keys_dir() / "signing-key.pub.pem") == 0o644
    assert len(keyid) == 64
    with pytest.raises(KeyFileError, match="already exists"):
        generate_signing_key()
    _, new_keyid = generate_signing_key(force=True)
    assert new_keyid != keyid
    assert mode(path) == 0o600


def test_group_readable_private_key_is_refused(config_home):
    path, _ = generate_signing_key()
    path.chmod(0o640)
    with pytest.raises(KeyFileError, match="readable by other users"):
        read_private_key_pem()
    with pytest.raises(KeyFileError):
        load_signing_key()


def test_no_key_is_none(config_home):
    assert load_signing_key() is None


def test_a_registry_url_uses_what_is_saved_for_it_and_nothing_else(config_home, monkeypatch):
    assert resolve_registry("https://registry.example.go.kr/") == RegistryConfig("registry.example.go.kr",
                                                                               "https://registry.example.go.kr")
    store_login("gov", "https://registry.example.go.kr", "solreg_saved")
    saved = resolve_registry("https://registry.example.go.kr")
    assert (saved.name, saved.token) == ("gov", "solreg_saved")
    # SOLREG_TOKEN goes with SOLREG_REGISTRY_URL only.
    monkeypatch.setenv("SOLREG_TOKEN", "solreg_env")
    monkeypatch.setenv("SOLREG_REGISTRY_URL", "https://registry.example.go.kr")
    assert resolve_registry("https://registry.example.go.kr").token == "solreg_env"
    assert resolve_registry("https://mirror.example.go.kr").token is None
    with pytest.raises(ConfigError, match="not logged in to https://mirror.example.go.kr") as refused:
        resolve_registry("https://mirror.example.go.kr", need_token=True)
    assert "solreg login --url https://mirror.example.go.kr" in refused.value.hint


def test_a_registry_url_whose_host_names_another_entry_is_refused(config_home):
    store_login("registry.example.go.kr", "https://registry.example.go.kr/v2", "t")
    with pytest.raises(ConfigError, match="is https://registry.example.go.kr/v2, not https://registry.example.go.kr"):
        resolve_registry("https://registry.example.go.kr")


def test_nothing_configured_hints_at_a_registry_url(config_home):
    with pytest.raises(ConfigError) as refused:
        resolve_registry()
    assert "--registry https://" in refused.value.hint
