"""Kartoteka settings. Every value comes from the environment; see docs/configuration.md."""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
import sys
import zoneinfo
from pathlib import Path
from typing import Any

import dj_database_url
import phonenumbers
from django.utils.translation import gettext_lazy as _

from kartoteka.env import ConfigError, env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("KARTOTEKA_VAR_DIR", str(BASE_DIR.parent / "var")))
TESTING = "pytest" in sys.modules

DEBUG = env_bool("DEBUG", False)
EMBEDDED = not env_str("DATABASE_URL")


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        if len(key) < 32:
            raise ConfigError("SECRET_KEY: must be at least 32 characters long")
        return key
    if TESTING:
        return "tests-only-" + "x" * 40
    if not EMBEDDED:
        raise ConfigError("SECRET_KEY: must be set (or SECRET_KEY_FILE) when DATABASE_URL is set")
    # Embedded mode keeps a generated key beside its database.
    path = VAR_DIR / "secret-key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
    "kartoteka.core",
    "kartoteka.accounts",
    "kartoteka.clients",
    "kartoteka.activities",
    "kartoteka.transfer",
    "kartoteka.sales",
    "kartoteka.planner",
    "kartoteka.dedup",
    "kartoteka.segments",
    "kartoteka.callcenter",
    "kartoteka.callscripts",
    "kartoteka.ivr",
    "kartoteka.quality",
    "kartoteka.staffing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kartoteka.core.middleware.UserLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "kartoteka.accounts.two_factor.TwoFactorRequired",
    "kartoteka.core.middleware.LoginRequired",
    "kartoteka.core.audit.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kartoteka.core.middleware.SecurityHeadersMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kartoteka.urls"
WSGI_APPLICATION = "kartoteka.wsgi.application"
ASGI_APPLICATION = "kartoteka.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "kartoteka.core.context.navigation",
            ],
        },
    },
]


SQLITE_MINIMUM = (3, 35)  # RETURNING (the telephony ledger, core.bulk)


def _database() -> dict[str, Any]:
    url = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'kartoteka.sqlite3'}")
    try:
        config: dict[str, Any] = dict(
            dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
        )
    except ValueError as exc:
        raise ConfigError(f"DATABASE_URL: {exc}") from None
    engine = config.get("ENGINE", "")
    if engine == "django.db.backends.sqlite3" and sqlite3.sqlite_version_info < SQLITE_MINIMUM:
        raise ConfigError(
            f"DATABASE_URL: SQLite {'.'.join(map(str, SQLITE_MINIMUM))} or newer is needed"
            f" (INSERT … RETURNING); this Python's has {sqlite3.sqlite_version}"
        )
    if engine == "django.db.backends.sqlite3":
        # WAL lets the worker write while pages read; IMMEDIATE avoids lock upgrades.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
            " PRAGMA cache_size=-64000; PRAGMA mmap_size=268435456;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        config["CONN_MAX_AGE"] = 0 if TESTING else config["CONN_MAX_AGE"]
        config["TEST"] = {"NAME": None}
    elif engine != "django.db.backends.postgresql":
        raise ConfigError(
            f"DATABASE_URL: only sqlite:// and postgres:// are supported, got {url!r}"
        )
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling: after 5 failures for one user name from one address, wait 15 minutes.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_VERBOSE = False
OTP_TOTP_ISSUER = env_str("OTP_ISSUER", "Kartoteka")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "clients:list"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env_choice("LANGUAGE_CODE", "ru", {"ru", "en"})
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Moscow")
if TIME_ZONE not in zoneinfo.available_timezones():
    raise ConfigError(f"TIME_ZONE: unknown time zone {TIME_ZONE!r}")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it; collectstatic fills it
MEDIA_ROOT = VAR_DIR / "media"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ConfigError(f"REDIS_URL: expected redis://host:port/db, got {REDIS_URL!r}")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if TESTING
            else "django_tasks_db.DatabaseBackend"
        ),
    }
}

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12, minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if env_str("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "kartoteka@localhost")

PHONE_DEFAULT_REGION = env_str("PHONE_DEFAULT_REGION", "RU").upper()
# Classes and dashboards count purchases in this currency only (others are shown as left out).
ANALYTICS_CURRENCY = env_str("ANALYTICS_CURRENCY", "RUB").upper()
if PHONE_DEFAULT_REGION not in phonenumbers.SUPPORTED_REGIONS:
    raise ConfigError(f"PHONE_DEFAULT_REGION: unknown region {PHONE_DEFAULT_REGION!r}; use e.g. RU")
LIST_PAGE_SIZE = 50

# Telephony: which PBX integration is wired in ("" = none) and its settings.
# The Asterisk application that speaks a voice-menu prompt with no sound file (e.g. Festival).
IVR_TTS_APP = env_str("IVR_TTS_APP", "")
TELEPHONY_PROVIDER = env_choice("TELEPHONY_PROVIDER", "", {"", "webhook", "asterisk"})
TELEPHONY_CONFIG: dict[str, Any] = {
    # Generic webhook: the shared HMAC secret, and where click-to-call requests go.
    "secret": env_str("TELEPHONY_WEBHOOK_SECRET"),
    "originate_url": env_str("TELEPHONY_ORIGINATE_URL"),
    # Asterisk Manager Interface.
    "ami_host": env_str("ASTERISK_AMI_HOST", "127.0.0.1"),
    "ami_port": env_int("ASTERISK_AMI_PORT", 5038, minimum=1),
    "ami_user": env_str("ASTERISK_AMI_USER"),
    "ami_secret": env_str("ASTERISK_AMI_SECRET"),
    "ami_context": env_str("ASTERISK_ORIGINATE_CONTEXT", "from-internal"),
    "ami_channel": env_str("ASTERISK_CHANNEL", "PJSIP/{extension}"),
    "ami_queues": env_list("ASTERISK_QUEUES", []),
    "ami_timeout": env_int("ASTERISK_AMI_TIMEOUT", 5, minimum=1),
    "ami_ping": env_int("ASTERISK_AMI_PING", 20),
    "ami_extension_pattern": env_str("ASTERISK_EXTENSION_PATTERN", "[0-9]{2,6}"),
    "ami_ivr_prefix": env_str("ASTERISK_IVR_PREFIX", "IVR_"),
    "ami_recording_url": env_str("ASTERISK_RECORDING_URL"),
    "ami_tls": env_bool("ASTERISK_AMI_TLS", False),
    "ami_tls_ca": env_str("ASTERISK_AMI_TLS_CA"),
}
if TELEPHONY_PROVIDER == "webhook" and not TELEPHONY_CONFIG["secret"] and not TESTING:
    raise ConfigError("TELEPHONY_WEBHOOK_SECRET: must be set when TELEPHONY_PROVIDER=webhook")
# Alert administrators when one user opens this many client cards within an hour.
AUDIT_CARD_VIEWS_PER_HOUR = env_int("AUDIT_CARD_VIEWS_PER_HOUR", 200, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
