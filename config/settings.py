"""Settings for the dispatch platform, read from the environment (see .env.example).

Development defaults are safe and need nothing set. With DJANGO_DEBUG=false the secrets become
mandatory and the security settings that `manage.py check --deploy` looks for are switched on.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env_str(
    "DJANGO_SECRET_KEY",
    "dev-only-insecure-key-do-not-use-in-production" if DEBUG else None,
    required=not DEBUG,
)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_ratelimit",
    "axes",
    "anymail",
    "accounts",
    "core",
    "requests_app",
    "technicians",
    "surveys",
    "notifications",
    "intake",
    "dispatch",
    "fieldwork",
    "reports",
    "contacts",
]

MIDDLEWARE = [
    # First: every answer is measured, the redirects and refusals of the others included.
    "core.observability.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Every log line of a request says which one (X-Request-ID, answered back).
    "core.observability.RequestIdMiddleware",
    # A view failing because PostgreSQL or Redis is down answers 503 with Retry-After.
    "core.dependencies.DependencyDownMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The page's queries see the signed-in user's tenants only (row-level security).
    "core.tenancy.TenantScopeMiddleware",
    "accounts.middleware.TenantTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a rate-limited request into RATELIMIT_VIEW's 429 (instead of a 403).
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last: it refuses a sign-in that is locked out after too many wrong passwords.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "django.template.context_processors.i18n",
                "accounts.context_processors.tenant",
            ],
        },
    },
]

# PostgreSQL is the only supported database: the visit constraints are PostgreSQL exclusion
# constraints. `make up` / `make test` export DATABASE_URL for the embedded server when unset.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dispatch"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
# The role the web, socket and worker processes work as once connected (SET ROLE): it cannot
# bypass row-level security, so each query sees only the tenants of its scope (core.tenancy).
# Migrations and management commands work as the connecting user, the tables' owner.
DATABASE_APP_ROLE = env_str("DATABASE_APP_ROLE", "dispatch_app")
if not DATABASE_APP_ROLE.replace("_", "").isalnum() or not DATABASE_APP_ROLE.isascii():
    raise ImproperlyConfigured("DATABASE_APP_ROLE must be a plain role name (letters, digits, _).")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian")), ("kk", _("Kazakh"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["core.formats"]  # Kazakh dates as written in Kazakhstan
TIME_ZONE = env_str("DEFAULT_TIME_ZONE", "Asia/Almaty")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploaded files (the technicians' photos and the customers' signatures) through Django's
# storage API: the file system under MEDIA_ROOT by default, or any storage class by
# FILE_STORAGE_BACKEND (an S3-compatible one from django-storages, configured by its settings).
# They are never served from MEDIA_URL: pages that show them check who asks.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {
        "BACKEND": env_str("FILE_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")
    },
    "staticfiles": {
        "BACKEND": "core.storage.StaticStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate makes "not signed in" and a bad token a 401 (403 is
    # for a role that may not do it).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # The API speaks JSON (pages post forms to their own views).
    "DEFAULT_PARSER_CLASSES": ["core.drf.BoundedJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.drf.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Field-service dispatch API",
    "DESCRIPTION": "Service requests, assignment and the live event feed.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema and its docs are for signed-in users, unless API_SCHEMA_PUBLIC (development).
    "SERVE_PERMISSIONS": ["core.drf.SchemaVisible"],
    # Requests and visits both have a `status`: each its own enum, by name.
    "ENUM_NAME_OVERRIDES": {
        "RequestStatusEnum": "requests_app.states.Status",
        "VisitStatusEnum": "technicians.models.Visit.Status",
        "PhoneActionKindEnum": "fieldwork.services.KINDS",
        "RequestKindEnum": "requests_app.models.ServiceRequest.Kind",
        "ExportKindEnum": "reports.models.ExportJob.Kind",
        "ContactChannelEnum": "contacts.models.Contact.Channel",
        "RequestChannelEnum": "requests_app.models.ServiceRequest.Channel",
        "ContactStatusEnum": "contacts.models.Contact.Status",
    },
}
API_SCHEMA_PUBLIC = env_bool("API_SCHEMA_PUBLIC", DEBUG)
# API tokens (django-rest-knox): stored as a SHA-512 digest, shown once when made
# (`manage.py api_token_create <user>`), expiring after API_TOKEN_DAYS.
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": timedelta(days=env_int("API_TOKEN_DAYS", 90, minimum=1)),
    "AUTO_REFRESH": False,
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # channels-redis waits for messages with a 5 s BZPOPMIN and redis-py 8 reads with a 5 s
        # socket timeout by default: an idle socket's wait would time out on the client and the
        # WebSocket close. A read timeout above the wait keeps quiet sockets open.
        "CONFIG": {
            "hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
            "prefix": "dispatch:ws",
            # Messages a socket may have waiting; past it pushes are dropped (the screen sees
            # the gap and catches up from the event table). The chaos suite forces it low.
            "capacity": env_int("CHANNEL_CAPACITY", 100, minimum=1),
        },
    }
}
# Where the browser opens the WebSocket. Empty means the page's own origin (a reverse proxy
# routes /ws/ to the ASGI server, as in docker-compose). `make up` sets it to the ASGI port.
WS_PUBLIC_URL = env_str("WS_PUBLIC_URL", "")
# The board's map tiles: a URL template (a site's own tile server), or "none" for the markers
# alone (air-gapped sites, tests).
MAP_TILE_URL = env_str("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_URL = "" if MAP_TILE_URL.lower() == "none" else MAP_TILE_URL
MAP_ATTRIBUTION = env_str("MAP_ATTRIBUTION", "© OpenStreetMap contributors")

CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_IGNORE_RESULT = True
# Only tasks declared with ignore_result=False store a result (a national day's parts).
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    # Workers take from their queues in the order given (-Q assign,plan,notify,default): an
    # emergency never waits behind customer messages or re-plans, which catch up after a storm.
    "queue_order_strategy": "priority",
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fix-up closes the database connection before and after every task unless this
# is set (celery/celery#4116): each emergency then paid for a new PostgreSQL backend and planned
# its queries on cold caches. With it, the fix-up recycles connections only every this many
# tasks, and config/celery.py treats each task as Django treats a request (CONN_MAX_AGE,
# CONN_HEALTH_CHECKS).
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000, minimum=1)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
# Beat rings this often to say it runs (readiness reads it).
HEARTBEAT_EVERY_SECONDS = env_int("HEARTBEAT_EVERY_SECONDS", 30, minimum=5)
CELERY_BEAT_SCHEDULE = {
    "reconcile-unassigned": {
        "task": "dispatch.tasks.reconcile_unassigned",
        "schedule": env_int("RECONCILE_EVERY_SECONDS", 30, minimum=1),
    },
    "plan-days": {
        "task": "dispatch.tasks.plan_all",
        "schedule": env_int("PLAN_EVERY_SECONDS", 300, minimum=10),
    },
    "visit-reminders": {
        "task": "intake.tasks.send_visit_reminders",
        "schedule": env_int("REMINDERS_EVERY_SECONDS", 900, minimum=60),
    },
    "retry-notifications": {
        "task": "notifications.tasks.retry_due_notifications",
        "schedule": 60,
    },
    "heartbeat": {"task": "core.tasks.beat_heartbeat", "schedule": HEARTBEAT_EVERY_SECONDS},
    "purge-expired": {"task": "core.tasks.purge_expired", "schedule": 24 * 3600},
    # Survey invitations held back by a tenant's quiet hours go out when they end.
    "survey-invitations": {
        "task": "surveys.tasks.send_due_invitations",
        "schedule": env_int("SURVEY_INVITATIONS_EVERY_SECONDS", 300, minimum=30),
    },
    # KPI exports whose message was lost or whose worker died are sent again.
    "kpi-export-reconcile": {
        "task": "reports.tasks.reconcile_exports",
        "schedule": env_int("EXPORT_RECONCILE_EVERY_SECONDS", 120, minimum=30),
    },
    # Campaign messages held for the end of a client's quiet hours.
    "campaign-messages": {
        "task": "contacts.tasks.send_due_campaign_messages",
        "schedule": env_int("CAMPAIGN_MESSAGES_EVERY_SECONDS", 300, minimum=30),
    },
    # The KPI roll-up of the last days, each night (the reports read it; today stays live).
    "kpi-rollup": {
        "task": "reports.tasks.refresh_daily_kpis",
        "schedule": crontab(hour=env_int("KPI_ROLLUP_HOUR", 2, minimum=0), minute=15),
    },
}
# How many past days each nightly roll-up recomputes (late completions reach their day).
KPI_ROLLUP_DAYS = env_int("KPI_ROLLUP_DAYS", 7, minimum=1)
# How long rows the platform writes for its own workings are kept (core/retention.py).
RETENTION_DAYS = {
    "events": env_int("RETENTION_EVENTS_DAYS", 30, minimum=1),
    "decisions": env_int("RETENTION_DECISIONS_DAYS", 400, minimum=1),
    "notifications": env_int("RETENTION_NOTIFICATIONS_DAYS", 90, minimum=1),
    "idempotency_keys": env_int("RETENTION_IDEMPOTENCY_KEYS_DAYS", 2, minimum=1),
    "inbound_messages": env_int("RETENTION_INBOUND_MESSAGES_DAYS", 90, minimum=1),
    # Technicians' positions shared en route (privacy: kept only this long).
    "location_pings": env_int("RETENTION_LOCATION_DAYS", 30, minimum=1),
}

# The technician's phone (fieldwork/): positions are stored at most this often per technician,
# "arrived" is suggested within this distance, and a photo may be this large once resized.
LOCATION_MIN_INTERVAL_SECONDS = env_int("LOCATION_MIN_INTERVAL_SECONDS", 5, minimum=1)
ARRIVAL_RADIUS_M = env_int("ARRIVAL_RADIUS_M", 100, minimum=10)
PHOTO_MAX_BYTES = env_int("PHOTO_MAX_BYTES", 1_500_000, minimum=10_000)
# A request body may carry one such photo (base64 in the phone's JSON action, a third larger).
DATA_UPLOAD_MAX_MEMORY_SIZE = max(2_621_440, PHOTO_MAX_BYTES * 2 + 1_000_000)
# A customer's service report link works this long after the job.
REPORT_LINK_DAYS = env_int("REPORT_LINK_DAYS", 30, minimum=1)
# The navigation link beside an address ({lat}, {lon}); "none" leaves only the geo: link.
MAP_LINK_URL = env_str(
    "MAP_LINK_URL", "https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"
)
MAP_LINK_URL = "" if MAP_LINK_URL.lower() == "none" else MAP_LINK_URL

# Phone numbers without a country code are read as numbers of this region (ISO 3166 code)
# where no tenant says otherwise.
PHONE_DEFAULT_REGION = env_str("PHONE_DEFAULT_REGION", "KZ")

# Travel times: "great_circle" (distance × detour ÷ speed, per tenant) or "osrm" (OSRM_URL).
TRAVEL_BACKEND = env_str("TRAVEL_BACKEND", "great_circle")
if TRAVEL_BACKEND not in ("great_circle", "osrm"):
    raise ImproperlyConfigured(f"TRAVEL_BACKEND={TRAVEL_BACKEND!r}: use great_circle or osrm.")
OSRM_URL = env_str("OSRM_URL", "", required=TRAVEL_BACKEND == "osrm")

# Notifications: SMS through "console" (development) or "http" (a gateway); e-mail through
# Django's EMAIL_BACKEND (console in development, SMTP from EMAIL_HOST otherwise).
NOTIFY_SMS_BACKEND = env_str("NOTIFY_SMS_BACKEND", "console")
if NOTIFY_SMS_BACKEND not in ("console", "http"):
    raise ImproperlyConfigured(f"NOTIFY_SMS_BACKEND={NOTIFY_SMS_BACKEND!r}: use console or http.")
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL", "", required=NOTIFY_SMS_BACKEND == "http")
SMS_GATEWAY_TOKEN = env_str("SMS_GATEWAY_TOKEN", "", required=NOTIFY_SMS_BACKEND == "http")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "dispatch@localhost")

# Links sent to customers (tracking, window picking) start with this address.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
# A customer's tracking link works this long after it was sent (each message sends a fresh one).
TRACKING_LINK_DAYS = env_int("TRACKING_LINK_DAYS", 45, minimum=1)
# Pages that may open the live sockets: scheme, host and port must match one of these. By
# default the public address and the CSRF-trusted origins; in development any local page too.
_public_origin = "{0.scheme}://{0.netloc}".format(urlparse(PUBLIC_BASE_URL))
WS_ALLOWED_ORIGINS = env_list(
    "WS_ALLOWED_ORIGINS",
    [_public_origin, *CSRF_TRUSTED_ORIGINS]
    + (["localhost", "127.0.0.1", "[::1]"] if DEBUG else []),
)
# Inbound channels: shared secrets the SMS / IVR / e-mail providers sign their webhooks with
# (HMAC-SHA256 over the raw body). Empty refuses every webhook of that channel.
SMS_WEBHOOK_SECRET = env_str("SMS_WEBHOOK_SECRET", "dev-sms-secret" if DEBUG else "")
IVR_WEBHOOK_SECRET = env_str("IVR_WEBHOOK_SECRET", "dev-ivr-secret" if DEBUG else "")
EMAIL_WEBHOOK_SECRET = env_str("EMAIL_WEBHOOK_SECRET", "dev-email-secret" if DEBUG else "")
# Inbound e-mail from providers through django-anymail (/hooks/anymail/<esp>/inbound/): each
# provider's own signature (e.g. MAILGUN_WEBHOOK_SIGNING_KEY) and a shared basic-auth secret
# ("user:password"); without the secret the endpoints do not exist.
ANYMAIL = {
    "WEBHOOK_SECRET": env_str("ANYMAIL_WEBHOOK_SECRET", "dev:anymail-secret" if DEBUG else ""),
    "MAILGUN_WEBHOOK_SIGNING_KEY": env_str(
        "MAILGUN_WEBHOOK_SIGNING_KEY", "dev-mailgun-key" if DEBUG else ""
    ),
    "POSTMARK_SERVER_TOKEN": env_str("POSTMARK_SERVER_TOKEN", ""),
}
# Contact points whose provider is Twilio are verified with Twilio's own validator and this
# account's auth token (empty refuses them), over the public URL Twilio called.
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
# Public endpoints (portal, webhooks) are rate limited per client address.
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
PORTAL_RATE = env_str("PORTAL_RATE", "30/m")
WEBHOOK_RATE = env_str("WEBHOOK_RATE", "120/m")
# The web chat's public side, per client address: conversations started, and messages sent;
# each conversation has its own limit too.
CHAT_START_RATE = env_str("CHAT_START_RATE", "10/h")
CHAT_RATE = env_str("CHAT_RATE", "60/m")
CHAT_CONVERSATION_RATE = env_str("CHAT_CONVERSATION_RATE", "20/m")
# The sample client page with the widget (/chat/demo/<client>/), for demonstrations.
CHAT_DEMO_PAGES = env_bool("CHAT_DEMO_PAGES", DEBUG)
# Requests refused for a bad or missing signature, per address: counted apart from signed ones,
# so a flood of forgeries never crowds out a provider's genuine messages.
WEBHOOK_REFUSED_RATE = env_str("WEBHOOK_REFUSED_RATE", "30/m")
# Survey links (/s/…) and kiosks (/k/…): reads and answers per client address. A kiosk's own
# limit is per device, generous enough for a queue of customers at a busy service point.
SURVEY_RATE = env_str("SURVEY_RATE", "30/m")
KIOSK_RATE = env_str("KIOSK_RATE", "120/m")
RATELIMIT_VIEW = "intake.limits.ratelimited"
# Behind the reverse proxy the client address is in X-Forwarded-For (nginx sets it).
RATELIMIT_IP_META_KEY = env_str("RATELIMIT_IP_META_KEY", "REMOTE_ADDR")
# django-ratelimit lists Django's own RedisCache as "not officially supported" only because its
# list predates it (jsocol/django-ratelimit#283); it is shared and increments atomically.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]

# Sign-in throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one user from
# one address, signing in there is paused for LOGIN_LOCKOUT_MINUTES, and the page says so. Per
# user and address, so one guesser behind a shared office address locks out no colleague.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "core.http.client_ip"
AXES_VERBOSE = False
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "dispatch",
    },
    # Rate-limit counters: with Redis down they are not counted and the limit fails open.
    "ratelimit": {
        "BACKEND": "core.cache.FailSoftRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "dispatch-rl",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    },
}
RATELIMIT_USE_CACHE = "ratelimit"
RATELIMIT_FAIL_OPEN = True

# Dispatching rules.
ASSIGN_OVERDUE_SECONDS = env_int("ASSIGN_OVERDUE_SECONDS", 60, minimum=1)
ASSIGN_MAX_ATTEMPTS = env_int("ASSIGN_MAX_ATTEMPTS", 5, minimum=1)
PLAN_TIME_LIMIT_SECONDS = env_int("PLAN_TIME_LIMIT_SECONDS", 10, minimum=1)
# A day with more technicians than this is planned in parts of at most this many, each a task
# on the plan queue (dispatch/engine/national.py).
PLAN_PARTITION_SIZE = env_int("PLAN_PARTITION_SIZE", 300, minimum=10)
PLAN_DAYS_AHEAD = env_int("PLAN_DAYS_AHEAD", 1, minimum=0)
PLAN_DEBOUNCE_SECONDS = env_int("PLAN_DEBOUNCE_SECONDS", 20, minimum=1)
# Planned arrivals aim this much before the end of the agreed window (slack for delays).
PLAN_WINDOW_BUFFER_MINUTES = env_int("PLAN_WINDOW_BUFFER_MINUTES", 30, minimum=0)

# Logs: one line per record, with the request and task ids (core/observability.py); JSON
# objects in production (LOG_FORMAT=json), readable lines in development.
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if DEBUG else "json")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use plain or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "core.observability.ContextFilter"},
        # Keys in addresses (survey, kiosk and tracking links) never reach a log.
        "redact": {"()": "core.observability.RedactFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["asctime", "levelname", "name", "message", "request_id", "task_id"],
            "json_ensure_ascii": False,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Django's own records go through the handler above only (its default development handler
    # would print them a second time, unfiltered: with the keys of links in their addresses).
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
# /metrics for Prometheus (core/metrics.py), with this bearer token; empty turns it off.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# Where this service's processes keep their metrics (prometheus_client's multiprocess mode, read
# by the library itself from the environment): one directory per service — web, ws, worker —
# side by side, because process ids repeat across containers. /metrics adds up the directories
# beside it too. Unset: each process keeps its own (tests, manage.py).
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR", "")
# prometheus_client turns the mode on when the variable is present at all, even empty.
if "PROMETHEUS_MULTIPROC_DIR" in os.environ and not Path(PROMETHEUS_MULTIPROC_DIR).is_absolute():
    raise ImproperlyConfigured("PROMETHEUS_MULTIPROC_DIR must be an absolute path, or unset.")
# Errors to Sentry when a DSN is given (nothing is sent otherwise).
SENTRY_DSN = env_str("SENTRY_DSN", "")
if SENTRY_DSN:
    from core.observability import sentry_start

    sentry_start(
        SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0")),
    )

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Health checks come from inside the stack over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^health/"]
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
