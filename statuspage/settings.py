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
        # The file-system transport polls, and also sleeps this long whenever the
        # worker's prefetch slots are full, so it bounds how many short tasks a
        # worker starts per second (0.1 s capped a backlog at ~20 tasks/s). Idle
        # polls are cheap: the folder is listed at most every 50 ms
        # (statuspage.fsbroker.RELIST_SECONDS).
        "polling_interval": 0.01,
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
# Celery's Django fixup closes the worker's database connection after every task
# unless this is set (it then force-closes after this many tasks); connections
# are otherwise kept for CONN_MAX_AGE and health-checked (statuspage.celery).
CELERY_DB_REUSE_MAX = 1000
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

# --- Subscribers ---
# A confirmation link works for this many hours after it was sent.
BEACON_SUBSCRIBE_CONFIRM_HOURS = env_int("BEACON_SUBSCRIBE_CONFIRM_HOURS", 48, minimum=1)
# Subscribe-form posts allowed per client address inside the window.
BEACON_SUBSCRIBE_MAX_PER_IP = env_int("BEACON_SUBSCRIBE_MAX_PER_IP", 10, minimum=1)
BEACON_SUBSCRIBE_WINDOW_SECONDS = env_int("BEACON_SUBSCRIBE_WINDOW_SECONDS", 3600, minimum=60)
# At most one confirmation (or "already subscribed") mail per address this often.
BEACON_SUBSCRIBE_RESEND_SECONDS = env_int("BEACON_SUBSCRIBE_RESEND_SECONDS", 300, minimum=0)
# The maintenance tick announces occurrences that started or ended this far back.
BEACON_MAINTENANCE_LOOKBACK_MINUTES = env_int("BEACON_MAINTENANCE_LOOKBACK_MINUTES", 10, minimum=1)

# --- Public status pages ---
# Seconds a rendered public page is served from the cache (0: render every request).
# A change shows within this plus 2 s (one re-render while the stale copy is served).
BEACON_PUBLIC_CACHE_SECONDS = env_int("BEACON_PUBLIC_CACHE_SECONDS", 2, minimum=0)
if BEACON_PUBLIC_CACHE_SECONDS > 300:
    raise ConfigError("BEACON_PUBLIC_CACHE_SECONDS must be at most 300")
# First, so a cached public page is answered before sessions, CSRF or URL routing run.
MIDDLEWARE.insert(0, "public_site.cache.PublicCacheMiddleware")

# --- Public status for machines (feeds, badges, embed, v2 API) ---
# Cache-Control max-age of badge SVGs (README images are fetched through proxies
# such as GitHub's camo, which honour it). Feeds, the embed widget and the v2 API
# use BEACON_PUBLIC_CACHE_SECONDS.
BEACON_BADGE_CACHE_SECONDS = env_int("BEACON_BADGE_CACHE_SECONDS", 60, minimum=0)

# --- Notifications: triggers and deliveries ---
# Tries per delivery before a transient failure (timeout, 5xx, 429) is given up;
# permanent failures (other 4xx, refused addresses) stop at the first try.
BEACON_DELIVERY_MAX_ATTEMPTS = env_int("BEACON_DELIVERY_MAX_ATTEMPTS", 6, minimum=1)
# Retry n waits BACKOFF * 2**(n-1) seconds (no jitter), at most BACKOFF_MAX;
# a longer Retry-After from the receiver is honoured up to BACKOFF_MAX.
BEACON_DELIVERY_BACKOFF_SECONDS = env_float("BEACON_DELIVERY_BACKOFF_SECONDS", 30.0, minimum=0.1)
BEACON_DELIVERY_BACKOFF_MAX_SECONDS = env_float(
    "BEACON_DELIVERY_BACKOFF_MAX_SECONDS", 3600.0, minimum=1
)
# Timeout of one notification request (webhook, Slack, Discord, Apprise).
BEACON_DELIVERY_TIMEOUT_SECONDS = env_float("BEACON_DELIVERY_TIMEOUT_SECONDS", 10.0, minimum=0.5)
# A claimed delivery (or notification being planned) is someone else's for this
# long (renewed to cover each send); after a worker crash it is taken up again.
BEACON_DELIVERY_LEASE_SECONDS = env_float("BEACON_DELIVERY_LEASE_SECONDS", 60.0, minimum=1)
# Deliveries claimed at once by one sending pass, and how many passes run in
# parallel (queued as send_due_batch tasks) when many deliveries are due.
BEACON_DELIVERY_BATCH_SIZE = env_int("BEACON_DELIVERY_BATCH_SIZE", 500, minimum=1)
BEACON_DELIVERY_DRAINERS = env_int("BEACON_DELIVERY_DRAINERS", 4, minimum=1)
# How long one send_due_batch task keeps claiming batches before it ends.
BEACON_DELIVERY_DRAIN_SECONDS = env_float("BEACON_DELIVERY_DRAIN_SECONDS", 50.0, minimum=1)
# The tick plans notifications still unplanned this many seconds after they were
# written (a lost queue message, a crashed worker).
BEACON_NOTIFY_REPLAN_AFTER_SECONDS = env_float("BEACON_NOTIFY_REPLAN_AFTER_SECONDS", 5.0, minimum=0)
# Outgoing mail (email triggers and subscriber emails).
BEACON_SMTP_HOST = env_str("BEACON_SMTP_HOST", "localhost")
BEACON_SMTP_PORT = env_int("BEACON_SMTP_PORT", 25, minimum=1)
BEACON_SMTP_USERNAME = env_str("BEACON_SMTP_USERNAME")
BEACON_SMTP_PASSWORD = env_str("BEACON_SMTP_PASSWORD")
BEACON_SMTP_STARTTLS = env_bool("BEACON_SMTP_STARTTLS", False)
BEACON_SMTP_SSL = env_bool("BEACON_SMTP_SSL", False)
if BEACON_SMTP_STARTTLS and BEACON_SMTP_SSL:
    raise ConfigError("BEACON_SMTP_STARTTLS and BEACON_SMTP_SSL cannot both be on")
