"""Django settings for the TechGoods monolith, read from the environment.

DJANGO_ENV is ``development`` (make run), ``test`` (pytest) or ``production`` (the default, so a
forgotten variable never ships a debug server). DATABASE_URL picks the database; the default is a
SQLite file under ``var/``.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TECHGOODS_VAR_DIR", BASE_DIR / "var"))


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# pytest (>= 8.2) sets PYTEST_VERSION for the session it runs.
ENVIRONMENT = os.environ.get("DJANGO_ENV") or ("test" if os.environ.get("PYTEST_VERSION") else "production")
if ENVIRONMENT not in {"development", "test", "production"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV={ENVIRONMENT!r}: expected one of development, test, production"
    )

_DEV_SECRET_KEY = "techgoods-dev-secret-key-not-for-production"
SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET_KEY)
if ENVIRONMENT == "production" and SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is the development default; set SECRET_KEY in the environment "
        "(or DJANGO_ENV=development for a local run)"
    )

DEBUG = _env_flag("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
# The router sets X-Forwarded-Host/Proto; trust them only when deployed behind it.
USE_X_FORWARDED_HOST = _env_flag("USE_X_FORWARDED_HOST", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "legacy_monolith.core",
    "legacy_monolith.catalog",
    "legacy_monolith.customers",
    "legacy_monolith.inventory",
    "legacy_monolith.orders",
    "legacy_monolith.shipping",
    "legacy_monolith.loyalty",
    "legacy_monolith.outbox",
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

ROOT_URLCONF = "legacy_monolith.urls"
WSGI_APPLICATION = "legacy_monolith.wsgi.application"

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
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    # The embedded default: a SQLite file under var/ (created on first use).
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASE_URL = f"sqlite:///{VAR_DIR / 'legacy.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent gunicorn workers on one SQLite file: WAL + a busy timeout instead of "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
if ENVIRONMENT == "test":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

REST_FRAMEWORK = {
    # Token first: an anonymous request then gets 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "TechGoods ERP API",
    "DESCRIPTION": "The legacy monolith of TechGoods, a B2B electronics distributor.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "legacy_monolith.orders.models.OrderStatus",
        "TrackingStatusEnum": "legacy_monolith.shipping.models.TrackingStatus",
        "ReservationStatusEnum": "legacy_monolith.inventory.models.ReservationStatus",
        "MovementKindEnum": "legacy_monolith.inventory.models.MovementKind",
        "AdjustmentKindEnum": "legacy_monolith.inventory.models.AdjustmentKind",
        "LoyaltyEntryKindEnum": "legacy_monolith.loyalty.models.EntryKind",
    },
}

# Business constants of the order domain.
TECHGOODS_VAT_RATE = os.environ.get("TECHGOODS_VAT_RATE", "0.20")
TECHGOODS_CURRENCY = "EUR"
# Shared secret carriers sign their webhook bodies with (HMAC-SHA256, hex, X-Courier-Signature).
COURIER_WEBHOOK_SECRET = os.environ.get("COURIER_WEBHOOK_SECRET", "dev-courier-secret")
if ENVIRONMENT == "production" and COURIER_WEBHOOK_SECRET == "dev-courier-secret":
    raise ImproperlyConfigured("COURIER_WEBHOOK_SECRET is the development default; set it in the environment")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
