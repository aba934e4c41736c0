"""Settings, all from the environment. With nothing set: SQLite, eager Celery, files under ./var."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from stashsense.environment import env, read_bool, read_float, read_int, read_url, secret_key
from stashsense.hosts import DEFAULT_ALLOWED_HOSTS, django_allowed_hosts

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env.str("STASHSENSE_DATA_DIR", default=str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
MODELS_DIR = Path(env.str("STASHSENSE_MODELS_DIR", default=str(DATA_DIR / "models"))).resolve()
INDEX_DIR = DATA_DIR / "index"
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"

SECRET_KEY = secret_key(DATA_DIR)
DEBUG = read_bool("DJANGO_DEBUG", default=False)
# `private` (the default): LAN and loopback IPs and names only a LAN resolves (one label,
# .local, .lan, .home.arpa, .internal), so a home server answers by its IP and its name out of
# the box while a public name pointed at it (DNS rebinding) is refused: stashsense/hosts.py.
STASHSENSE_ALLOWED_HOSTS = [
    h.strip().lower()
    for h in env.str("DJANGO_ALLOWED_HOSTS", default=DEFAULT_ALLOWED_HOSTS).split(",")
    if h.strip()
]
ALLOWED_HOSTS = django_allowed_hosts(STASHSENSE_ALLOWED_HOSTS)
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in env.str("DJANGO_CSRF_TRUSTED_ORIGINS", default="").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "stashsense",
    "performers",
    "recognition",
    "stash",
    "scraping",
    "bundles",
    "curation",
]

MIDDLEWARE = [
    "stashsense.middleware.PrivateHostsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "stashsense.middleware.ApiTrailingSlashMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "stashsense.exceptions.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it answers a locked-out login with 429.
    "axes.middleware.AxesMiddleware",
]

# Admin login throttling (django-axes): after this many wrong passwords for one username from
# one address, that pair is locked out for the cool-off time; a success resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = read_int("STASHSENSE_LOGIN_FAILURE_LIMIT", default=5, minimum=1)
AXES_COOLOFF_TIME = timedelta(
    minutes=read_int("STASHSENSE_LOGIN_LOCKOUT_MINUTES", default=15, minimum=1)
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

ROOT_URLCONF = "stashsense.urls"
WSGI_APPLICATION = "stashsense.wsgi.application"

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
            ],
        },
    },
]

_database_url = read_url("DATABASE_URL", ("postgres", "postgresql", "sqlite", "pgsql"))
try:
    DATABASES = {
        "default": environ.Env.db_url_config(_database_url)
        if _database_url
        else {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DATA_DIR / "stashsense.sqlite3")}
    }
except (ValueError, KeyError) as error:  # pragma: no cover - depends on the environment
    raise ImproperlyConfigured(
        f"Environment variable DATABASE_URL is malformed: {error}"
    ) from error
DATABASES["default"]["CONN_MAX_AGE"] = read_int("DATABASE_CONN_MAX_AGE", default=60)
# A dead database answers 503 within seconds (health names it) instead of hanging requests.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if "postgresql" in DATABASES["default"]["ENGINE"]:
    _options: dict[str, object] = DATABASES["default"].setdefault("OPTIONS", {})  # type: ignore[assignment]
    _options.setdefault("connect_timeout", 5)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL and a busy timeout let the eager worker and the web server share the file.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = read_url("REDIS_URL", ("redis", "rediss", "unix"))
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # A Redis that hangs costs a request at most this, never a worker thread for good.
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

CELERY_BROKER_URL = read_url("CELERY_BROKER_URL", ("redis", "rediss", "amqp", "memory"))
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "scraping.*": {"queue": "scraping"},
    "recognition.*": {"queue": "recognition"},
}
# With Redis, a task whose worker died is delivered again once it has been unacknowledged this
# long; it must exceed the longest task (a full index build), or a running task runs twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": read_int("CELERY_VISIBILITY_TIMEOUT", default=3600, minimum=1)
}
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
SYNC_INTERVAL_MINUTES = read_int("STASHSENSE_SYNC_INTERVAL_MINUTES", default=24 * 60)
# A run whose holder died (no heartbeat for 5 minutes) is queued again within this.
CELERY_BEAT_SCHEDULE["scraping-resume-abandoned-runs"] = {
    "task": "scraping.resume_abandoned_runs",
    "schedule": 120.0,
}
CELERY_BEAT_SCHEDULE["scraping-incremental-syncs"] = {
    "task": "scraping.sync_due_sources",
    "schedule": SYNC_INTERVAL_MINUTES * 60.0,
}

# Gallery updates: a bundle feed (bundles/feed.py) checked on a beat schedule. Only its host
# (and STASHSENSE_BUNDLE_FEED_HOSTS, e.g. where its bundles are stored) may be downloaded from.
STASHSENSE_BUNDLE_FEED = read_url("STASHSENSE_BUNDLE_FEED", ("http", "https"))
if STASHSENSE_BUNDLE_FEED and not urlsplit(STASHSENSE_BUNDLE_FEED).hostname:
    raise ImproperlyConfigured("Environment variable STASHSENSE_BUNDLE_FEED has no host")
STASHSENSE_BUNDLE_FEED_HOSTS = [
    h.strip().lower()
    for h in env.str("STASHSENSE_BUNDLE_FEED_HOSTS", default="").split(",")
    if h.strip()
]
BUNDLE_FEED_INTERVAL_MINUTES = read_int(
    "STASHSENSE_BUNDLE_FEED_INTERVAL_MINUTES", default=6 * 60, minimum=1
)
if STASHSENSE_BUNDLE_FEED:
    CELERY_BEAT_SCHEDULE["bundles-feed-check"] = {
        "task": "bundles.feed_check",
        "schedule": BUNDLE_FEED_INTERVAL_MINUTES * 60.0,
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The image collects static files at build time into its own folder, outside the /data volume.
STATIC_ROOT = Path(
    env.str("STASHSENSE_STATIC_ROOT", default=str(DATA_DIR / "staticfiles"))
).resolve()
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "admin:login"
DATA_UPLOAD_MAX_MEMORY_SIZE = read_int("STASHSENSE_MAX_UPLOAD_BYTES", default=20 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

STASH_URL = read_url("STASH_URL", ("http", "https"))
STASH_API_KEY = env.str("STASH_API_KEY", default="")
STASHSENSE_API_KEY = env.str("STASHSENSE_API_KEY", default="")
# Unset: the profile of the newest active index (an upgraded install keeps its gallery), else
# the default profile (recognition.engine.profile_registry.DEFAULT_PROFILE).
STASHSENSE_PROFILE = env.str("STASHSENSE_PROFILE", default="")
# Every index fits its own acceptance threshold for this false-accept rate (outsiders named).
STASHSENSE_TARGET_FAR = read_float("STASHSENSE_TARGET_FAR", default=0.01)
if not 0 < STASHSENSE_TARGET_FAR < 1:
    raise ImproperlyConfigured(
        f"Environment variable STASHSENSE_TARGET_FAR must be between 0 and 1, got {STASHSENSE_TARGET_FAR}"
    )
STASHSENSE_CALIBRATION_SAMPLES = read_int(
    "STASHSENSE_CALIBRATION_SAMPLES", default=2000, minimum=10
)
# An index calibrates itself again once it has grown by this fraction since the last fit.
STASHSENSE_RECALIBRATE_GROWTH = read_float("STASHSENSE_RECALIBRATE_GROWTH", default=0.25)
if STASHSENSE_RECALIBRATE_GROWTH <= 0:
    raise ImproperlyConfigured("Environment variable STASHSENSE_RECALIBRATE_GROWTH must be above 0")
STASHSENSE_INFERENCE_CONCURRENCY = read_int(
    "STASHSENSE_INFERENCE_CONCURRENCY", default=2, minimum=1
)
STASHSENSE_ORT_THREADS = read_int("STASHSENSE_ORT_THREADS", default=2, minimum=1)
STASHSENSE_MAX_IMAGE_PIXELS = read_int("STASHSENSE_MAX_IMAGE_PIXELS", default=40_000_000, minimum=1)
# Fetches a request waits on (image_url, Stash): at most this many in flight per process (one
# more answers 503 at once), each waited for at most this long in all (not per read).
STASHSENSE_FETCH_CONCURRENCY = read_int("STASHSENSE_FETCH_CONCURRENCY", default=4, minimum=1)
STASHSENSE_FETCH_DEADLINE_SECONDS = read_int(
    "STASHSENSE_FETCH_DEADLINE_SECONDS", default=30, minimum=1
)
IMAGE_URL_ALLOWED_HOSTS = [
    h.strip() for h in env.str("STASHSENSE_IMAGE_URL_HOSTS", default="").split(",") if h.strip()
]

CORS_ALLOWED_ORIGINS = [
    o.strip().rstrip("/")
    for o in env.str("STASHSENSE_CORS_ORIGINS", default="").split(",")
    if o.strip()
]
if STASH_URL and not CORS_ALLOWED_ORIGINS:
    from urllib.parse import urlsplit

    _stash = urlsplit(STASH_URL)
    CORS_ALLOWED_ORIGINS = [f"{_stash.scheme}://{_stash.netloc}"]
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = ["accept", "authorization", "content-type", "x-api-key"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["stashsense.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "stashsense.exceptions.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "stashsense.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Stash Sense API",
    "DESCRIPTION": "Identify performers in images and Stash scenes; browse the identity graph.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # The ApiKeyAuth scheme, on every operation that needs a key: stashsense/schema.py.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "stashsense.schema.document_error_responses",
    ],
}

STASHSENSE_LOG_LEVEL = env.str("STASHSENSE_LOG_LEVEL", default="INFO").strip().upper() or "INFO"
if STASHSENSE_LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(
        "Environment variable STASHSENSE_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or "
        f"CRITICAL, got {STASHSENSE_LOG_LEVEL!r}"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": STASHSENSE_LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"
    SECURE_CONTENT_TYPE_NOSNIFF = True
STASHSENSE_INFERENCE_QUEUE_SECONDS = read_int("STASHSENSE_INFERENCE_QUEUE_SECONDS", default=30)
# Requests that may wait for an inference slot; one more is answered 503 + Retry-After at once.
# With gunicorn's 8 threads and 2 slots, 4 waiting leaves threads free for health and reads.
STASHSENSE_INFERENCE_QUEUE_DEPTH = read_int("STASHSENSE_INFERENCE_QUEUE_DEPTH", default=4)
STASHSENSE_MAX_FACES = read_int("STASHSENSE_MAX_FACES", default=20, minimum=1)
STASHSENSE_MAX_FRAMES = read_int("STASHSENSE_MAX_FRAMES", default=200, minimum=1)
# Images of one Stash gallery identified per request (a larger gallery is refused, or trimmed
# to its first images when the request asks for `max_images`).
STASHSENSE_MAX_GALLERY_IMAGES = read_int("STASHSENSE_MAX_GALLERY_IMAGES", default=200, minimum=1)
# Videos: an upload's size (413 above it, refused on Content-Length before reading), the
# largest frame decoded (width x height; 4096x2160 by default) and the wall-clock time one
# request may spend opening, seeking and decoding (504 past it; a stalled stream ends there).
STASHSENSE_MAX_VIDEO_BYTES = read_int(
    "STASHSENSE_MAX_VIDEO_BYTES", default=2 * 1024 * 1024 * 1024, minimum=1
)
STASHSENSE_MAX_VIDEO_PIXELS = read_int("STASHSENSE_MAX_VIDEO_PIXELS", default=8_847_360, minimum=1)
STASHSENSE_VIDEO_DECODE_SECONDS = read_int(
    "STASHSENSE_VIDEO_DECODE_SECONDS", default=120, minimum=1
)
# The address Stash (the plugin) reaches this service at; `stash_plugin` writes it into the plugin.
STASHSENSE_PUBLIC_URL = read_url("STASHSENSE_PUBLIC_URL", ("http", "https"))
# Faces the user confirms in Stash join the performer's gallery when the gallery itself was
# at least this confident; below it they go to the curation queue instead.
STASHSENSE_FEEDBACK_ADD_FACES = read_bool("STASHSENSE_FEEDBACK_ADD_FACES", default=True)
STASHSENSE_FEEDBACK_MIN_CONFIDENCE = read_float("STASHSENSE_FEEDBACK_MIN_CONFIDENCE", default=0.5)
