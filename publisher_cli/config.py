"""Named registries and signing keys under ``$XDG_CONFIG_HOME/solreg``.

``config.toml`` looks like cargo's registries table::

    default = "local"

    [registries.local]
    url = "http://127.0.0.1:5000"
    token = "solreg_..."

The file holds tokens, so it is written with mode 0600 (directory 0700).
``SOLREG_REGISTRY_URL`` and ``SOLREG_TOKEN`` override whatever the file says.

``--registry`` takes a name from the file or a registry's URL: a municipality without an account
downloads and verifies published releases with ``--registry https://…`` and no ``solreg login``.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from publisher_cli.errors import ConfigError, KeyFileError

DEFAULT_REGISTRY_NAME = "default"
PRIVATE_KEY_FILE = "signing-key.pem"
PUBLIC_KEY_FILE = "signing-key.pub.pem"


@dataclass
class RegistryConfig:
    name: str
    url: str
    token: str | None = None
    log_key: str | None = None  # the registry's transparency log key, pinned at first use


@dataclass
class Config:
    default: str | None = None
    registries: dict[str, RegistryConfig] = field(default_factory=dict)


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "solreg"


def config_path() -> Path:
    return config_dir() / "config.toml"


def keys_dir() -> Path:
    return config_dir() / "keys"


def write_private_file(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Atomically replace ``path``; the content is never readable by others, even briefly."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp creates 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _too_open(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def load_config() -> Config:
    path = config_path()
    if not path.exists():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", hint=f"fix or delete {path}") from None
    default = data.get("default")
    if default is not None and not isinstance(default, str):
        raise ConfigError(f"{path}: `default` must be a registry name", hint=f"fix {path}")
    registries: dict[str, RegistryConfig] = {}
    raw_registries = data.get("registries", {})
    if not isinstance(raw_registries, dict):
        raise ConfigError(f"{path}: [registries] must be a table", hint=f"fix {path}")
    for name, entry in raw_registries.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise ConfigError(f"{path}: [registries.{name}] needs a url", hint=f"fix {path}")
        token = entry.get("token")
        log_key = entry.get("log_key")
        registries[name] = RegistryConfig(name, entry["url"], token if isinstance(token, str) else None,
                                          log_key if isinstance(log_key, str) else None)
    if any(r.token for r in registries.values()) and _too_open(path):
        print(f"warning: {path} holds tokens but is readable by others; run `chmod 600 {path}`",
              file=sys.stderr)
    return Config(default, registries)


def save_config(config: Config) -> Path:
    import tomli_w

    data: dict[str, object] = {}
    if config.default:
        data["default"] = config.default
    data["registries"] = {
        name: {k: v for k, v in (("url", r.url), ("token", r.token), ("log_key", r.log_key)) if v}
        for name, r in config.registries.items()
    }
    path = config_path()
    write_private_file(path, tomli_w.dumps(data).encode("utf-8"))
    return path


def is_registry_url(value: str) -> bool:
    return urlsplit(value).scheme in ("http", "https")


def registry_at(url: str, config: Config | None = None) -> RegistryConfig:
    """The registry at ``url`` (``--registry URL``): the entry saved for that URL, with its token and
    pinned log key, else a new one named after the host, with no token: a token goes only to the
    registry it was saved for (``SOLREG_TOKEN`` with ``SOLREG_REGISTRY_URL`` names both at once)."""
    config = config or load_config()
    url = url.rstrip("/")
    env_token = os.environ.get("SOLREG_TOKEN") if os.environ.get("SOLREG_REGISTRY_URL", "").rstrip("/") == url else None
    saved = next((r for r in config.registries.values() if r.url.rstrip("/") == url), None)
    if saved:
        return RegistryConfig(saved.name, url, env_token or saved.token, saved.log_key)
    name = urlsplit(url).netloc
    if name in config.registries:  # pinning a log key under this name would mix up two registries
        raise ConfigError(f"registry {name!r} in {config_path()} is {config.registries[name].url}, not {url}",
                          hint=f"use `--registry {name}`, or rename that entry in {config_path()}")
    return RegistryConfig(name, url, env_token)


def resolve_registry(name: str | None = None, *, need_token: bool = False) -> RegistryConfig:
    """The registry to talk to: ``--registry NAME`` or ``--registry URL``, else the default, with env overrides."""
    config = load_config()
    if name and is_registry_url(name):
        registry = registry_at(name, config)
        if need_token and not registry.token:
            raise ConfigError(f"not logged in to {registry.url}",
                              hint=f"run `solreg login --url {registry.url}`, or set SOLREG_REGISTRY_URL and SOLREG_TOKEN")
        return registry
    chosen = name or config.default or DEFAULT_REGISTRY_NAME
    entry = config.registries.get(chosen)
    if name and entry is None and not os.environ.get("SOLREG_REGISTRY_URL"):
        known = ", ".join(sorted(config.registries)) or "none"
        raise ConfigError(f"no registry named {name!r} in {config_path()} (known: {known})")
    url = os.environ.get("SOLREG_REGISTRY_URL") or (entry.url if entry else None)
    if not url:
        raise ConfigError("no registry configured",
                          hint="name one: `solreg --registry https://registry.example.org download NAME@VERSION` "
                               "(no login needed for published releases), or `solreg login --url URL`")
    token = os.environ.get("SOLREG_TOKEN") or (entry.token if entry else None)
    if need_token and not token:
        raise ConfigError(
            f"not logged in to registry {chosen!r}",
            hint=f"run `solreg --registry {chosen} login` or set SOLREG_TOKEN",
        )
    return RegistryConfig(chosen, url.rstrip("/"), token, entry.log_key if entry else None)


def store_login(name: str | None, url: str | None, token: str) -> tuple[RegistryConfig, Path]:
    """Remember ``token`` (and ``url``) for registry ``name``; make it the default if none is."""
    config = load_config()
    chosen = name or config.default or DEFAULT_REGISTRY_NAME
    existing = config.registries.get(chosen)
    final_url = url or (existing.url if existing else None) or os.environ.get("SOLREG_REGISTRY_URL")
    if not final_url:
        raise ConfigError(f"registry {chosen!r} has no URL yet", hint="pass it once: `solreg login --url URL`")
    entry = RegistryConfig(chosen, final_url.rstrip("/"), token, existing.log_key if existing else None)
    config.registries[chosen] = entry
    config.default = config.default or chosen
    return entry, save_config(config)


def pin_log_key(name: str, url: str, log_key: str) -> Path:
    """Remember registry ``name``'s transparency log key (adding the registry if it is new)."""
    config = load_config()
    existing = config.registries.get(name)
    config.registries[name] = RegistryConfig(name, existing.url if existing else url,
                                             existing.token if existing else None, log_key)
    config.default = config.default or name
    return save_config(config)


def checkpoint_path(name: str) -> Path:
    """The last log checkpoint ``solreg`` saw from registry ``name``."""
    return config_dir() / "checkpoints" / name


def witness_key_path() -> Path:
    """The private key of ``solreg witness``: this computer's witness identity."""
    return config_dir() / "witness" / "key"


def witness_log_path(log: str) -> Path:
    """What ``solreg witness`` keeps of the log ``log`` (its key's name): the pinned key, the last head cosigned."""
    from urllib.parse import quote

    return config_dir() / "witness" / "logs" / quote(log, safe="")


# --------------------------------------------------------------------------- keys


def private_key_path() -> Path:
    return keys_dir() / PRIVATE_KEY_FILE


def public_key_path() -> Path:
    return keys_dir() / PUBLIC_KEY_FILE


def read_private_key_pem() -> str | None:
    """The signing key PEM, ``None`` if there is none; refuses a key others can read (like ssh)."""
    path = private_key_path()
    if not path.exists():
        return None
    if _too_open(path):
        raise KeyFileError(
            f"signing key {path} is readable by other users", hint=f"run `chmod 600 {path}`"
        )
    return path.read_text(encoding="ascii")
