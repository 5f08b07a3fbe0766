"""Settings for the CRM, read from the environment (see README, "Configuration")."""

import os
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file() and "PYTEST_VERSION" not in os.environ:
    environ.Env.read_env(BASE_DIR / ".env")

# pytest sets PYTEST_VERSION for the whole session, before Django is configured.
TESTING = "PYTEST_VERSION" in os.environ
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Development is asked for with DJANGO_DEBUG; everything else is treated as production.
PRODUCTION = not DEBUG and not TESTING

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY and not PRODUCTION:
    SECRET_KEY = "insecure-development-key-never-use-in-production"  # noqa: S105 - development and tests only
# In production without a key it stays empty: the web server refuses to start (crm/wsgi.py) and
# Django refuses every use of it (sessions, CSRF, signed links), while commands that need no key
# (migrate, makemigrations --check) still run.

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if not PRODUCTION else [])
# The address links in emails start with when no request tells it (e.g. https://crm.example.in).
SITE_URL = env.str("CRM_SITE_URL", default="")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

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
    "crispy_bootstrap5",
    "django_filters",
    "django_htmx",
    "django_celery_beat",
    "csp",
    "axes",
    "crm",
    "contacts",
    "sales",
    "support",
    "campaigns",
    "analytics",
    "bench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "crm.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # django-axes must come last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

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
                "django.template.context_processors.tz",
                "crm.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/crm")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0 if TESTING else 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Several checkouts on one machine can run their tests side by side with their own names.
DATABASES["default"]["TEST"] = {"NAME": env.str("CRM_TEST_DATABASE", default="test_crm")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
if TESTING:
    # Each pytest-xdist worker gets its own Redis database (and so its own Celery
    # broadcast channels), so a worker started by one test process never answers
    # another's pings, and tests never touch the data of `make run` (database 0).
    _worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    _db = env.int("CRM_TEST_REDIS_DB", default=15) - int(_worker[2:] or 0) % 4
    REDIS_URL = REDIS_URL.rsplit("/", 1)[0] + f"/{_db}" if REDIS_URL.count("/") > 2 else f"{REDIS_URL}/{_db}"

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
        if TESTING
        else {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "crm"}
    )
}

AUTH_USER_MODEL = "crm.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

# Failed logins: locked per account and, separately, per IP address.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=1 if PRODUCTION else 0)
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
AXES_VERBOSE = False

# Language, time, money
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("hi", _("Hindi")),
    ("bn", _("Bengali")),
    ("kn", _("Kannada")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["crm.formats"]
USE_I18N = True
# Off: with it on, every number in a template is grouped, ids included ("1,768" in a link or a
# hidden input). Money and large counts are grouped on purpose with the `money` filter and
# humanize's `intcomma`, which follow the Indian grouping of crm.formats.
USE_THOUSAND_SEPARATOR = False
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Kolkata")
USE_TZ = True
DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="INR")
# Month (1-12) in which the business's financial year starts; April in India.
FINANCIAL_YEAR_START_MONTH = env.int("FINANCIAL_YEAR_START_MONTH", default=4)
if not 1 <= FINANCIAL_YEAR_START_MONTH <= 12:
    raise ImproperlyConfigured("FINANCIAL_YEAR_START_MONTH must be between 1 and 12.")
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="IN")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")

# Django's widget templates, the common ones written in Python (crm/renderers.py): the same markup
# without two template renders per select option.
FORM_RENDERER = "crm.renderers.FastDjangoTemplates"
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://" if not PRODUCTION else "smtp://127.0.0.1:25")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CRM <crm@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 30

# Celery: JSON only; a task is acknowledged after it ran, and requeued if its worker dies.
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 60 * 60 * 24
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# With acks_late a task must finish within the visibility timeout or Redis redelivers it.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60 * 6}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# Content-Security-Policy: our pages need no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
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

# Security headers; the HTTPS ones are on in production (behind a TLS-terminating proxy).
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # /healthz is probed by load balancers over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Lockouts are logged; every single failed attempt is not (it is in the admin's access log).
    "loggers": {"axes": {"level": "ERROR" if TESTING else "WARNING"}},
}

# Contact imports: the largest file and the most data rows one import takes (Excel's sheet holds 1,048,576).
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=200 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=1_048_576)

# A contact neither updated nor verified for this many days is "stale" (needs attention).
CONTACT_STALE_DAYS = env.int("CONTACT_STALE_DAYS", default=180)

# A customer (retention or extension) with no purchase for this many days moves to churned (nightly job).
CHURN_WINDOW_DAYS = env.int("CHURN_WINDOW_DAYS", default=365)
if CHURN_WINDOW_DAYS < 1:
    raise ImproperlyConfigured("CHURN_WINDOW_DAYS must be at least 1.")
