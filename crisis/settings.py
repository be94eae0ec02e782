"""Crisis Classroom settings: one file, driven by environment variables.

The README has a table of every variable. Development (`make run`) sets DEBUG=True;
production leaves it off and must provide SECRET_KEY.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from crisis import shared_state
from crisis.env import env_bool, env_int, env_list, env_list_or_none, env_str
from crisis.signin_config import signin_apps, signin_origins

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production (DEBUG off) needs a long random SECRET_KEY "
            "(or SECRET_KEY_FILE); see README, Settings."
        )
    SECRET_KEY = "development-only-key-never-use-in-production-5f0c1e9b7a"  # noqa: S105 - DEBUG only
elif not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long in production.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "classroom",
    "crisis",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    # Sign-in with the school's accounts (OpenID Connect); off until configured.
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Compresses pages (whitenoise has already answered for static files, which it serves
    # precompressed). Django's gzip pads every response with a random number of bytes and
    # masks the CSRF token afresh on every page, so response sizes don't leak secrets (BREACH);
    # nginx passes the compressed page through and compresses nothing itself.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "classroom.middleware.ForcePasswordChangeMiddleware",
    "classroom.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crisis.urls"
WSGI_APPLICATION = "crisis.wsgi.application"

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

# --- Database --------------------------------------------------------------------------
# SQLite under var/ by default so `make run` needs nothing installed; production sets
# DATABASE_URL=postgres://user:password@host:5432/name (psycopg 3).
DEFAULT_SQLITE_PATH = VAR_DIR / "db.sqlite3"
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE_PATH}")
# Connections: by default each gunicorn thread keeps its own for CONN_MAX_AGE seconds. With
# DB_POOL_MAX_SIZE set, each worker process has a pool (psycopg_pool) of at most that many,
# shared by its threads, and CONN_MAX_AGE must stay unset. docs/scaling.md compares the two
# with PgBouncer, which needs DISABLE_SERVER_SIDE_CURSORS=True in transaction pooling mode.
_conn_max_age = env_int("CONN_MAX_AGE", 600) if env_str("CONN_MAX_AGE") is not None else None
_pool_max_size = env_int("DB_POOL_MAX_SIZE", 0)
try:
    _db = dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=0 if _pool_max_size else (600 if _conn_max_age is None else _conn_max_age),
        conn_health_checks=True,
        disable_server_side_cursors=env_bool("DISABLE_SERVER_SIDE_CURSORS", False),
    )
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL this app understands: {exc}") from None
_pool = shared_state.database_pool(
    _pool_max_size,
    min_size=env_int("DB_POOL_MIN_SIZE", min(2, _pool_max_size)),
    timeout=env_int("DB_POOL_TIMEOUT", 10, minimum=1),
    conn_max_age=_conn_max_age,
    engine=_db["ENGINE"],
)
if _db["ENGINE"] == "django.db.backends.postgresql":
    # JIT compilation costs far more than the app's short report queries save. And the data
    # a school has fits in memory (on SSDs if not), where reading a page out of order costs
    # little more than reading the next: PostgreSQL's default cost of 4 for that (set for
    # spinning disks) makes it scan all the essays where an index finds the few it needs.
    _db.setdefault("OPTIONS", {})["options"] = "-c jit=off -c random_page_cost=1.1"
    # A statement run a fifth time on a connection is prepared (psycopg sends the values
    # apart from the SQL, and PostgreSQL keeps the statement parsed and planned): planning
    # took most of the database's time on the busiest pages, whose SQL is the same on every
    # request. Off behind a PgBouncer that does not keep prepared statements (docs/scaling.md).
    if env_bool("DB_PREPARED_STATEMENTS", True):
        _db["OPTIONS"].update(server_side_binding=True, prepare_threshold=5)
    if _pool is not None:
        _db["OPTIONS"]["pool"] = _pool
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    _db.setdefault("OPTIONS", {}).update(
        {
            # Writers take the lock up front, so two autosaves queue instead of failing.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    )
    if _db["NAME"] == str(DEFAULT_SQLITE_PATH):
        VAR_DIR.mkdir(parents=True, exist_ok=True)
else:
    raise ImproperlyConfigured("DATABASE_URL must be a postgres:// or sqlite:// URL.")
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and sessions ------------------------------------------------------------------
# Several app nodes share one Redis (CACHE_URL=redis://host:6379/0); unset, each process
# has its own memory cache, which is right for one node. Only derived values live in the
# cache (e.g. a judging session's fitted scale), so losing it costs a recomputation.
CACHES = shared_state.caches(env_str("CACHE_URL"))
# Sessions stay in PostgreSQL (Django's default), not in the cache: a Redis restart or
# eviction must never log a pupil out mid-essay, and every node already shares the database.

# --- Accounts --------------------------------------------------------------------------
AUTH_USER_MODEL = "classroom.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "classroom.signin.ModelBackend",  # Django's, with each request's user found by a compiled query
]
PASSWORD_HASHERS = [
    "crisis.hashers.SchoolArgon2PasswordHasher",  # Argon2id; why these settings: crisis/hashers.py
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A one-time code (a new pupil's first password, or a teacher's reset) stops working after
# this many days: a code on a lost slip is not a way into the account for ever.
ONE_TIME_CODE_LIFETIME = timedelta(days=env_int("ONE_TIME_CODE_DAYS", 7, minimum=1))

# --- Data protection (classroom/privacy.py, docs/privacy.md) ----------------------------
# Whole years after a pupil leaves (their last class membership ends) before
# `apply_retention --purge` erases their personal data. The IRMS schools toolkit keeps pupils'
# work for the current year + 1; 0 turns the purge off (the dry run still lists nobody).
RETENTION_YEARS_AFTER_LEAVING = env_int("RETENTION_YEARS_AFTER_LEAVING", 1, minimum=0)
# Days the access log (who looked at or exported a pupil's work) is kept.
ACCESS_LOG_RETENTION_DAYS = env_int("ACCESS_LOG_RETENTION_DAYS", 730, minimum=1)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: failures are counted per (username, IP address), so one pupil's typos
# lock out only that pupil, never a whole classroom sharing the school's IP address.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
# The sixth wrong password in a row locks that username on that address.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 6, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
# Every failure is logged (one row each), so failures can also be counted per address
# across usernames (password spraying): LOGIN_ADDRESS_FAILURE_LIMIT failures from one address
# within the lock-out time refuse further attempts from it until they age out. The default,
# 150 per 15 minutes, is about twice a busy lesson change at a 1,500-pupil school behind one
# NAT address (300 log-ins in 15 minutes, a quarter of them mistyped once or twice, ≈ 75
# failures), so a normal day never reaches it, while a sprayer gets at most ~14,000 guesses a
# day spread over every account, instead of unlimited ones.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 150, minimum=1)
# Behind a reverse proxy, count the proxies so the pupil's address is read from
# X-Forwarded-For; with none (the default) REMOTE_ADDR is used and the header ignored.
# crisis/client_ip.py says which entry is read, and why.
PROXY_COUNT = env_int("PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "crisis.client_ip.client_ip"

# --- Sign-in with the school's accounts (README, "Connect your school") ------------------
# Google Workspace, Microsoft Entra ID and any standard OpenID Connect provider, each on only
# when its SIGNIN_*_CLIENT_ID is set. classroom/signin.py decides who may sign in: an existing,
# active account matched by verified email or roster id; nobody gets an account by signing in.
SIGNIN_APPS = signin_apps()
SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"APPS": SIGNIN_APPS, "OAUTH_PKCE_ENABLED": True}}
SOCIALACCOUNT_ADAPTER = "classroom.signin.SchoolAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False
ACCOUNT_EMAIL_VERIFICATION = "none"
# Someone the app does not know may ask for an account, which the head of department
# approves (with a role the head chooses) or declines. Off: they are simply refused.
SIGNIN_REQUEST_ACCESS = env_bool("SIGNIN_REQUEST_ACCESS", False)
# Roles that may sign in with a password (the rest use the school's accounts). Superusers
# always may, so a school can never lock itself out. Unset: every role; set but empty, or
# `none`: no role.
PASSWORD_SIGNIN_ROLES = env_list_or_none("PASSWORD_SIGNIN_ROLES", ["student", "teacher", "head"])
if unknown_roles := set(PASSWORD_SIGNIN_ROLES) - {"student", "teacher", "head"}:
    raise ImproperlyConfigured(
        f"PASSWORD_SIGNIN_ROLES may list student, teacher and head only, not {', '.join(sorted(unknown_roles))}."
    )

# --- Internationalisation ----------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
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

# --- Forms -----------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email (console by default: nothing leaves the server until a school configures it) --
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "crisis-classroom@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ADMINS = [("Administrator", address) for address in env_list("ADMIN_EMAILS", [])]
# The address people use to reach the site, for links in emails (which have no request to ask).
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")
# Notification emails (classroom/notifications.py): tries before giving up on a message, and the
# local hour from which each teacher's daily digest is built.
EMAIL_MAX_ATTEMPTS = env_int("EMAIL_MAX_ATTEMPTS", 8, minimum=1)
EMAIL_DIGEST_HOUR = env_int("EMAIL_DIGEST_HOUR", 7, minimum=0)
if EMAIL_DIGEST_HOUR > 23:
    raise ImproperlyConfigured("EMAIL_DIGEST_HOUR must be an hour of the day, 0 to 23.")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)

# --- Security --------------------------------------------------------------------------
# On by default in production; a school terminating TLS at a proxy sets
# SECURE_PROXY_SSL_HEADER=True so Django trusts X-Forwarded-Proto from that proxy.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
# Django's database sessions, read with one plain statement (crisis/session_store.py).
SESSION_ENGINE = "crisis.session_store"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12, minimum=300)
# Classroom computers are shared: by default closing the browser ends the log-in (the server
# also ends it after SESSION_COOKIE_AGE). A school whose pupils have their own devices can
# keep log-ins across browser restarts with SESSION_EXPIRE_AT_BROWSER_CLOSE=False.
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
X_FRAME_OPTIONS = "DENY"

# No inline scripts or styles anywhere: everything comes from static/.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Bootstrap draws form controls' icons with data: SVGs in its stylesheet.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        # The sign-in buttons post to the app, which redirects to the school's provider.
        "form-action": [SELF, *signin_origins(SIGNIN_APPS)],
        "frame-ancestors": [NONE],
    }
}

# --- Logging ---------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