BEACON_SMTP_FROM = env_str("BEACON_SMTP_FROM", "Beacon <beacon@localhost>")
BEACON_SMTP_TIMEOUT = env_float("BEACON_SMTP_TIMEOUT", 10.0, minimum=1)
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = BEACON_SMTP_HOST
EMAIL_PORT = BEACON_SMTP_PORT
EMAIL_HOST_USER = BEACON_SMTP_USERNAME
EMAIL_HOST_PASSWORD = BEACON_SMTP_PASSWORD
EMAIL_USE_TLS = BEACON_SMTP_STARTTLS
EMAIL_USE_SSL = BEACON_SMTP_SSL
EMAIL_TIMEOUT = BEACON_SMTP_TIMEOUT
DEFAULT_FROM_EMAIL = SERVER_EMAIL = BEACON_SMTP_FROM
CELERY_TASK_ROUTES.update(
    {
        "notifications.tasks.plan_notification": {"queue": "notifications"},
        "notifications.tasks.send_due_batch": {"queue": "notifications"},
        "notifications.tasks.send_delivery": {"queue": "notifications"},
        "notifications.tasks.tick": {"queue": "notifications"},
    }
)
CELERY_BEAT_SCHEDULE["notifications-tick"] = {
    "task": "notifications.tasks.tick",
    "schedule": BEACON_TICK_SECONDS,
    "options": {"expires": max(BEACON_TICK_SECONDS * 5, 10)},
}

# --- Inbound alerts (integrations) ---
# Largest webhook body accepted (bytes); larger ones are a 413. Bodies over
# Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) are refused with a 413 as well.
BEACON_INGEST_MAX_BODY_BYTES = env_int("BEACON_INGEST_MAX_BODY_BYTES", 1_048_576, minimum=1024)
# Identical bodies from a source without delivery ids count as one (a replay)
# within this many seconds; 0 makes every identical body a replay forever.
BEACON_INGEST_DIGEST_WINDOW_SECONDS = env_int("BEACON_INGEST_DIGEST_WINDOW_SECONDS", 60, minimum=0)
# Alerts one quiet-period tick closes per integration at most.
BEACON_QUIET_CLOSE_BATCH = env_int("BEACON_QUIET_CLOSE_BATCH", 500, minimum=1)
CELERY_TASK_ROUTES.update(
    {
        "integrations.tasks.process_alerts": {"queue": "ingest"},
        "integrations.tasks.close_quiet_alerts": {"queue": "ingest"},
    }
)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "IntegrationSourceEnum": "integrations.models.SourceKind",
        "AlertSourceEnum": "alerting.models.AlertSource",
        "DeploymentResultEnum": "integrations.models.DeploymentResult",
        "MinSeverityEnum": "integrations.models.MinSeverity",
    }
)
CELERY_BEAT_SCHEDULE["close-quiet-alerts"] = {
    "task": "integrations.tasks.close_quiet_alerts",
    "schedule": 60.0,
    "options": {"expires": 55},
}

# --- Correlation, investigation, problem candidates ---
# A firing alert joins an open incident of the same (or a one-hop) service
# whose last correlated alert is at most this many minutes away.
BEACON_CORRELATION_WINDOW_MINUTES = env_int("BEACON_CORRELATION_WINDOW_MINUTES", 15, minimum=1)
# The correlation tick re-processes firing alerts left without an incident for
# this long (a lost queue message) and runs the external alerts' post-resolution
# watch; it runs every BEACON_CORRELATION_TICK_SECONDS.
BEACON_CORRELATION_RETRY_SECONDS = env_int("BEACON_CORRELATION_RETRY_SECONDS", 60, minimum=5)
BEACON_CORRELATION_TICK_SECONDS = env_float("BEACON_CORRELATION_TICK_SECONDS", 30.0, minimum=1)
# An incident's investigation is refreshed at most this often when alerts join.
BEACON_INVESTIGATION_DEBOUNCE_SECONDS = env_int(
    "BEACON_INVESTIGATION_DEBOUNCE_SECONDS", 30, minimum=0
)
# An investigation still "running" after this long is taken as crashed and retried.
BEACON_INVESTIGATION_STALE_SECONDS = env_int("BEACON_INVESTIGATION_STALE_SECONDS", 300, minimum=10)
# Problem candidates look back this many days; "repeated" means at least this many.
BEACON_PROBLEM_LOOKBACK_DAYS = env_int("BEACON_PROBLEM_LOOKBACK_DAYS", 30, minimum=1)
BEACON_PROBLEM_MIN_REPEATS = env_int("BEACON_PROBLEM_MIN_REPEATS", 2, minimum=2)
CELERY_BEAT_SCHEDULE["correlation-tick"] = {
    "task": "incidents.tasks.correlation_tick",
    "schedule": BEACON_CORRELATION_TICK_SECONDS,
    "options": {"expires": max(BEACON_CORRELATION_TICK_SECONDS * 2, 10)},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("BEACON_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
