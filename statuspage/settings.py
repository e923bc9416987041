"""Django settings for Beacon.

Everything deployment-specific comes from environment variables (see
docs/settings.md for the full list). With none set, Beacon runs on embedded
defaults: a SQLite file and Celery's file-system broker under the data dir.
``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import dj_database_url

from .env import ConfigError, env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DATA_DIR = Path(env_str("BEACON_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Use BEACON_SECRET_KEY, else a key generated once and kept in the data dir."""
    configured = env_str("BEACON_SECRET_KEY")
    if configured:
        return configured
    path = DATA_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        path.write_text(key)
        path.chmod(0o600)
        return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("BEACON_DEBUG", False)
ALLOWED_HOSTS = env_list("BEACON_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("BEACON_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("BEACON_SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "monitors",
    "alerting",
    "incidents",
    "notifications",
    "public_site",
    "catalog",
    "integrations",
    "statuspage",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "statuspage.urls"
WSGI_APPLICATION = "statuspage.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.roles",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------

_database_url = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'beacon.sqlite3'}")
try:
    _db = dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)
except ValueError as exc:
    raise ConfigError(f"DATABASE_URL is not a database URL Beacon understands: {exc}") from exc

if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a worker writes; IMMEDIATE transactions
    # take the write lock up front so two writers queue on busy_timeout instead
    # of failing with "database is locked" when a read lock is upgraded.
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests on SQLite use a file, so Celery worker subprocesses in the
    # end-to-end tests can open the same database; one per test process, so
    # concurrent test runs never share it.
    _db["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"beacon-test-{os.getpid()}.sqlite3")}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and broker -----------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("BEACON_CACHE_PREFIX", "beacon"),
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    BROKER_DIR = Path(env_str("BEACON_BROKER_DIR", str(DATA_DIR / "broker")))
    for _sub in ("queue", "processed", "control"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "beaconfs://"  # kombu's file-system transport, made atomic
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # The file-system transport polls; 1 s (kombu's default) would add up to a
        # second of schedule lag to every check.
        "polling_interval": 0.1,
    }

CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# --- Auth -----------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "monitors:list"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed sign-ins allowed per username and per client address within the window.
BEACON_LOGIN_MAX_FAILURES = env_int("BEACON_LOGIN_MAX_FAILURES", 5, minimum=1)
BEACON_LOGIN_WINDOW_SECONDS = env_int("BEACON_LOGIN_WINDOW_SECONDS", 900, minimum=1)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("BEACON_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- REST API -------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.RolePermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "statuspage.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Beacon API",
    "DESCRIPTION": "Monitors, checks, alerts and incidents. Authenticate with "
    "`Authorization: Bearer <token>` (create one with `manage.py apitoken USER`).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Distinct names for choice sets that share a field name across apps.
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "monitors.models.Status",
        "AlertStatusEnum": "alerting.models.AlertStatus",
        "ClassificationEnum": "incidents.models.Classification",
    },
}

# --- Internationalisation and static files --------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on a missing root before collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- Check engine ---------------------------------------------------------------

# How often beat asks for due checks, and how many monitors go in one queued batch.
BEACON_TICK_SECONDS = env_float("BEACON_TICK_SECONDS", 2.0, minimum=0.5)
BEACON_BATCH_SIZE = env_int("BEACON_BATCH_SIZE", 50, minimum=1)
# Checks due within this many seconds are claimed now and started on time by the
# worker, so schedule lag does not include the wait for the next tick.
BEACON_DISPATCH_LOOKAHEAD_SECONDS = env_float(
    "BEACON_DISPATCH_LOOKAHEAD_SECONDS", BEACON_TICK_SECONDS, minimum=0
)
if BEACON_DISPATCH_LOOKAHEAD_SECONDS > 8:
    raise ConfigError(
        "BEACON_DISPATCH_LOOKAHEAD_SECONDS must be at most 8 (below the 10 s minimum interval)"
    )
# Most monitors one tick may claim; the rest stay due for the next tick.
BEACON_MAX_CLAIM_PER_TICK = env_int("BEACON_MAX_CLAIM_PER_TICK", 2000, minimum=1)
# Concurrent checks inside one batch.
BEACON_CHECK_CONCURRENCY = env_int("BEACON_CHECK_CONCURRENCY", 100, minimum=1)
# Raw results older than this are pruned daily; rollups are kept forever.
BEACON_RESULT_RETENTION_DAYS = env_int("BEACON_RESULT_RETENTION_DAYS", 30, minimum=1)
BEACON_PRUNE_BATCH_SIZE = env_int("BEACON_PRUNE_BATCH_SIZE", 5000, minimum=100)
# /healthz calls the scheduler down when the last tick is older than this.
BEACON_SCHEDULER_STALE_SECONDS = env_int("BEACON_SCHEDULER_STALE_SECONDS", 60, minimum=5)
# --- Alerts and incidents -------------------------------------------------------

# An alert still failing within this many minutes of its incident's manual
# resolution reopens it; still active after it, a follow-up incident opens.
BEACON_REOPEN_HORIZON_MINUTES = env_int("BEACON_REOPEN_HORIZON_MINUTES", 30, minimum=1)

# Only environment variables with this prefix may be used as $NAME in HTTP checks.
BEACON_CHECK_ENV_PREFIX = env_str("BEACON_CHECK_ENV_PREFIX", "CHECK_")
# Outgoing checks identify themselves with this User-Agent.
BEACON_USER_AGENT = env_str("BEACON_USER_AGENT", "Beacon-Monitor/0.1 (+self-hosted status page)")

CELERY_TASK_ROUTES = {
    "monitors.tasks.run_checks": {"queue": "checks"},
}
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-checks": {
        "task": "monitors.tasks.dispatch_due_checks",
        "schedule": BEACON_TICK_SECONDS,
        "options": {"expires": max(BEACON_TICK_SECONDS * 5, 10)},
    },
    "prune-results": {
        "task": "monitors.tasks.prune_results",
        "schedule": 24 * 3600,
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("BEACON_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
