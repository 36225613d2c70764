"""Configuration: safe defaults, then the environment, then a mapping passed to the factory."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from flask import Flask


class Defaults:
    """Defaults for the embedded setup; every one can be overridden by SURVEYAPP_* or the env."""

    SQLALCHEMY_DATABASE_URI: str | None = None  # None -> SQLite file in the instance folder
    # No ping on every checkout: db_pool pings connections idle for DB_PING_IDLE_SECONDS.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    DB_PING_IDLE_SECONDS = 10.0
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    WTF_CSRF_CHECK_DEFAULT = False  # security.py runs the check (tokens on /api/ skip it)
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_SECONDS = 15 * 60
    REDIS_URL: str | None = None
    # "thread" | "rq" | "inline"; default: rq if REDIS_URL else thread
    JOB_RUNNER: str | None = None
    RQ_QUEUE = "surveyapp"
    PROXY_FIX = False
    IMPORT_MAX_ROWS = 50_000
    # Fernet keys of respondents' identifying data, the first is the current one (a JSON list
    # in SURVEYAPP_RESPONDENT_KEYS, or comma-separated in RESPONDENT_KEYS); None -> a key
    # generated on first run into the instance folder (file respondent_keys, mode 600).
    RESPONDENT_KEYS: list[str] | None = None
    # Days after a campaign closes before `flask respondents purge` deletes identifying data.
    RESPONDENT_RETENTION_DAYS = 30
    # Exports for statisticians: larger ones run as background jobs writing into EXPORT_DIR
    # (None -> instance/exports); SURVEYAPP_EXPORT_DIR / SURVEYAPP_EXPORT_INLINE_MAX_ROWS.
    EXPORT_INLINE_MAX_ROWS = 5000
    EXPORT_DIR: str | None = None
    # Hours an export job's file (row-level data) stays in EXPORT_DIR before it is deleted
    # (at the next export job, or by `flask exports purge`); SURVEYAPP_EXPORT_RETENTION_HOURS.
    EXPORT_RETENTION_HOURS = 72
    # E-mail copies of notifications (issue 11): sent only when MAIL_SERVER is set
    # (SURVEYAPP_MAIL_SERVER, _MAIL_PORT, _MAIL_USE_TLS, _MAIL_USE_SSL, _MAIL_USERNAME,
    # _MAIL_PASSWORD, _MAIL_FROM; MAIL_SITE_URL is the address named in the message).
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_FROM = "surveyapp@localhost"
    MAIL_SITE_URL = ""
    MAIL_TIMEOUT = 10


# Plain environment variables the deployment docs name (besides any SURVEYAPP_* override).
_ENV_ALIASES = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY": "SECRET_KEY",
    "REDIS_URL": "REDIS_URL",
    "JOB_RUNNER": "JOB_RUNNER",
    "RESPONDENT_KEYS": "RESPONDENT_KEYS",
}
_ENV_BOOLS = {"SESSION_COOKIE_SECURE": "SESSION_COOKIE_SECURE", "PROXY_FIX": "PROXY_FIX"}


def load_config(app: Flask, config: dict | None) -> None:
    """Fill app.config from defaults, environment and the explicit mapping (in that order)."""
    app.config.from_object(Defaults)
    for env, key in _ENV_ALIASES.items():
        if os.environ.get(env):
            app.config[key] = os.environ[env]
    for env, key in _ENV_BOOLS.items():
        if env in os.environ:
            app.config[key] = os.environ[env].strip().lower() in {"1", "true", "yes", "on"}
    app.config.from_prefixed_env("SURVEYAPP")
    if config:
        app.config.update(config)
    if app.config["SESSION_COOKIE_SECURE"]:
        app.config["REMEMBER_COOKIE_SECURE"] = True
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = _default_sqlite_uri(app)
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(app)
    if not app.config.get("JOB_RUNNER"):
        app.config["JOB_RUNNER"] = "rq" if app.config.get("REDIS_URL") else "thread"
    _respondent_keys(app)
    app.config["EXPORT_RETENTION_HOURS"] = _non_negative(app, "EXPORT_RETENTION_HOURS")


def _non_negative(app: Flask, key: str) -> float:
    try:
        value = float(app.config[key])
    except (TypeError, ValueError):
        value = -1.0
    if not value >= 0:  # also refuses NaN
        raise ValueError(f"{key} must be a number, 0 or more")
    return value


def _default_sqlite_uri(app: Flask) -> str:
    path = Path(app.instance_path)
    path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path / 'surveyapp.sqlite3'}"


def _normalise_db_url(url: str) -> str:
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants a driver name.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _instance_file(app: Flask, name: str, make) -> str:
    """The text of instance/<name>, created with ``make()`` on first run (mode 600).

    Several workers may start at once: the content is written to a private temporary file
    and hard-linked into place, so exactly one version wins and nobody reads a half-written
    or empty file.
    """
    path = Path(app.instance_path)
    path.mkdir(parents=True, exist_ok=True)
    target = path / name
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=path, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(make())
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, target)
            except FileExistsError:
                pass  # another worker was first: use its file
        finally:
            os.unlink(tmp)
    return target.read_text(encoding="ascii")


def _instance_secret_key(app: Flask) -> str:
    """Read the secret key kept in the instance folder, creating it on first run."""
    return _instance_file(app, "secret_key", lambda: secrets.token_hex(32)).strip()


def _respondent_keys(app: Flask) -> None:
    """RESPONDENT_KEYS as a checked list; the instance folder's generated key by default."""
    from .crypto import new_key, parse_keys

    keys = parse_keys(app.config.get("RESPONDENT_KEYS"))
    if not keys:
        keys = parse_keys(_instance_file(app, "respondent_keys",
                                         lambda: new_key() + "\n").split())
    app.config["RESPONDENT_KEYS"] = keys
    try:
        days = int(app.config["RESPONDENT_RETENTION_DAYS"])
    except (TypeError, ValueError):
        days = -1
    if days < 0:
        raise ValueError("RESPONDENT_RETENTION_DAYS must be a whole number of days, 0 or more")
    app.config["RESPONDENT_RETENTION_DAYS"] = days
