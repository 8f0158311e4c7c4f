"""Django settings for Cobro, read from the environment (see docs/configuration.md)."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import dj_database_url

from cobro.conf import SettingError, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("COBRO_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("COBRO_DEBUG", False)
TESTING = "pytest" in sys.modules


def _secret_key() -> str:
    """COBRO_SECRET_KEY, or a random key kept in the data folder so sessions survive restarts."""
    key = env_str("COBRO_SECRET_KEY")
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("COBRO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("COBRO_CSRF_TRUSTED_ORIGINS", [])
# Public base address, used in links inside messages (pay link, opt-out link, portal).
COBRO_BASE_URL = env_str("COBRO_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "cobro.ledger.admin_site.CobroAdminConfig",  # django.contrib.admin, scoped by tenant (#10.3)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "cobro.ledger",
    "cobro.dunning",
    "cobro.messaging",
    "cobro.agreements",
    "cobro.workspace",
    "cobro.insights",
    "cobro.portal",
    "cobro.providers",
    "cobro.payments",
    "cobro.einvoice",
    "cobro.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "cobro.ledger.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "cobro.ledger.tenancy.TenantMiddleware",
    "cobro.api.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "cobro.urls"
WSGI_APPLICATION = "cobro.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cobro.ledger.tenancy.tenant_context",
            ],
        },
    },
]


def _database() -> dict:
    url = env_str("COBRO_DATABASE_URL")
    if not url:
        url = f"sqlite:///{DATA_DIR / 'cobro.sqlite3'}"
    try:
        db = dj_database_url.parse(url, conn_max_age=env_int("COBRO_DB_CONN_MAX_AGE", 60))
    except Exception as exc:  # dj-database-url raises several kinds for a bad URL
        raise SettingError(f"COBRO_DATABASE_URL={url!r} is not a database URL: {exc}") from exc
    if db["ENGINE"] == "django.db.backends.sqlite3":
        db["OPTIONS"] = {
            # WAL lets the web server read while the worker writes; IMMEDIATE takes the write lock
            # at BEGIN so two writers queue instead of failing with "database is locked" mid-way.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                "PRAGMA busy_timeout=20000; PRAGMA cache_size=-64000; PRAGMA temp_store=MEMORY;"
            ),
            "transaction_mode": "IMMEDIATE",
        }
        db["CONN_MAX_AGE"] = 0 if TESTING else db.get("CONN_MAX_AGE", 0)
    else:
        db.setdefault("TEST", {})
        if TESTING:
            # Each test run gets databases of its own, so two runs on one server never drop each
            # other's database. pytest-django reads these settings before tests/conftest.py runs, so
            # the run's id is made here (and inherited by xdist's workers and the subprocesses).
            run = os.environ.setdefault("COBRO_TEST_RUN", secrets.token_hex(4))
            db["TEST"].setdefault("NAME", f"test_{db['NAME']}_{run}")
    return db


DATABASES = {"default": _database()}
# Reads off the primary (#16, cobro.ledger.replica): the dashboard, reports and exports read from a
# streaming replica when one is given, while it is at most COBRO_REPLICA_MAX_LAG seconds behind.
if env_str("COBRO_DATABASE_REPLICA_URL"):
    _replica_url = env_str("COBRO_DATABASE_REPLICA_URL")
    try:
        DATABASES["replica"] = dj_database_url.parse(_replica_url, conn_max_age=env_int("COBRO_DB_CONN_MAX_AGE", 60))
    except Exception as exc:  # dj-database-url raises several kinds for a bad URL
        raise SettingError(f"COBRO_DATABASE_REPLICA_URL={_replica_url!r} is not a database URL: {exc}") from exc
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["cobro.ledger.replica.ReplicaRouter"]
COBRO_REPLICA_MAX_LAG = env_int("COBRO_REPLICA_MAX_LAG", 60)
COBRO_REPLICA_CHECK_SECONDS = env_int("COBRO_REPLICA_CHECK_SECONDS", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "es"
LANGUAGES = [("es", "Español"), ("en", "English"), ("pt-br", "Português (Brasil)")]
# The engine is no Django app: its messages (amounts and currencies people type) have their own catalog.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "engine" / "locale"]
TIME_ZONE = "UTC"  # stored in UTC; shown and decided in the organization's or debtor's zone
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every start when collectstatic never ran
# "default" is Django's own default (rate limits live there); "portal" keeps the portal's rendered
# statements (portal.pagecache), on its own so pages never push rate-limit counters out.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "portal": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "cobro-portal",
               "TIMEOUT": 600, "OPTIONS": {"MAX_ENTRIES": 2000}},
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(DATA_DIR / "media")}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # `cobro runserver` and tests serve static files without collectstatic
MEDIA_ROOT = DATA_DIR / "media"

# Background work: the standard tasks API on a database queue (no broker to install).
# Background tasks (docs/scaling.md): the database queue by default (nothing to install); "rq" puts
# them on RQ over Redis (COBRO_REDIS_URL) when several machines share the work. `cobro worker` runs either.
TASK_BACKENDS = {"db": "django_tasks_db.DatabaseBackend", "rq": "django_tasks_rq.RQBackend"}
_tasks_backend = env_str("COBRO_TASKS_BACKEND", "db")
TASKS = {"default": {"BACKEND": TASK_BACKENDS.get(_tasks_backend, _tasks_backend)}}
COBRO_REDIS_URL = env_str("COBRO_REDIS_URL", "redis://127.0.0.1:6379/0")
RQ_QUEUES = {"default": {"URL": COBRO_REDIS_URL, "DEFAULT_TIMEOUT": env_int("COBRO_RQ_TIMEOUT", 3600)}}
if TASKS["default"]["BACKEND"] == TASK_BACKENDS["rq"]:
    INSTALLED_APPS.append("django_rq")
#: Seconds a worker holds a cycle shard without a heartbeat before another worker redoes it (dunning.shards).
COBRO_SHARD_LEASE = env_int("COBRO_SHARD_LEASE", 300)
if TESTING:
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# Email: any Django backend; SMTP by default (see docs/channels.md).
EMAIL_BACKEND = env_str("COBRO_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("COBRO_EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("COBRO_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("COBRO_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_str("COBRO_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("COBRO_EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("COBRO_EMAIL_TIMEOUT", 10)
# The file backend's folder: `cobro run` writes the demo's e-mails here when no SMTP server is set.
EMAIL_FILE_PATH = env_str("COBRO_EMAIL_FILE_PATH", str(DATA_DIR / "mail"))
DEFAULT_FROM_EMAIL = env_str("COBRO_DEFAULT_FROM_EMAIL", "cobro@localhost")
# Channels (docs/channels.md): each has an *_ENABLED flag and a system check in cobro.messaging.checks.
COBRO_EMAIL_ENABLED = env_bool("COBRO_EMAIL_ENABLED", True)
COBRO_LETTER_ENABLED = env_bool("COBRO_LETTER_ENABLED", True)
COBRO_SMS_ENABLED = env_bool("COBRO_SMS_ENABLED", False)
COBRO_TWILIO_ACCOUNT_SID = env_str("COBRO_TWILIO_ACCOUNT_SID")
COBRO_TWILIO_AUTH_TOKEN = env_str("COBRO_TWILIO_AUTH_TOKEN")
COBRO_TWILIO_FROM = env_str("COBRO_TWILIO_FROM")
COBRO_TWILIO_API_URL = env_str("COBRO_TWILIO_API_URL", "https://api.twilio.com")
COBRO_WHATSAPP_ENABLED = env_bool("COBRO_WHATSAPP_ENABLED", False)
COBRO_WHATSAPP_TOKEN = env_str("COBRO_WHATSAPP_TOKEN")
COBRO_WHATSAPP_PHONE_NUMBER_ID = env_str("COBRO_WHATSAPP_PHONE_NUMBER_ID")
COBRO_WHATSAPP_APP_SECRET = env_str("COBRO_WHATSAPP_APP_SECRET")
COBRO_WHATSAPP_VERIFY_TOKEN = env_str("COBRO_WHATSAPP_VERIFY_TOKEN")
COBRO_WHATSAPP_API_URL = env_str("COBRO_WHATSAPP_API_URL", "https://graph.facebook.com/v21.0")
COBRO_INBOUND_EMAIL_SECRET = env_str("COBRO_INBOUND_EMAIL_SECRET")
COBRO_RATE_PER_SECOND = {ch: env_int(f"COBRO_{ch.upper()}_RATE_PER_SECOND", rate)
                         for ch, rate in (("email", 0), ("sms", 10), ("whatsapp", 20), ("letter", 0))}  # 0: no limit
COBRO_LINK_MAX_AGE_DAYS = env_int("COBRO_LINK_MAX_AGE_DAYS", 90)
# How long another process may show an organization's providers, bank accounts and dispute reasons in
# the portal after a manager changed them (portal/lists.py; the saving process drops its copy at once).
COBRO_PORTAL_LISTS_SECONDS = env_int("COBRO_PORTAL_LISTS_SECONDS", 10)
# The API (docs/api.md): requests per key and window ("600/60" = 600 a minute), and webhooks' timeout.
COBRO_API_RATE_LIMIT = env_str("COBRO_API_RATE_LIMIT", "600/60")
COBRO_WEBHOOK_TIMEOUT = env_int("COBRO_WEBHOOK_TIMEOUT", 10)

# Ceilings on an imported file, checked before it is read into memory (docs/security-input.md).
# The defaults take a size-L book (a million invoices, ~150 MB of CSV) with room to spare.
COBRO_IMPORT_MAX_BYTES = env_int("COBRO_IMPORT_MAX_BYTES", 512 * 1024 * 1024)
COBRO_IMPORT_MAX_ROWS = env_int("COBRO_IMPORT_MAX_ROWS", 2_000_000)
COBRO_IMPORT_MAX_COLUMNS = env_int("COBRO_IMPORT_MAX_COLUMNS", 200)
COBRO_IMPORT_MAX_CELL_CHARS = env_int("COBRO_IMPORT_MAX_CELL_CHARS", 10_000)

# Payment providers (docs/payments-providers.md). Credentials live per organization, encrypted with
# COBRO_CREDENTIALS_KEY (comma-separated: the first encrypts, all decrypt) or, when unset, a key
# derived from SECRET_KEY. The API bases point the official SDKs elsewhere (tests: a local server).
COBRO_CREDENTIALS_KEY = env_str("COBRO_CREDENTIALS_KEY")
COBRO_STRIPE_API_BASE = env_str("COBRO_STRIPE_API_BASE", "https://api.stripe.com").rstrip("/")
COBRO_MERCADOPAGO_API_BASE = env_str("COBRO_MERCADOPAGO_API_BASE", "https://api.mercadopago.com").rstrip("/")
COBRO_TRANSBANK_API_BASE = env_str("COBRO_TRANSBANK_API_BASE", "https://webpay3g.transbank.cl").rstrip("/")
COBRO_PROVIDER_TIMEOUT = env_int("COBRO_PROVIDER_TIMEOUT", 20)

SESSION_COOKIE_SECURE = env_bool("COBRO_SECURE_COOKIES", not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("COBRO_SSL_REDIRECT", False)
# HSTS in production (the header is only sent on HTTPS answers): a year unless COBRO_HSTS_SECONDS says else.
SECURE_HSTS_SECONDS = env_int("COBRO_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("COBRO_HSTS_SUBDOMAINS", SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = env_bool("COBRO_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
COBRO_CSP = env_str("COBRO_CSP")
# Login rate limiting (workspace.ratelimit): failures allowed per account and per address in the window.
COBRO_LOGIN_MAX_PER_ACCOUNT = env_int("COBRO_LOGIN_MAX_PER_ACCOUNT", 5)
COBRO_LOGIN_MAX_PER_IP = env_int("COBRO_LOGIN_MAX_PER_IP", 20)
COBRO_LOGIN_WINDOW_MINUTES = env_int("COBRO_LOGIN_WINDOW_MINUTES", 15)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("COBRO_BEHIND_PROXY") else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"quiet_forbidden": {"()": "cobro.ledger.logs.QuietForbidden"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"filters": ["quiet_forbidden"]}},  # a 403 is logged in one line
    "root": {"handlers": ["console"], "level": env_str("COBRO_LOG_LEVEL", "WARNING")},
}
