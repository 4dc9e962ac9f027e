"""Settings: defaults, then REGISTRY_* environment variables, then the factory's overrides.

Every setting is documented in docs/operations.md.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from registry.spec.limits import Limits

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # default: SQLite file in the instance folder
    "STORAGE_BACKEND": "local",  # local | s3
    "STORAGE_PATH": None,  # default: <instance>/blobs
    "S3_ENDPOINT_URL": None,
    "S3_BUCKET": None,
    "S3_REGION": None,
    "S3_ACCESS_KEY_ID": None,
    "S3_SECRET_ACCESS_KEY": None,
    "SECRET_KEY": None,  # default: generated once into <instance>/secret_key
    "MAX_UPLOAD_MB": 512,
    # ARCHIVE_MAX_MEMBERS, ARCHIVE_MAX_UNPACKED_MB, ARCHIVE_MAX_RATIO, SBOM_MAX_MB, SBOM_TIME_BUDGET_S:
    # the package inspection's caps, defined once in registry/spec/limits.py (solreg check uses them as is).
    **Limits().settings(),
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_LOGIN": "10 per minute",
    "RATELIMIT_UPLOAD": "30 per minute",
    "RATELIMIT_API": "600 per minute",
    "SMTP_HOST": None,
    "SMTP_PORT": 25,
    "MAIL_FROM": "registry@localhost",
    "REVIEW_TWO_APPROVALS_FOR_FIRST_RELEASE": False,
    "REVIEW_CLAIM_MINUTES": 30,
    "REVIEW_CODE_CHECKS": True,  # licence, blob, secret, bandit and deploy-file checks at upload (seconds each)
    "ENTITY_CATALOGUE_EXTRA": "",  # os.pathsep-separated extra catalogue files
    "LOG_LEVEL": "INFO",
    "DEFAULT_LOCALE": "ko",
    # Comma-separated host names and CIDRs that webhooks may reach although internal (and over plain http).
    "WEBHOOK_ALLOWED_HOSTS": "",
    "SESSION_COOKIE_SECURE": False,  # also REMEMBER_COOKIE_SECURE; true in production (https)
    "PROXY_FIX": 0,  # how many reverse proxies in front set X-Forwarded-For/-Proto
    "REQUIRE_2FA_FOR_STAFF": True,  # reviewers and admins must enrol in TOTP two-factor sign-in
    # A read replica of DATABASE_URL (PostgreSQL streaming replication): anonymous catalog reads go there.
    "DATABASE_REPLICA_URL": None,
    "LOG_ORIGIN": None,  # the transparency log's name in its checkpoints; default: <SERVER_NAME or solreg.local>/log
    "LOG_KEY_PATH": None,  # the log's Ed25519 signer key; default: generated once into <instance>/log_key
    "QUEUE_URL": None,  # default: SQLite file <instance>/queue.db; redis://host:6379/0; immediate (tests)
    "WEBHOOK_TIMEOUT": 10,  # seconds per webhook try (connect, and each read)
    "WEBHOOK_RETRY_SECONDS": "60,300,1800,7200,21600",  # waits between tries; the last one repeats
    "WEBHOOK_DISABLE_AFTER_DAYS": 3,  # give a delivery up, and switch a dead endpoint off, after this
    "PUBLIC_URL": "",  # e.g. https://registry.example.go.kr: links in mail sent by the worker
    "SEARCH_STATE_TTL": 1.0,  # seconds a process trusts its search caches before re-reading the index state
    "SEARCH_CACHE_SIZE": 512,  # searches (and their encoded JSON answers) each process keeps, least recent dropped
    "UPLOAD_REHEARSAL": True,  # deploy/wsgi.py: rehearse an upload (rolled back) in gunicorn's master
    "ACCEL_REDIRECT_PREFIX": "",  # e.g. /_blobs/: nginx serves published public local blobs (X-Accel-Redirect)
    "S3_PRESIGNED_DOWNLOADS": False,  # redirect downloads of published public releases to presigned S3 URLs
    # The public tree of published files, /files/ab/cd/<sha256>/<name> (docs/operations.md "Public files").
    "PUBLIC_FILES_PATH": None,  # local storage: the tree nginx serves /files/ from; default <STORAGE_PATH>/public
    "PUBLIC_FILES_URL": "",  # where links point for /files/ (a CDN, the bucket); default: the registry's own /files/
    "DOWNLOAD_LOG_PATH": "",  # nginx's access log of /files/ that the worker counts downloads from; empty: off
    # Scheduled work (registry/jobs, run by the worker; docs/operations.md "Scheduled work").
    "OSV_SOURCE": "",  # a directory, an all.zip path or an http(s) URL of an OSV zip; empty: no refresh
    "OSV_REFRESH_HOURS": 24,  # hours between successful refreshes; 0 turns the refresh off
    "OSV_DOWNLOAD_MAX_MB": 2048,  # a downloaded OSV zip larger than this is refused
    "OSV_DOWNLOAD_TIMEOUT": 600,  # seconds the whole download may take
    "SPOOL_MAX_AGE_HOURS": 6,  # upload spool files older than this are left by interrupted requests
    "REVIEW_REMIND_DAYS": 3,  # reviewers are reminded daily of releases pending longer; 0 turns reminders off
    "MIRROR_PULL_MAX_MB": 20480,  # `flask mirror pull`: the largest bundle it fetches
    "MIRROR_PULL_TIMEOUT": 30,  # `flask mirror pull`: seconds to connect, and for each read
    "MIRROR_PULL_DEADLINE": 3600,  # `flask mirror pull`: seconds for the whole download
}
# Whole-number settings and their least sensible value (a spool age of 0 would remove uploads in flight).
_AT_LEAST = {"OSV_REFRESH_HOURS": 0, "OSV_DOWNLOAD_MAX_MB": 1, "OSV_DOWNLOAD_TIMEOUT": 1, "SPOOL_MAX_AGE_HOURS": 1,
            "REVIEW_REMIND_DAYS": 0}
PREFIX = "REGISTRY_"
# REGISTRY_* variables of the test suite, not settings of the app.
NOT_SETTINGS = frozenset({"REGISTRY_TEST_REDIS_URL", "REGISTRY_TEST_POSTGRES_URL", "REGISTRY_REQUIRE_BROWSER", "REGISTRY_REQUIRE_NGINX",
                          "REGISTRY_REQUIRE_REDIS"})

log = logging.getLogger("registry.config")
_warned: set[str] = set()


def load_settings(instance_path: str, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Merge defaults, REGISTRY_* environment and explicit overrides into Flask config keys."""
    settings = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        raw = os.environ.get(PREFIX + key)
        if raw is not None:
            try:
                settings[key] = _coerce(raw, default)
            except ValueError:
                kind = "a whole number" if isinstance(default, int) else "a number"
                raise ValueError(f"{PREFIX}{key}={raw!r}: expected {kind}") from None
    settings.update(overrides or {})
    _warn_about_unknown_variables()
    _check_scheduled_work(settings)

    instance = Path(instance_path)
    settings["DATABASE_URL"] = normalize_database_url(
        settings["DATABASE_URL"] or f"sqlite:///{instance / 'registry.db'}"
    )
    settings["STORAGE_PATH"] = settings["STORAGE_PATH"] or str(instance / "blobs")
    settings["PUBLIC_FILES_PATH"] = settings["PUBLIC_FILES_PATH"] or str(Path(settings["STORAGE_PATH"]) / "public")
    if not settings["SECRET_KEY"]:
        settings["SECRET_KEY"] = _persistent_secret(instance / "secret_key")

    settings["SQLALCHEMY_DATABASE_URI"] = settings["DATABASE_URL"]
    if settings["DATABASE_REPLICA_URL"]:
        settings["SQLALCHEMY_BINDS"] = {"replica": normalize_database_url(settings["DATABASE_REPLICA_URL"])}
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    # Flask refuses larger bodies before reading them; multipart overhead is small.
    settings["MAX_CONTENT_LENGTH"] = int(settings["MAX_UPLOAD_MB"]) * 1024 * 1024 + 8 * 1024 * 1024
    settings["BABEL_DEFAULT_LOCALE"] = settings["DEFAULT_LOCALE"]
    settings.setdefault("REMEMBER_COOKIE_SECURE", settings["SESSION_COOKIE_SECURE"])
    settings["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")
    # Sign-in cookies: out of reach of scripts, and not sent along with cross-site requests.
    for cookie in ("SESSION_COOKIE", "REMEMBER_COOKIE"):
        settings.setdefault(f"{cookie}_HTTPONLY", True)
        settings.setdefault(f"{cookie}_SAMESITE", "Lax")
    return settings


def _check_scheduled_work(settings: dict[str, Any]) -> None:
    """Refuse a bad value at start-up in one line, rather than in the worker hours later."""
    for key, least in _AT_LEAST.items():
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{PREFIX}{key}={value!r}: a whole number of at least {least} (docs/operations.md)")
    source = str(settings["OSV_SOURCE"] or "")
    if "://" in source and not source.startswith(("http://", "https://")):
        raise ValueError(f"{PREFIX}OSV_SOURCE={source!r}: an http(s) URL, a directory or an all.zip path")


def normalize_database_url(url: str) -> str:
    """Let operators write postgresql:// and still get the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _warn_about_unknown_variables() -> None:
    """A misspelt setting would otherwise be silently ignored; say so once per process."""
    from registry.spec.problems import did_you_mean

    known = [PREFIX + key for key in DEFAULTS]
    for name in sorted(os.environ):
        if not name.startswith(PREFIX) or name in known or name in NOT_SETTINGS or name in _warned:
            continue
        _warned.add(name)
        closest = did_you_mean(name, known)
        hint = f"; did you mean {closest}?" if closest else "; see docs/operations.md"
        log.warning("%s is not a registry setting and is ignored%s", name, hint)


def _coerce(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def _persistent_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key
