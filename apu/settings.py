"""Settings for APU pathway, read from the environment (and an optional .env file).

Every variable is listed in the README. With DEBUG off, a missing SECRET_KEY or
ALLOWED_HOSTS stops start-up with a clear message instead of running insecurely.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)


def _required_in_production(name: str, value):
    if not value:
        raise ImproperlyConfigured(
            f"{name} must be set in the environment when DEBUG is off (see README, Configuration)."
        )
    return value


if DEBUG:
    # A fixed development key; never used with DEBUG off.
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
else:
    SECRET_KEY = _required_in_production("SECRET_KEY", env.str("SECRET_KEY", default=""))
    ALLOWED_HOSTS = _required_in_production("ALLOWED_HOSTS", env.list("ALLOWED_HOSTS", default=[]))
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "django_htmx",
    "template_partials",
    "simple_history",
    "apu",
    "referrals",
    "coordination",
    "modules",
    "evaluation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before everything that needs the database: a 503 page when it cannot be reached.
    "apu.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "apu.middleware.DanishFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "apu.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # django-axes must be last: it turns a lock-out into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "apu.urls"
WSGI_APPLICATION = "apu.wsgi.application"

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
                "csp.context_processors.nonce",
                "apu.context_processors.navigation",
            ],
        },
    }
]

# Database: DATABASE_URL when set, otherwise the embedded server in .data/ (never SQLite).
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
else:
    from apu.embedded_db import database_settings

    DATABASES = {"default": database_settings()}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "apu.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first, so a locked-out account is refused before its password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "apu:login"
LOGIN_REDIRECT_URL = "apu:home"
LOGOUT_REDIRECT_URL = "apu:login"
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 24 * 3)

# Lock an account after five failed logins (django-axes), for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=60))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLE_ACCESS_FAILURE_LOG = False  # failures are counted; usernames are not kept forever
AXES_VERBOSE = False
SILENCED_SYSTEM_CHECKS = [
    # Lock-out is per account on purpose: the clinic's staff share one outgoing IP address,
    # so counting failures per IP would let one person's typos lock everyone out.
    "axes.W006",
]

# Sessions end after 30 idle minutes: each request pushes the expiry forward.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", default=30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Two-factor authentication (TOTP) for everyone who can see patient data.
REQUIRE_2FA = env.bool("REQUIRE_2FA", default=not DEBUG)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="APU pathway")

# Security headers; production values are on by default, each can be set from the environment.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content Security Policy: same-origin only, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # data: images only: the CSS framework draws select arrows and date icons that way.
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

LANGUAGE_CODE = "da"
LANGUAGES = [("da", _("Danish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Copenhagen"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / ".data" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# E-mail through Django's backends: the console in development, SMTP (EMAIL_URL) otherwise.
EMAIL_CONFIG = env.email_url(
    "EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"
)
vars().update(EMAIL_CONFIG)
# The address users reach the app at, for links in e-mails sent outside a request.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="APU pathway <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Logs go to standard error; patient data never goes into a log message. Every line goes
# through the one handler, whose filter drops query strings, masks CPR numbers and cuts a
# traceback's messages to their first line (a database error's DETAIL quotes the data).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_patient_data": {"()": "apu.logging.RedactPatientData"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_patient_data"],
        }
    },
    "root": {"handlers": ["stderr"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Without Django's own handlers: a console one (with DEBUG on) and e-mail to ADMINS
        # with the request's data and the traceback's local variables, neither filtered.
        "django": {"level": "INFO"},
        # At DEBUG it logs each SQL statement with its parameters (CPR numbers, names).
        "django.db.backends": {"level": "INFO"},
        # Request-failure lines would carry URLs with search terms (names, CPR numbers).
        "django.request": {"level": "ERROR"},
        # The development server's 4xx and 5xx lines, through the filtered handler (Django's
        # default sends them to a handler of their own, which this configuration removes).
        "django.server": {"level": "WARNING", "propagate": True},
        "axes": {"level": "WARNING"},
    },
}

DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="")

# The Lean dashboard reads its KPI figures from snapshots (evaluation.DashboardSnapshot)
# and recomputes one once it is older than this; `refresh_dashboard` (cron) keeps the
# default views fresh so nobody waits for the aggregation.
DASHBOARD_MAX_AGE_MINUTES = env.int("DASHBOARD_MAX_AGE_MINUTES", default=15)

# Referrals: the intake meeting is due this many days after first contact (DESIGN.md,
# "no later than the third week").
INTAKE_MEETING_DEADLINE_DAYS = env.int("INTAKE_MEETING_DEADLINE_DAYS", default=21)

# Research export: each pseudonym is an HMAC of the patient under this key, so it stays the
# same in every export and cannot be traced back without the key. Keep it out of the
# database and its backups, and never change it once exports have been handed out.
if DEBUG:
    RESEARCH_PSEUDONYM_KEY = env.str(
        "RESEARCH_PSEUDONYM_KEY", default="dev-only-research-pseudonym-key"
    )
else:
    RESEARCH_PSEUDONYM_KEY = _required_in_production(
        "RESEARCH_PSEUDONYM_KEY", env.str("RESEARCH_PSEUDONYM_KEY", default="")
    )
