"""Application settings: one class per environment, values from GRANTS_* environment variables."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def env(name: str, default: str | None = None) -> str | None:
    """Return the GRANTS_<name> environment variable, or the default."""
    return os.environ.get(f"GRANTS_{name}", default)


def env_int(name: str, default: int) -> int:
    """Return GRANTS_<name> as an integer."""
    return int(env(name, str(default)))


def env_bool(name: str, default: bool) -> bool:
    """Return GRANTS_<name> as a boolean (1/true/yes/on)."""
    value = env(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Settings shared by every environment."""

    SECRET_KEY: str | None = env("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI: str | None = env("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    BROKER_URL: str | None = env("BROKER_URL")
    CELERY_EAGER: bool = False
    # Redis redelivers a task that was taken but not acknowledged after this many seconds
    # (a worker that died). It must be longer than the longest task and the longest retry
    # countdown, or a running task is handed out a second time.
    BROKER_VISIBILITY_TIMEOUT = env_int("BROKER_VISIBILITY_TIMEOUT", 3600)
    # How often a worker looks for such tasks (and once when it starts).
    BROKER_RESTORE_INTERVAL = env_int("BROKER_RESTORE_INTERVAL", 60)
    # Outbox rows still pending this long after their creation (or their scheduled retry)
    # are dispatched again by the beat sweep.
    OUTBOX_SWEEP_AFTER_SECONDS = env_int("OUTBOX_SWEEP_AFTER_SECONDS", 600)
    # Transient SMTP failures: retry up to MAIL_MAX_RETRIES times, waiting a random time up to
    # MAIL_RETRY_BACKOFF * 2**attempt seconds (at most MAIL_RETRY_BACKOFF_MAX).
    MAIL_MAX_RETRIES = env_int("MAIL_MAX_RETRIES", 8)
    MAIL_RETRY_BACKOFF = env_int("MAIL_RETRY_BACKOFF", 5)
    MAIL_RETRY_BACKOFF_MAX = env_int("MAIL_RETRY_BACKOFF_MAX", 600)
    MAIL_RETRY_JITTER = env_bool("MAIL_RETRY_JITTER", True)

    SITE_NAME = env("SITE_NAME", "Kommunales Integrationszentrum Leverkusen")
    CITY_NAME = env("CITY_NAME", "Stadt Leverkusen")
    # Shown on the imprint, privacy and accessibility pages.
    AUTHORITY_ADDRESS = env(
        "AUTHORITY_ADDRESS", "Stadt Leverkusen, Kommunales Integrationszentrum, 51373 Leverkusen"
    )
    AUTHORITY_EMAIL = env("AUTHORITY_EMAIL", "integrationszentrum@leverkusen.example")
    AUTHORITY_PHONE = env("AUTHORITY_PHONE", "0214 406-0")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    BABEL_DEFAULT_LOCALE = "de"
    BABEL_DEFAULT_TIMEZONE = "Europe/Berlin"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "grants" / "translations")
    LANGUAGES = ("de", "en")

    MAIL_BACKEND = env("MAIL_BACKEND", "smtp")
    MAIL_SERVER = env("MAIL_SERVER", "localhost")
    MAIL_PORT = env_int("MAIL_PORT", 25)
    MAIL_USERNAME = env("MAIL_USERNAME")
    MAIL_PASSWORD = env("MAIL_PASSWORD")
    MAIL_USE_TLS = env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = env_bool("MAIL_USE_SSL", False)
    MAIL_TIMEOUT = env_int("MAIL_TIMEOUT", 10)
    MAIL_DEFAULT_SENDER = env(
        "MAIL_DEFAULT_SENDER", "Integrationszentrum <noreply@leverkusen.example>"
    )
    MAIL_FILE_PATH = env("MAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))

    # Links in e-mails sent by the worker need an absolute base.
    PUBLIC_URL = env("PUBLIC_URL", "http://127.0.0.1:5000")

    # Attachments: stored outside the web root under generated names; checked by content.
    UPLOAD_DIR = env("UPLOAD_DIR", str(BASE_DIR / "var" / "uploads"))
    UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
    MAX_CONTENT_LENGTH = UPLOAD_MAX_BYTES + 1024 * 1024  # one upload plus the form around it

    CONFIRM_TOKEN_MAX_AGE = timedelta(days=3)
    RESET_TOKEN_MAX_AGE = timedelta(hours=2)
    INVITATION_MAX_AGE = timedelta(days=14)
    SEED_DEMO_ALLOWED = False


class DevConfig(Config):
    """Local development: SQLite file, tasks in-process, mail into a folder."""

    DEBUG = True
    SECRET_KEY = env("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'dev.sqlite'}")
    BROKER_URL = env("BROKER_URL", "memory://")
    CELERY_EAGER = env_bool("CELERY_EAGER", True)
    MAIL_BACKEND = env("MAIL_BACKEND", "file")
    PUBLIC_URL = env("PUBLIC_URL", f"http://127.0.0.1:{os.environ.get('PORT', '5000')}")
    SEED_DEMO_ALLOWED = True


class TestConfig(Config):
    """The test suite: real PostgreSQL and Redis on this machine."""

    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105 - test only
    SQLALCHEMY_DATABASE_URI = env(
        "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/grants_test"
    )
    BROKER_URL = env("TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
    MAIL_BACKEND = "smtp"
    MAIL_SERVER = env("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = env_int("MAIL_PORT", 8025)
    MAIL_TIMEOUT = 5
    PUBLIC_URL = env("PUBLIC_URL", "http://localhost")
    UPLOAD_DIR = env("TEST_UPLOAD_DIR", str(BASE_DIR / "var" / "test-uploads"))
    SEED_DEMO_ALLOWED = True


class ProdConfig(Config):
    """Production: PostgreSQL, Redis and SMTP; refuses to start without its secrets."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    REQUIRED = {
        "SECRET_KEY": "GRANTS_SECRET_KEY",
        "SQLALCHEMY_DATABASE_URI": "GRANTS_DATABASE_URL",
        "BROKER_URL": "GRANTS_BROKER_URL",
    }

    @classmethod
    def check(cls) -> None:
        """Raise a clear error naming every missing required setting."""
        missing = [var for attr, var in cls.REQUIRED.items() if not getattr(cls, attr)]
        if missing:
            raise RuntimeError(
                "Production configuration incomplete: set " + ", ".join(missing) + "."
            )


CONFIGS = {"dev": DevConfig, "test": TestConfig, "prod": ProdConfig}


def get_config(name: str | None = None) -> type[Config]:
    """Pick the configuration class by name or by GRANTS_ENV (default: dev)."""
    name = name or os.environ.get("GRANTS_ENV", "dev")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"Unknown GRANTS_ENV {name!r}; use one of {sorted(CONFIGS)}") from None
