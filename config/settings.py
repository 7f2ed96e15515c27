"""Settings for the chain mapper: everything comes from the environment.

Safe defaults for a first run on a laptop: DEBUG on, an SQLite file, a throwaway
secret key. Production sets DATABASE_URL, SECRET_KEY, DEBUG=0 and ALLOWED_HOSTS.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.logging import FORMATTERS, console_handler

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
# The development default is public (it is in this file): signed cookies and password reset
# links made with it can be forged, so production must bring its own.
DEV_SECRET_KEY = "dev-only-insecure-key-change-me-in-production"
SECRET_KEY = env_str("SECRET_KEY", "") or (DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. With DEBUG=0 the app needs its own secret key: set "
        "SECRET_KEY in the environment (or .env) to a long random string, for example the "
        "output of: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "simple_history",
    "csp",
    "axes",
    # The JSON API (django-ninja); listed so that its docs page uses the static files it
    # ships (Swagger UI) instead of a CDN.
    "ninja",
    "chain",
    "customers",
    "api",
    "webhooks",
]

MIDDLEWARE = [
    # First, so that it times everything below and logs the responses they make too.
    "config.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # API requests: a too large body is refused (413) before anything reads it, and an
    # address no endpoint has gets a JSON 404.
    "api.limits.ApiRequestLimitsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login; the login page itself is marked public.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Puts the signed-in user (and the request's change batch) on every history row.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

# Embedded SQLite for a first run; PostgreSQL (psycopg 3) when DATABASE_URL names it.
# Connections are kept for DB_CONN_MAX_AGE seconds and checked before a request reuses
# one, so that a connection the database (or a restart of it) dropped is replaced instead
# of failing the next request of every server thread.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(env_str("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Autosave, region reloads and the worker write at the same moment. SQLite's defaults
    # (a rollback journal, deferred transactions) let a reader block writers and a
    # transaction that starts reading fail at its first write with "database is locked"
    # at once. WAL lets readers and one writer work side by side, IMMEDIATE takes the
    # write lock when a transaction starts (so waiting for it honours the timeout), and
    # the timeout is how long a write waits for another before it gives up.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": int(env_str("SQLITE_TIMEOUT", "20")),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A bound on every statement: a runaway query ends with an error after this many
    # milliseconds instead of holding a server thread (gunicorn's timeout does not stop a
    # request in a threaded worker). 0 switches it off, e.g. for a long data migration.
    DB_STATEMENT_TIMEOUT_MS = int(env_str("DB_STATEMENT_TIMEOUT_MS", "30000"))
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    # After any options the DATABASE_URL brings (?options=...), which it keeps.
    _options["options"] = " ".join(
        filter(None, [_options.get("options"), f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}"])
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out login before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Login rate limiting (django-axes): after LOGIN_FAILURE_LIMIT failed attempts for one
# username from one IP address, that pair is locked out for LOGIN_LOCKOUT_MINUTES.
# Unlock early with `python manage.py axes_reset`.
AXES_FAILURE_LIMIT = int(env_str("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env_str("LOGIN_LOCKOUT_MINUTES", "15")))
# Username and client address together: the lock falls on the address the failures came
# from, never on the account, so nobody can lock a user out from another address, and
# colleagues behind one office address don't lock each other out.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The client address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT reverse proxies (the TLS
# proxy) the address the outermost of them put into X-Forwarded-For. Behind a proxy every
# request comes from the proxy's address, which would lock out everybody at once; without
# a trusted proxy the header is ignored, since any client can send one.
TRUSTED_PROXY_COUNT = int(env_str("TRUSTED_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "config.middleware.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# No start-up banner on every manage.py command; failures and lockouts are still logged.
AXES_VERBOSE = False

# API limits (api/limits.py): requests per caller as "<count>/<period>" (s, min, hour, day;
# empty for none), per token, per user for session calls; API_RATE_ANON counts the calls
# that fail authentication per client address. They count in Django's cache (CACHES; the
# default in-memory cache counts per process). API_MAX_BODY_SIZE in bytes.
API_RATE_READ = env_str("API_RATE_READ", "120/min")
API_RATE_WRITE = env_str("API_RATE_WRITE", "30/min")
API_RATE_ANON = env_str("API_RATE_ANON", "30/min")
API_MAX_BODY_SIZE = int(env_str("API_MAX_BODY_SIZE", str(1024 * 1024)))

# Django's cache: in each process's memory by default. REDIS_URL (redis://host:6379/1)
# shares it between the gunicorn processes and the machines, so that the API's rates
# count per token whichever process answers (docs/operations.md).
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "chainmap",
        }
    }

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chain:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "de")
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True
# Numbers, money and dates follow the active language: 1.234,56 € and 28.11.2026 in German
# (Django's own de formats), €1,234.56 and 28 Nov 2026 in English (config/formats/en).
# Off: ids end up in markup (element ids, data-pk, hx-vals), where "1.234" would break
# them. Figures shown to people go through the `money`/`number`/`percent` filters
# (customers/templatetags/money.py), which group per language explicitly.
USE_THOUSAND_SEPARATOR = False
FORMAT_MODULE_PATH = ["config.formats"]
# The currency of all customer values (ISO 4217 code); shown by the `money` filter.
CURRENCY = env_str("CURRENCY", "EUR")

STATIC_URL = "static/"
# Vendored scripts (htmx comes with django-htmx; plotly.js and Sortable.js are in static/js):
# served by the app itself, never from a CDN.
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Served over HTTPS (behind a TLS-terminating proxy that sets X-Forwarded-Proto):
# secure cookies, redirect to HTTPS and HSTS. On by default in production.
HTTPS = env_bool("HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = int(env_str("HSTS_SECONDS", "31536000")) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
# Container health checks call the app directly over plain HTTP: no redirect for them.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]

# Content-Security-Policy (django-csp): only the app's own scripts, styles and images, no
# inline code, so injected markup can neither run script nor restyle the page. Charts are
# drawn from JSON by static/js/app.js, htmx runs without eval and its inline style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))

# Imports and analyses run in the background: `python manage.py worker` runs them.
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        # "analysis": the chunks of a large analysis (customers/jobs.py), which need only
        # the database, so that workers on other machines may take just those.
        "QUEUES": ["default", "analysis"],
    }
}
# A running import writes a heartbeat this often; one silent for IMPORT_STALE_SECONDS lost
# its worker and is finished with a message (customers.services.import_batches_recover).
IMPORT_HEARTBEAT_SECONDS = int(env_str("IMPORT_HEARTBEAT_SECONDS", "10"))
IMPORT_STALE_SECONDS = int(env_str("IMPORT_STALE_SECONDS", "120"))
# An analysis of more customers with values than ANALYSIS_CHUNK_CUSTOMERS_DB (0: never)
# runs as chunk tasks of ANALYSIS_CHUNK_SIZE_DB customers that several workers share
# (customers/jobs.py, README "More workers"); a chunk is tried ANALYSIS_CHUNK_ATTEMPTS
# times, and queued again when its heartbeat is older than ANALYSIS_CHUNK_STALE_SECONDS.
ANALYSIS_CHUNK_CUSTOMERS_DB = int(env_str("ANALYSIS_CHUNK_CUSTOMERS_DB", "200000"))
ANALYSIS_CHUNK_SIZE_DB = int(env_str("ANALYSIS_CHUNK_SIZE_DB", "50000"))
ANALYSIS_CHUNK_ATTEMPTS = int(env_str("ANALYSIS_CHUNK_ATTEMPTS", "3"))
ANALYSIS_CHUNK_STALE_SECONDS = int(env_str("ANALYSIS_CHUNK_STALE_SECONDS", "120"))

# Customer-value analysis: thresholds that override customers.analysis.Thresholds.
CUSTOMER_ANALYSIS = {
    "horizon": int(env_str("ANALYSIS_HORIZON", "12")),
    "thresholds": {},
    # Each run backtests its forecast (docs/method.md) when the portfolio has at most this
    # many customers; above, the portfolio page offers to run it in the background.
    "backtest_max_customers": int(env_str("BACKTEST_MAX_CUSTOMERS", "50000")),
    # analyze_customers reads a CSV file larger than 64 MB in chunks of this many customers
    # (customers/chunked.py): the peak memory follows the chunk, not the file; with this
    # many worker processes (1: none), each holding a block of the file or a chunk.
    "chunk_customers": int(env_str("ANALYSIS_CHUNK_CUSTOMERS", "50000")),
    "processes": int(env_str("ANALYSIS_PROCESSES", "2")),
}
# Administrators change the thresholds on the page customers:thresholds (stored in the
# database, overlaid on the ones above). Its preview analyses at most this many customers
# (an evenly spaced sample of a larger portfolio), so that it answers within seconds.
THRESHOLD_PREVIEW_MAX_CUSTOMERS = int(env_str("THRESHOLD_PREVIEW_MAX_CUSTOMERS", "5000"))

# Stored analysis runs (customers/retention.py): the newest runs kept whole; older ones
# keep the latest run of each period with the type only; 0 periods: keep every period.
ANALYSIS_KEEP_FULL_RUNS = int(env_str("ANALYSIS_KEEP_FULL_RUNS", "2"))
ANALYSIS_KEEP_PERIODS = int(env_str("ANALYSIS_KEEP_PERIODS", "0"))

# A chain nobody changed for this many days is marked stale on the managers' dashboard.
CHAIN_STALE_DAYS = int(env_str("CHAIN_STALE_DAYS", "90"))

# A chain event (a linked customer's value type changed, customers/chain_events.py) counts
# as recent for this many days: the where-to-act list and the diagram show it until then.
CHAIN_EVENT_RECENT_DAYS = int(env_str("CHAIN_EVENT_RECENT_DAYS", "90"))

# Where to act next (customers/where_to_act.py; the formula in docs/where-to-act.md):
# points per kind of entry, then per chain goal a factor per kind, the weights of the
# value parts (shares of the chain's linked value), of the value bases and of the
# downstream roles. A deployment replaces this dict as a whole; every key is required.
WHERE_TO_ACT_WEIGHTS = {
    "white_spot": 40.0,
    "critic": 30.0,
    "relationship": 20.0,
    "stale_contact": 15.0,
    "influence": 25.0,
    "type_change": 35.0,
    # A white spot where a person is known but nobody has direct contact, against nobody.
    "no_direct_contact": 0.5,
    # An entry with an open action about the same target keeps this share of its score.
    "action_open": 0.25,
    # A contact is "not contacted for long" from this many days, fully so at the second.
    "stale_after_days": 90,
    "stale_full_days": 365,
    "goals": {
        "growth": {
            "white_spot": 1.2,
            "critic": 1.0,
            "relationship": 0.8,
            "stale_contact": 1.0,
            "influence": 0.8,
            "type_change": 1.2,
            "future_value": 2.0,
            "growth": 1.0,
            "at_risk": 0.5,
            "burr": 0.0,
            "margin": 1.0,
            "revenue": 1.0,
            "downstream": 1.0,
        },
        "profitability": {
            "white_spot": 0.8,
            "critic": 1.0,
            "relationship": 0.8,
            "stale_contact": 1.0,
            "influence": 0.6,
            "type_change": 1.2,
            "future_value": 1.0,
            "growth": 0.0,
            "at_risk": 1.5,
            "burr": 1.5,
            "margin": 1.0,
            "revenue": 0.5,
            "downstream": 1.0,
        },
        "innovation": {
            "white_spot": 1.0,
            "critic": 1.0,
            "relationship": 1.3,
            "stale_contact": 1.0,
            "influence": 1.5,
            "type_change": 0.8,
            "future_value": 0.5,
            "growth": 1.0,
            "at_risk": 0.0,
            "burr": 0.0,
            "margin": 1.0,
            "revenue": 1.0,
            "downstream": 1.5,
        },
    },
}

# Four eyes: a chain is approved by a manager who neither submitted it nor belongs to its
# team. On lets the only member of a one-person team approve that team's chains.
REVIEW_ALLOW_SELF_APPROVAL = env_bool("REVIEW_ALLOW_SELF_APPROVAL", False)

# The chain's PDF report and PNG diagram are drawn in a child process that is killed after
# this many seconds and may use this much memory (chain/sandbox.py): one download never
# holds a server thread longer, whatever the chain holds. Below gunicorn's timeout.
EXPORT_TIME_LIMIT = int(env_str("EXPORT_TIME_LIMIT", "30"))
EXPORT_MEMORY_MB = int(env_str("EXPORT_MEMORY_MB", "1024"))

# Mail: the daily reminders (chain/reminders.py). Printed to the console unless EMAIL_HOST
# names an SMTP server. The timeout bounds each connection attempt and each send, so an
# unreachable server cannot hold the worker.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = int(env_str("EMAIL_PORT", "587"))
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(env_str("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "chainmap@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The address users reach the app at, for links in mails and the calendar (no request there).
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")
# The reminders go out once a day at this local time (TIME_ZONE), from the worker.
REMINDER_TIME = env_str("REMINDER_TIME", "07:00")
# Open actions due within this many days (and all overdue ones) are in the digest.
REMINDER_DAYS = int(env_str("REMINDER_DAYS", "7"))

# Webhooks (README, "Webhooks"): each delivery is a POST that gives up after
# WEBHOOK_TIMEOUT seconds; a failed one is tried again after 1 min, 5 min, 30 min, 2 h and
# 6 h, WEBHOOK_MAX_ATTEMPTS times in all. A hook whose last WEBHOOK_PAUSE_AFTER deliveries
# all failed for good is paused. Receivers must use https://, except plain http to this
# machine with DEBUG or WEBHOOKS_ALLOW_HTTP (a receiver on a laptop, the tests).
WEBHOOK_TIMEOUT = int(env_str("WEBHOOK_TIMEOUT", "10"))
WEBHOOK_MAX_ATTEMPTS = int(env_str("WEBHOOK_MAX_ATTEMPTS", "6"))
WEBHOOK_PAUSE_AFTER = int(env_str("WEBHOOK_PAUSE_AFTER", "10"))
WEBHOOKS_ALLOW_HTTP = env_bool("WEBHOOKS_ALLOW_HTTP", False)

# Logs go to stdout: JSON lines in production (one object per record, for log collectors;
# config/logging.py), readable text in development. gunicorn logs the same way
# (config/gunicorn.conf.py); every request is one line from config.middleware.
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": FORMATTERS,
    "handlers": {"console": console_handler(LOG_FORMAT)},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own records reach the root handler only (its default handler would print
        # them a second time in development).
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        # WeasyPrint and fontTools report every font and step of a PDF at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
